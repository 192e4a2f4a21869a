"""`python -m bot`: migrate, then run every configured channel in one process (Telegram when
TELEGRAM_BOT_TOKEN is set, WeChat's /wechat callback when WECHAT_TOKEN and WECHAT_APP_ID are
set, both when both are), otherwise a console chat (stdin may be a terminal or a pipe).
SIGTERM and Ctrl-C stop it after the steps in flight."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import logging
import signal
import sys

from bot.app import App, build, tell_unagreed
from bot.channels.console import ConsoleChannel
from bot.config import ConfigError
from bot.core import logs
from bot.runner import any_channel
from bot.runner import run as run_channels
from scheduler import scheduled, with_scheduler  # the embedded scheduler (BOT_SCHEDULER=embedded)


async def serve(app: App) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):  # not on Windows' default loop
            loop.add_signal_handler(sig, stop.set)
    # the embedded scheduler runs in the leader (alone, this process; bot/core/leader.py)
    leader_work = [lambda: scheduled(app)] if app.settings.bot_scheduler == "embedded" else []
    # What start-up built (modules, config, catalogs, the forms: ~150,000 objects) lives as
    # long as the process: frozen, the collector's full passes under load no longer scan it
    # (measured: a third less time in the collector, benchmarks/telegram.py, README).
    gc.collect()
    gc.freeze()
    await run_channels(app.core, app.settings, stop, leader_work)


# Operators' commands: name -> (module with main(argv), what it does). The modules are imported
# only when used (the bot itself starts without them).
SUBCOMMANDS = {
    "jobs": ("bot.jobs_cli", "jobs list | jobs run NAME [--dry-run]: the scheduler's jobs"),
    "import": (
        "bot.import_cli",
        "import FILE.xlsx [--unit CODE] [--dry-run]: a filled 附件1/附件2",
    ),
    "awards": ("bot.awards_cli", "awards [--final] [--dry-run]: the award list with breakdowns"),
    "donations": ("bot.donations_cli", "donations [--sort KEY]: the donation ledger"),
    "certificates": ("bot.certificates_cli", "certificates OUTDIR: every certificate and a ZIP"),
    "posters": ("bot.posters_cli", "posters OUTDIR [--unit CODE]: the units' QR posters"),
}


def usage() -> str:
    lines = [
        "python -m bot: the bot (Telegram / WeChat when configured, else a console chat)",
        *(f"python -m bot {help_}" for _module, help_ in SUBCOMMANDS.values()),
    ]
    return "\n".join(lines)


def main() -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logs.install()  # no phone number in any log record
    first = sys.argv[1] if len(sys.argv) > 1 else None
    if first in ("-h", "--help", "help"):
        print(usage())
        return 0
    if first in SUBCOMMANDS:
        module = importlib.import_module(SUBCOMMANDS[first][0])
        return int(module.main(sys.argv[2:]))
    if first is not None:
        print(f"unknown command {first!r}\n{usage()}", file=sys.stderr)
        return 2
    try:
        app = build()
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    tell_unagreed(app)
    if any_channel(app.settings):
        logging.getLogger("bot").setLevel(logging.INFO)
        asyncio.run(serve(app))
        return 0
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(with_scheduler(app, ConsoleChannel(app.core, app.settings.console_user).run()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
