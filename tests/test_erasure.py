"""Erasure (issue 17 item 7): /forget and the retention date's job leave no phone number,
name, typed text or picture of the person in any table or file (the whole database dumped as
text and searched; on SQLite the database file's raw bytes too, after VACUUM); published
boards keep the account name as published; award and donation records keep name, award and
amount only. Logs never hold a phone number."""

from __future__ import annotations

import datetime as dt
import logging
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.console import parse_line
from bot.config import ConfigError, FestivalConfig, load_config, parse_config
from bot.core.clock import FixedClock
from bot.core.dispatcher import Core
from handlers.calendar import fire_times, job_specs
from handlers.routes import ROUTES
from models import (
    AuditEntry,
    AwardEntry,
    AwardList,
    DailyReport,
    DonationPayment,
    Enterprise,
    LiveAccount,
    OutboxMessage,
    Person,
    Product,
    SheetImport,
    Streamer,
    Turnover,
)
from models import board as boards
from models.erasure_copies import ERASED
from models.scoring import ScoringRules
from scheduler import JobRunner
from tests import festival_data as data
from tests import flows
from tests.catalog import begins, label, said
from tests.chat import Chat
from tests.conftest import ROOT
from tests.erasure_helpers import found_in_database, found_in_files
from tests.fake_telegram import BotThread, FakeTelegram, config_for_tests

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBUserWarning")

# made-up numbers, used nowhere else in the tests
ALICE_PHONE, BOB_PHONE = "13800138761", "13900138762"


def raw_database_bytes(engine: Engine) -> bytes | None:
    """The SQLite file and its WAL as bytes (None on PostgreSQL), read by another process:
    closing a file descriptor of the database in this one would drop every POSIX lock this
    process's SQLite connections hold on it (SQLite's documented hazard), and a later process
    would then recover the WAL under their feet ("disk I/O error")."""
    if engine.dialect.name != "sqlite":
        return None
    path = Path(str(engine.url.database))
    files = [str(p) for p in (path, path.with_name(path.name + "-wal")) if p.exists()]
    return subprocess.run(["cat", *files], capture_output=True, check=True).stdout


def assert_not_in_raw_file(engine: Engine, *values: str) -> None:
    raw = raw_database_bytes(engine)
    if raw is None:
        return  # PostgreSQL: what holds there is said in the README (dead tuples, WAL)
    for value in values:
        assert value.encode() not in raw, value


