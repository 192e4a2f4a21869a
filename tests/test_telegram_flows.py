"""End to end over HTTP: the real PTB client and our bot against the fake Bot API server.
Simulated users press the real inline buttons the bot sent them."""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.config import FestivalConfig
from bot.core.clock import FixedClock
from bot.core.dispatcher import Core
from bot.core.i18n import translate
from handlers.routes import ROUTES
from models import DailyReport, Enterprise, GroupSubscription, Identity, Product, Role, Streamer
from tests import flows
from tests.catalog import begins, label, said
from tests.chat import Chat
from tests.fake_telegram import (
    BOT_USERNAME,
    TELEGRAM_ADMIN,
    BotThread,
    FakeTelegram,
    Sent,
    config_for_tests,
)

# PTB suggests Bot.get_updates over do_api_request("get_updates"); we take the raw JSON on
# purpose (bot/channels/telegram/polling.py), and pytest resets the module's warning filter.
pytestmark = [
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBUserWarning"),
    pytest.mark.fake("telegram"),
]


ADMIN = TELEGRAM_ADMIN


def test_streamer_registration_with_buttons(bot: BotThread, fake: FakeTelegram, db: Engine) -> None:
    alice = fake.user(1001, "alice")
    alice.run(flows.streamer_lines("alice_fruit"))
    assert said(alice.last_text(), "form.summary_hint")
    alice.press(label("btn.confirm"))
    pending = label("status.pending_review")
    assert said(alice.last_text(), "streamer.submitted", account="alice_fruit", status=pending)
    with Session(db) as session:
        streamer = session.scalars(select(Streamer)).one()
        assert streamer.followers == 12_000
    # every press was answered and its keyboard edited away
    assert fake.stats.executed.get("answerCallbackQuery", 0) >= 10
    pressed = [m for m in alice.inbox if m.edits]
    assert pressed and all(not m.buttons() for m in pressed)
    # the command menus were set in Chinese and English
    assert {"", "en"} <= set(fake.commands)


def test_the_private_command_menu_offers_link(bot: BotThread, fake: FakeTelegram) -> None:
    """/link (one person on Telegram and WeChat) is in the private chats' menu, in Chinese and
    English, and not in the groups' menu (no personal data in groups)."""
    fake.wait(lambda: len(fake.menus) == 4)
    for language, description in (("", "绑定微信公众号"), ("en", "Link your WeChat account")):
        private = {
            c["command"]: c["description"] for c in fake.menus[("all_private_chats", language)]
        }
        assert private["link"] == description
        assert "link" not in {c["command"] for c in fake.menus[("all_group_chats", language)]}


def test_contact_button_answers_the_phone_question(bot: BotThread, fake: FakeTelegram) -> None:
    bob = fake.user(1002, "bob")
    replies = bob.run(flows.streamer_lines("bob_tea")[:9])  # up to the phone question
    assert any(m.requests_contact() for m in replies)  # Telegram's share-my-number keyboard
    bob.say("/contact +86 13800000002")
    assert said([m.text for m in bob.inbox[-2:]], "ask.followers")


def test_enterprise_registration_with_a_product_picture(
    bot: BotThread, fake: FakeTelegram, db: Engine
) -> None:
    ent = fake.user(1003, "ent")
    ent.run(flows.enterprise_two_products())
    ent.press("确认提交")
    assert said(ent.last_text(), "enterprise.submitted")
    with Session(db) as session:
        enterprise = session.scalars(select(Enterprise)).one()
        assert (enterprise.name, enterprise.phone) == ("萍乡绿源农业有限公司", "13900001111")
        products = session.scalars(select(Product).order_by(Product.id)).all()
        assert [p.name for p in products] == ["莲花血鸭", "安源脐橙"]
        assert products[0].attachment_file_id.startswith("p1-1003-")  # type: ignore[union-attr]
        assert products[1].attachment_file_id is None


