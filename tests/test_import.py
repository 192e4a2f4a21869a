"""Importing filled-in notice sheets (附件2, 附件1): round trip with the export, every row
checked with the chat's rules (all or nothing), idempotent, claim codes, the unit's contact,
the stamped scan, the command line."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import Engine, func, select, text, update

from bot.core.dispatcher import Core
from bot.core.messages import Incoming
from models import AuditEntry, Base, Product, SheetImport, Streamer, Unit
from tests.catalog import begins, label, said
from tests.chat import Chat
from tests.committee_helpers import ANYUAN, XIANGDONG, make_contact, register
from tests.flows import enterprise_two_products
from tests.test_export import NOTICE_ENTERPRISES, NOTICE_STREAMERS

CLAIM = re.compile(r"claim_([A-Z0-9]{8})")


@pytest.fixture
def files_chat(files_core: Core) -> Chat:
    return Chat(files_core)


def export(chat: Chat, what: str) -> Path:
    chat.say("admin", f"/export {what}")
    path = chat.last[0].document_path
    assert path is not None, chat.last[0].text
    return Path(path)


def send(chat: Chat, user: str, path: Path) -> str:
    """`user` sends the file as a document (the console's /file, as Telegram's would be)."""
    return chat.say(user, f"/file {path}")


def sheet_cells(path: Path, columns: int) -> list[list[list[Any]]]:
    """Every sheet's rows, the first `columns` columns (the notice's own)."""
    wb = load_workbook(path)
    return [[list(r[:columns]) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets]


def wipe(db: Engine) -> None:
    """An empty database (the units stay, as they are loaded at start)."""
    with db.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name != "units":
                conn.execute(table.delete())
        conn.execute(update(Unit).values(contact_name=None, contact_phone=None))


def dump(db: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but the conversation states (the chat moves on)."""
    skip = {"dialog_states", "telegram_updates"}
    with db.connect() as conn:
        return {
            t.name: sorted(map(tuple, conn.execute(t.select())), key=repr)
            for t in Base.metadata.sorted_tables
            if t.name not in skip
        }


def count(core: Core, table: Any) -> int:
    with core.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(table)) or 0)


def set_contact(core: Core, code: str, name: str, phone: str) -> None:
    with core.sessions() as s, s.begin():
        s.execute(
            update(Unit).where(Unit.code == code).values(contact_name=name, contact_phone=phone)
        )


