"""Operators' award list (the lines around it in English, for the people running the bot; the
list itself is the committee's text from the catalogs, as /awards shows it):

  python -m bot awards                     the provisional list with every breakdown
  python -m bot awards --final             freeze it (as /awards final: audited, the winners
                                           told through the outbox, the groups sent the list)
  python -m bot awards --final --dry-run   what freezing would store and send; nothing is

The same functions as the chat command (handlers/awards.py); BOT_CLOCK applies here too.
"""

from __future__ import annotations

import argparse
import sys

from bot.app import build
from bot.config import ConfigError
from bot.core.outbox import Outbox
from bot.settings import data_dir_for
from handlers import award_view, awards
from handlers.jobs import DryRun
from models import award_lists


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot awards")
    parser.add_argument("--final", action="store_true", help="freeze the list and announce it")
    parser.add_argument("--dry-run", action="store_true", help="store and send nothing")
    return parser


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        app = build()
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    config, locale = app.config, app.config.locale.default
    image_dir = data_dir_for(app.settings.database_url) / "awards"
    with app.core.sessions() as session:
        if not args.final:
            computed = award_lists.compute(session, config)
            if computed is None:
                print(awards.freeze_replies(session, config, locale, awards.Frozen())[0].text)
                return 1
            in_force = award_lists.current_list(session)
            print(award_view.committee_text(session, config, locale, computed, in_force=in_force))
            return 0
        dry = DryRun()
        outbox = Outbox(session, app.clock, batch=True)
        sink = dry if args.dry_run else outbox
        done = awards.freeze(
            session, config, app.clock, sink, None if args.dry_run else image_dir, None
        )
        for reply in awards.freeze_replies(session, config, locale, done):
            print(reply.text)
        if args.dry_run:
            for who, key, reply in dry.sent:
                print(f"→ {who} ({key})")
                print("   " + reply.text.replace("\n", "\n   "))
            session.rollback()
            print(f"{len(dry.sent)} messages would be sent (dry run: nothing stored or sent)")
        else:
            outbox.flush()
            session.commit()
            if done.new is not None:
                print(f"version {done.new.version} frozen; the bot delivers the messages")
        return 0 if done.new is not None or done.unchanged is not None else 1
