"""`python -m bot donations [--sort name|due|received|outstanding] [--locale zh_CN|en]`: the
donation ledger as the committee's /donations shows it (the same code, handlers/donations.py),
every enterprise on one page. BOT_CLOCK and the database settings apply as for the bot."""

from __future__ import annotations

import argparse
import sys

from bot.app import build
from bot.config import ConfigError
from handlers.donations import SORTS, ledger_lines


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot donations")
    parser.add_argument("--sort", choices=sorted(SORTS), default="name")
    parser.add_argument("--locale", choices=["zh_CN", "en"], default=None)
    args = parser.parse_args(argv)
    try:
        app = build()
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    with app.core.sessions() as session:
        locale = args.locale or app.config.locale.default
        for line in ledger_lines(session, app.config, locale, args.sort):
            print(line)
    return 0
