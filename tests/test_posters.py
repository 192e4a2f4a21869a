"""QR posters of the units' recommendation links: each QR code (the bare code and the one on
the printed poster) is decoded with a real decoder (zxing-cpp) and holds the unit's link; the
WeChat codes are made through the fake WeChat API (qrcode/create, showqrcode), temporary and
renewed by the scheduler, or permanent for a verified account; a scan starts the unit's
recommendation; `python -m bot posters OUTDIR` writes every unit's."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.channels.wechat.qrcodes import qr_codes
from bot.config import FestivalConfig
from bot.core.clock import FixedClock
from bot.core.dispatcher import Core
from handlers.posters import TELEGRAM_USERNAME, WECHAT_QR
from handlers.routes import ROUTES
from models import OutboxMessage, Unit, WeChatQrCode
from scheduler import JobRunner
from tests import festival_data as data
from tests.catalog import said
from tests.chat import Chat
from tests.fake_wechat import FakeWeChat, settings_for, wechat_bot

ROOT = Path(__file__).resolve().parent.parent
BOT = "festival_test_bot"
pytestmark = pytest.mark.fake("wechat")


def decoded(path: str | Path) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(Image.open(path))]


def posters_core(
    db: Engine, config: FestivalConfig, clock: FixedClock, tmp_path: Path, fake: FakeWeChat,
    **wechat: object,
) -> Core:  # fmt: skip
    limits = config.wechat.model_copy(update=wechat)
    core = Core(config.model_copy(update={"wechat": limits}), db, clock, ROUTES, tmp_path)
    settings = settings_for(fake, False).model_copy(
        update={"wechat_qrcode_base_url": fake.base_url}
    )
    core.services[TELEGRAM_USERNAME] = BOT
    maker = qr_codes(settings, core.sessions, limits)
    assert maker is not None
    core.services[WECHAT_QR] = maker
    with core.sessions() as s, s.begin():
        data.contact(s, "c1", "360302")  # 萍乡市 安源区
    return core


def token(db: Engine, code: str = "360302") -> str:
    with Session(db) as s:
        unit = s.scalars(select(Unit).where(Unit.code == code)).one()
        assert unit.rec_token
        return unit.rec_token


def stored_code(db: Engine) -> WeChatQrCode:
    with Session(db) as s:
        return s.scalars(select(WeChatQrCode)).one()


def test_unit_qr_sends_both_posters_whose_codes_hold_the_unit_link(
    db: Engine, config: FestivalConfig, clock: FixedClock, tmp_path: Path, fake: FakeWeChat
) -> None:
    core = posters_core(db, config, clock, tmp_path, fake)
    chat = Chat(core)
    chat.say("c1", "/unit qr")
    telegram, wechat = chat.last
    rec = token(db)
    link = f"https://t.me/{BOT}?start=rec_{rec}"
    assert said(telegram, "poster.caption_telegram", link=link)
    assert telegram.image_path and wechat.image_path
    assert decoded(telegram.image_path) == [link]  # the printed poster
    assert decoded(tmp_path / "posters" / "360302-telegram-qr.png") == [link]  # the bare code
    # WeChat: a temporary parametric code with the unit's scene, its expiry on the poster
    [create] = [c.body for c in fake.recorded("qrcode/create")]
    assert create["action_name"] == "QR_STR_SCENE"
    assert create["action_info"]["scene"]["scene_str"] == f"rec_{rec}"
    assert create["expire_seconds"] == config.wechat.qr_days * 86400
    code = stored_code(db)
    assert code.expires_at == clock.now() + dt.timedelta(days=config.wechat.qr_days)
    [url] = decoded(wechat.image_path)
    assert url == code.url and fake.scene_of(url) == f"rec_{rec}"
    assert code.image_path and decoded(code.image_path) == [url]
    assert said(wechat, "poster.caption_wechat", days=config.wechat.qr_renew_days)
    # asked again: the same code (WeChat is not asked for a new one)
    chat.say("c1", "/unit qr")
    assert len(fake.recorded("qrcode/create")) == 1 and stored_code(db).ticket == code.ticket
    # and the committee gets any unit's by its code
    assert said(chat.say("admin", "/unit qr 360302"), "poster.caption_telegram", link=link)
    core.executor.shutdown()


def test_scanning_the_wechat_code_starts_the_units_recommendation(
    db: Engine, config: FestivalConfig, clock: FixedClock, tmp_path: Path, fake: FakeWeChat
) -> None:
    core = posters_core(db, config, clock, tmp_path, fake)
    Chat(core).say("c1", "/unit qr")
    scene = fake.scene_of(stored_code(db).url)
    assert scene == f"rec_{token(db)}"

    async def scenario() -> None:
        async with wechat_bot(core, fake, True) as bot:
            # a new follower: subscribe with EventKey qrscene_rec_TOKEN
            assert said(await bot.follower("o_new").follow(scene), "privacy.notice")
            # one who already follows: SCAN with EventKey rec_TOKEN
            old = bot.follower("o_old")
            await old.follow()
            assert said(await old.scan(scene), "privacy.notice")

    try:
        asyncio.run(scenario())
    finally:
        core.executor.shutdown()


def test_a_verified_account_gets_a_permanent_code_and_an_unverified_one_is_told(
    db: Engine, config: FestivalConfig, clock: FixedClock, tmp_path: Path, fake: FakeWeChat
) -> None:
    core = posters_core(db, config, clock, tmp_path, fake, qr_permanent=True)
    chat = Chat(core)
    chat.say("c1", "/unit qr")  # WeChat refuses (48001): the Telegram poster still comes
    assert [said(r, "poster.caption_telegram") for r in chat.last] == [True, False]
    assert said(chat.last, "poster.wechat_failed")
    fake.verified = True
    chat.say("c1", "/unit qr")
    assert said(chat.last, "poster.caption_wechat_permanent")
    create = fake.recorded("qrcode/create")[-1].body
    assert create["action_name"] == "QR_LIMIT_STR_SCENE" and "expire_seconds" not in create
    code = stored_code(db)
    assert code.permanent and code.expires_at is None
    wechat = chat.last[-1]
    assert wechat.image_path and decoded(wechat.image_path) == [code.url]
    core.executor.shutdown()


def test_the_scheduler_renews_an_expiring_code_and_sends_the_new_poster(
    db: Engine, config: FestivalConfig, clock: FixedClock, tmp_path: Path, fake: FakeWeChat
) -> None:
    core = posters_core(db, config, clock, tmp_path, fake)
    Chat(core).say("c1", "/unit qr")
    first = stored_code(db)
    runner = JobRunner(core.sessions, core.config, clock, tmp_path / "boards", core.services)
    assert "wechat_qr" in runner.specs
    tz = config.calendar.tz
    quiet = clock.now().astimezone(tz).replace(hour=4, minute=0) + dt.timedelta(days=1)
    clock.set(quiet)
    assert runner.run("wechat_qr", quiet).enqueued == 0  # 29 days left: nothing to renew
    assert stored_code(db).ticket == first.ticket
    assert first.expires_at is not None
    late = quiet + dt.timedelta(days=config.wechat.qr_days - config.wechat.qr_renew_days)
    clock.set(late)
    assert runner.run("wechat_qr", late).enqueued == 1  # the contact gets the new poster
    assert not runner.run("wechat_qr", late).ran  # once per fire time
    renewed = stored_code(db)
    assert renewed.ticket != first.ticket and renewed.expires_at is not None
    assert renewed.expires_at > first.expires_at
    assert renewed.image_path and decoded(renewed.image_path) == [renewed.url]
    assert fake.scene_of(renewed.url) == first.scene
    with Session(db) as s:
        row = s.scalars(select(OutboxMessage)).one()
    assert said(row.payload["text"], "poster.renewed")
    assert row.payload["image_path"] and decoded(row.payload["image_path"]) == [renewed.url]
    core.executor.shutdown()


def test_the_posters_command_writes_every_units_posters(
    migrated: Engine, database_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WECHAT_"))} | {
        "DATABASE_URL": database_url,
        "TELEGRAM_BOT_USERNAME": BOT,
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot", "posters", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    with Session(migrated) as s:
        units = {u.code: u.rec_token for u in s.scalars(select(Unit).where(Unit.active))}
    posters = sorted(out.glob("*-telegram.png"))
    assert {p.name.removesuffix("-telegram.png") for p in posters} == set(units)
    for path in posters[:: max(1, len(posters) // 12)]:  # a dozen of them decoded
        code = path.name.removesuffix("-telegram.png")
        assert decoded(path) == [f"https://t.me/{BOT}?start=rec_{units[code]}"]
