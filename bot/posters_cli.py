"""`python -m bot posters OUTDIR [--unit CODE]`: every active unit's QR posters (or one unit's)
written to OUTDIR, ready to print (English, for the people running the bot).

Telegram posters need the bot's username: TELEGRAM_BOT_USERNAME, else asked from Telegram
(getMe) when TELEGRAM_BOT_TOKEN is set. WeChat posters need the Official Account
(WECHAT_TOKEN, WECHAT_APP_ID, WECHAT_APP_SECRET): their codes are made through its API and
kept, so the bot's /unit qr and the renewal job use the same ones.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.app import build
from bot.config import ConfigError
from handlers.posters import TELEGRAM_USERNAME, WECHAT_QR, unit_posters
from handlers.qr import write_all
from models.units import unit_by_code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot posters")
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--unit", help="only this unit's posters (its code)")
    return parser


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        app = build()
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    services = app.core.services
    if TELEGRAM_USERNAME not in services and app.settings.telegram_bot_token is not None:
        from bot.channels.telegram.run import make_bot

        async def username() -> str:
            async with make_bot(app.settings, app.config.telegram) as bot:  # getMe
                return str(bot.username)

        services[TELEGRAM_USERNAME] = asyncio.run(username())
    if TELEGRAM_USERNAME not in services and WECHAT_QR not in services:
        print(
            "no poster can be made: set TELEGRAM_BOT_USERNAME (or TELEGRAM_BOT_TOKEN) and/or "
            "the WeChat Official Account (WECHAT_TOKEN, WECHAT_APP_ID, WECHAT_APP_SECRET)",
            file=sys.stderr,
        )
        return 2
    outdir: Path = args.outdir
    with app.core.sessions() as session, session.begin():
        if args.unit:
            unit = unit_by_code(session, args.unit.upper())
            if unit is None:
                print(f"unknown unit {args.unit!r}", file=sys.stderr)
                return 2
            made, failed = unit_posters(session, app.config, app.clock, services, outdir, unit)
            posters, problems = made, [(unit.code, p) for p in failed]
        else:
            posters, problems = write_all(session, app.config, app.clock, services, outdir)
    for poster in posters:
        expiry = f" (expires {poster.expires_at:%Y-%m-%d})" if poster.expires_at else ""
        print(f"{poster.path}  {poster.link}{expiry}")
    for code, problem in problems:
        print(f"{code}: WeChat QR code failed: {problem}", file=sys.stderr)
    print(f"{len(posters)} posters written to {outdir}")
    return 1 if problems else 0
