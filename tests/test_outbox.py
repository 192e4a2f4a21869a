"""The outbox: one row per idempotency key, delivered once; permanent failures recorded,
temporary ones retried when the platform says."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt

from sqlalchemy import func, select

from bot.config import FestivalConfig
from bot.core.clock import FixedClock
from bot.core.delivery import MAX_ATTEMPTS, OutboxDispatcher
from bot.core.dispatcher import Core
from bot.core.messages import Button, Incoming, Outgoing, Reply
from bot.core.outbox import Outbox, PermanentFailure, TemporaryFailure
from models import Identity, OutboxMessage, Person


class FakeSender:
    """Records every message; raises the queued failures of a chat id, one per attempt."""

    def __init__(self, failures: dict[str, list[Exception]] | None = None) -> None:
        self.calls: list[Outgoing] = []
        self.failures = failures or {}

    async def send(self, message: Outgoing) -> None:
        self.calls.append(message)
        queued = self.failures.get(message.chat_id)
        if queued:
            raise queued.pop(0)


def person_of(core: Core, user: str) -> int:
    """A person created the real way: by writing to the bot."""
    core.process_sync(Incoming.from_text("console", user, "/start", display_name=user))
    with core.sessions() as s:
        return s.scalars(select(Identity.person_id).where(Identity.user_id == user)).one()


def enqueue(core: Core, person_id: int, key: str, reply: Reply) -> None:
    with core.sessions() as s, s.begin():
        Outbox(s, core.clock).to_person(person_id, key, reply)


def rows(core: Core) -> list[OutboxMessage]:
    with core.sessions() as s:
        return list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def run_once(dispatcher: OutboxDispatcher) -> int:
    return asyncio.run(dispatcher.run_once())


def test_same_key_twice_is_one_row(core: Core) -> None:
    alice = person_of(core, "alice")
    enqueue(core, alice, "approved:streamer:1", Reply("通过了"))
    enqueue(core, alice, "approved:streamer:1", Reply("又一次"))
    with core.sessions() as s, s.begin():  # twice in the same transaction too
        outbox = Outbox(s, core.clock)
        outbox.to_person(alice, "approved:streamer:2", Reply("第二个"))
        outbox.to_person(alice, "approved:streamer:2", Reply("第二个"))
    stored = rows(core)
    assert [(r.idempotency_key, r.payload["text"]) for r in stored] == [
        ("approved:streamer:1", "通过了"),
        ("approved:streamer:2", "第二个"),
    ]
    first = stored[0]
    assert (first.person_id, first.channel, first.chat_id) == (alice, "console", "alice")
    assert (first.status, first.attempts, first.sent_at) == ("pending", 0, None)
    assert first.next_attempt_at == core.clock.now()


def test_to_chat_and_person_without_identity(core: Core, clock: FixedClock) -> None:
    with core.sessions() as s, s.begin():
        lonely = Person(display_name="无渠道", created_at=clock.now())
        s.add(lonely)
        s.flush()
        outbox = Outbox(s, clock)
        outbox.to_person(lonely.id, "dropped", Reply("收不到"))  # no channel: dropped
        outbox.to_chat("telegram", "-100123", "top:2020-11-02", Reply("龙虎榜"))
    stored = rows(core)
    assert [(r.idempotency_key, r.person_id, r.channel, r.chat_id) for r in stored] == [
        ("top:2020-11-02", None, "telegram", "-100123")
    ]


def test_delivers_pending_rows_once_and_marks_them_sent(core: Core, clock: FixedClock) -> None:
    alice, bob = person_of(core, "alice"), person_of(core, "bob")
    reply = Reply("审核通过", ((Button("查看", "*:cmd:me"),),), numbered=True)
    enqueue(core, alice, "k:alice", reply)
    enqueue(core, bob, "k:bob", Reply("你好 bob"))
    sender = FakeSender()
    dispatcher = OutboxDispatcher(core.sessions, clock, {"console": sender})

    assert run_once(dispatcher) == 2
    assert [(m.chat_id, m.recipient_name, m.reply.text) for m in sender.calls] == [
        ("alice", "alice", "审核通过"),
        ("bob", "bob", "你好 bob"),
    ]
    assert sender.calls[0].reply == reply  # buttons survive the round trip through the row
    assert sender.calls[0].outbox_id == rows(core)[0].id
    for row in rows(core):
        assert (row.status, row.attempts, row.sent_at, row.last_error) == (
            "sent",
            1,
            clock.now(),
            None,
        )
        assert row.claimed_until is None

    assert run_once(dispatcher) == 0  # nothing is delivered twice
    clock.advance(hours=1)
    assert run_once(dispatcher) == 0
    assert len(sender.calls) == 2


def test_rows_of_channels_this_process_does_not_run_wait(core: Core, clock: FixedClock) -> None:
    alice = person_of(core, "alice")
    enqueue(core, alice, "k:alice", Reply("你好"))
    with core.sessions() as s, s.begin():
        Outbox(s, clock).to_chat("telegram", "-100123", "k:group", Reply("群消息"))
    sender = FakeSender()
    assert run_once(OutboxDispatcher(core.sessions, clock, {"console": sender})) == 1
    assert [r.status for r in rows(core)] == ["sent", "pending"]
    assert [m.chat_id for m in sender.calls] == ["alice"]


def test_permanent_failure_is_recorded_and_others_still_delivered(
    core: Core, clock: FixedClock
) -> None:
    bob, alice = person_of(core, "bob"), person_of(core, "alice")
    enqueue(core, bob, "k:bob", Reply("给 bob"))  # first in line, and it fails
    enqueue(core, alice, "k:alice", Reply("给 alice"))
    blocked = PermanentFailure("Forbidden: bot was blocked by the user", unreachable=True)
    sender = FakeSender({"bob": [blocked]})
    dispatcher = OutboxDispatcher(core.sessions, clock, {"console": sender})

    assert run_once(dispatcher) == 2
    by_key = {r.idempotency_key: r for r in rows(core)}
    failed, sent = by_key["k:bob"], by_key["k:alice"]
    assert (failed.status, failed.attempts, failed.sent_at) == ("failed", 1, None)
    assert failed.last_error == "Forbidden: bot was blocked by the user"
    assert (sent.status, sent.sent_at) == ("sent", clock.now())
    with core.sessions() as s:
        assert s.get(Person, bob).unreachable_at == clock.now()  # type: ignore[union-attr]
        assert s.get(Person, alice).unreachable_at is None  # type: ignore[union-attr]

    clock.advance(days=1)
    assert run_once(dispatcher) == 0  # a failed row is never retried
    assert [m.chat_id for m in sender.calls] == ["bob", "alice"]


def test_temporary_failure_waits_for_retry_after(core: Core, clock: FixedClock) -> None:
    alice = person_of(core, "alice")
    enqueue(core, alice, "k:alice", Reply("稍后送达"))
    sender = FakeSender({"alice": [TemporaryFailure("Flood control exceeded", retry_after=30)]})
    dispatcher = OutboxDispatcher(core.sessions, clock, {"console": sender})
    t0 = clock.now()

    assert run_once(dispatcher) == 1
    (row,) = rows(core)
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "Flood control exceeded")
    assert row.next_attempt_at == t0 + dt.timedelta(seconds=30)
    assert row.claimed_until is None
    with core.sessions() as s:
        assert s.get(Person, alice).unreachable_at is None  # type: ignore[union-attr]

    assert run_once(dispatcher) == 0  # not before the time the platform asked for
    clock.set(t0 + dt.timedelta(seconds=29))
    assert run_once(dispatcher) == 0
    assert len(sender.calls) == 1

    clock.set(t0)
    clock.advance(seconds=31)
    assert run_once(dispatcher) == 1
    (row,) = rows(core)
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)
    assert row.sent_at == t0 + dt.timedelta(seconds=31)
    assert len(sender.calls) == 2
    assert run_once(dispatcher) == 0


def test_sender_bug_is_retried_with_backoff(core: Core, clock: FixedClock) -> None:
    alice = person_of(core, "alice")
    enqueue(core, alice, "k:alice", Reply("你好"))
    sender = FakeSender({"alice": [RuntimeError("boom")]})
    dispatcher = OutboxDispatcher(core.sessions, clock, {"console": sender})
    t0 = clock.now()
    assert run_once(dispatcher) == 1
    (row,) = rows(core)
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "RuntimeError: boom")
    assert row.next_attempt_at == t0 + dt.timedelta(seconds=0.5)  # 0.5 s, then doubling
    clock.advance(seconds=0.5)
    assert run_once(dispatcher) == 1
    assert rows(core)[0].status == "sent"


def test_gives_up_after_max_attempts(core: Core, clock: FixedClock) -> None:
    alice = person_of(core, "alice")
    enqueue(core, alice, "k:alice", Reply("你好"))
    failures: list[Exception] = [
        TemporaryFailure(f"timeout {i}", retry_after=1) for i in range(1, MAX_ATTEMPTS + 1)
    ]
    sender = FakeSender({"alice": failures})
    dispatcher = OutboxDispatcher(core.sessions, clock, {"console": sender})
    for _ in range(MAX_ATTEMPTS):
        assert run_once(dispatcher) == 1
        clock.advance(seconds=1)
    (row,) = rows(core)
    assert (row.status, row.attempts, row.last_error) == ("failed", MAX_ATTEMPTS, "timeout 8")
    assert run_once(dispatcher) == 0
    assert len(sender.calls) == MAX_ATTEMPTS == 8
    with core.sessions() as s:
        # a run of timeouts is not a block: the person is not marked unreachable
        assert s.get(Person, alice).unreachable_at is None  # type: ignore[union-attr]
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_long_keys_stay_distinct() -> None:
    from bot.core.outbox import _fit_key

    a, b = "x" * 250 + "a", "x" * 250 + "b"
    assert _fit_key("short") == "short"
    assert len(_fit_key(a)) == 200 and _fit_key(a) != _fit_key(b)
    assert _fit_key(a) == _fit_key(a)


def test_concurrent_delivery_passes_never_send_a_row_twice(core: Core, clock: FixedClock) -> None:
    """Several dispatchers at once (as several bot processes would be; each has its own
    in-process lock) plus a second pass on one of them: every row goes out exactly once. On
    SQLite, which has no FOR UPDATE, the claim's own re-check keeps them apart."""
    people = [person_of(core, f"p{i}") for i in range(6)]
    for n in range(60):
        enqueue(core, people[n % 6], f"k:{n}", Reply(f"消息 {n}"))

    class SlowSender(FakeSender):
        async def send(self, message: Outgoing) -> None:
            await asyncio.sleep(0.002)  # another pass claims while this one sends
            await super().send(message)

    sender = SlowSender()
    dispatchers = [OutboxDispatcher(core.sessions, clock, {"console": sender}) for _ in range(4)]

    async def all_at_once() -> None:
        passes = [d.drain(limit=7) for d in dispatchers] + [dispatchers[0].drain(limit=5)]
        await asyncio.gather(*passes)

    asyncio.run(all_at_once())
    sent = sorted(m.outbox_id for m in sender.calls)
    assert sent == sorted(r.id for r in rows(core))  # each row once, none missing
    assert all(r.status == "sent" and r.attempts == 1 for r in rows(core))