def test_daily_report_with_a_photo_after_approval(
    bot: BotThread, fake: FakeTelegram, db: Engine, core: Core
) -> None:
    _approved_then_report_with_photo(core, fake, db, 1001, "alice_fruit")
    with Session(db) as session:
        report = session.scalars(select(DailyReport)).one()
        assert (report.gmv_fen, report.orders) == (500_000, 45)
        assert report.evidence_file_id and report.evidence_file_id.startswith("shot-1001-")


def _approved_then_report_with_photo(
    core: Core, fake: FakeTelegram, db: Engine, uid: int, account: str
) -> tuple[int, str, list[Sent]]:
    """A streamer registers, the console admin approves, the approval notice reaches
    Telegram through the outbox and our sender, and the streamer reports with a photo.
    Returns the streamer's id, the stored evidence reference and the report's replies."""
    streamer = fake.user(uid, account)
    streamer.run([*flows.streamer_lines(account), "确认提交"])
    with Session(db) as session:
        streamer_id = session.scalars(
            select(Streamer.id)
            .join(Identity, Identity.person_id == Streamer.person_id)
            .where(Identity.user_id == str(uid))
        ).one()
    Chat(core).say("admin", f"/approve streamer {streamer_id}")
    fake.wait(lambda: any("通过" in m.text for m in streamer.inbox), timeout=10)
    out = streamer.run([*flows.report_lines(evidence="/photo shot"), "确认提交"])
    with Session(db) as session:
        ref = session.scalars(
            select(DailyReport.evidence_file_id).where(DailyReport.streamer_id == streamer_id)
        ).one()
    return streamer_id, str(ref), out


def test_evidence_is_copied_and_a_reviewer_on_telegram_sees_it(
    db: Engine, config: FestivalConfig, clock: FixedClock, fake: FakeTelegram, tmp_path: Path
) -> None:
    """With a data directory, a picture is copied into our storage when it arrives (Telegram
    and WeChat ids mean nothing elsewhere); the reviewer's evidence button sends that copy."""
    core = Core(config_for_tests(config), db, clock, ROUTES, tmp_path)
    try:
        with BotThread(core, fake):
            fake.wait(lambda: fake.stats.calls.get("getUpdates", 0) > 0)
            streamer_id, ref, _ = _approved_then_report_with_photo(
                core, fake, db, 1011, "alice_pics"
            )
            copy = Path(ref)
            assert copy.parent == tmp_path / "uploads" and copy.name.startswith("telegram-")
            assert copy.read_bytes() == b"\xff\xd8\xff fake jpeg shot"
            assert copy.stat().st_mode & 0o077 == 0  # personal data: the bot's user only
            admin = fake.user(ADMIN, "admin")
            admin.say(f"/streamer {streamer_id}")
            shown = admin.press("截图 11-02 抖音")
            photos = [m for m in shown if m.kind == "photo"]
            assert len(photos) == 1 and said(photos[0].text, "streamers.evidence_of")
            assert photos[0].media["size"] == copy.stat().st_size  # our copy, uploaded
    finally:
        core.executor.shutdown()


def test_below_the_free_disk_floor_a_picture_stays_telegrams_and_the_report_is_kept(
    db: Engine, config: FestivalConfig, clock: FixedClock, fake: FakeTelegram, tmp_path: Path
) -> None:
    """A disk near full (the database lives on it) is not filled with pictures: the copy is
    refused, the report keeps Telegram's file id, and the streamer notices nothing."""
    no_room = config.uploads.model_copy(update={"min_free_mb": 10**9})  # a petabyte
    core = Core(
        config_for_tests(config).model_copy(update={"uploads": no_room}),
        db,
        clock,
        ROUTES,
        tmp_path,
    )
    try:
        with BotThread(core, fake):
            fake.wait(lambda: fake.stats.calls.get("getUpdates", 0) > 0)
            _, ref, out = _approved_then_report_with_photo(core, fake, db, 1012, "alice_full_disk")
            assert said([m.text for m in out], "report.saved"), [m.text for m in out]
            assert ref.startswith("shot-1012-")  # Telegram's id, not a copy
            assert not list((tmp_path / "uploads").glob("telegram-*"))
    finally:
        core.executor.shutdown()