# ----- a 附件2 sheet as a unit fills it in ---------------------------------------------------
def notice_sheet(
    path: Path,
    rows: Sequence[Sequence[Any]],
    unit: str = "萍乡市 安源区",
    contact: str = "李联络 13800138001",
) -> Path:
    """The notice's 附件2: its title, the 填报单位 / 联系人及手机号 line, its header row."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["2020江西青年直播节达人报名登记表"])
    ws.append([f"填报单位（盖章）：{unit}"] + [None] * 7 + [f"联系人及手机号：{contact}"])
    ws.append(NOTICE_STREAMERS)
    for row in rows:
        ws.append(list(row))
    wb.save(path)
    return path


def streamer_row(n: int, account: str, **changes: Any) -> list[Any]:
    values: dict[str, Any] = {
        "account": account,
        "phone": "138 0013 8000",
        "followers": "1.2万",
        "likes": 35000,
        "tips": 0,
        "days": 20,
        "hours": 45.5,
        "viewers": "10万",
        "peak": 5000,
        "orders": 800,
        "sales": 125000,
        "avg": None,
        "dou": None,
        "conversion": "3.5%",
        "categories": "农产品、粮油米面",
    }
    values.update(changes)
    return [n, *values.values()]


# ----- the round trip ----------------------------------------------------------------------
def test_round_trip_export_import_export(files_chat: Chat, db: Engine) -> None:
    chat = files_chat
    register(chat, "s", "小明的果园")
    chat.run("ent", [*enterprise_two_products(), "确认提交"])
    uploads = chat.core.files_dir / "uploads"  # type: ignore[operator]
    uploads.mkdir(parents=True, exist_ok=True)
    picture = uploads / "telegram-abc.jpg"
    picture.write_bytes(b"\xff\xd8\xff jpeg")
    with chat.core.sessions() as s, s.begin():
        s.execute(
            update(Product)
            .where(Product.name == "莲花血鸭")
            .values(attachment_file_id=str(picture))
        )
    set_contact(chat.core, ANYUAN, "李联络", "13800138001")
    before = [export(chat, f"streamers {ANYUAN}"), export(chat, f"enterprises {ANYUAN}")]

    wipe(db)  # an empty database: only the units
    for path in before:
        out = send(chat, "admin", path)
        assert said(out, "import.done", created=1, updated=0, unchanged=0), out
        chat.say("admin", "没有扫描件")
    after = [export(chat, f"streamers {ANYUAN}"), export(chat, f"enterprises {ANYUAN}")]

    for old, new, n in zip(
        before, after, (len(NOTICE_STREAMERS), len(NOTICE_ENTERPRISES)), strict=True
    ):
        assert sheet_cells(new, n) == sheet_cells(old, n)  # the notice's columns, cell for cell
    with chat.core.sessions() as s:
        streamer = s.scalars(select(Streamer)).one()
        assert (streamer.recommendation, streamer.status) == ("org", "pending_review")
        unit = s.scalars(select(Unit).where(Unit.code == ANYUAN)).one()
        assert (unit.contact_name, unit.contact_phone) == ("李联络", "13800138001")
        products = {p.name: p.attachment_file_id for p in s.scalars(select(Product))}
        assert products == {"莲花血鸭": str(picture), "安源脐橙": None}  # the link read back
        actions = {a.action for a in s.scalars(select(AuditEntry))}
        assert {"import", "import_sheet", "unit_contact"} <= actions


# ----- all or nothing ------------------------------------------------------------------------
def test_five_kinds_of_row_errors_import_nothing_and_are_all_named(
    chat: Chat, tmp_path: Path
) -> None:
    register(chat, "s", "小明的果园")  # stored under 萍乡市 安源区
    with chat.core.sessions() as s, s.begin():  # ... and moved to 湘东区: another unit's
        xiangdong = s.scalars(select(Unit.id).where(Unit.code == XIANGDONG)).one()
        s.execute(update(Streamer).values(unit_id=xiangdong))
    sheet = notice_sheet(
        tmp_path / "bad.xlsx",
        [
            streamer_row(1, "好的账号", followers="１２０００"),  # full-width digits: fine
            streamer_row(2, "电话错了", phone="1234"),  # 1: not a mobile number
            streamer_row(3, "粉丝太少", followers="800"),  # 2: below eligibility.min_followers
            streamer_row(4, "好的账号"),  # 3: the same account twice in the sheet
            streamer_row(5, "小明的果园"),  # 4: registered by another unit already
            streamer_row(6, "品类不对", categories="火箭"),  # 5: not a category
            streamer_row(7, "空的粉丝", followers=None),  # and a required cell left empty
        ],
    )
    streamers = count(chat.core, Streamer)
    out = send(chat, "admin", sheet)
    assert said(out, "import.refused", n=6), out
    errors = {  # rows 1-3: the title, the header line, the header; row 4 is fine
        5: ("联系电话", "err.bad_phone"),
        6: ("粉丝量", "err.followers_below_min"),
        7: ("达人账号名", "import.err.duplicate_in_sheet"),
        8: ("达人账号名", "import.err.stored_elsewhere"),
        9: ("主要直播品类", "import.err.unknown_choice"),
        10: ("粉丝量", "import.err.required"),
    }
    for row, (column, key) in errors.items():
        assert said(out, "import.error_line", row=row, column=column), (row, out)
        assert said(out, key), (key, out)
    assert said(out, "err.followers_below_min", min="1,000", given="800")
    assert said(out, "import.err.duplicate_in_sheet", other=4)
    assert count(chat.core, Streamer) == streamers  # nothing imported
    assert count(chat.core, SheetImport) == 0
    [_, sheet_reply] = chat.last[:2]
    returned = load_workbook(str(sheet_reply.document_path)).active
    assert returned is not None
    last = returned.max_column
    assert returned.cell(row=3, column=last).value == label("import.col.errors")
    assert returned.cell(row=4, column=last).value is None  # the good row
    assert all(returned.cell(row=r, column=last).value for r in errors)


def test_the_same_sheet_twice_changes_nothing(chat: Chat, db: Engine, tmp_path: Path) -> None:
    sheet = notice_sheet(
        tmp_path / "good.xlsx",
        [streamer_row(1, "甲的账号"), streamer_row(2, "乙的账号", followers="3w")],
    )
    first = send(chat, "admin", sheet)
    assert said(first, "import.done", created=2, updated=0, unchanged=0), first
    chat.say("admin", "不附扫描件")
    state = dump(db)
    again = send(chat, "admin", sheet)
    assert said(again, "import.unchanged_again", n=2), again
    assert dump(db) == state  # not a row more, not a value changed
    with chat.core.sessions() as s:
        assert {x.followers for x in s.scalars(select(Streamer))} == {12000, 30000}


def test_a_changed_sheet_updates_the_matching_registration(chat: Chat, tmp_path: Path) -> None:
    send(chat, "admin", notice_sheet(tmp_path / "a.xlsx", [streamer_row(1, "甲的账号")]))
    chat.say("admin", "不附扫描件")
    out = send(
        chat,
        "admin",
        notice_sheet(tmp_path / "b.xlsx", [streamer_row(1, "甲的账号", followers=20000)]),
    )
    assert said(out, "import.done", created=0, updated=1, unchanged=0), out
    assert count(chat.core, Streamer) == 1


# ----- claim codes -------------------------------------------------------------------------
def claim_codes(chat: Chat) -> list[str]:
    returned = load_workbook(str(chat.last[1].document_path)).active
    assert returned is not None
    return [m for row in returned.iter_rows(values_only=True) for m in CLAIM.findall(str(row[-1]))]


def test_an_imported_streamer_claims_the_registration(chat: Chat, tmp_path: Path) -> None:
    send(chat, "admin", notice_sheet(tmp_path / "a.xlsx", [streamer_row(1, "甲的账号")]))
    [code] = claim_codes(chat)
    chat.say("admin", "不附扫描件")
    assert begins(chat.say("jia", f"/start claim_{code}"), "privacy.notice")
    out = chat.say("jia", "同意并继续")
    assert said(out, "claim.done_streamer", title="甲的账号"), out
    assert said(chat.say("jia", "/me"), "status.pending_review")
    assert said(chat.say("yi", f"/start claim_{code}") + chat.say("yi", "同意并继续"), "claim.used")
    assert said(chat.say("yi", "/start claim_ZZZZZZZZ"), "claim.wrong")
    assert said(chat.deliver(), "claim.notice", title="甲的账号")  # the importer is told
    with chat.core.sessions() as s:
        assert s.scalars(select(AuditEntry).where(AuditEntry.action == "claim")).one()


def test_someone_registered_cannot_claim_another(chat: Chat, tmp_path: Path) -> None:
    register(chat, "s", "小明的果园")
    send(chat, "admin", notice_sheet(tmp_path / "a.xlsx", [streamer_row(1, "甲的账号")]))
    [code] = claim_codes(chat)
    assert said(chat.say("s", f"/start claim_{code}"), "claim.holds_streamer")


# ----- unit contacts, the header line, the scan ---------------------------------------------
def test_a_contact_imports_for_their_unit_only(chat: Chat, tmp_path: Path) -> None:
    make_contact(chat, "c1", ANYUAN)
    own = notice_sheet(tmp_path / "own.xlsx", [streamer_row(1, "甲的账号")], unit="")
    assert said(send(chat, "c1", own), "import.done", created=1), chat.last[0].text
    chat.say("c1", "不附扫描件")
    other = notice_sheet(
        tmp_path / "other.xlsx", [streamer_row(1, "乙的账号")], unit="萍乡市 湘东区"
    )
    out = send(chat, "c1", other)
    assert said(out, "import.refused", n=1) and said(out, "import.err.unit_not_yours")
    assert said(chat.say("s", f"/file {own}"), "err.need_text")  # not a reviewer


def test_the_header_line_sets_the_units_contact(chat: Chat, tmp_path: Path) -> None:
    sheet = notice_sheet(
        tmp_path / "a.xlsx", [streamer_row(1, "甲的账号")], contact="王小联 138-0013-8009"
    )
    out = send(chat, "admin", sheet)
    assert said(out, "import.contact_saved", name="王小联", phone="13800138009"), out
    bad = notice_sheet(tmp_path / "b.xlsx", [streamer_row(1, "乙的账号")], contact="王小联")
    assert said(send(chat, "admin", bad), "import.err.contact_line")


def test_the_stamped_scan_is_kept_with_the_import(chat: Chat, tmp_path: Path) -> None:
    send(chat, "admin", notice_sheet(tmp_path / "a.xlsx", [streamer_row(1, "甲的账号")]))
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"%PDF-1.4 stamped")
    assert said(chat.say("admin", f"/file {scan}"), "import.scan_saved")
    with chat.core.sessions() as s:
        assert s.scalars(select(SheetImport.scan_path)).one() == str(scan)


def test_files_that_are_no_notice_sheet(chat: Chat, tmp_path: Path) -> None:
    other = tmp_path / "other.xlsx"
    wb = Workbook()
    wb.active.append(["姓名", "年龄"])  # type: ignore[union-attr]
    wb.save(other)
    assert said(send(chat, "admin", other), "import.unknown_sheet")
    not_excel = tmp_path / "names.csv"
    not_excel.write_text("a,b")
    assert said(send(chat, "admin", not_excel), "import.not_xlsx")
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip")
    assert said(send(chat, "admin", broken), "import.unreadable")


def test_wechat_cannot_receive_files_and_says_so(chat: Chat) -> None:
    """An Official Account never receives the file itself (MsgType file): a polite answer."""
    inc = Incoming("console", "admin", "admin", unsupported="file")
    replies = chat.core.process_sync(inc)
    assert said(replies, "import.no_files_here")


# ----- the command line --------------------------------------------------------------------
def test_the_command_line_imports_and_dry_runs(
    database_url: str,
    db: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bot.import_cli import main

    monkeypatch.setenv("DATABASE_URL", database_url)
    sheet = notice_sheet(tmp_path / "a.xlsx", [streamer_row(1, "甲的账号")], unit="")
    assert main([str(sheet), "--unit", ANYUAN, "--dry-run"]) == 0
    assert said(capsys.readouterr().out, "import.done", created=1)
    with db.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM streamers")) == 0
    assert main([str(sheet)]) == 1  # no unit named, none given
    assert said(capsys.readouterr().out, "import.err.unit_missing")
    scan = tmp_path / "scan.jpg"
    scan.write_bytes(b"\xff\xd8 stamp")
    assert main([str(sheet), "--unit", ANYUAN, "--scan", str(scan)]) == 0
    out = capsys.readouterr().out
    assert CLAIM.search(out) and "甲的账号\t/start claim_" in out
    with db.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM streamers")) == 1
        assert conn.scalar(text("SELECT scan_path FROM sheet_imports")) is not None
        actor = conn.scalar(text("SELECT actor_person_id FROM audit_log WHERE action = 'import'"))
        assert actor is None  # the command line
    assert main([str(sheet), "--unit", ANYUAN]) == 0
    assert said(capsys.readouterr().out, "import.unchanged_again")
    with db.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM enterprises")) == 0


def test_a_chinese_sheet_imported_by_someone_who_reads_english(chat: Chat, tmp_path: Path) -> None:
    """The notice's sheets are Chinese; the choices' labels an English reader sees are not
    (Farm produce): a cell in either language is taken, and the Chinese value is stored."""
    chat.say("admin", "/lang en")
    sheet = notice_sheet(
        tmp_path / "zh.xlsx",
        [
            streamer_row(1, "甲的账号"),
            streamer_row(2, "乙的账号", categories="Farm produce、粮油米面"),
        ],
    )
    first = send(chat, "admin", sheet)
    assert said(first, "import.done", "en", created=2, updated=0, unchanged=0), first
    with chat.core.sessions() as s:
        assert sorted(tuple(x.categories) for x in s.scalars(select(Streamer))) == [
            ("农产品", "粮油米面"),
            ("农产品", "粮油米面"),
        ]