def test_a_batch_writes_the_same_rows_as_single_inserts(core: Core, clock: FixedClock) -> None:
    """The scheduler's batch mode (bulk statements, channels looked up in bulk) stores exactly
    what one insert per message would: the channel used last, the first linked one otherwise,
    nobody without a channel, a key already enqueued skipped; across statement boundaries."""
    from models import Person

    ids = [person_of(core, f"b{i}") for i in range(3)]
    with core.sessions() as s, s.begin():
        # b1 also uses Telegram and wrote there last; b2 linked Telegram but is back on console
        for person_id in ids[1:]:
            s.add(
                Identity(
                    person_id=person_id,
                    channel="telegram",
                    user_id=f"tg{person_id}",
                    chat_id=f"tg{person_id}",
                    created_at=clock.now(),
                )
            )
        s.get_one(Person, ids[1]).last_channel = "telegram"
        s.get_one(Person, ids[2]).last_channel = "console"
        ghost = Person(display_name="ghost", created_at=clock.now())  # no channel at all
        s.add(ghost)
        s.flush()
        ids.append(ghost.id)
    messages = [(ids[n % 4], f"k{n}", Reply(f"消息 {n}")) for n in range(1_203)]
    messages.append((ids[0], "k0", Reply("重复的键")))

    def store(batch: bool, prefix: str) -> list[tuple[object, ...]]:
        with core.sessions() as s, s.begin():
            outbox = Outbox(s, clock, batch=batch)
            for person_id, key, reply in messages:
                outbox.to_person(person_id, prefix + key, reply)
            outbox.to_chat("telegram", "-100", prefix + "group", Reply("群"))
            outbox.flush()
        with core.sessions() as s:
            found = s.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.idempotency_key.startswith(prefix))
                .order_by(OutboxMessage.idempotency_key)
            ).all()
            return [
                (m.idempotency_key[len(prefix) :], m.person_id, m.channel, m.chat_id, m.payload)
                for m in found
            ]

    single, bulk = store(False, "s:"), store(True, "b:")
    assert bulk == single
    assert len(bulk) == 1 + sum(1 for n in range(1_203) if n % 4 != 3)  # the ghost gets none
    by_person = {person_id: (channel, chat) for _, person_id, channel, chat, _ in bulk}
    assert by_person[ids[0]] == ("console", "b0")
    assert by_person[ids[1]] == ("telegram", f"tg{ids[1]}")
    assert by_person[ids[2]] == ("console", "b2")
    assert ids[3] not in by_person
    assert dict((k, p) for k, _, _, _, p in bulk)["k0"]["text"] == "消息 0"  # first one kept


