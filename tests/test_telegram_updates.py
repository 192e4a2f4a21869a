"""telegram_updates does not grow for ever: handled updates older than
telegram.keep_updates_days are pruned (at start, then hourly); unhandled ones never are."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.channels.telegram.adapter import chat_key
from bot.config import FestivalConfig
from bot.core.clock import FixedClock
from bot.core.dispatcher import Core
from handlers.routes import ROUTES
from models import TelegramUpdate
from models.telegram import UpdateStore
from tests.fake_telegram import BotThread, FakeTelegram, config_for_tests

pytestmark = [
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBUserWarning"),
    pytest.mark.fake("telegram"),
]


def update(uid: int) -> dict[str, object]:
    return {"update_id": uid, "message": {"message_id": uid, "text": "hi"}}


def stored(db: Engine) -> list[tuple[int, bool]]:
    with Session(db) as s:
        rows = s.execute(
            select(TelegramUpdate.update_id, TelegramUpdate.processed_at).order_by(
                TelegramUpdate.update_id
            )
        )
        return [(uid, processed is not None) for uid, processed in rows]


def test_prune_deletes_only_old_handled_updates(db: Engine, clock: FixedClock) -> None:
    from sqlalchemy.orm import sessionmaker

    store = UpdateStore(sessionmaker(db), db)
    t0 = clock.now()
    store.save([update(1), update(2), update(3)], t0, chat_key)
    store.mark_alone(1, t0)  # handled long ago
    store.mark_alone(3, t0 + dt.timedelta(days=6))  # handled recently
    # 2 was never handled (a crash): it must survive any prune
    assert store.prune(t0 + dt.timedelta(days=1), chunk=1) == 1
    assert stored(db) == [(2, False), (3, True)]
    assert store.prune(t0 + dt.timedelta(days=30)) == 1
    assert stored(db) == [(2, False)]
    # what a chat was last shown (several workers) goes once it is as old
    from models.telegram_shown import keep_shown, shown_of

    keep_shown(sessionmaker(db), "c1", {"shown": None, "ids": [1]}, t0)
    keep_shown(sessionmaker(db), "c2", {"shown": None, "ids": [2]}, t0 + dt.timedelta(days=40))
    store.prune(t0 + dt.timedelta(days=30))
    assert shown_of(sessionmaker(db), "c1") is None
    assert shown_of(sessionmaker(db), "c2") == {"shown": None, "ids": [2]}
    # a pruned update_id arriving again (it cannot after days, but) is simply new
    assert store.save([update(1)], t0, chat_key) == [update(1)]


def test_the_running_bot_prunes_at_start(
    db: Engine, config: FestivalConfig, clock: FixedClock, fake: FakeTelegram
) -> None:
    core = Core(config_for_tests(config), db, clock, ROUTES)
    try:
        with BotThread(core, fake):
            fake.wait(lambda: fake.stats.calls.get("getUpdates", 0) > 0)
            user = fake.user(1301, "pat")
            user.say("/start")
            fake.wait(lambda: stored(db) != [] and all(done for _, done in stored(db)))
        handled = stored(db)
        assert handled and all(done for _, done in handled)
        clock.advance(days=config.telegram.keep_updates_days + 1)
        with BotThread(core, fake):
            fake.wait(lambda: stored(db) == [], timeout=10)
    finally:
        core.executor.shutdown()


def private(uid: int, user: int, text: str = "hi") -> dict[str, object]:
    person = {"id": user, "is_bot": False, "first_name": "p"}
    chat = {"id": user, "type": "private"}
    return {
        "update_id": uid,
        "message": {"message_id": uid, "from": person, "chat": chat, "text": text},
    }


def in_group(uid: int, user: int, group: int) -> dict[str, object]:
    person = {"id": user, "is_bot": False, "first_name": "p"}
    chat = {"id": group, "type": "supergroup", "title": "g"}
    return {
        "update_id": uid,
        "message": {"message_id": uid, "from": person, "chat": chat, "text": "/top"},
    }


def test_unsent_replies_are_each_chats_latest(db: Engine, clock: FixedClock) -> None:
    """After a crash, replies are sent again only where they are the chat's latest answer; a
    later update of the same chat supersedes them, one in another chat (the same person in a
    group) does not."""
    from sqlalchemy.orm import sessionmaker

    store = UpdateStore(sessionmaker(db), db)
    now = clock.now()
    store.save(
        [private(1, 501), private(2, 501), private(3, 502), in_group(4, 502, -900)], now, chat_key
    )
    reply = [{"text": "下一题", "buttons": []}]
    with sessionmaker(db)() as session, session.begin():
        store.mark(session, 1, now, reply)  # superseded by 2 in the same chat
        store.mark(session, 2, now)  # answered (nothing to send)
        store.mark(session, 3, now, reply)  # 502's private chat: latest there, unsent
        store.mark(session, 4, now, reply)  # 502 in a group: another chat
    unsent = store.unsent(now - dt.timedelta(hours=1), now)
    assert [payload["update_id"] for payload, _ in unsent] == [3, 4]
    assert all(replies == reply for _, replies in unsent)
    with Session(db) as s:
        first = s.scalars(select(TelegramUpdate).where(TelegramUpdate.update_id == 1)).one()
        assert first.replies is None and first.answered_at == now  # marked, never resent
