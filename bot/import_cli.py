"""Importing a filled-in notice sheet from the command line (the committee's operators; an
Official Account receives no files, so this is how WeChat-only units' sheets come in):

  python -m bot import FILE.xlsx [--unit CODE] [--dry-run] [--scan SCAN]

The same import as a sheet sent in chat (handlers/imports.py): every row checked with the
chat's rules, nothing stored when there is an error (exit 1, every error listed), the same
sheet twice changes nothing. --unit is the unit of sheets whose header line names none;
--dry-run checks and reports without storing; --scan keeps the unit's stamped scan with the
import. The report is in the festival's language; new registrations' claim codes are printed
one per line (account, tab, /start claim_CODE) for the unit to hand out.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
from pathlib import Path

from bot.app import build
from bot.config import ConfigError
from bot.core.context import Ctx, State
from bot.core.messages import Incoming
from bot.core.outbox import Outbox
from handlers import import_chat, sheet_reader
from models.units import unit_by_code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot import")
    parser.add_argument("file", type=Path, help="the filled-in 附件1 or 附件2 (.xlsx)")
    parser.add_argument("--unit", help="the unit's code, for sheets whose header names none")
    parser.add_argument("--dry-run", action="store_true", help="check and report, store nothing")
    parser.add_argument("--scan", type=Path, help="the unit's stamped scan, kept with the import")
    return parser


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    if not args.file.is_file():
        print(f"no such file: {args.file}", file=sys.stderr)
        return 2
    try:
        app = build()
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    core = app.core
    with core.sessions() as session, session.begin():
        ctx = Ctx(
            session=session,
            config=app.config,
            clock=app.clock,
            outbox=Outbox(session, app.clock),
            forms=core.forms,
            incoming=Incoming("cli", "operator", "operator"),
            person_id=0,  # nobody: the command line (audited with no actor)
            identity_id=0,
            locale=app.config.locale.default,
            privacy_accepted=True,
            state=State(None, {}, 0),
            is_admin=True,
            cache=core.cache,
            files_dir=core.files_dir,
        )
        unit = None
        if args.unit:
            unit = unit_by_code(session, args.unit.strip().upper())
            if unit is None:
                print(f"no unit {args.unit}", file=sys.stderr)
                return 2
        try:
            book = sheet_reader.read(ctx, args.file)
        except sheet_reader.Unreadable as exc:
            print(ctx.t(exc.key, **exc.params), file=sys.stderr)
            return 1
        refusal = import_chat.book_refusal(ctx, book)
        if refusal is not None:
            print(refusal.text, file=sys.stderr)
            return 1
        kept = args.file if args.dry_run else _keep(ctx, args.file)
        outcome, record = import_chat.import_book(
            ctx, kept, args.file.name, book, None, "cli", unit, explicit=True
        )
        print(import_chat.report(ctx, outcome, record))
        for title, code in outcome.codes:
            print(f"{title}\t/start claim_{code}")
        if record is not None and args.scan is not None:
            record.scan_path = str(_keep(ctx, args.scan))
        if args.dry_run:
            session.rollback()
            print("dry run: nothing was stored")
        return 1 if outcome.errors else 0


def _keep(ctx: Ctx, path: Path) -> Path:
    """A copy in the data directory's imports/ (0600), kept with the import record."""
    if ctx.files_dir is None:
        return path
    folder = ctx.files_dir / "imports"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:32]
    target = folder / f"{digest}{path.suffix[:8]}"
    if not target.exists():
        shutil.copyfile(path, target)
        os.chmod(target, 0o600)
    return target