# ----- /forget, end to end on Telegram ------------------------------------------------------
def test_forget_leaves_nothing_of_the_person_in_any_table_or_file(
    db: Engine,
    config: FestivalConfig,
    clock: FixedClock,
    tmp_path: Path,
    fake_telegram: FakeTelegram,
) -> None:
    """Alice registers on Telegram (her number shared with the contact button), is approved,
    reports with a screenshot, leaves an enterprise registration half typed as a draft; the
    committee exports the streamers; Bob registers too. Alice sends /forget and confirms:
    none of her values is left anywhere (Bob's are all there), her files are gone, the
    committee is told without her data, the erasure is audited."""
    fake = fake_telegram
    core = Core(config_for_tests(config), db, clock, ROUTES, tmp_path)
    try:
        with BotThread(core, fake):
            fake.wait(lambda: fake.stats.calls.get("getUpdates", 0) > 0)
            alice = fake.user(1101, "zoeerase")
            lines = flows.streamer_lines("阿丽测试果园")
            lines[9] = f"/contact +86 {ALICE_PHONE}"  # the phone question: shared contact
            alice.run([*lines, "确认提交"])
            with Session(db) as session:
                sid = session.scalars(select(Streamer.id)).one()
            admin = Chat(core)
            admin.say("admin", f"/approve streamer {sid}")
            fake.wait(lambda: any("通过" in m.text for m in alice.inbox), timeout=10)
            alice.run([*flows.report_lines(evidence="/photo alice_shot"), "确认提交"])
            # an enterprise half typed: a draft with her own words
            alice.run(["/enterprise", "1", "萍乡市", "安源区", "阿丽农业测试公司", "农产品"])
            alice.run(["测试脐橙鸭蛋", "李四测试", "/cancel"])
            bob = fake.user(1102, "bobkeep")
            lines = flows.streamer_lines("鲍勃保留果园")
            lines[9] = BOB_PHONE
            bob.run([*lines, "确认提交"])
            admin.say("admin", "/export streamers")
            with Session(db) as session:
                evidence = session.scalars(select(DailyReport.evidence_file_id)).one()
            assert evidence and Path(evidence).is_file()
            assert list((tmp_path / "exports").iterdir())
            alices = (ALICE_PHONE, "138 0013 8761", "zoeerase", "阿丽测试果园")
            typed = ("阿丽农业测试公司", "测试脐橙鸭蛋", "李四测试")
            assert found_in_database(db, *alices, *typed)  # there before

            alice.say("/forget")
            assert said(alice.last_text(), "forget.confirm")
            alice.press(label("btn.forget_yes"))
            assert said(alice.last_text(), "forget.done")
    finally:
        core.executor.shutdown()

    assert found_in_database(db, *alices, *typed) == []
    assert found_in_files(tmp_path, *alices, *typed) == []
    assert not Path(evidence).exists()
    assert not list((tmp_path / "exports").iterdir())  # every export held her row
    assert_not_in_raw_file(db, *alices, *typed)
    # Bob's are all there
    assert found_in_database(db, BOB_PHONE) and found_in_database(db, "鲍勃保留果园", "bobkeep")
    with Session(db) as session:
        s = session.get(Streamer, sid)
        assert s is not None and (s.status, s.phone, s.followers) == ("withdrawn", "", 12_000)
        report = session.scalars(select(DailyReport)).one()
        assert (report.gmv_fen, report.evidence_file_id) == (500_000, None)  # figures stay
        person = session.get(Person, s.person_id)
        assert person is not None and person.erased_at is not None
        actions = [
            (a.action, a.entity)
            for a in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]
        assert ("withdraw", "streamer") in actions and actions[-1] == ("erase", "person")
        told = [
            o.payload["text"]
            for o in session.scalars(
                select(OutboxMessage).where(OutboxMessage.idempotency_key.like("erase:%"))
            )
        ]
    assert len(told) == 1 and said(told[0], "forget.committee", id=str(person.id))


def test_a_person_who_writes_again_is_someone_new(chat: Chat, db: Engine) -> None:
    chat.run("s1", [*flows.streamer_lines("新来的果园"), "确认提交"])
    chat.say("s1", "/forget")
    chat.press("s1", label("btn.forget_yes"))
    assert said(chat.say("s1", "/me"), "me.nothing")
    with Session(db) as session:
        assert session.scalar(select(Person.id).where(Person.erased_at.is_(None))) is not None
        assert len(list(session.scalars(select(Person)))) == 2


def test_keeping_changes_nothing_and_the_question_is_guarded(chat: Chat, db: Engine) -> None:
    chat.run("s1", [*flows.streamer_lines("留下的果园"), "确认提交"])
    chat.say("s1", "/forget")
    # typed text is no answer: said, and asked again
    out = chat.say("s1", "好的吧")
    assert said(out, "err.use_buttons") and said(out, "forget.confirm")
    chat.press("s1", label("btn.forget_no"))
    assert begins(chat.last[0].text, "forget.kept")
    # a button of an earlier question is stale
    chat.say("s1", "/forget")
    yes = chat.last[0].flat_buttons()[0].data
    chat.say("s1", "/me")
    from bot.core.messages import Incoming

    stale = chat.core.process_sync(Incoming("console", "s1", "s1", button=yes))
    assert said(stale[0].text, "err.stale_button")
    with Session(db) as session:
        s = session.scalars(select(Streamer)).one()
        assert (s.phone, s.status) == ("13800138000", "pending_review")


def test_a_published_board_keeps_the_name_as_published(chat: Chat, db: Engine) -> None:
    """An approved streamer on a published board: the board keeps the account name; the
    registration is withdrawn, so no later board has it; the phone goes."""
    chat.run("s1", [*flows.streamer_lines("榜上有名果园"), "确认提交"])
    with Session(db) as session:
        sid = session.scalars(select(Streamer.id)).one()
    chat.say("admin", f"/approve streamer {sid}")
    chat.run("s1", [*flows.report_lines(), "确认提交"])
    rules, now = ScoringRules.of(chat.core.config), chat.core.clock.now()
    with Session(db) as session, session.begin():
        boards.publish(session, "all", "2020-11-02", rules, now)
    chat.say("s1", "/forget")
    assert said(chat.last[0].text, "forget.confirm_record") is False  # a board is no award
    chat.press("s1", label("btn.forget_yes"))
    assert found_in_database(db, "13800138000") == []
    with Session(db) as session, session.begin():
        names = [a.account_name for a in session.scalars(select(LiveAccount))]
        assert names == ["榜上有名果园"]
        later = boards.publish(session, "all", "2020-11-09", rules, now)
        assert later.entries == 0  # withdrawn: no future board


