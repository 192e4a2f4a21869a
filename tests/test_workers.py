"""Several bot workers on one PostgreSQL (BOT_WORKERS=shared): one person's messages are
applied in the order Telegram numbered them whichever worker received them; one leader runs
the scheduler and the outbox and another takes over when it dies; a turn is held across
processes. PostgreSQL only (SQLite has one writer and no advisory locks): CI's PostgreSQL run
has them; without TEST_DATABASE_URL they are skipped."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from bot.core.leader import OUTBOX_CHANNEL, Leadership
from bot.core.shared_order import SharedOrder, lock_key
from tests.fake_telegram import FakeTelegram, Fault
from tests.flows import streamer_lines
from tests.people import TYPED_VALUES, TelegramPeople, TelegramPerson, expected
from tests.test_telegram_faults import stored as registration
from tests.test_telegram_faults import varied_streamer
from tests.worker_procs import ROOT, Worker, typed_ahead

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="several workers need PostgreSQL"
)

PEOPLE = 4


def script(n: int) -> list[str]:
    return [*streamer_lines(f"acct_w{n}", followers=str(20_000 + n)), "确认提交"]


def stored(db: Engine) -> dict[int, tuple[str, int]]:
    with db.connect() as conn:
        rows = conn.execute(
            text(
                "select i.user_id, a.account_name, s.followers from streamers s "
                "join identities i on i.person_id = s.person_id "
                "join live_accounts a on a.streamer_id = s.id where i.channel = 'telegram'"
            )
        ).all()
    return {int(user): (account, int(followers)) for user, account, followers in rows}


def applied_order(db: Engine, user_id: int) -> list[int]:
    """The person's update ids in the order their steps committed."""
    with db.connect() as conn:
        rows = conn.execute(
            text(
                "select update_id from telegram_updates where order_key = :key "
                "and processed_at is not null order by processed_at, id"
            ),
            {"key": f"u{user_id}"},
        ).all()
    return [int(r[0]) for r in rows]


def quick_orphans(tmp_path: Path) -> Path:
    """The shipped config with a dead worker's updates taken over after 2 s, not 20."""
    shipped = (ROOT / "config.yaml").read_text(encoding="utf-8")
    assert "orphan_after_seconds: 20" in shipped
    path = tmp_path / "config.yaml"
    path.write_text(shipped.replace("orphan_after_seconds: 20", "orphan_after_seconds: 2"))
    return path


