"""End to end over HTTP: WeChat's server (simulated) posts callbacks to our ASGI app, exactly
as WeChat builds them; the bot answers passively or through the fake WeChat API. Every flow runs
in plaintext and in safe mode (AES)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from bot.config import FestivalConfig
from bot.core.clock import FixedClock
from bot.core.dispatcher import Core
from handlers.routes import ROUTES
from models import DailyReport, Enterprise, Identity, OutboxMessage, Product, Streamer, Unit
from models.wechat import WeChatInbound
from tests import flows
from tests.catalog import label, said
from tests.chat import Chat
from tests.fake_wechat import FakeWeChat, media_bytes, message_xml, wechat_bot

pytestmark = pytest.mark.fake("wechat")

MODES = pytest.mark.parametrize("safe", [False, True], ids=["plaintext", "safe"])


def slow_core(db: Engine, config: FestivalConfig, clock: FixedClock, budget: float) -> Core:
    """A core whose passive-reply budget is shorter than any step can take."""
    limits = config.wechat.model_copy(update={"reply_budget_seconds": budget})
    return Core(config.model_copy(update={"wechat": limits}), db, clock, ROUTES)


@MODES
def test_streamer_registration_then_a_daily_report(
    core: Core, fake: FakeWeChat, db: Engine, safe: bool
) -> None:
    async def scenario() -> None:
        async with wechat_bot(core, fake, safe) as bot:
            alice = bot.follower("o_alice")
            greeting = await alice.follow()
            assert (
                f"[1] {label('menu.streamer')}" in greeting
            )  # the menu, numbered like the console
            # full-width figures as WeChat users type them
            lines = flows.streamer_lines("alice_fruit", followers="１．２万")
            replies = await alice.run(lines)
            assert said(replies[-1], "form.summary_hint")
            assert said(await alice.say("确认提交"), "streamer.submitted")
            with Session(db) as session:
                streamer_id = session.scalars(select(Streamer.id)).one()
            # the committee approves on the console; the notice reaches WeChat through the
            # outbox as a customer-service message (Alice wrote minutes ago: window open)
            Chat(core).say("admin", f"/approve streamer {streamer_id}")
            await bot.deliver()
            assert said(fake.service_texts("o_alice"), "notice.approved")
            await alice.run(flows.report_lines(evidence="/photo shot1"))
            assert said(await alice.say("确认提交"), "report.saved")
            assert alice.passive == len(alice.seen)  # every step answered within 4 s

    asyncio.run(scenario())
    with Session(db) as session:
        streamer = session.scalars(select(Streamer)).one()
        assert streamer.followers == 12_000
        assert sorted(session.scalars(select(Identity.channel))) == ["console", "wechat"]
        report = session.scalars(select(DailyReport)).one()
        assert (report.gmv_fen, report.orders) == (500_000, 45)
        assert report.evidence_file_id == "wechat:media-shot1"  # WeChat's MediaId, kept


@MODES
def test_enterprise_registration_with_a_product_picture(
    core: Core, fake: FakeWeChat, db: Engine, safe: bool
) -> None:
    async def scenario() -> None:
        async with wechat_bot(core, fake, safe) as bot:
            ent = bot.follower("o_ent")
            await ent.run(flows.enterprise_two_products())
            assert said(await ent.say("确认提交"), "enterprise.submitted")

    asyncio.run(scenario())
    with Session(db) as session:
        enterprise = session.scalars(select(Enterprise)).one()
        assert (enterprise.name, enterprise.phone) == ("萍乡绿源农业有限公司", "13900001111")
        products = session.scalars(select(Product).order_by(Product.id)).all()
        assert [p.attachment_file_id for p in products] == ["wechat:media-p1", None]


def test_pictures_are_copied_before_wechat_deletes_them(
    db: Engine, config: FestivalConfig, clock: FixedClock, fake: FakeWeChat, tmp_path: Path
) -> None:
    """With a data directory, a follower's picture is fetched (media/get) and stored by us
    before the step; one WeChat has already deleted is kept as its MediaId, and the form goes
    on either way."""
    fake.expired_media.add("media-p2")
    lines = flows.enterprise_two_products()
    second = lines.index("跳过", lines.index("/photo p1") + 1)  # product 2's attachment: skipped
    lines[second] = "/photo p2"
    refs = _product_pictures(Core(config, db, clock, ROUTES, tmp_path), fake, db, lines)
    copy = Path(str(refs[0]))
    assert copy.parent == tmp_path / "uploads" and copy.read_bytes() == media_bytes("media-p1")
    assert refs[1] == "wechat:media-p2"
    assert len(fake.recorded("media/get", ok=False)) == 2


def test_below_the_free_disk_floor_a_picture_stays_wechats_and_the_form_goes_on(
    db: Engine, config: FestivalConfig, clock: FixedClock, fake: FakeWeChat, tmp_path: Path
) -> None:
    no_room = config.uploads.model_copy(update={"min_free_mb": 10**9})  # a petabyte
    core = Core(config.model_copy(update={"uploads": no_room}), db, clock, ROUTES, tmp_path)
    refs = _product_pictures(core, fake, db, flows.enterprise_two_products())
    assert refs == ["wechat:media-p1", None]  # WeChat's MediaId, not a copy
    assert not list((tmp_path / "uploads").glob("wechat-*"))


def _product_pictures(
    core: Core, fake: FakeWeChat, db: Engine, lines: list[str]
) -> list[str | None]:
    """A follower registers an enterprise with these lines (safe mode); the stored products'
    picture references, in product order."""

    async def scenario() -> None:
        async with wechat_bot(core, fake, True) as bot:
            ent = bot.follower("o_pics")
            await ent.run(lines)
            assert said(await ent.say("确认提交"), "enterprise.submitted")

    try:
        asyncio.run(scenario())
    finally:
        core.executor.shutdown()
    with Session(db) as session:
        return [p.attachment_file_id for p in session.scalars(select(Product).order_by(Product.id))]


def test_recommendation_qr_code_attaches_the_streamer_to_the_unit(
    core: Core, fake: FakeWeChat, db: Engine
) -> None:
    with db.begin() as conn:
        conn.execute(update(Unit).where(Unit.code == "360302").values(rec_token="qr360302"))

    async def scenario() -> None:
        async with wechat_bot(core, fake, True) as bot:
            bob = bot.follower("o_bob")
            # qrscene_rec_... on follow
            assert said(await bob.follow("rec_qr360302"), "privacy.notice")
            rest = flows.streamer_lines("bob_tea")[7:]  # the unit is known: from the account on
            await bob.run(["同意并继续", "抖音", *rest, "确认提交"])

    asyncio.run(scenario())
    with Session(db) as session:
        streamer = session.scalars(select(Streamer)).one()
        unit = session.get(Unit, streamer.unit_id)
        assert unit is not None and unit.code == "360302"
        assert streamer.recommendation == "org"


@MODES
def test_voice_location_and_unknown_types_get_please_type(
    core: Core, fake: FakeWeChat, safe: bool
) -> None:
    async def scenario() -> None:
        async with wechat_bot(core, fake, safe) as bot:
            carol = bot.follower("o_carol")
            voice = await carol.send("voice", MediaId="v1", Format="amr")
            where = await carol.send(
                "location", Location_X="27.6", Location_Y="113.8", Scale="15", Label="萍乡"
            )
            odd = await carol.send("hologram", Content="?")
            assert voice == where == odd
            assert said(voice, "err.need_text")
            # an unsubscribe needs no answer and is not an interaction
            assert await carol.send("event", wait=0.5, Event="unsubscribe") == ""

    asyncio.run(scenario())


def test_a_slow_step_is_answered_as_a_customer_service_message(
    db: Engine, config: FestivalConfig, clock: FixedClock, fake: FakeWeChat
) -> None:
    core = slow_core(db, config, clock, budget=0.000_001)

    async def scenario() -> None:
        async with wechat_bot(core, fake, True) as bot:
            dave = bot.follower("o_dave")
            menu = await dave.say("/start")  # answered "success" at once, then by the API
            assert f"[1] {label('menu.streamer')}" in menu
            assert dave.passive == 0 and dave.late == 1
            assert bot.runtime.channel.stats["late"] == 1

    try:
        asyncio.run(scenario())
    finally:
        core.executor.shutdown()
    assert len(fake.service_messages("o_dave")) == 1


@MODES
def test_resent_messages_and_events_are_processed_once(
    db: Engine, config: FestivalConfig, clock: FixedClock, fake: FakeWeChat, safe: bool
) -> None:
    core = slow_core(db, config, clock, budget=0.000_001)  # so the first answer is empty too

    async def scenario() -> None:
        # the outbox is drained by the test only, once every step has committed: a delivery
        # loop could send the message's late reply before the follow's step asks again
        async with wechat_bot(core, fake, safe, None) as bot:
            fake.interact("o_erin")
            body = message_xml("o_erin", "text", 1_700_000_000, Content="/start", MsgId="42")
            # WeChat's three tries of one message: each signed anew, same MsgId
            answers = [await bot.server.post(body) for _ in range(3)]
            assert [a.text for a in answers] == ["success"] * 3
            event = message_xml("o_erin", "event", 1_700_000_001, Event="subscribe", EventKey="")
            assert [(await bot.server.post(event)).text for _ in range(2)] == ["success"] * 2
            await bot.runtime.channel.idle()
            await bot.deliver()
            assert bot.runtime.channel.stats["resent"] == 3

    try:
        asyncio.run(scenario())
    finally:
        core.executor.shutdown()
    # one menu for the message, one greeting for the follow: the first not sent, as the
    # follow's step asked the same question since (superseded: bot/core/answers.py)
    assert len(fake.service_messages("o_erin")) == 1
    with Session(db) as session:
        assert len(session.scalars(select(WeChatInbound)).all()) == 2
        statuses = session.scalars(select(OutboxMessage.status).order_by(OutboxMessage.id))
        assert list(statuses) == ["superseded", "sent"]
