"""A step that fails on WeChat: the database refuses a write in the middle of a real step (a
trigger, on SQLite and PostgreSQL alike). The follower gets a short apology from the catalog
instead of an empty answer, the error is logged, and nothing of the step is stored: the same
message works once the database does."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select, text, update
from sqlalchemy.orm import Session

from bot.config import FestivalConfig
from bot.core.clock import FixedClock
from bot.core.dispatcher import Core
from bot.core.i18n import translate
from handlers.routes import ROUTES
from models import AuditEntry, DialogState, Identity, OutboxMessage, Person, Streamer
from tests import flows
from tests.catalog import begins, said
from tests.fake_wechat import FakeWeChat, wechat_bot

pytestmark = pytest.mark.fake("wechat")

FAILED = "simulated database failure"


@contextlib.contextmanager
def failing(db: Engine, table: str, event: str) -> Iterator[None]:
    """Every `event` (INSERT or UPDATE) on `table` fails while inside."""
    name = f"fail_{table}_{event.lower()}"
    with db.begin() as conn:
        if db.dialect.name == "sqlite":
            conn.execute(
                text(
                    f"CREATE TRIGGER {name} BEFORE {event} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{FAILED}'); END"
                )
            )
        else:
            conn.execute(
                text(
                    f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS "
                    f"$$ BEGIN RAISE EXCEPTION '{FAILED}'; END $$"
                )
            )
            conn.execute(
                text(
                    f"CREATE TRIGGER {name} BEFORE {event} ON {table} "
                    f"FOR EACH ROW EXECUTE FUNCTION {name}()"
                )
            )
    try:
        yield
    finally:
        with db.begin() as conn:
            if db.dialect.name == "sqlite":
                conn.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
            else:
                conn.execute(text(f"DROP TRIGGER IF EXISTS {name} ON {table}"))
                conn.execute(text(f"DROP FUNCTION IF EXISTS {name}()"))


def state_of(db: Engine, openid: str) -> tuple[str | None, int]:
    with Session(db) as session:
        row = session.execute(
            select(DialogState.flow, DialogState.version)
            .join(Identity, Identity.id == DialogState.identity_id)
            .where(Identity.channel == "wechat", Identity.user_id == openid)
        ).one()
        return row.flow, row.version


def counts(db: Engine) -> dict[str, int]:
    with Session(db) as session:
        return {
            model.__tablename__: int(session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (Streamer, AuditEntry, OutboxMessage)
        }


def failures_logged(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.getMessage().startswith("wechat step failed") and r.exc_info is not None
    ]


def test_a_failing_step_is_rolled_back_and_answered_with_an_apology(
    core: Core, fake: FakeWeChat, db: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """The registration's last step stores the streamer, then its audit entry fails: the
    streamer row goes with it, the conversation stays at the summary."""

    async def scenario() -> None:
        async with wechat_bot(core, fake, True) as bot:
            amy = bot.follower("o_amy")
            replies = await amy.run(flows.streamer_lines("amy_farm"))
            assert said(replies[-1], "btn.confirm")
            before, stored = state_of(db, "o_amy"), counts(db)
            with failing(db, "audit_log", "INSERT"):
                answer = await amy.say("确认提交")
            assert answer == translate("zh_CN", "wechat.step_failed")
            assert begins(answer, "wechat.step_failed")
            assert amy.passive == len(amy.seen)  # a passive reply, not silence
            assert state_of(db, "o_amy") == before
            assert counts(db) == stored  # no streamer, no audit entry, no notice
            # nothing was half-stored: the same answer goes through once the database does
            assert said(await amy.say("确认提交"), "streamer.submitted")

    asyncio.run(scenario())
    assert len(failures_logged(caplog)) == 1
    assert FAILED in str(failures_logged(caplog)[0].exc_info[1])  # type: ignore[index]
    with Session(db) as session:
        assert session.scalars(select(Streamer.status)).all() == ["pending_review"]


def test_a_late_failing_step_apologises_in_the_followers_language(
    db: Engine,
    config: FestivalConfig,
    clock: FixedClock,
    fake: FakeWeChat,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Past the passive-reply budget the apology comes as a customer-service message, in the
    follower's language; every step stores the conversation state, so failing that update
    fails any step."""
    limits = config.wechat.model_copy(update={"reply_budget_seconds": 0.000_001})
    core = Core(config.model_copy(update={"wechat": limits}), db, clock, ROUTES)

    async def scenario() -> None:
        async with wechat_bot(core, fake, False) as bot:
            ben = bot.follower("o_ben")
            await ben.say("/start")
            with db.begin() as conn:
                conn.execute(update(Person).values(locale="en"))
            before = state_of(db, "o_ben")
            with failing(db, "dialog_states", "UPDATE"):
                answer = await ben.say("/help")
            assert answer == translate("en", "wechat.step_failed")
            assert answer.startswith("Something went wrong, please try again")
            assert ben.late == 2 and ben.passive == 0
            assert state_of(db, "o_ben") == before

    try:
        asyncio.run(scenario())
    finally:
        core.executor.shutdown()
    assert len(failures_logged(caplog)) == 1


def test_a_resend_of_a_message_whose_step_failed_is_handled(
    core: Core, fake: FakeWeChat, db: Engine
) -> None:
    """The callback is recorded in its step's own commit: when the step fails (or the process
    dies before committing it), WeChat's resend of the same MsgId is handled, not dropped as
    a duplicate; once handled, a further resend gets the same answer and changes nothing."""

    async def scenario() -> None:
        async with wechat_bot(core, fake, True) as bot:
            cy = bot.follower("o_cy")
            assert said((await cy.run(flows.streamer_lines("cy_farm")))[-1], "btn.confirm")
            with failing(db, "audit_log", "INSERT"):
                answer = await cy.send("text", Content="确认提交", MsgId="770001")
            assert begins(answer, "wechat.step_failed")
            assert counts(db)["streamers"] == 0
            # WeChat resends the very same message (it got no usable answer in time)
            assert said(
                await cy.send("text", Content="确认提交", MsgId="770001"), "streamer.submitted"
            )
            assert counts(db)["streamers"] == 1
            # and again (that answer was lost too): the same answer, nothing stored twice
            assert said(
                await cy.send("text", Content="确认提交", MsgId="770001"), "streamer.submitted"
            )
            assert counts(db)["streamers"] == 1

    asyncio.run(scenario())


def test_a_resend_racing_its_first_delivery_is_handled_once(
    core: Core, fake: FakeWeChat, db: Engine
) -> None:
    """WeChat's resend arrives while the first delivery is still being handled: it waits for
    the first's answer and gets the same one; the step runs once."""

    async def scenario() -> None:
        async with wechat_bot(core, fake, False) as bot:
            dee = bot.follower("o_dee")
            await dee.run(flows.streamer_lines("dee_farm"))
            answers = await asyncio.gather(
                dee.send("text", Content="确认提交", MsgId="880001"),
                dee.send("text", Content="确认提交", MsgId="880001"),
            )
            assert answers[0] == answers[1] and said(answers[0], "streamer.submitted")

    asyncio.run(scenario())
    assert counts(db)["streamers"] == 1
    with Session(db) as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 1