def test_a_permanent_failure_that_says_nothing_about_the_person(
    core: Core, clock: FixedClock
) -> None:
    """A closed WeChat window or a bad request fails the message, not the person: their other
    channels keep delivering to them."""
    carol = person_of(core, "carol")
    enqueue(core, carol, "k:1", Reply("窗口已关闭"))
    sender = FakeSender({"carol": [PermanentFailure("customer-service window closed (45015)")]})
    assert run_once(OutboxDispatcher(core.sessions, clock, {"console": sender})) == 1
    assert rows(core)[0].status == "failed"
    with core.sessions() as s:
        assert s.get_one(Person, carol).unreachable_at is None


def test_every_part_of_a_reply_survives_the_outbox() -> None:
    """A reply stored in the outbox (or kept for a resend) comes back whole: the contact
    button and a deep link included, or a deferred phone question would lose its button."""
    reply = Reply(
        "请输入手机号",
        ((Button("返回", "3:nav:back"),),),
        numbered=True,
        request_contact=True,
        image_path="/data/boards/a.png",
        document_path=None,
        start_link=("转发邀请链接", "join_ABCD2345"),
    )
    assert Reply.from_payload(reply.to_payload()) == reply
    assert Reply.from_payload(Reply("只有文字").to_payload()) == Reply("只有文字")