# ----- the retention date ------------------------------------------------------------------
def _festival_after(session: Session, config: FestivalConfig, tmp_path: Path) -> dict[str, object]:
    """Streamers (an award winner, one on a published board, one never approved),
    enterprises (one that paid its donation, one that did nothing), an admin; their files,
    an import with its workbook and scan, an export; copies in the outbox and audit log."""
    admin = data.admin(session, "boss")
    winner = data.streamer(session, "冠军测试号", user="winner")
    board = data.streamer(session, "上榜测试号", user="onboard")
    plain = data.streamer(session, "未审核测试号", status="pending_review", user="plainone")
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    shot = uploads / "telegram-shot.jpg"
    shot.write_bytes(b"\xff\xd8 a screenshot")
    day = dt.date(2020, 11, 2)
    data.report(session, config, winner, day, gmv_yuan=9000)
    r = data.report(session, config, board, day, gmv_yuan=500)
    r.evidence_file_id = str(shot)
    rules = ScoringRules.of(config)
    published = boards.publish(session, "all", "final", rules, data.NOW)
    award_list = AwardList(version=1, board_id=published.id, frozen_at=data.NOW)
    session.add(award_list)
    session.flush()
    session.add(
        AwardEntry(
            list_id=award_list.id,
            kind="streamer",
            tier="grand",
            subject_id=winner.id,
            place=1,
            score=90,
            breakdown={},
        )
    )
    donor, products = data.enterprise(session, "捐赠测试企业", user="donor")
    quiet, _ = data.enterprise(session, "沉默测试企业", user="quiet")
    picture = uploads / "telegram-product.jpg"
    picture.write_bytes(b"\xff\xd8 a product")
    products[0].attachment_file_id = str(picture)
    session.add(
        Turnover(
            enterprise_id=donor.id,
            amount_fen=300_000_000,
            status="confirmed",
            submitted_at=data.NOW,
        )
    )
    session.add(
        DonationPayment(
            enterprise_id=donor.id,
            amount_fen=15_000_000,
            received_on=dt.date(2020, 12, 5),
            recorded_at=data.NOW,
            note="王经理说下周补发票",
        )
    )
    imports = tmp_path / "imports"
    imports.mkdir()
    (imports / "sheet.xlsx").write_bytes(b"PK a sheet with " + plain.phone.encode())
    (imports / "scan.jpg").write_bytes(b"a scan with " + plain.phone.encode())
    session.add(
        SheetImport(
            kind="streamers",
            channel="cli",
            file_name="附件2.xlsx",
            file_sha256="0" * 64,
            file_path=str(imports / "sheet.xlsx"),
            scan_path=str(imports / "scan.jpg"),
            rows=1,
            created=1,
            updated=0,
            unchanged=0,
            created_at=data.NOW,
        )
    )
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "streamers.xlsx").write_bytes(b"PK " + board.phone.encode())
    # copies: a notice to the committee quoting a registration, an audit entry of it
    session.add(
        OutboxMessage(
            idempotency_key="notice:1",
            person_id=admin.id,
            channel="console",
            chat_id="boss",
            payload={"text": f"新报名：未审核测试号 {plain.phone}"},
            status="sent",
            next_attempt_at=data.NOW,
            created_at=data.NOW,
        )
    )
    session.add(
        AuditEntry(
            at=data.NOW,
            actor_person_id=admin.id,
            action="approve",
            entity="streamer",
            entity_id=board.id,
            before={"status": "pending_review", "phone": board.phone},
            after={"status": "approved"},
            note=None,
        )
    )
    session.flush()
    return {
        "phones": [winner.phone, board.phone, plain.phone, donor.phone, quiet.phone],
        "gone": ["未审核测试号", "沉默测试企业", "王经理", "王经理说下周补发票", "plainone"],
        "kept": ["冠军测试号", "上榜测试号", "捐赠测试企业"],
        "files": [shot, picture, imports / "sheet.xlsx", imports / "scan.jpg"],
        "winner": winner.id,
        "donor": donor.id,
    }


