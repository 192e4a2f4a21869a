"""The outbox delivers to different people concurrently (one slow API call or back-off does
not hold up everybody else) while one chat's messages stay in order: a message that fails for
now holds back the chat's later ones until it is tried again."""

from __future__ import annotations

import asyncio

from bot.core.delivery import OutboxDispatcher
from bot.core.dispatcher import Core
from bot.core.messages import Outgoing, Reply
from bot.core.outbox import Outbox, TemporaryFailure
from tests.test_outbox import rows


class SlowSender:
    """Each send takes a moment (a slow API); records how many were in flight at once."""

    def __init__(self, fail_first_to: str | None = None) -> None:
        self.in_flight = 0
        self.most = 0
        self.sent: list[tuple[str, str]] = []
        self.fail_first_to = fail_first_to

    async def send(self, message: Outgoing) -> None:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            await asyncio.sleep(0.05)
            if message.chat_id == self.fail_first_to:
                self.fail_first_to = None
                raise TemporaryFailure("502 from the platform")
            self.sent.append((message.chat_id, message.reply.text))
        finally:
            self.in_flight -= 1


def enqueue_chats(core: Core, chats: list[str], per_chat: int) -> None:
    with core.sessions() as s, s.begin():
        outbox = Outbox(s, core.clock)
        for n in range(per_chat):
            for chat in chats:
                outbox.to_chat("console", chat, f"m:{chat}:{n}", Reply(f"{chat} #{n}"))


def test_different_people_are_delivered_to_at_once_and_each_in_order(core: Core) -> None:
    chats = [f"c{i}" for i in range(10)]
    enqueue_chats(core, chats, per_chat=3)
    sender = SlowSender()
    dispatcher = OutboxDispatcher(core.sessions, core.clock, {"console": sender}, concurrency=8)
    assert asyncio.run(dispatcher.drain()) == 30
    assert sender.most == 8  # bounded, and more than one at a time
    for chat in chats:
        assert [text for c, text in sender.sent if c == chat] == [f"{chat} #{n}" for n in range(3)]
    assert {r.status for r in rows(core)} == {"sent"}


def test_a_failing_message_holds_back_its_chats_later_ones(core: Core) -> None:
    enqueue_chats(core, ["a", "b"], per_chat=3)
    sender = SlowSender(fail_first_to="a")
    dispatcher = OutboxDispatcher(core.sessions, core.clock, {"console": sender})
    asyncio.run(dispatcher.run_once())
    assert [t for c, t in sender.sent if c == "b"] == ["b #0", "b #1", "b #2"]
    assert [t for c, t in sender.sent if c == "a"] == []  # a #1, a #2 did not overtake a #0
    waiting = [r for r in rows(core) if r.status == "pending"]
    assert [r.idempotency_key for r in waiting] == ["m:a:0", "m:a:1", "m:a:2"]
    assert len({r.next_attempt_at for r in waiting}) == 1  # all due when a #0 is retried
    assert [r.attempts for r in waiting] == [1, 0, 0]


def test_a_message_queued_after_a_failure_waits_for_the_failed_one_too(core: Core) -> None:
    """The next question, queued while the one before it waits for its retry (a late reply
    whose send WeChat executed and answered 502: the follower answered it at once), goes
    after that retry, not before it: the follower never sees an older question after a
    newer one."""
    enqueue_chats(core, ["a"], per_chat=1)
    sender = SlowSender(fail_first_to="a")
    dispatcher = OutboxDispatcher(core.sessions, core.clock, {"console": sender})
    asyncio.run(dispatcher.run_once())
    with core.sessions() as s, s.begin():
        Outbox(s, core.clock).to_chat("console", "a", "m:a:next", Reply("a next"), urgent=True)
    assert asyncio.run(dispatcher.drain()) == 1  # claimed, and postponed: nothing sent
    assert sender.sent == []
    core.clock.advance(seconds=1)  # type: ignore[attr-defined]  # a #0's retry is due
    asyncio.run(dispatcher.drain())
    assert sender.sent == [("a", "a #0"), ("a", "a next")]


def test_a_reply_in_a_conversation_goes_before_a_broadcast_queued_earlier(core: Core) -> None:
    enqueue_chats(core, [f"fan{i}" for i in range(6)], per_chat=1)  # a broadcast, queued first
    with core.sessions() as s, s.begin():
        Outbox(s, core.clock).to_chat("console", "asking", "late:1", Reply("下一题"), urgent=True)
    sender = SlowSender()
    dispatcher = OutboxDispatcher(core.sessions, core.clock, {"console": sender})
    assert asyncio.run(dispatcher.run_once(limit=2)) == 2
    assert ("asking", "下一题") in sender.sent  # in the first batch, ahead of the broadcast