def test_a_slow_batch_keeps_its_rows_while_another_worker_polls(
    core: Core, config: FestivalConfig
) -> None:
    """A batch that takes longer than its lease (pacing, 429 waits) renews the lease as it
    goes: a second worker polling meanwhile never takes, and re-sends, its rows. Real time,
    with a short lease."""
    from bot.core.clock import Clock

    clock = Clock(config.calendar.tz)
    people = [person_of(core, f"w{i}") for i in range(2)]
    for n in range(10):
        enqueue(core, people[n % 2], f"slow:{n}", Reply(f"慢 {n}"))

    class SlowSender(FakeSender):
        async def send(self, message: Outgoing) -> None:
            await asyncio.sleep(0.1)
            await super().send(message)

    sender = SlowSender()
    lease = dt.timedelta(seconds=0.4)
    first, second = (
        OutboxDispatcher(core.sessions, clock, {"console": sender}, lease=lease) for _ in range(2)
    )

    async def both() -> None:
        async def later() -> None:
            for _ in range(6):  # polls while the first batch is still being sent
                await asyncio.sleep(0.15)
                await second.run_once()

        await asyncio.gather(first.run_once(limit=10), later())

    asyncio.run(both())
    sent = [m.outbox_id for m in sender.calls]
    assert sorted(sent) == sorted(set(sent)) and len(sent) == 10
    assert all(r.status == "sent" and r.attempts == 1 for r in rows(core))