def test_the_retention_job_erases_everyone_but_what_the_festival_keeps(
    db: Engine, config: FestivalConfig, tmp_path: Path
) -> None:
    sessions = sessionmaker(db, expire_on_commit=False)
    with sessions() as session, session.begin():
        festival = _festival_after(session, config, tmp_path)
    assert config.privacy is not None
    first = dt.datetime.combine(config.privacy.erase_after, dt.time(3), config.calendar.tz)
    clock = FixedClock(config.calendar.tz, first.replace(tzinfo=None))
    runner = JobRunner(sessions, config, clock, tmp_path / "boards")
    phones = [str(p) for p in festival["phones"]]  # type: ignore[attr-defined]
    gone = [str(v) for v in festival["gone"]]  # type: ignore[attr-defined]
    # `jobs run erasure --dry-run`: who would be told; nothing erased, no file touched
    dry = runner.dry_run("erasure", first)
    assert len(dry.sent) == 1 and said(dry.sent[0][2].text, "forget.retention_done")
    assert all(Path(p).exists() for p in festival["files"])  # type: ignore[attr-defined]
    assert len(found_in_database(db, *phones)) >= len(phones)

    outcome = runner.run("erasure", first)
    assert outcome.ran and outcome.enqueued == 1  # the committee is told how many

    assert found_in_database(db, *phones, *gone) == []
    assert found_in_files(tmp_path, *phones) == []
    assert all(not Path(p).exists() for p in festival["files"])  # type: ignore[attr-defined]
    assert not list((tmp_path / "exports").iterdir())
    assert_not_in_raw_file(db, *phones, *gone)
    # kept: the names on the published board and the award list, the donor's name, the
    # award and the amounts; nothing else of theirs
    for name in festival["kept"]:  # type: ignore[attr-defined]
        assert [line.split(":")[0] for line in found_in_database(db, str(name))] in (
            ["live_accounts"],
            ["enterprises"],
        ), name
    with Session(db) as session:
        award = session.scalars(select(AwardEntry)).one()
        assert (award.subject_id, award.tier) == (festival["winner"], "grand")
        paid = session.scalars(select(DonationPayment)).one()
        assert (paid.amount_fen, paid.note) == (15_000_000, None)
        turnover = session.scalars(select(Turnover)).one()
        assert turnover.amount_fen == 300_000_000
        admin = session.scalars(select(Person).where(Person.display_name == "boss")).one()
        assert admin.erased_at is None  # the office's own accounts stay
        sheet = session.scalars(select(SheetImport)).one()
        assert (sheet.file_path, sheet.scan_path) == (None, None)
        told = session.scalars(
            select(OutboxMessage).where(OutboxMessage.idempotency_key.like("erasure:%"))
        ).one()
    assert said(told.payload["text"], "forget.retention_done", n="5", kept="3")

    # idempotent: the next night finds nobody, changes nothing, tells nobody
    before = found_in_database(db, ERASED)
    again = runner.run("erasure", first + dt.timedelta(days=1))
    assert again.ran and again.enqueued == 0
    assert found_in_database(db, ERASED) == before
    # a retry of the same fire time is no second run
    assert runner.run("erasure", first).ran is False


def test_the_erasure_job_runs_daily_from_the_retention_date(config: FestivalConfig) -> None:
    assert config.privacy is not None
    spec = next(s for s in job_specs(config) if s.name == "erasure")
    tz = config.calendar.tz
    start = dt.datetime.combine(config.privacy.erase_after, dt.time(0), tz)
    times = fire_times(spec.trigger, start - dt.timedelta(days=30), start + dt.timedelta(days=2))
    assert [t.isoformat() for t in times] == [
        f"{config.privacy.erase_after + dt.timedelta(days=d)}T03:00:00+08:00" for d in range(2)
    ]


def test_erase_after_must_follow_the_festival() -> None:
    import yaml

    raw = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    raw["privacy"]["erase_after"] = "2020-12-01"
    with pytest.raises(ConfigError, match=r"privacy\.erase_after must be after"):
        parse_config(raw)


