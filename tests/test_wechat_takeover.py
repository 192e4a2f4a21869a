"""A WeChat message answered empty is never lost. When its step misses the passive budget the
message is stored, held by its worker under a lease, before the empty answer (WeChat will not
send it again); the step's own commit clears it. A worker that dies before that commit leaves
it to another worker's sweep once the lease has run out (or to itself, restarted, at once); a
takeover racing a live slow step applies the message once; a follower's next message finishes
their held one first.

Two workers are two cores with their own channels on one database, on the test's clock (the
lease runs out when the clock is moved); a worker's step stalls in its thread until released,
and a "killed" worker's step then fails, its tasks cancelled. The followers talk to the fake
WeChat server; the end is read from the database."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bot.config import FestivalConfig
from bot.core.clock import FixedClock
from bot.core.dispatcher import Core
from bot.core.messages import Incoming, Reply
from bot.core.routing import Record
from handlers.routes import ROUTES
from models import OutboxMessage, OutboxStatus, WeChatInbound
from tests.catalog import said
from tests.chat import form_answers
from tests.conftest import until
from tests.fake_wechat import FakeWeChat, Harness, message_xml, wechat_bot
from tests.test_telegram_faults import stored, varied_streamer

pytestmark = pytest.mark.fake("wechat")

OPENID = "o_takeover"
# Worker A's outbox is drained by the test only (not even a late reply wakes it): a killed
# worker delivers nothing (and its stalled step thread would hold up its dispatcher's
# database work), and the test says which worker sends a late reply
IDLE = None
FOLLOWERS = 10  # the script's line answering the follower-count question
LIKES = 11


class StallingCore(Core):
    """A worker whose next step, once armed, stalls in its thread until released; a killed
    worker's stalled step then fails (it never commits)."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.armed = False
        self.stalled = threading.Event()
        self.go = threading.Event()
        self.killed = False

    def process_sync(self, inc: Incoming, record: Record | None = None) -> list[Reply]:
        if self.armed:
            self.armed = False
            self.stalled.set()
            self.go.wait(60)
            if self.killed:
                raise RuntimeError("the worker was killed in the middle of this step")
        return super().process_sync(inc, record)


@pytest.fixture
def workers(
    db: Engine, config: FestivalConfig, clock: FixedClock
) -> Iterator[tuple[StallingCore, StallingCore]]:
    """Two workers on one database and one clock; A's passive budget is 0.3 s (its stalled
    step misses it soon), B's the shipped one."""
    wechat = config.wechat.model_copy(update={"reply_budget_seconds": 0.3})
    short = config.model_copy(update={"wechat": wechat})
    a, b = StallingCore(short, db, clock, ROUTES), StallingCore(config, db, clock, ROUTES)
    yield a, b
    for core in (a, b):
        core.go.set()
        core.executor.shutdown()


async def post(bot: Harness, fake: FakeWeChat, text: str, msg_id: str) -> str:
    """The follower types `text` (WeChat's server posts it to this worker): the raw answer."""
    fake.interact(OPENID)
    body = message_xml(OPENID, "text", 1_700_000_000, Content=text, MsgId=msg_id)
    response = await bot.server.post(body)
    assert response.status_code == 200
    return response.text if response.text == "success" else bot.server.reply_text(response) or ""


def held(db: Engine) -> list[tuple[str, str | None]]:
    with Session(db) as session:
        rows = session.execute(
            select(WeChatInbound.dedupe_key, WeChatInbound.owner).where(
                WeChatInbound.pending.is_not(None)
            )
        )
        return [(r.dedupe_key, r.owner) for r in rows]


def recorded(db: Engine, key: str) -> int:
    with Session(db) as session:
        found = select(func.count()).where(WeChatInbound.dedupe_key == key)
        return int(session.scalar(found.select_from(WeChatInbound)) or 0)


def kill(bot: Harness, core: StallingCore) -> None:
    """The worker's process dies: its tasks are gone, its stalled step never commits."""
    core.killed = True
    for task in list(bot.runtime.channel._late):
        task.cancel()


