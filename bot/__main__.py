"""`python -m bot`: migrate, then run on Telegram when TELEGRAM_BOT_TOKEN is set, otherwise as
a console chat (stdin may be a terminal or a pipe)."""

from __future__ import annotations

import asyncio
import logging
import sys

from bot.app import build
from bot.channels.console import ConsoleChannel
from bot.config import ConfigError


def main() -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app = build()
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    if app.settings.telegram_bot_token is not None:
        print(
            "Telegram channel is not built yet (see the Telegram issue); "
            "unset TELEGRAM_BOT_TOKEN for the console chat.",
            file=sys.stderr,
        )
        return 2
    asyncio.run(ConsoleChannel(app.core, app.settings.console_user).run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
