"""Quota progress through the bot: what counts, /units for the committee, and the warning
when a unit passes its maximum (it warns, it never blocks)."""

from __future__ import annotations

import re

import yaml
from sqlalchemy import Engine, select

from bot.config import FestivalConfig, parse_config
from bot.core.clock import FixedClock
from bot.core.dispatcher import Core
from handlers.routes import ROUTES
from models import Unit
from tests.catalog import begins, buttons, label, pattern, said
from tests.chat import Chat
from tests.committee_helpers import ANYUAN, make_contact, register
from tests.conftest import ROOT
from tests.flows import streamer_lines


def streamers(done: int, least: int, short: int) -> str:
    """A unit's streamer tally, as /unit shows it."""
    return label("unit.streamers", done=done, min=least, note=label("unit.short", n=short))


def test_what_counts_towards_the_quota(chat: Chat, core: Core) -> None:
    make_contact(chat, "c1", ANYUAN)
    first = register(chat, "s1", "甲")  # waits for the unit: not counted yet
    register(chat, "s2", "乙")
    assert streamers(0, 10, 10) in chat.say("c1", "/unit")
    chat.say("c1", "/review")
    chat.press("c1", label("btn.recommend"))  # 甲 counts now
    chat.say("c1", label("btn.reject"))
    chat.say("c1", "不符合条件")  # 乙 rejected: does not count
    assert streamers(1, 10, 9) in chat.say("c1", "/unit")
    chat.say("admin", f"/reject streamer {first} 材料不全")
    assert streamers(0, 10, 10) in chat.say("c1", "/unit")


def test_units_for_the_committee_sorted_and_paged(chat: Chat, core: Core) -> None:
    register(chat, "s1", "甲")  # 安源区 has no contact: straight to 待审核, counted
    out = chat.say("admin", "/units")
    first_line = out.splitlines()[0]
    by_shortfall = label("units.order_shortfall")
    assert pattern("units.title", met=0, order=by_shortfall, page=1).fullmatch(first_line)
    assert len([line for line in out.splitlines() if line.startswith("· ")]) == 15
    assert buttons(label("btn.next_page"), label("btn.sort_code")) in out
    # by shortfall, 安源区 (shortfall 12) comes after every unit still short of 13
    by_code = chat.say("admin", "/units code 3")
    assert begins(by_code, "units.title", order=label("units.order_code"), page=3)
    paging = (label("btn.prev_page"), label("btn.next_page"), label("btn.sort_shortfall"))
    assert buttons(*paging) in by_code
    pages = [chat.say("admin", "/units shortfall 1")]
    while label("btn.next_page") in pages[-1] and len(pages) < 50:
        pages.append(chat.say("admin", f"/units shortfall {len(pages) + 1}"))
    texts = "".join(pages)

    def place(unit: str, tally: str) -> int:
        found = pattern("unit.line", unit=unit, streamers=tally).search(texts)
        assert found, unit
        return found.start()

    assert place("萍乡市 安源区 (360302)", streamers(1, 10, 9)) > place(
        "萍乡市 湘东区 (360313)", streamers(0, 10, 10)
    )
    last = chat.say("admin", "/units shortfall 999")
    assert begins(last, "units.title", page=len(pages), pages=len(pages))  # clamped to the last


def test_going_over_the_maximum_warns_and_does_not_block(
    db: Engine, config: FestivalConfig, clock: FixedClock
) -> None:
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    data["units"]["kinds"]["provincial_unit"]["streamers"] = {"min": 1, "max": 1}
    data["calendar"]["registration_closes"] = False  # signing up on the live month's clock
    small = parse_config(data)
    core = Core(small, db, clock, ROUTES)
    try:
        chat = Chat(core)
        make_contact(chat, "c1", "P001")
        token = re.search(r"/start rec_([0-9a-f]+)", chat.say("c1", "/unit"))[1]  # type: ignore[index]
        answers = streamer_lines("x")[7:]  # after the unit questions
        for user, account in (("s1", "甲"), ("s2", "乙")):
            out = chat.run(user, [f"/start rec_{token}", label("btn.accept"), "抖音", account])
            out = chat.run(user, [*answers[1:], label("btn.confirm")])
            pending = label("status.pending_review")
            assert said(out, "streamer.submitted", account=account, status=pending), out
        delivered = chat.deliver()
        warning = label("notice.quota_over_streamers", unit="江西金融团工委", done=2, max=1)
        assert delivered.count(warning) == 2  # the contact and the committee admin
        over = label("unit.streamers", done=2, min=1, note=label("unit.over", max=1, n=1))
        assert over in chat.say("c1", "/unit")
    finally:
        core.executor.shutdown()


def test_a_leaked_recommendation_link_is_replaced(chat: Chat) -> None:
    """/unit newlink: a new link; the old one now says it is invalid, the new one works."""
    make_contact(chat, "c1", "360302")
    old = re.search(r"/start rec_([0-9a-f]+)", chat.say("c1", "/unit"))[1]  # type: ignore[index]
    out = chat.say("c1", "/unit newlink")
    assert begins(out, "unit.newlink_done")
    new = re.search(r"/start rec_([0-9a-f]+)", out)[1]  # type: ignore[index]
    assert new != old
    assert begins(chat.say("s1", f"/start rec_{old}"), "start.bad_link")
    assert said(chat.say("s2", f"/start rec_{new}"), "privacy.notice")
    with chat.core.sessions() as session:
        unit_id = session.scalars(select(Unit.id).where(Unit.code == "360302")).one()
    history = chat.say("admin", f"/history unit {unit_id}")
    assert said(history, "history.action.rec_link") and said(
        history, "history.action.rec_link_new"
    )  # who, when: audited