async def answered_empty(bot: Harness, core: StallingCore, fake: FakeWeChat, line: str) -> None:
    """`line` reaches this worker, whose step stalls: answered empty, held by the worker."""
    core.armed = True
    assert await post(bot, fake, line, "990001") == "success"
    assert core.stalled.is_set()


def test_a_message_answered_empty_by_a_worker_that_dies_is_finished_by_another(
    workers: tuple[StallingCore, StallingCore], fake: FakeWeChat, clock: FixedClock, db: Engine
) -> None:
    a, b = workers
    lines, want = varied_streamer(1)

    async def scenario() -> None:
        async with (
            wechat_bot(a, fake, True, IDLE, wechat_worker_id="worker-a") as wa,
            wechat_bot(b, fake, True, wechat_worker_id="worker-b") as wb,
        ):
            await wb.follower(OPENID).run(lines[:FOLLOWERS])
            await answered_empty(wa, a, fake, lines[FOLLOWERS])
            # stored before the empty answer, held by worker A
            assert held(db) == [("msg:990001", "worker-a")]
            kill(wa, a)
            await wb.runtime.channel.sweep()
            assert held(db) == [("msg:990001", "worker-a")]  # A's lease still runs
            before = len(fake.service_texts(OPENID))
            clock.advance(seconds=a.config.wechat.pending_lease_seconds + 1)
            await wb.runtime.channel.sweep()  # the lease ran out: B takes it over
            await wb.runtime.channel.idle()
            await wb.deliver()
            late = fake.service_texts(OPENID)[before:]
            assert len(late) == 1 and said(late[0], "ask.likes_received")
            assert held(db) == []
            a.go.set()  # A's stalled thread ends without committing
            await wb.follower(OPENID).run(lines[LIKES:])
            assert wb.runtime.channel.stats["taken_over"] == 1

    asyncio.run(scenario())
    assert stored(db, OPENID, "wechat") == want  # the value typed once, on its question
    assert recorded(db, "msg:990001") == 1 and held(db) == []


@pytest.mark.parametrize("winner", ["taker", "owner"])
def test_a_takeover_racing_a_live_slow_step_applies_it_once(
    workers: tuple[StallingCore, StallingCore],
    fake: FakeWeChat,
    clock: FixedClock,
    db: Engine,
    winner: str,
) -> None:
    """Worker A's step is slow but alive when its lease runs out (it could not renew): B
    takes the message over. Whichever step commits second finds it handled and rolls back
    whole: the value is applied once, the follower gets one reply."""
    a, b = workers
    lines, _ = varied_streamer(2)

    async def scenario() -> None:
        async with (
            wechat_bot(a, fake, True, IDLE, wechat_worker_id="worker-a") as wa,
            wechat_bot(b, fake, True, wechat_worker_id="worker-b") as wb,
        ):
            await wb.follower(OPENID).run(lines[:FOLLOWERS])
            await answered_empty(wa, a, fake, lines[FOLLOWERS])
            before = len(fake.service_texts(OPENID))
            clock.advance(seconds=a.config.wechat.pending_lease_seconds + 1)
            if winner == "taker":
                await wb.runtime.channel.sweep()
                await wb.runtime.channel.idle()  # B's step committed
                a.go.set()  # then A's: already handled
                await wa.runtime.channel.idle()
            else:
                b.armed = True
                await wb.runtime.channel.sweep()  # B claims it; its step stalls
                await until(b.stalled.is_set)
                a.go.set()
                await wa.runtime.channel.idle()  # A's step committed
                b.go.set()  # then B's: already handled
                await wb.runtime.channel.idle()
            await wa.deliver()
            await wb.deliver()
            late = fake.service_texts(OPENID)[before:]
            assert len(late) == 1 and said(late[0], "ask.likes_received")
            loser = wa if winner == "taker" else wb
            assert loser.runtime.channel.stats["resent"] == 1  # rolled back as handled

    asyncio.run(scenario())
    assert held(db) == [] and recorded(db, "msg:990001") == 1
    answers = form_answers(b, OPENID)
    assert answers["followers"] == 2002 and "likes_received" not in answers