def test_the_privacy_notice_says_until_when_and_names_forget(chat: Chat) -> None:
    config = load_config(ROOT / "config.yaml")
    assert config.privacy is not None
    date = config.privacy.erase_after.isoformat()
    notice = chat.say("new", "/register")
    assert begins(notice, "privacy.notice", retention=label("privacy.retention", date=date))
    assert "/forget" in notice


# ----- logs -------------------------------------------------------------------------------
def test_logs_hold_no_phone_number(
    core: Core, db: Engine, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A whole registration through the console channel, a step that fails on the phone
    answer (its traceback logged), a statement the database refuses (PostgreSQL's error
    quotes the refused row) and /forget, logged at DEBUG: no phone number in any message or
    traceback."""
    import asyncio
    import io

    from bot.channels.console import ConsoleChannel
    from bot.core import engine as form_engine
    from bot.core import logs

    logs.install()  # as `python -m bot` and scheduler.py do at start
    caplog.set_level(logging.DEBUG)
    console = ConsoleChannel(core, "s1", io.StringIO())
    lines = flows.streamer_lines("日志测试果园")

    async def typed(all_lines: list[str]) -> None:
        for line in all_lines:
            await console.handle_line(line)

    asyncio.run(typed(lines[:9]))
    original = form_engine.FormEngine.handle

    def failing(self: object, ctx: object, action: object) -> object:
        raise RuntimeError("the disk refused a write")

    monkeypatch.setattr(form_engine.FormEngine, "handle", failing)
    asyncio.run(typed([lines[9]]))  # the phone: the step fails, logged with its traceback
    monkeypatch.setattr(form_engine.FormEngine, "handle", original)
    asyncio.run(typed([*lines[9:], "确认提交", "/me"]))
    # a statement the database refuses: its error shows no values
    from sqlalchemy.exc import IntegrityError

    from models import Identity

    with pytest.raises(IntegrityError) as refused, Session(db) as session:
        person = session.scalars(select(Person)).first()
        assert person is not None
        for _ in range(2):
            session.add(
                Identity(
                    person_id=person.id,
                    channel="console",
                    user_id="13800138000",
                    chat_id="13800138000",
                    created_at=data.NOW,
                )
            )
        session.flush()
    logging.getLogger("test").exception("refused", exc_info=refused.value)
    asyncio.run(typed(["/forget", "1"]))
    assert "the disk refused a write" in caplog.text  # the failure was logged
    with Session(db) as session:
        assert session.scalars(select(Streamer.phone)).one() == ""  # erased
    logged = caplog.text + "".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    for phone in ("13800138000", "138 0013 8000"):
        assert phone not in logged


def test_phone_numbers_are_masked_in_log_text() -> None:
    from bot.core.logs import redact

    assert redact("Key (user_id)=(13800138000) exists") == "Key (user_id)=(138****8000) exists"
    assert redact("typed 138 0013 8000 or 138-0013-8000") == "typed 138****8000 or 138****8000"
    # longer numbers (a Telegram id, a timestamp) and short ones are not phone numbers
    assert redact("update 1380013800012 at 12800138000") == "update 1380013800012 at 12800138000"


# ----- an enterprise with a donation record, on WeChat -------------------------------------
def test_forget_on_wechat_keeps_the_donation_record_name_and_amount_only(
    db: Engine,
    config: FestivalConfig,
    clock: FixedClock,
    tmp_path: Path,
    fake_wechat: object,
) -> None:
    """An enterprise registers on WeChat (typed details, a product picture copied to our
    storage), the committee records its donation payment; the contact sends /forget: the
    enterprise's name and the amount stay, its contact, phone, typed details, product names,
    the payment's note, the follower's openid and the picture go, from every table and file."""
    import asyncio

    from tests.fake_wechat import FakeWeChat, wechat_bot

    fake = fake_wechat
    assert isinstance(fake, FakeWeChat)
    core = Core(config, db, clock, ROUTES, tmp_path)
    typed = {
        "name": "微信测试农业公司",
        "main": "微信测试主营产品",
        "contact": "赵微信测试",
        "shop": "微信测试小店",
        "link": "https://v.douyin.com/WxTest9/",
        "product": "微信测试莲花血鸭",
        "note": "微信测试备注说明",
    }
    phone = "13900138763"
    lines = [
        *flows.ENTERPRISE_HEAD,
        typed["name"],
        "农产品",
        typed["main"],
        typed["contact"],
        phone,
        "是",
        typed["shop"],
        f"复制打开抖音 {typed['link']} 长按复制",
        *flows.product_lines(typed["product"]),
        "完成",
        flows.AGREE,
    ]

    async def register_then_forget() -> None:
        async with wechat_bot(core, fake, True) as bot:
            ent = bot.follower("o_forget_me")
            await ent.run(lines)
            assert said(await ent.say("确认提交"), "enterprise.submitted")
            with Session(db) as session:
                eid = session.scalars(select(Enterprise.id)).one()
            admin = Chat(core)
            admin.say("admin", f"/payment {eid} 120000 2020-11-01 {typed['note']}")
            await bot.deliver()
            assert said(await ent.say("/forget"), "forget.confirm_record")
            assert said(await ent.say(label("btn.forget_yes")), "forget.done_record")
            await bot.deliver()

    try:
        asyncio.run(register_then_forget())
    finally:
        core.executor.shutdown()
    with Session(db) as session:
        e = session.scalars(select(Enterprise)).one()
        assert (e.name, e.phone, e.contact_name, e.status) == (typed["name"], "", "", "withdrawn")
        paid = session.scalars(select(DonationPayment)).one()
        assert (paid.amount_fen, paid.note) == (12_000_000, None)
        assert session.scalars(select(Product.attachment_file_id)).one() is None
    gone = [phone, *(v for k, v in typed.items() if k != "name"), "o_forget_me"]
    assert found_in_database(db, *gone) == []
    assert found_in_files(tmp_path, *gone) == []
    assert not list((tmp_path / "uploads").glob("wechat-*"))
    assert [line.split(":")[0] for line in found_in_database(db, typed["name"])] == ["enterprises"]
    assert_not_in_raw_file(db, *gone)


# ----- a registration imported from a unit's sheet -----------------------------------------
def test_forget_redacts_the_imported_sheet_and_removes_its_scan(
    files_core: Core, db: Engine, tmp_path: Path
) -> None:
    """A unit's sheet brought in two streamers; one claims hers and sends /forget: her row of
    the kept workbook is emptied (the other's stays), the stamped scan (a picture of every
    row) is removed, the placeholder that held her registration before the claim is erased."""
    from openpyxl import load_workbook

    from tests.test_import import CLAIM, notice_sheet, send, streamer_row

    chat = Chat(files_core)
    sheets = tmp_path / "received"
    sheets.mkdir()
    sheet = notice_sheet(
        sheets / "附件2.xlsx",
        [
            streamer_row(1, "甲的测试账号", phone="138 0013 8771"),
            streamer_row(2, "乙的测试账号", phone="13800138772"),
        ],
    )
    send(chat, "admin", sheet)
    returned = load_workbook(str(chat.last[1].document_path)).active
    assert returned is not None
    codes = [m for row in returned.iter_rows(values_only=True) for m in CLAIM.findall(str(row[-1]))]
    scan = sheets / "scan.pdf"
    scan.write_bytes(b"%PDF-1.4 stamped 13800138771 13800138772")
    assert said(chat.say("admin", f"/file {scan}"), "import.scan_saved")
    chat.say("jia", f"/start claim_{codes[0]}")
    assert said(chat.say("jia", "同意并继续"), "claim.done_streamer", title="甲的测试账号")
    chat.say("jia", "/forget")
    chat.press("jia", label("btn.forget_yes"))

    hers = ("13800138771", "138 0013 8771", "甲的测试账号")
    assert found_in_database(db, *hers) == []
    assert found_in_files(tmp_path, *hers) == []
    assert not scan.exists()
    kept = load_workbook(sheet).active
    assert kept is not None
    rows = [list(r) for r in kept.iter_rows(values_only=True)]
    assert ["乙的测试账号", "13800138772"] == [rows[4][1], rows[4][2]]  # hers was row 4
    assert rows[3][1] == ERASED and rows[3][2] == ERASED
    with Session(db) as session:
        record = session.scalars(select(SheetImport)).one()
        assert (record.file_path, record.scan_path) == (str(sheet), None)
    assert found_in_database(db, "13800138772", "乙的测试账号")


def test_forget_erases_the_persons_feedback_and_its_files(
    chat: Chat, db: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    """The 反馈 table's free text and a unit's files go with the person."""
    with Session(db) as s, s.begin():
        data.contact(s, "unit1", "360302")
    clock.set(dt.datetime(2020, 12, 8, 10, 0))  # 反馈期
    doc = tmp_path / "总结材料.docx"
    doc.write_bytes(b"PK summary")
    summary = "我们单位组织了十二名主播参加直播节"
    chat.run("unit1", ["/feedback", summary, f"/file {doc}", label("btn.done")])
    chat.say("unit1", label("btn.confirm"))
    assert found_in_database(db, summary)
    chat.say("unit1", "/forget")
    chat.press("unit1", label("btn.forget_yes"))
    assert not found_in_database(db, summary)


def test_the_retention_job_for_many_people_at_once(
    db: Engine, config: FestivalConfig, tmp_path: Path
) -> None:
    """Forty people's values are looked for at once (too many for one statement of LIKEs:
    every row is read and searched): copies in an admin's audit entries and draft go too."""
    from models import DialogState, Identity

    sessions = sessionmaker(db, expire_on_commit=False)
    with sessions() as session, session.begin():
        admin = data.admin(session, "boss")
        many = [
            data.streamer(session, f"批量测试号{i:02d}", status="pending_review", user=f"m{i}")
            for i in range(40)
        ]
        phones = [s.phone for s in many]
        session.add(
            AuditEntry(
                at=data.NOW,
                actor_person_id=admin.id,
                action="note",
                entity="unit",
                entity_id=1,
                before=None,
                after={"called": phones[:20], "about": "批量测试号07 说明"},
                note=f"电话 {phones[30]}",
            )
        )
        state = session.scalars(
            select(DialogState)
            .join(Identity, Identity.id == DialogState.identity_id)
            .where(Identity.person_id == admin.id)
        ).one()
        state.data = {"drafts": {"announce": {"text": f"请联系 {phones[39]}"}}}
    assert config.privacy is not None
    first = dt.datetime.combine(config.privacy.erase_after, dt.time(3), config.calendar.tz)
    clock = FixedClock(config.calendar.tz, first.replace(tzinfo=None))
    assert JobRunner(sessions, config, clock, tmp_path / "boards").run("erasure", first).ran
    names = [f"批量测试号{i:02d}" for i in range(40)]
    assert found_in_database(db, *phones, *names) == []
    assert_not_in_raw_file(db, *phones, *names)
    with Session(db) as session:
        note = session.scalars(select(AuditEntry).where(AuditEntry.action == "note")).one()
        assert note.after == {"called": [ERASED] * 20, "about": f"{ERASED} 说明"}


