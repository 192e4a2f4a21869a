"""`python -m bot`: migrate, then run every configured channel in one process (Telegram when
TELEGRAM_BOT_TOKEN is set, WeChat's /wechat callback when WECHAT_TOKEN and WECHAT_APP_ID are
set, both when both are), otherwise a console chat (stdin may be a terminal or a pipe).
SIGTERM and Ctrl-C stop it after the steps in flight."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys

from bot.app import App, build, tell_unagreed
from bot.channels.console import ConsoleChannel
from bot.config import ConfigError
from bot.runner import any_channel
from bot.runner import run as run_channels
from scheduler import with_scheduler  # the embedded scheduler (BOT_SCHEDULER=embedded)


async def serve(app: App) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):  # not on Windows' default loop
            loop.add_signal_handler(sig, stop.set)
    await with_scheduler(app, run_channels(app.core, app.settings, stop))


def main() -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if sys.argv[1:2] == ["jobs"]:  # operators: python -m bot jobs list | run NAME [--dry-run]
        from bot.jobs_cli import main as jobs_main

        return jobs_main(sys.argv[2:])
    if sys.argv[1:2] == ["donations"]:  # operators: python -m bot donations [--sort KEY]
        from bot.donations_cli import main as donations_main

        return donations_main(sys.argv[2:])
    if sys.argv[1:2] == ["certificates"]:  # operators: python -m bot certificates OUTDIR
        from bot.certificates_cli import main as certificates_main

        return certificates_main(sys.argv[2:])
    if sys.argv[1:2] == ["posters"]:  # python -m bot posters OUTDIR [--unit CODE]
        from bot.posters_cli import main as posters_main

        return posters_main(sys.argv[2:])
    if sys.argv[1:2] == ["import"]:  # python -m bot import FILE.xlsx [--unit CODE] [--dry-run]
        from bot.import_cli import main as import_main

        return import_main(sys.argv[2:])
    if sys.argv[1:2] == ["awards"]:  # operators: python -m bot awards [--final] [--dry-run]
        from bot.awards_cli import main as awards_main

        return awards_main(sys.argv[2:])
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