def test_a_restarted_worker_takes_its_own_held_messages_at_once(
    workers: tuple[StallingCore, StallingCore],
    fake: FakeWeChat,
    db: Engine,
    config: FestivalConfig,
    clock: FixedClock,
) -> None:
    """kill -9 and start again under the same worker name: its first sweep finishes what it
    held without waiting for the lease."""
    a, _ = workers
    lines, _ = varied_streamer(3)
    restarted = Core(a.config, db, clock, ROUTES)

    async def scenario() -> None:
        async with wechat_bot(a, fake, True, IDLE, wechat_worker_id="worker-a") as wa:
            await wa.follower(OPENID).run(lines[:FOLLOWERS])
            await answered_empty(wa, a, fake, lines[FOLLOWERS])
            kill(wa, a)
        async with wechat_bot(restarted, fake, True, wechat_worker_id="worker-a") as again:
            before = len(fake.service_texts(OPENID))
            await again.runtime.channel.sweep()  # at start: the lease has not run out
            await again.runtime.channel.idle()
            await again.deliver()
            late = fake.service_texts(OPENID)[before:]
            assert len(late) == 1 and said(late[0], "ask.likes_received")

    try:
        asyncio.run(scenario())
    finally:
        restarted.executor.shutdown()
    assert held(db) == []
    assert form_answers(restarted, OPENID)["followers"] == 2003


def test_the_followers_next_message_finishes_the_held_one_first(
    workers: tuple[StallingCore, StallingCore], fake: FakeWeChat, clock: FixedClock, db: Engine
) -> None:
    """A died holding the follower's answer; after its lease ran out (before B's next sweep)
    the follower, who saw nothing, types the answer again, and it reaches B: the held one is
    applied first, so the retyped one is a repeat that changes nothing (were it first, the
    held answer would then land on the next question), and the held one's reply asks the
    next question."""
    a, b = workers
    lines, _ = varied_streamer(4)

    async def scenario() -> None:
        async with (
            wechat_bot(a, fake, True, IDLE, wechat_worker_id="worker-a") as wa,
            wechat_bot(b, fake, True, wechat_worker_id="worker-b") as wb,
        ):
            await wb.follower(OPENID).run(lines[:FOLLOWERS])
            await answered_empty(wa, a, fake, lines[FOLLOWERS])
            kill(wa, a)
            await wb.runtime.channel.sweep()  # B learns of A's lease
            clock.advance(seconds=a.config.wechat.pending_lease_seconds + 1)
            before = len(fake.service_texts(OPENID))
            assert await post(wb, fake, lines[FOLLOWERS], "990002") == "success"
            assert held(db) == []
            await wb.runtime.channel.idle()
            await wb.deliver()
            late = fake.service_texts(OPENID)[before:]
            assert len(late) == 1 and said(late[0], "ask.likes_received")
            assert said(await post(wb, fake, lines[LIKES], "990003"), "ask.tips_income")
            assert wb.runtime.channel.stats["taken_over"] == 1

    asyncio.run(scenario())
    answers = form_answers(b, OPENID)
    assert answers["followers"] == 2004 and answers["likes_received"] == 30_004


def superseded_rows(db: Engine) -> list[str]:
    with Session(db) as session:
        found = (
            select(OutboxMessage.idempotency_key)
            .where(OutboxMessage.status == OutboxStatus.SUPERSEDED.value)
            .order_by(OutboxMessage.id)
        )
        return list(session.scalars(found))


@contextlib.asynccontextmanager
async def slow_reply_queued(
    a: StallingCore, b: StallingCore, fake: FakeWeChat, lines: list[str]
) -> AsyncIterator[tuple[Harness, Harness]]:
    """B takes the follower up to the follower-count question; their answer reaches A, whose
    step stalls past the budget (answered empty), then commits: its reply (the likes
    question) waits in the outbox, which only the test drains."""
    async with (
        wechat_bot(a, fake, True, IDLE, wechat_worker_id="worker-a") as wa,
        wechat_bot(b, fake, True, IDLE, wechat_worker_id="worker-b") as wb,
    ):
        await wb.follower(OPENID).run(lines[:FOLLOWERS])
        await answered_empty(wa, a, fake, lines[FOLLOWERS])
        a.go.set()
        await wa.runtime.channel.idle()
        yield wa, wb