def test_a_sheet_imported_again_does_not_bring_an_erased_person_back(
    files_core: Core, db: Engine, tmp_path: Path
) -> None:
    """After 甲's /forget the unit sends a changed sheet that still holds her row (and a new
    one): hers is not imported, the answer and the returned sheet say so, nothing of hers is
    stored again; the new row is. A name kept as published (a board) is not updated either."""
    from openpyxl import load_workbook

    from tests.test_import import CLAIM, notice_sheet, send, streamer_row

    chat = Chat(files_core)
    sheets = tmp_path / "received"
    sheets.mkdir()
    first = notice_sheet(
        sheets / "附件2.xlsx",
        [
            streamer_row(1, "甲的测试账号", phone="138 0013 8771"),
            streamer_row(2, "乙的测试账号", phone="13800138772"),
        ],
    )
    send(chat, "admin", first)
    returned = load_workbook(str(chat.last[1].document_path)).active
    assert returned is not None
    codes = [m for row in returned.iter_rows(values_only=True) for m in CLAIM.findall(str(row[-1]))]
    chat.say("admin", "不附扫描件")
    chat.say("jia", f"/start claim_{codes[0]}")
    assert said(chat.say("jia", "同意并继续"), "claim.done_streamer", title="甲的测试账号")
    chat.say("jia", "/forget")
    chat.press("jia", label("btn.forget_yes"))
    hers = ("13800138771", "甲的测试账号")
    assert found_in_database(db, *hers) == []

    again = notice_sheet(
        sheets / "附件2 补报.xlsx",
        [
            streamer_row(1, "甲的测试账号", phone="138 0013 8771"),
            streamer_row(2, "乙的测试账号", phone="13800138772"),
            streamer_row(3, "丙的测试账号", phone="13800138773"),
        ],
    )
    answer = send(chat, "admin", again)
    with Session(db) as session:
        record = max(session.scalars(select(SheetImport.id)))
    done = said(answer, "import.done", id=str(record), created="1", updated="0", unchanged="1")
    assert done, answer
    assert said(answer, "import.erased_rows", n="1"), answer
    result = load_workbook(str(chat.last[1].document_path)).active
    assert result is not None
    assert result.cell(4, result.max_column).value == label("import.result.erased")
    assert found_in_database(db, *hers) == []
    assert found_in_database(db, "丙的测试账号")


