"""Registration drafts left idle are nudged once (schedule.stale_drafts,
conversation.stale_after_hours); the committee's contacts in /help. The live month's digests
are walked through the whole calendar in tests/test_scheduler.py."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from bot.config import FestivalConfig
from bot.core.clock import FixedClock
from scheduler import JobRunner
from tests.catalog import label, said
from tests.chat import Chat
from tests.flows import streamer_lines


def test_an_idle_registration_draft_is_nudged_once(
    chat: Chat, clock: FixedClock, config: FestivalConfig, db: Engine, tmp_path: Path
) -> None:
    tz = config.calendar.tz
    left_at = dt.datetime(2020, 10, 12, 10, 0, tzinfo=tz)
    clock.set(left_at)
    chat.run("s", streamer_lines("半途而废")[:12])  # leaves the form here
    chat.run("t", streamer_lines("填完了")[:12])
    clock.set(left_at + dt.timedelta(hours=30))
    chat.say("t", "1.2万")  # comes back a day later: not idle for 72 hours
    runner = JobRunner(sessionmaker(db), config, clock, tmp_path)
    hours = config.conversation.stale_after_hours
    first = dt.datetime(2020, 10, 15, 19, 0, tzinfo=tz)  # 81 h after leaving
    assert first - left_at >= dt.timedelta(hours=hours)
    plan = runner.dry_run("stale_drafts", first)
    assert len(plan.sent) == 1
    _who, key, reply = plan.sent[0]
    assert said(reply.text, "remind.stale_draft", titles=label("form.name.streamer"))
    # the next evening: the first draft is not nudged again; the one left a day later is
    second = runner.dry_run("stale_drafts", first + dt.timedelta(days=1)).sent
    assert [who for who, _k, _r in second] != [_who] and len(second) == 1
    assert second[0][1] != key


def test_help_names_the_committees_contacts(chat: Chat, config: FestivalConfig) -> None:
    out = chat.say("u", "/help")
    assert said(out, "help.contacts")
    for c in config.committee.contacts:
        assert said(out, "help.contact_line", department=c.department, name=c.name, phone=c.phone)
