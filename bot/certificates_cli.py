"""`python -m bot certificates OUTDIR [--processes N]`: every certificate the records give
(participation, awards of the frozen list, donation acknowledgements) written into OUTDIR as
PDF and PNG, with one ZIP; the same code as the committee's /certificates."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from bot.app import build
from bot.config import ConfigError
from handlers.certificate_issue import write_all


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot certificates")
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    try:
        app = build()
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    with app.core.sessions() as session, session.begin():
        rendered, failed, archive = write_all(
            session, app.config, args.outdir, app.clock.now(), max(1, args.processes)
        )
    print(f"{len(rendered)} certificates written to {args.outdir}")
    for failure in failed:
        print(f"not drawn: {failure.number} {failure.holder}: {failure.reason}")
    if archive is not None:
        print(f"all in one: {archive}")
    return 1 if failed else 0