def test_the_retention_job_erases_an_office_accounts_own_registration(
    db: Engine, config: FestivalConfig, tmp_path: Path
) -> None:
    """A unit contact who also registered as a streamer: after the retention date the
    registration's phone, account name and audit values go like anyone's, while the contact's
    account (identity, name, role) stays to run the office; the next night changes nothing."""
    from models import Identity, Role

    sessions = sessionmaker(db, expire_on_commit=False)
    with sessions() as session, session.begin():
        data.admin(session, "boss")
        liaison = data.contact(session, "liaison", "360302")
        s = data.streamer(session, "联络员自己的测试号", user="liaison-streamer")
        s.person_id = liaison.id  # the contact's own registration
        s.phone = "13800138781"
    assert config.privacy is not None
    first = dt.datetime.combine(config.privacy.erase_after, dt.time(3), config.calendar.tz)
    clock = FixedClock(config.calendar.tz, first.replace(tzinfo=None))
    runner = JobRunner(sessions, config, clock, tmp_path / "boards")

    outcome = runner.run("erasure", first)
    assert outcome.ran and outcome.enqueued == 1
    assert found_in_database(db, "13800138781", "联络员自己的测试号") == []
    with Session(db) as session:
        contact = session.get_one(Person, liaison.id)
        assert (contact.erased_at, contact.display_name) == (None, "liaison")
        assert session.scalars(
            select(Identity.user_id).where(Identity.person_id == liaison.id)
        ).all() == ["liaison"]
        assert session.scalars(select(Role.role).where(Role.person_id == liaison.id)).all() == [
            "unit_contact"
        ]
    again = runner.run("erasure", first + dt.timedelta(days=1))
    assert again.ran and again.enqueued == 0


