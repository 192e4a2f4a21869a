"""`python -m bot`: migrate, then run on Telegram when TELEGRAM_BOT_TOKEN is set, on WeChat
(the /wechat callback in the web app) when WECHAT_TOKEN and WECHAT_APP_ID are set, otherwise
as a console chat (stdin may be a terminal or a pipe)."""

from __future__ import annotations

import asyncio
import logging
import sys

from bot.app import build
from bot.channels.console import ConsoleChannel
from bot.config import ConfigError
from scheduler import with_scheduler  # the embedded scheduler (BOT_SCHEDULER=embedded)


def main() -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if sys.argv[1:2] == ["jobs"]:  # operators: python -m bot jobs list | run NAME [--dry-run]
        from bot.jobs_cli import main as jobs_main

        return jobs_main(sys.argv[2:])
    try:
        app = build()
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    if app.settings.telegram_bot_token is not None:
        from bot.channels.telegram.run import run as run_telegram

        logging.getLogger("bot").setLevel(logging.INFO)
        try:
            asyncio.run(with_scheduler(app, run_telegram(app.core, app.settings)))
        except KeyboardInterrupt:
            pass
        return 0
    if app.settings.wechat_token is not None and app.settings.wechat_app_id:
        from bot.channels.wechat.run import run as run_wechat  # the /wechat callback

        logging.getLogger("bot").setLevel(logging.INFO)
        try:
            asyncio.run(with_scheduler(app, run_wechat(app.core, app.settings)))
        except KeyboardInterrupt:
            pass
        return 0
    asyncio.run(with_scheduler(app, ConsoleChannel(app.core, app.settings.console_user).run()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
