"""Operators' view of the scheduler (English, for the people running the bot):

  python -m bot jobs list              the upcoming schedule, times in Asia/Shanghai
  python -m bot jobs run NAME          run one job now (enqueue; the bot delivers)
  python -m bot jobs run NAME --dry-run  who would get what; nothing is stored or sent

BOT_CLOCK applies here too, so a rehearsal can list and run the festival's jobs ahead of time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from bot.app import build
from bot.config import ConfigError
from handlers.calendar import REPEATING
from handlers.job_runner import JobRunner
from scheduler import image_dir_for


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot jobs")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="the upcoming schedule")
    run = sub.add_parser("run", help="run one job now")
    run.add_argument("name")
    run.add_argument("--dry-run", action="store_true", help="print who would get what")
    return parser


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        app = build()
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    runner = JobRunner(
        app.core.sessions, app.config, app.clock, image_dir_for(app.settings.database_url)
    )
    tz = app.config.calendar.tz
    now = app.clock.now()
    if args.command == "list":
        end = now.replace(year=now.year + 1)
        upcoming = runner.upcoming(now, end)
        print(f"now: {now.astimezone(tz):%Y-%m-%d %H:%M} ({app.config.calendar.timezone})")
        if not upcoming:
            print("no upcoming job runs (the festival calendar is over)")
        housekeeping: dict[str, dt.datetime] = {}
        for name, at in upcoming:
            if name in REPEATING:  # repeats all year: its next run is enough, at the end
                housekeeping.setdefault(name, at)
                continue
            grace = int(runner.specs[name].grace.total_seconds() // 60)
            print(f"{at.astimezone(tz):%Y-%m-%d %a %H:%M}  {name:<18} grace {grace} min")
        for name, at in housekeeping.items():
            print(f"housekeeping: {name}, next {at.astimezone(tz):%Y-%m-%d %H:%M}, then repeating")
        return 0
    if args.name not in runner.specs:
        print(f"unknown job {args.name!r}; jobs: {', '.join(runner.specs)}", file=sys.stderr)
        return 2
    if args.dry_run:
        plan = runner.dry_run(args.name, now)
        for who, key, reply in plan.sent:
            picture = f" [picture {reply.image_path}]" if reply.image_path else ""
            print(f"→ {who} ({key}){picture}")
            print("   " + reply.text.replace("\n", "\n   "))
        print(f"{len(plan.sent)} messages would be sent (dry run: nothing stored or sent)")
        return 0
    outcome = runner.attempt(args.name, now)
    if outcome.failed:
        print(f"{args.name} failed (logged above, recorded in job_runs); nothing was enqueued")
        return 1
    if not outcome.ran:
        print(f"{args.name} already ran for {now.astimezone(tz):%Y-%m-%d %H:%M}")
        return 0
    print(
        f"{args.name}: {outcome.enqueued} messages enqueued "
        "(messages already sent for this period are not repeated); the bot delivers them"
    )
    return 0
