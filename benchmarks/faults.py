"""Fault benchmark: N simulated people (default 50) register as streamers at once through the
real channel adapters, against the fake Telegram and WeChat servers of tests/, under each
fault of issue 13 and with no fault, and the database is read at the end.

    .venv/bin/python benchmarks/faults.py [--people 50] [--scale 0.1] [--only telegram/502]
        [--typos 0.05] [--notes]   (--notes: each wrong value, and the transcripts of the people
        with one or with a question shown twice for no reason)

Telegram (our bot's runner, long polling the fake Bot API; tests.people.TelegramPerson answers
every question the moment it arrives, every copy of a doubled one too):
  none      no fault
  502       5% of sendMessage calls executed, then answered 502 (the send is retried: the person
            sees the question twice and answers both copies; every other person answers the
            second copy of a typed value with a different valid value: they meant another)
  slow      every call 0.2-0.5 s; 10% of calls but getUpdates answered 502 (half before, half
            after Telegram executed them); 10% of getUpdates fail (502, or the answer lost)

WeChat (the bot's callback endpoint in safe mode through httpx's ASGI transport, its outbox
and the fake API; tests.people.WeChatPerson plays WeChat's server and the follower):
  none      no fault
  lost      30% of callback answers lost on the way: WeChat resends the message (5 s later,
            3 tries in all), the follower retypes when nothing comes for 20 s
  lost3     10% of messages lose all three answers (WeChat gives up; the bot sends the reply by
            the outbox), besides 10% of single answers lost
  retype    three values per follower answered into silence (all three answers lost and the
            API "system busy" for them meanwhile): the follower retypes a different value
  slow      every reply late (a passive budget of 0: each one a customer-service message
            through the outbox), the API 0.2-0.5 s a call, 10% of sends answered 502 (half
            after WeChat executed them: the follower sees it twice and answers both copies,
            every other follower the second with a different valid value); the follower
            retypes after 20 s (not scaled)

WeChat's people's times (5 s resend, 20 s retype) are multiplied by --scale (default 0.1) except
in the slow run, whose API times are real: the benchmark runs in minutes.

For every run it prints: people, registrations finished, values stored right / wrong,
registrations duplicated, values lost, values wrong in unfinished drafts, questions shown twice
in a row for no reason the person could see (Telegram: not a doubled delivery; WeChat: a copy
of a question already answered), and the faults that happened. A value is one of the nine
typed per registration (account, phone, followers, likes, days, hours, viewers, peak, orders),
compared with what the person last meant for that question; "lost": a value typed but in no
finished registration (an unfinished registration loses all nine).

In every run (the no-fault ones too) people slip now and then (--typos, default 5%): a figure is
first typed as something that is no number ("很多"), and typed right when the question is asked
again with the error; a slip's answer can be lost like any other.

Longer than 300 lines on purpose: a benchmark script: one scenario per fault and channel, its
set-up and its report, run as a script.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import logging
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# This file's directory holds telegram.py: drop it, or `import telegram` finds the benchmark.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bot.app import prepare_database  # noqa: E402
from bot.config import FestivalConfig, load_config  # noqa: E402
from bot.core.clock import Clock  # noqa: E402
from bot.core.dispatcher import Core  # noqa: E402
from handlers.routes import ROUTES  # noqa: E402
from models import DialogState, Identity, LiveAccount, Streamer  # noqa: E402
from models.db import make_engine  # noqa: E402
from tests.fake_telegram import BotThread, FakeTelegram, Fault  # noqa: E402
from tests.fake_wechat import FakeWeChat, wechat_bot  # noqa: E402
from tests.people import (  # noqa: E402
    TYPED_VALUES,
    TelegramPeople,
    TelegramPerson,
    WeChatPerson,
    expected,
    repeated_in_a_row,
    service_router,
)
from tests.test_telegram_faults import varied_streamer  # noqa: E402

FIELDS = [*TYPED_VALUES.values(), "monthly_live_hours"]
SLOW = (0.2, 0.5)
# people sign up before the registration deadline (as benchmarks/wechat.py does), whatever
# the config says of late self-registration
SIGNUP = dt.datetime(2020, 10, 15, 20, 0)
RETYPED = (9, 13, 16)  # WeChat "retype": the phone, the live days, the peak audience


@dataclasses.dataclass
class Tally:
    people: int = 0
    finished: int = 0
    right: int = 0
    wrong: int = 0
    duplicated: int = 0
    lost: int = 0
    draft_wrong: int = 0
    repeated: int = 0
    faults: str = ""
    seconds: float = 0.0
    notes: list[str] = dataclasses.field(default_factory=list)
    wrong_people: set[str] = dataclasses.field(default_factory=set)


def read_back(engine: Engine, channel: str, people: list[tuple[str, dict[str, object]]]) -> Tally:
    """Compares the database with what each person meant (user id, expected values)."""
    tally = Tally(people=len(people))
    with Session(engine) as session:
        for user_id, meant in people:
            streamers = session.scalars(
                select(Streamer)
                .join(Identity, Identity.person_id == Streamer.person_id)
                .where(Identity.channel == channel, Identity.user_id == user_id)
            ).all()
            if not streamers:
                tally.lost += len(FIELDS)
                draft = session.scalar(
                    select(DialogState.data)
                    .join(Identity, Identity.id == DialogState.identity_id)
                    .where(Identity.channel == channel, Identity.user_id == user_id)
                )
                answers = ((draft or {}).get("form") or {}).get("answers") or {}
                for name in FIELDS:
                    if name in answers and not _same(answers[name], meant[name]):
                        tally.draft_wrong += 1
                        tally.notes.append(f"{user_id} draft {name}: {answers[name]!r}")
                        tally.wrong_people.add(user_id)
                continue
            tally.finished += 1
            tally.duplicated += len(streamers) - 1
            s = streamers[0]
            accounts = session.scalars(
                select(LiveAccount.account_name).where(LiveAccount.streamer_id == s.id)
            ).all()
            tally.duplicated += max(len(accounts) - 1, 0)
            got: dict[str, object] = {name: getattr(s, name, None) for name in FIELDS}
            got["account"] = accounts[0] if accounts else None
            for name in FIELDS:
                if got[name] is None:
                    tally.lost += 1
                elif _same(got[name], meant[name]):
                    tally.right += 1
                else:
                    tally.wrong += 1
                    tally.notes.append(f"{user_id} {name}: {got[name]!r} for {meant[name]!r}")
                    tally.wrong_people.add(user_id)
    return tally


def _same(got: object, meant: object) -> bool:
    try:
        return Decimal(str(got)) == Decimal(str(meant))
    except ArithmeticError:
        return str(got) == str(meant)


def fresh(tmp: str, update: Callable[[FestivalConfig], FestivalConfig] | None = None) -> Core:
    config = load_config(ROOT / "config.yaml")
    uploads = config.uploads.model_copy(update={"min_free_mb": 0})
    config = config.model_copy(update={"uploads": uploads})
    if update is not None:
        config = update(config)
    engine = make_engine(f"sqlite:///{tmp}/faults.db")
    clock = Clock(config.calendar.tz, SIGNUP.replace(tzinfo=config.calendar.tz))
    prepare_database(engine, config, clock)
    return Core(config, engine, clock, ROUTES)


def close(core: Core) -> None:
    core.executor.shutdown()
    core.db.dispose()


# ----- Telegram --------------------------------------------------------------------------------
def telegram_run(fault: str, count: int, timeout: float, typos: float) -> Tally:
    with tempfile.TemporaryDirectory() as tmp, FakeTelegram() as fake:
        core = fresh(tmp)
        if fault == "502":
            fake.faults.append(Fault("502_after", "sendMessage", rate=0.05))
        elif fault == "slow":
            fake.delay = SLOW
            fake.faults += [
                Fault("502_before", rate=0.05),
                Fault("502_after", rate=0.05),
                Fault("502_before", "getUpdates", rate=0.05),
                Fault("drop_after", "getUpdates", rate=0.05),
            ]
        people = [
            TelegramPerson(
                fake,
                5000 + n,
                varied_streamer(n)[0],
                change_on_copy=TYPED_VALUES if fault == "502" and n % 2 else (),
                typos=typos,
            )
            for n in range(1, count + 1)
        ]
        started = time.perf_counter()
        with BotThread(core, fake):
            fake.wait(lambda: fake.stats.calls.get("getUpdates", 0) > 0)
            crowd = TelegramPeople(fake, people)
            crowd.start()
            crowd.wait(timeout)
            seconds = time.perf_counter() - started
            time.sleep(0.5)  # the last step's reply is stored before its send
        tally = read_back(
            core.db,
            "telegram",
            [(str(p.user.id), expected(p.script.lines, p.script.final)) for p in people],
        )
        close(core)
    tally.seconds = seconds
    tally.repeated = sum(repeated_in_a_row(p.user.inbox)[1] for p in people)
    tally.notes += [
        p.script.transcript()
        for p in people
        if str(p.user.id) in tally.wrong_people or repeated_in_a_row(p.user.inbox)[1]
    ]
    faults = dict(fake.stats.faults)
    faults["copies answered"] = sum(p.copies for p in people)
    faults["slips"] = sum(p.script.mistyped for p in people)
    tally.faults = ", ".join(f"{k} {v}" for k, v in sorted(faults.items()) if v)
    return tally


# ----- WeChat ----------------------------------------------------------------------------------
def wechat_run(fault: str, count: int, scale: float, timeout: float, typos: float) -> Tally:
    def late(config: FestivalConfig) -> FestivalConfig:
        wechat = config.wechat.model_copy(update={"reply_budget_seconds": 0.0})
        return config.model_copy(update={"wechat": wechat})

    with tempfile.TemporaryDirectory() as tmp, FakeWeChat(quota=1000) as fake:
        core = fresh(tmp, late if fault == "slow" else None)
        people: list[WeChatPerson] = []
        resend, retype = 5.0 * scale, 20.0 * scale
        options: dict[str, Any] = {}
        if fault == "lost":
            options = {"loss": 0.3}
        elif fault == "lost3":
            options = {"loss": 0.1, "lose_all": 0.1}
        elif fault == "retype":
            options = {"blackout": RETYPED, "change_on_retype": True}
        elif fault == "slow":
            fake.delay_range, fake.error_rate = SLOW, 0.1
            resend, retype = 5.0, 20.0

        async def scenario() -> float:
            async with wechat_bot(core, fake, safe=True) as bot:
                for n in range(1, count + 1):
                    people.append(
                        WeChatPerson(
                            bot.server,
                            fake,
                            f"o_faults{n:03d}",
                            varied_streamer(n)[0],
                            random.Random(n),
                            resend_after=resend,
                            retype_after=retype,
                            patience=timeout,
                            typos=typos,
                            answer_copies=fault == "slow",
                            change_on_copy=fault == "slow" and n % 2 == 1,
                            **options,
                        )
                    )
                undo = service_router(fake, people)
                started = time.perf_counter()
                try:
                    await asyncio.gather(*(p.run() for p in people))
                finally:
                    undo()
                seconds = time.perf_counter() - started
                await bot.runtime.channel.idle()
                return seconds

        seconds = asyncio.run(scenario())
        tally = read_back(
            core.db,
            "wechat",
            [(p.openid, expected(p.script.lines, p.script.final)) for p in people],
        )
        close(core)
    tally.seconds = seconds
    tally.repeated = sum(p.other_copies for p in people)
    tally.notes += [
        p.script.transcript()
        for p in people
        if p.openid in tally.wrong_people or (p.other_copies and fault != "retype")
    ]
    seen = {
        "answers lost": sum(p.lost for p in people),
        "resends": sum(p.resends for p in people),
        "gave up": sum(p.gave_up_tries for p in people),
        "retyped": sum(p.retyped for p in people),
        "API 502": fake.errors,
        "copies answered": sum(p.copies_answered for p in people),
        "slips": sum(p.script.mistyped for p in people),
    }
    tally.faults = ", ".join(f"{k} {v}" for k, v in seen.items() if v)
    return tally


RUNS: dict[str, list[str]] = {
    "telegram": ["none", "502", "slow"],
    "wechat": ["none", "lost", "lost3", "retype", "slow"],
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--scale", type=float, default=0.1, help="WeChat people's times")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per run at most")
    parser.add_argument(
        "--typos", type=float, default=0.05, help="share of figures first typed as no number"
    )
    parser.add_argument("--only", nargs="*", help="channel/fault (e.g. telegram/502)")
    parser.add_argument("--notes", action="store_true", help="print every wrong value")
    parser.add_argument("--log", action="store_true", help="the bot's log on stderr")
    args = parser.parse_args()
    if not args.log:  # the faults make the bot log every retried call
        logging.disable(logging.ERROR)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"{args.people} people per run, {args.typos:.0%} of figures first mistyped, WeChat "
        f"people's times x{args.scale}; load {load}"
    )
    print(
        "| channel | fault | people | finished | stored right | wrong | duplicated | lost "
        "| wrong in drafts | shown twice for no reason | seconds | faults seen |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for channel, faults in RUNS.items():
        for fault in faults:
            if args.only and f"{channel}/{fault}" not in args.only:
                continue
            if channel == "telegram":
                tally = telegram_run(fault, args.people, args.timeout, args.typos)
            else:
                tally = wechat_run(fault, args.people, args.scale, args.timeout, args.typos)
            values = tally.people * len(FIELDS)
            print(
                f"| {channel} | {fault} | {tally.people} | {tally.finished} "
                f"| {tally.right}/{values} | {tally.wrong} | {tally.duplicated} | {tally.lost} "
                f"| {tally.draft_wrong} | {tally.repeated} | {tally.seconds:.1f} "
                f"| {tally.faults} |",
                flush=True,
            )
            if args.notes:
                for note in tally.notes:
                    print("    ", note, flush=True)
    print(f"load after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
