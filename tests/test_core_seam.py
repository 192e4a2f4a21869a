"""The one seam between a channel and the core: the step's replies come back, and what the
channel records (`record(session, replies)`) is written in the step's own commit, exactly
once per step, including a step that could not store its state; per-person order is one
mechanism (`core.order`) that channels share with the core."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from bot.config import FestivalConfig
from bot.core.clock import FixedClock
from bot.core.context import Ctx
from bot.core.dispatcher import Core
from bot.core.messages import Incoming, Reply
from bot.core.ordering import PersonOrder
from bot.core.routing import Routes
from handlers.routes import ROUTES
from models import DialogState, Identity, WeChatInbound
from models.wechat import first_delivery


def _keys(core: Core) -> list[str]:
    with core.sessions() as s:
        return sorted(s.scalars(select(WeChatInbound.dedupe_key)))


def _version(core: Core, user: str) -> int | None:
    with core.sessions() as s:
        return s.scalar(
            select(DialogState.version)
            .join(Identity, Identity.id == DialogState.identity_id)
            .where(Identity.user_id == user)
        )


def test_record_is_written_in_the_steps_commit_with_its_replies(core: Core) -> None:
    seen: list[list[str]] = []

    def record(session: Session, replies: list[Reply]) -> None:
        seen.append([r.text for r in replies])
        first_delivery(session, "msg-1", core.clock.now())

    replies = core.process_sync(Incoming.from_text("console", "ann", "/start"), record)
    assert seen == [[r.text for r in replies]] and replies
    assert _keys(core) == ["msg-1"]
    assert _version(core, "ann") == 1


def test_a_record_that_fails_leaves_nothing_of_the_step(core: Core) -> None:
    core.process_sync(Incoming.from_text("console", "ann", "/start"))

    def record(session: Session, replies: list[Reply]) -> None:
        first_delivery(session, "msg-2", core.clock.now())
        raise RuntimeError("the channel's write failed")

    with pytest.raises(RuntimeError):
        core.process_sync(Incoming.from_text("console", "ann", "/help"), record)
    assert _keys(core) == []  # neither the channel's record...
    assert _version(core, "ann") == 1  # ...nor the step's state


@pytest.fixture
def racing_core(db: Engine, config: FestivalConfig, clock: FixedClock) -> Iterator[Core]:
    """A core whose /bump command has another writer store the person's state under it
    every time (a second process, a double tap), so the step can never store its own."""

    def bump(ctx: Ctx) -> list[Reply]:
        with db.begin() as conn:  # another connection: commits before the step stores
            conn.execute(
                update(DialogState)
                .where(DialogState.identity_id == ctx.identity_id)
                .values(version=DialogState.version + 1)
            )
        return [Reply("bumped")]

    routes = Routes(
        commands={**ROUTES.commands, "bump": bump},
        flows=ROUTES.flows,
        forms=ROUTES.forms,
        fallback=ROUTES.fallback,
    )
    core = Core(config, db, clock, routes)
    yield core
    core.executor.shutdown()


def test_record_runs_once_even_when_the_state_cannot_be_stored(racing_core: Core) -> None:
    core = racing_core
    core.process_sync(Incoming.from_text("console", "ann", "/start"))
    calls: list[list[Reply]] = []

    def record(session: Session, replies: list[Reply]) -> None:
        calls.append(replies)
        first_delivery(session, "msg-3", core.clock.now())

    replies = core.process_sync(Incoming.from_text("console", "ann", "/bump"), record)
    assert len(calls) == 1 and calls[0] == replies
    assert [r.text for r in replies] != ["bumped"]  # the "busy" answer, not the handler's
    assert _keys(core) == ["msg-3"]  # the channel knows the update was answered


def test_turns_keep_one_persons_order_and_let_others_run() -> None:
    order = PersonOrder()
    log: list[str] = []

    async def work(key: str, name: str, started: asyncio.Event | None = None) -> None:
        async with order.turn(key):
            log.append(f"{name} in")
            if started is not None:
                started.set()
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            log.append(f"{name} out")

    async def main() -> None:
        a1 = asyncio.create_task(work("a", "a1"))
        a2 = asyncio.create_task(work("a", "a2"))
        a3 = asyncio.create_task(work("a", "a3"))
        b_started = asyncio.Event()
        b1 = asyncio.create_task(work("b", "b1", b_started))
        await asyncio.wait_for(b_started.wait(), 5)  # b runs while a1 still holds "a"
        await asyncio.gather(a1, a2, a3, b1)

    asyncio.run(main())
    a_only = [e for e in log if e.startswith("a")]
    assert a_only == ["a1 in", "a1 out", "a2 in", "a2 out", "a3 in", "a3 out"]
    assert log.index("b1 in") < log.index("a1 out")  # another person is not held up
    assert len(order) == 0  # nothing kept once nobody waits


def test_a_turn_is_released_when_its_work_fails() -> None:
    order = PersonOrder()

    async def main() -> None:
        with pytest.raises(ValueError):
            async with order.turn("a"):
                raise ValueError("the step failed")
        async with order.turn("a"):  # the next one is not blocked
            pass

    asyncio.run(main())
    assert len(order) == 0


def test_a_turn_cancelled_while_waiting_leaves_nothing_behind() -> None:
    order = PersonOrder()

    async def main() -> None:
        holding = asyncio.Event()
        release = asyncio.Event()

        async def holder() -> None:
            async with order.turn("a"):
                holding.set()
                await release.wait()

        async def waiter() -> None:
            async with order.turn("a"):
                raise AssertionError("a cancelled waiter never holds the turn")

        first = asyncio.create_task(holder())
        await holding.wait()
        second = asyncio.create_task(waiter())
        await asyncio.sleep(0)  # the second waits behind the first
        second.cancel()
        with pytest.raises(asyncio.CancelledError):
            await second
        release.set()
        await first
        async with order.turn("a"):  # the next one is not blocked
            pass

    asyncio.run(main())
    assert len(order) == 0