def test_a_committee_admin_gets_an_export_as_a_file(
    bot: BotThread, fake: FakeTelegram, db: Engine
) -> None:
    alice = fake.user(1021, "alice")
    alice.run([*flows.streamer_lines("alice_export"), "确认提交"])
    admin = fake.user(ADMIN, "admin")
    out = admin.say("/export streamers")
    documents = [m for m in out if m.kind == "document"]
    assert len(documents) == 1 and documents[0].file_name
    assert documents[0].file_name.endswith(".xlsx")
    assert said(documents[0].text, "export.done", kind=label("export.kind.streamers"))
    assert documents[0].media["size"] > 1000  # the workbook's bytes were uploaded


def test_an_invitation_comes_with_a_share_button_for_its_deep_link(
    bot: BotThread, fake: FakeTelegram, db: Engine
) -> None:
    """The admin forwards the invitation as a t.me deep link (Telegram's share dialog); the
    invitee opening it starts the bot with /start join_CODE and gets the role."""
    admin, invitee = fake.user(ADMIN, "admin"), fake.user(1031, "contact")
    issued = admin.say("/invite 360302")[-1]
    code = re.search(r"邀请码已生成：([A-Z0-9]{4}-[A-Z0-9]{4})", issued.text)
    assert code is not None
    [share] = [b for b in issued.buttons() if "url" in b]
    assert share["text"] == translate("zh_CN", "invite.link_label")
    link = urllib.parse.parse_qs(urllib.parse.urlsplit(share["url"]).query)["url"][0]
    payload = code[1].replace("-", "")
    assert link == f"https://t.me/{BOT_USERNAME}?start=join_{payload}"
    out = invitee.say(f"/start join_{payload}")  # what Telegram sends when the link is opened
    contact = label("invite.role_of_unit", unit="萍乡市 安源区")
    assert said(out[0].text, "join.welcome_contact", role=contact)
    with Session(db) as session:
        roles = session.scalars(
            select(Role.role)
            .join(Identity, Identity.person_id == Role.person_id)
            .where(Identity.user_id == "1031")
        ).all()
    assert roles == ["unit_contact"]


def test_group_subscribe_and_private_chat_pointer(
    bot: BotThread, fake: FakeTelegram, db: Engine
) -> None:
    group = fake.group(-4001, "萍乡主播群")
    admin, member = fake.user(ADMIN, "admin"), fake.user(1004, "member")
    out = group.say(member, f"/subscribe@{BOT_USERNAME}")
    assert said(out[0].text, "err.not_allowed")
    assert said(group.say(admin, "/subscribe")[0].text, "groups.subscribed")
    # personal data is never asked for in a group: a deep link to the private chat instead
    out = group.say(member, "/register")
    assert out[0].buttons()[0]["url"] == f"https://t.me/{BOT_USERNAME}"
    assert said(out[0].text, "group.private_only")
    top = group.say(member, f"/top@{BOT_USERNAME}")  # the 龙虎榜 (none published yet here)
    assert begins(top[0].text, "board.none_yet")
    help_ = group.say(member, "/help")
    assert all("url" in b for m in help_ for b in m.buttons())
    # a command for another bot in the group is not ours
    member.text("/help@other_bot", chat=group.chat())
    # the group becomes a supergroup: the subscription follows it
    group.upgrade(-1004001)
    fake.wait(lambda: _subscribed(db) == ["-1004001"])
    assert said(group.say(admin, "/unsubscribe")[0].text, "groups.unsubscribed")
    assert len(group.inbox) == 1  # only that answer in the supergroup
    with Session(db) as session:
        assert session.scalars(select(GroupSubscription.active)).all() == [False]


def _subscribed(db: Engine) -> list[str]:
    with Session(db) as session:
        return list(
            session.scalars(select(GroupSubscription.chat_id).where(GroupSubscription.active))
        )