@pytest.mark.parametrize("kill", [False, True], ids=["both-live", "one-killed"])
def test_two_workers_apply_one_persons_alternating_messages_in_order(
    db: Engine, database_url: str, fake_telegram: FakeTelegram, tmp_path: Path, kill: bool
) -> None:
    """Round-robin: one person's consecutive updates go to the two workers in turn, each
    stored before the next is delivered (Telegram's order), handled concurrently. Killed: the
    first worker gets kill -9 a third of the way through; what it stored and never handled, or
    handled and never answered, the other one takes over, and Telegram's next deliveries go
    to the live one."""
    shared = os.environ.get("TEST_WORKERS_UNSHARED") is None  # set: shows what fails without
    env = {"BOT_CONFIG": str(quick_orphans(tmp_path))}
    workers = [
        Worker(database_url, fake_telegram, tmp_path / f"w{i}.log", shared, env) for i in range(2)
    ]
    try:
        for worker in workers:
            worker.wait_ready()
        sent: dict[int, list[int]] = {}
        for n in range(PEOPLE):  # each typed the whole registration ahead
            sent[n] = typed_ahead(fake_telegram, 7_000 + n, script(n), first_id=10_000_000)
        total = sum(len(ids) for ids in sent.values())
        fake_telegram.deliver_to([w.url for w in workers], in_flight=1)
        if kill:
            fake_telegram.wait(lambda: fake_telegram.delivered >= total // 3, timeout=60)
            workers[0].kill()
        fake_telegram.wait(lambda: fake_telegram.delivered == total, timeout=60)

        def all_handled() -> bool:
            with db.connect() as conn:
                left = conn.execute(
                    text("select count(*) from telegram_updates where processed_at is null")
                ).scalar_one()
            return left == 0

        fake_telegram.wait(all_handled, timeout=90)
        with contextlib.suppress(TimeoutError):  # a missing one is told apart below
            fake_telegram.wait(lambda: len(stored(db)) == PEOPLE, timeout=5)
        logs = "\n".join(w.tail() for w in workers)
    finally:
        for worker in workers:
            worker.stop()
    for n, ids in sent.items():
        assert sorted(applied_order(db, 7_000 + n)) == ids, logs  # each once
    assert stored(db) == {7_000 + n: (f"acct_w{n}", 20_000 + n) for n in range(PEOPLE)}


def test_copies_of_a_question_answered_on_two_workers_land_on_their_questions(
    db: Engine, database_url: str, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    """One sendMessage in ten is executed, then answered 502: the question is retried and
    shown twice, and the person answers both copies (every other person a different value
    the second time: a correction). Their updates reach the two workers in turn, so the
    answer to the second copy is mostly handled by the worker that did not send it: it must
    know the question was shown twice and from which message id (stored in telegram_shown),
    or it takes that answer for the next question."""
    people = [
        TelegramPerson(
            fake_telegram,
            8_000 + n,
            varied_streamer(n)[0],
            change_on_copy=TYPED_VALUES if n % 2 else (),
        )
        for n in range(1, 11)
    ]
    workers = [Worker(database_url, fake_telegram, tmp_path / f"w{i}.log") for i in range(2)]
    try:
        for worker in workers:
            worker.wait_ready()
        fake_telegram.faults.append(Fault("502_after", "sendMessage", rate=0.1))
        fake_telegram.deliver_to([w.url for w in workers], in_flight=1)
        crowd = TelegramPeople(fake_telegram, people)
        crowd.start()
        left = crowd.wait(180)
        fake_telegram.faults.clear()
        logs = "\n".join(w.tail() for w in workers)
    finally:
        for worker in workers:
            worker.stop()
    assert fake_telegram.stats.faults.get("502_after", 0) > 0  # copies were shown
    assert sum(p.copies for p in people) > 0
    assert not left, [p.script.transcript() for p in left] + [logs]
    for n, person in enumerate(people, start=1):
        want = expected(person.script.lines, person.script.final)  # the values last meant
        assert registration(db, 8_000 + n) == want, person.script.transcript()


def shared_order(database_url: str) -> SharedOrder:
    return SharedOrder(make_url(database_url), connections=2)


def test_a_turn_is_held_across_workers(db: Engine, database_url: str) -> None:
    async def scenario() -> list[str]:
        first, second = shared_order(database_url), shared_order(database_url)
        await first.start()
        await second.start()
        events: list[str] = []
        try:
            held = asyncio.Event()
            release = asyncio.Event()

            async def one() -> None:
                async with first.turn(("telegram", "u1")):
                    events.append("first in")
                    held.set()
                    await release.wait()
                    events.append("first out")

            async def two() -> None:
                await held.wait()
                async with second.turn(("telegram", "u1")):
                    events.append("second in")
                async with second.turn(("telegram", "u2")):  # another person: not held
                    events.append("other")

            task = asyncio.ensure_future(one())
            waiter = asyncio.ensure_future(two())
            await held.wait()
            for _ in range(20):  # the second worker keeps trying meanwhile
                await asyncio.sleep(0.01)
            assert "second in" not in events
            release.set()
            await asyncio.gather(task, waiter)
            assert second.waits == 1
        finally:
            await first.close()
            await second.close()
        return events

    assert asyncio.run(scenario()) == ["first in", "first out", "second in", "other"]


def test_the_lock_key_is_the_same_in_every_process() -> None:
    assert lock_key(("telegram", "u1")) == lock_key(("telegram", "u1"))
    assert lock_key(("telegram", "u1")) != lock_key(("telegram", "u2"))
    assert -(2**63) <= lock_key(("wechat", "o" * 28)) < 2**63


def test_one_leader_and_another_takes_over_when_it_goes(db: Engine, database_url: str) -> None:
    url = make_url(database_url)

    async def scenario() -> None:
        a, b = Leadership(url, retry_seconds=0.05), Leadership(url, retry_seconds=0.05)
        leading: list[str] = []
        stop_a = asyncio.Event()

        async def work_a() -> None:
            leading.append("a")
            await stop_a.wait()  # a's work ends: a stops leading (its lock goes)

        async def work_b() -> None:
            leading.append("b")
            await asyncio.Event().wait()

        task_a = asyncio.ensure_future(a.lead(work_a))
        for _ in range(200):
            if a.is_leader:
                break
            await asyncio.sleep(0.01)
        task_b = asyncio.ensure_future(b.lead(work_b))
        await asyncio.sleep(0.3)  # b tries several times meanwhile
        assert (a.is_leader, b.is_leader, leading) == (True, False, ["a"])
        stop_a.set()
        await task_a
        for _ in range(200):
            if b.is_leader:
                break
            await asyncio.sleep(0.01)
        assert (a.is_leader, b.is_leader, leading) == (False, True, ["a", "b"])
        task_b.cancel()
        await asyncio.gather(task_b, return_exceptions=True)

    asyncio.run(scenario())


def test_a_leader_whose_connection_dies_is_replaced(db: Engine, database_url: str) -> None:
    """As when its process is killed: PostgreSQL ends the session, and the lock with it."""
    url = make_url(database_url)

    async def scenario() -> None:
        a, b = Leadership(url, retry_seconds=0.05), Leadership(url, retry_seconds=0.05)
        task_a = asyncio.ensure_future(a.lead(lambda: asyncio.Event().wait()))
        for _ in range(200):
            if a.is_leader:
                break
            await asyncio.sleep(0.01)
        task_b = asyncio.ensure_future(b.lead(lambda: asyncio.Event().wait()))
        await asyncio.sleep(0.2)
        assert not b.is_leader
        with db.connect() as conn:  # the server drops a's session
            conn.execute(
                text(
                    "select pg_terminate_backend(pid) from pg_locks "
                    "where locktype = 'advisory' and classid = :c and objid = :o"
                ),
                {"c": 72_042_020, "o": 1},
            )
        for _ in range(500):  # the lock went with the session: one of them leads again
            if b.is_leader or a.terms == 2:
                break
            await asyncio.sleep(0.01)
        assert (a.is_leader + b.is_leader, b.is_leader or a.terms == 2) == (1, True)
        for task in (task_a, task_b):
            task.cancel()
        await asyncio.gather(task_a, task_b, return_exceptions=True)

    asyncio.run(scenario())


def test_a_worker_wakes_the_leaders_outbox(db: Engine, database_url: str) -> None:
    """A late reply left in the outbox by a worker that does not lead is sent at once: the
    worker NOTIFYs, the leader LISTENs (else it waits for its next poll)."""
    url = make_url(database_url)

    async def scenario() -> int:
        leader = Leadership(url, retry_seconds=0.05)
        woken = asyncio.Event()
        leader.on_notify = woken.set
        task = asyncio.ensure_future(leader.lead(lambda: asyncio.Event().wait()))
        other = shared_order(database_url)
        await other.start()
        try:
            for _ in range(200):
                if leader.is_leader:
                    break
                await asyncio.sleep(0.01)
            await other.notify(OUTBOX_CHANNEL)
            await asyncio.wait_for(woken.wait(), 10)
            return 1
        finally:
            await other.close()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    assert asyncio.run(scenario()) == 1


def post_next(fake: FakeTelegram, worker: Worker) -> None:
    """The oldest pending update, POSTed to this worker's webhook (which worker gets what is
    chosen, not left to the round-robin)."""
    with fake._lock:
        update = fake.pending.pop(0)
    request = urllib.request.Request(
        worker.url, data=json.dumps(update).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200


def test_a_429_one_worker_is_told_holds_every_worker(
    db: Engine, database_url: str, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    """Two people type /register in one group, one update on each worker. Telegram answers
    the first worker's reply 429, retry after 6 s. The second worker, handling the other
    person a moment later, must not send into that wait (Telegram would answer it with a
    longer one): both replies reach the group after it. Without the shared pauses the second
    worker answered at once (TEST_WORKERS_UNSHARED_PAUSES shows it)."""
    shipped = (ROOT / "config.yaml").read_text(encoding="utf-8")
    assert "pause_poll_seconds: 1 " in shipped
    poll = 0.2 if os.environ.get("TEST_WORKERS_UNSHARED_PAUSES") is None else 60
    config = tmp_path / "config.yaml"
    config.write_text(shipped.replace("pause_poll_seconds: 1 ", f"pause_poll_seconds: {poll} "))
    group = fake_telegram.group(-5_001, "主播群")
    first, second = fake_telegram.user(9_001, "a"), fake_telegram.user(9_002, "b")
    workers = [
        Worker(
            database_url, fake_telegram, tmp_path / f"w{i}.log", True, {"BOT_CONFIG": str(config)}
        )
        for i in range(2)
    ]
    wait = 6
    fake_telegram.faults.append(
        Fault("429", "sendMessage", retry_after=wait, only=lambda p: str(p["chat_id"]) == "-5001")
    )
    try:
        for worker in workers:
            worker.wait_ready()
        first.text("/register", chat=group.chat())
        post_next(fake_telegram, workers[0])
        fake_telegram.wait(lambda: fake_telegram.stats.faults.get("429") == 1)
        told = time.monotonic()

        def held() -> bool:
            with db.connect() as conn:
                return bool(
                    conn.execute(
                        text("select count(*) from send_pauses where chat_id = '-5001'")
                    ).scalar_one()
                )

        fake_telegram.wait(held)
        # the second worker has read it (it logs each chat it newly holds)
        with contextlib.suppress(TimeoutError):  # unshared: it never does; shown below
            fake_telegram.wait(lambda: "chat -5001 held" in workers[1].tail(), timeout=2)
        second.text("/register", chat=group.chat())
        post_next(fake_telegram, workers[1])
        fake_telegram.wait(lambda: len(group.inbox) == 2, timeout=30)
        logs = "\n".join(w.tail() for w in workers)
    finally:
        for worker in workers:
            worker.stop()
    assert [round(m.at - told, 1) >= wait - 0.1 for m in group.inbox] == [True, True], logs