def test_a_late_reply_goes_out_by_a_worker_that_did_not_run_its_step(
    workers: tuple[StallingCore, StallingCore], fake: FakeWeChat, db: Engine
) -> None:
    """Any worker's outbox loop may take a late reply: B, which never saw A's step (its own
    memory knows an older question), still sends it: the conversation's committed state
    says which step asked the open question."""
    a, b = workers
    lines, want = varied_streamer(4)

    async def scenario() -> None:
        async with slow_reply_queued(a, b, fake, lines) as (_wa, wb):
            before = len(fake.service_texts(OPENID))
            await wb.deliver()  # B's outbox loop takes it
            late = fake.service_texts(OPENID)[before:]
            assert len(late) == 1 and said(late[0], "ask.likes_received")
            await wb.follower(OPENID).run(lines[LIKES:])

    asyncio.run(scenario())
    assert superseded_rows(db) == []
    assert stored(db, OPENID, "wechat") == want


def test_a_late_reply_is_not_sent_once_another_worker_asked_since(
    workers: tuple[StallingCore, StallingCore], fake: FakeWeChat, db: Engine
) -> None:
    """A's slow step's reply (the next question) waits in the outbox; meanwhile the follower,
    seeing nothing, types something B answers by asking that question itself. A, whose
    memory knows only its own step, must not send its copy: the follower would see the
    question twice (and a second answer typed to the copy would land on the question after)."""
    a, b = workers
    lines, want = varied_streamer(5)

    async def scenario() -> None:
        async with slow_reply_queued(a, b, fake, lines) as (wa, wb):
            answer = await post(wb, fake, "?", "990002")  # not a number: asked again
            assert said(answer, "ask.likes_received")
            before = len(fake.service_texts(OPENID))
            await wa.deliver()
            assert fake.service_texts(OPENID)[before:] == []
            await wb.follower(OPENID).run(lines[LIKES:])

    asyncio.run(scenario())
    assert superseded_rows(db) == ["wechat:late:msg:990001:0"]
    assert stored(db, OPENID, "wechat") == want


def test_what_a_superseded_late_reply_told_still_reaches_the_follower(
    workers: tuple[StallingCore, StallingCore], fake: FakeWeChat, db: Engine
) -> None:
    """Worker A is slow: the follower's phone number, then a corrected one typed while
    nothing came, then their follower count (typed ahead) all wait and are answered empty.
    Their replies go by the outbox: the phone's (asks the follower count), the correction's
    (says the phone was corrected, asks again) and the count's (not taken: it came before the
    question; asks again). Only the last question goes; the correction's news is not lost
    with its superseded question: it goes alone."""
    a, b = workers
    lines, want = varied_streamer(6)
    phone_at = FOLLOWERS - 1
    corrected = "13912345678"  # made up

    async def scenario() -> None:
        async with (
            wechat_bot(a, fake, True, IDLE, wechat_worker_id="worker-a") as wa,
            wechat_bot(b, fake, True, IDLE, wechat_worker_id="worker-b") as wb,
        ):
            await wb.follower(OPENID).run(lines[:phone_at])
            a.armed = True
            assert await post(wa, fake, lines[phone_at], "990011") == "success"
            assert a.stalled.is_set()
            assert await post(wa, fake, corrected, "990012") == "success"
            assert await post(wa, fake, lines[FOLLOWERS], "990013") == "success"
            before = len(fake.service_texts(OPENID))
            a.go.set()
            await wa.runtime.channel.idle()  # the three steps committed, replies queued
            await wa.deliver()
            late = fake.service_texts(OPENID)[before:]
            assert len(late) == 2, late
            assert said(late[0], "form.corrected") and not said(late[0], "ask.followers")
            assert said(late[1], "form.early_not_taken") and said(late[1], "ask.followers")
            await wb.follower(OPENID).run(lines[FOLLOWERS:])

    asyncio.run(scenario())
    assert superseded_rows(db) == ["wechat:late:msg:990011:0", "wechat:late:msg:990012:0"]
    assert stored(db, OPENID, "wechat") == {**want, "phone": corrected}