def test_the_retention_job_erases_an_office_accounts_half_typed_registration(
    db: Engine, config: FestivalConfig, tmp_path: Path
) -> None:
    """A unit contact who began a streamer registration and never finished it: the phone
    number typed into the form goes at the retention date; the account stays and talks on."""
    sessions = sessionmaker(db, expire_on_commit=False)
    with sessions() as session, session.begin():
        data.admin(session, "boss")
        liaison = data.contact(session, "liaison", "360302")
    assert config.privacy is not None
    start = dt.datetime.combine(config.privacy.erase_after, dt.time(3), config.calendar.tz)
    core = Core(config, db, FixedClock(config.calendar.tz, dt.datetime(2020, 10, 15, 20)), ROUTES)
    lines = flows.streamer_lines("联络员的半张表")
    phone_at = lines.index("138 0013 8000")
    try:
        for line in lines[: phone_at + 1]:  # up to the phone number, then nothing more
            inc = parse_line(line, "liaison")
            assert inc is not None
            core.process_sync(inc)
        assert found_in_database(db, "13800138000") != []
        clock = FixedClock(config.calendar.tz, start.replace(tzinfo=None))
        outcome = JobRunner(sessions, config, clock, tmp_path / "boards").run("erasure", start)
        assert outcome.ran
        assert found_in_database(db, "13800138000", "联络员的半张表") == []
        with Session(db) as session:
            contact = session.get_one(Person, liaison.id)
            assert (contact.erased_at, contact.display_name) == (None, "liaison")
        inc = parse_line("/me", "liaison")
        assert inc is not None
        assert core.process_sync(inc)  # the office account still talks
    finally:
        core.executor.shutdown()