def test_a_stop_in_the_middle_of_a_batch_releases_the_rest(core: Core, clock: FixedClock) -> None:
    alice = person_of(core, "alice")
    for n in range(5):
        enqueue(core, alice, f"stop:{n}", Reply(f"消息 {n}"))
    started = asyncio.Event()

    class HangingSender(FakeSender):
        async def send(self, message: Outgoing) -> None:
            if self.calls:  # the second message hangs: the process is stopped meanwhile
                started.set()
                await asyncio.sleep(3600)
            await super().send(message)

    dispatcher = OutboxDispatcher(core.sessions, clock, {"console": HangingSender()})

    async def stop_midway() -> None:
        task = asyncio.ensure_future(dispatcher.run_once())
        await started.wait()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(stop_midway())
    by_key = {r.idempotency_key: r for r in rows(core)}
    assert by_key["stop:0"].status == "sent"
    in_flight = by_key["stop:1"]  # it may have reached the platform: retried after its lease
    assert in_flight.status == "pending" and in_flight.claimed_until is not None
    for n in range(2, 5):  # never attempted: due again at once, no attempt counted
        row = by_key[f"stop:{n}"]
        assert (row.status, row.claimed_until, row.attempts) == ("pending", None, 0)


def test_waits_follow_a_rehearsal_clocks_speed(core: Core, config: FestivalConfig) -> None:
    """At BOT_CLOCK_SPEED=60 a platform's "retry after 30 s" is still 30 real seconds: 30
    minutes on the rehearsal clock."""
    from bot.core.clock import Clock

    wall = dt.datetime(2026, 11, 27, 3, 0, tzinfo=dt.UTC)
    start = dt.datetime(2020, 11, 2, 20, 0, tzinfo=config.calendar.tz)
    clock = Clock(config.calendar.tz, start, speed=60, wall=lambda: wall)
    enqueue(core, person_of(core, "slowpoke"), "k:flood", Reply("稍后"))
    sender = FakeSender({"slowpoke": [TemporaryFailure("Flood control", retry_after=30)]})
    assert run_once(OutboxDispatcher(core.sessions, clock, {"console": sender})) == 1
    [row] = rows(core)
    assert row.next_attempt_at == clock.now() + dt.timedelta(minutes=30)


def test_a_superseded_question_still_tells_its_news_alone(core: Core, clock: FixedClock) -> None:
    """Two queued messages ask the same question: only the later goes, but what the earlier
    told besides (a correction) goes alone; a failure of that is tried again like any send."""
    alice = person_of(core, "alice")
    enqueue(core, alice, "late:1", Reply("已更正\n问题", question="q", aside="已更正"))
    enqueue(core, alice, "late:2", Reply("问题", question="q"))
    sender = FakeSender({"alice": [TemporaryFailure("502")]})
    dispatcher = OutboxDispatcher(core.sessions, clock, {"console": sender})
    run_once(dispatcher)
    assert [m.reply.text for m in sender.calls] == ["已更正"]  # failed: the later waits
    assert [r.status for r in rows(core)] == ["pending", "pending"]
    clock.advance(minutes=5)
    run_once(dispatcher)
    assert [m.reply.text for m in sender.calls] == ["已更正", "已更正", "问题"]
    assert sender.calls[1].reply.question is None  # the news alone asks nothing
    assert [r.status for r in rows(core)] == ["superseded", "sent"]
