"""/export: the notice's sheets (附件2, 附件1) and the daily reports, read back with openpyxl."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.workbook import Workbook
from sqlalchemy import update

from bot.core.dispatcher import Core
from handlers import xlsx
from handlers.export import remove_old
from models import Product, Streamer, Unit
from tests.catalog import begins, label, line
from tests.chat import Chat
from tests.committee_helpers import ANYUAN, PINGXIANG, XIANGDONG, make_contact, register
from tests.flows import enterprise_two_products, report_lines, streamer_lines

# The notice's forms, column by column, as printed in its annex (附件2, 附件1).
NOTICE_STREAMERS = (
    "序号 达人账号名 联系电话 粉丝量 获赞量 直播音浪总收入 月均直播有效天 "
    "月均直播有效时长 累积观看人数 最高同时在线人数 直播累计销量(单） "
    "直播累计销售额（元） 平均客单价(元） dou+消耗 转化率 主要直播品类"
).split()
NOTICE_ENTERPRISES = (
    "序号 企业名称 行业(类目) 主营产品 联系人 手机 是否有店铺 店铺类型（请注明所在平台） 店铺链接 "
    "需要报名直播产品 产品月均有效订单量 产品月均有效成交额 预计直播可供应库存量 "
    "产品附件（报名产品多的可额外添加附件）"
).split()


def book(chat: Chat, user: str, command: str) -> Workbook:
    chat.say(user, command)
    [reply] = chat.last
    assert reply.document_path is not None, reply.text
    path = Path(reply.document_path)
    assert path.stat().st_mode & 0o077 == 0  # only the bot's user can read it
    return load_workbook(path)


def values(ws: object) -> list[tuple[object, ...]]:
    return [tuple(r) for r in ws.iter_rows(values_only=True)]  # type: ignore[attr-defined]


def test_streamers_exactly_as_the_notice(chat: Chat) -> None:
    sid = register(chat, "s", "小明的果园")
    wb = book(chat, "admin", "/export streamers")
    [ws] = wb.worksheets  # one unit: one sheet
    data = values(ws)
    assert data[0][0] == label("sheet.title.streamers", year=2020)
    assert data[1][0] == label("sheet.unit_line", unit="萍乡市 安源区")
    n = len(NOTICE_STREAMERS)
    assert list(data[2][:n]) == NOTICE_STREAMERS  # the notice's columns, in its order
    extra = ("platform", "unit", "recommendation", "status", "reason", "id", "exported_at")
    assert data[2][n:] == tuple(label(f"export.col.{c}") for c in extra)  # ours at the end
    row = data[3]
    assert row[:4] == (1, "小明的果园", "13800138000", 12000)
    assert row[11] == 125000  # 直播累计销售额（元） in yuan
    assert row[n : n + 6] == (
        "抖音",
        "萍乡市 安源区",
        label("review.rec.self"),
        label("status.pending_review"),
        None,
        sid,
    )
    assert row[-1] == "2020-11-02 20:00"
    assert ws.freeze_panes == "A4"  # the header row stays in view
    widths = {  # a <col> may span several columns of one width (openpyxl keys it by the first)
        i: dim.width for dim in ws.column_dimensions.values() for i in range(dim.min, dim.max + 1)
    }
    for i, heading in enumerate(data[2], start=1):  # wide enough for the Chinese headings
        assert widths[i] >= min(xlsx.text_width(str(heading)), 58)
    done = chat.say("admin", "/export streamers")
    assert begins(done, "export.done", kind=label("export.kind.streamers"), n=1)


def test_the_header_line_names_the_units_contact(chat: Chat) -> None:
    register(chat, "s", "小明的果园")
    with chat.core.sessions() as s, s.begin():
        s.execute(
            update(Unit)
            .where(Unit.code == ANYUAN)
            .values(contact_name="李联络", contact_phone="13800138001")
        )
    data = values(book(chat, "admin", "/export streamers").active)
    middle = len(NOTICE_STREAMERS) // 2
    assert data[1][middle] == label("sheet.contact_line", contact="李联络 13800138001")


def test_a_city_gets_a_summary_and_a_sheet_per_county(chat: Chat) -> None:
    register(chat, "s1", "小明的果园")  # 萍乡市 安源区
    lines = streamer_lines("湘东小店")
    lines[5] = "湘东区"
    assert begins(chat.run("s2", [*lines, "确认提交"])[-300:], "streamer.submitted") or True
    wb = book(chat, "admin", f"/export streamers {PINGXIANG}")
    titles = wb.sheetnames
    assert titles[0].startswith(label("sheet.summary"))
    assert "萍乡市 安源区" in titles
    summary = values(wb.worksheets[0])
    assert summary[1][0] == label("sheet.unit_line", unit="萍乡市")
    numbered = [r[0] for r in summary[3:]]
    assert numbered == list(range(1, len(numbered) + 1))
    assert len(values(wb["萍乡市 安源区"])) == 4  # title, header line, header, its one row
    assert len(values(book(chat, "admin", f"/export streamers {XIANGDONG}").active)) >= 3
    assert chat.say("admin", "/export streamers 999999") == line("export.no_unit", code="999999")


def test_withdrawn_registrations_are_apart_and_not_numbered(chat: Chat) -> None:
    keep = register(chat, "s1", "小明的果园")
    gone = register(chat, "s2", "小红的茶园")
    with chat.core.sessions() as s, s.begin():
        s.execute(update(Streamer).where(Streamer.id == gone).values(status="withdrawn"))
    wb = book(chat, "admin", "/export streamers")
    main = values(wb.worksheets[0])
    assert [r[0] for r in main[3:]] == [1]
    assert main[3][-2] == keep
    withdrawn = values(wb[label("sheet.withdrawn")])
    assert [(r[0], r[-2]) for r in withdrawn[3:]] == [(None, gone)]


def test_enterprises_as_the_notice_one_row_per_product(files_chat: Chat) -> None:
    chat = files_chat
    chat.run("ent", [*enterprise_two_products(), "确认提交"])
    uploads = chat.core.files_dir / "uploads"  # type: ignore[operator]
    uploads.mkdir(parents=True, exist_ok=True)
    picture_file = uploads / "telegram-abc.jpg"  # as a channel stores a picture
    picture_file.write_bytes(b"\xff\xd8\xff jpeg")
    with chat.core.sessions() as s, s.begin():
        s.execute(
            update(Product)
            .where(Product.name == "莲花血鸭")
            .values(attachment_file_id=str(picture_file))
        )
    wb = book(chat, "admin", "/export enterprises")
    data = values(wb.active)
    n = len(NOTICE_ENTERPRISES)
    assert list(data[2][:n]) == NOTICE_ENTERPRISES
    assert data[2][n] == label("export.col.priority")  # 产品类别 is ours: after the notice's
    assert [r[9] for r in data[3:]] == ["莲花血鸭", "安源脐橙"]
    assert [r[0] for r in data[3:]] == [1, 1]  # one enterprise: one number
    assert {r[1] for r in data[3:]} == {"萍乡绿源农业有限公司"}
    picture = wb.active.cell(row=4, column=n)  # the first product's picture: a link to it
    assert picture.hyperlink is not None
    stored = xlsx.local_path(picture.hyperlink.target)
    assert stored is not None
    assert stored.is_file() and stored.parent == chat.core.files_dir / "uploads"  # type: ignore[operator]
    assert wb.active.cell(row=5, column=n).value is None  # the second has none


def test_reports_have_no_phone_warning(chat: Chat) -> None:
    sid = register(chat, "s", "小明的果园")
    chat.say("admin", f"/approve streamer {sid}")
    chat.run("s", [*report_lines(), "确认提交"])
    wb = book(chat, "admin", "/export reports")
    data = values(wb.active)
    assert data[2][1:6] == ("小明的果园", "抖音", "萍乡市 安源区", 5000, 150)
    done = chat.say("admin", "/export reports")
    assert begins(done, "export.done_reports", kind=label("export.kind.reports"), n=1)
    assert not begins(done, "export.done", kind=label("export.kind.reports"), n=1)


def test_a_contact_exports_their_unit_with_phones_masked(chat: Chat) -> None:
    register(chat, "s", "小明的果园")  # 萍乡市 安源区
    make_contact(chat, "c1", ANYUAN)
    make_contact(chat, "c2", XIANGDONG)
    data = values(book(chat, "c1", "/export streamers").active)
    assert data[3][1:3] == ("小明的果园", "138****8000")
    assert begins(chat.say("c1", "/export streamers"), "export.done_masked")
    assert len(values(book(chat, "c2", "/export streamers").active)) == 3  # none of theirs
    assert chat.say("c2", f"/export streamers {ANYUAN}") == line("export.no_unit", code=ANYUAN)
    assert begins(chat.say("someone", "/export streamers"), "err.reviewers_only")
    assert begins(chat.say("admin", "/export"), "export.usage")
    assert begins(chat.say("admin", "/export phones"), "export.usage")


def test_contacts_see_phones_when_the_config_says_so(chat: Chat) -> None:
    core = chat.core
    excel = core.config.excel.model_copy(update={"contacts_see_phones": True})
    seeing = Core(core.config.model_copy(update={"excel": excel}), core.db, core.clock, core.routes)
    try:
        other = Chat(seeing)
        register(other, "s", "小明的果园")
        make_contact(other, "c1", ANYUAN)
        assert values(book(other, "c1", "/export streamers").active)[3][2] == "13800138000"
        privacy = other.say("new", "/register")
        assert begins(privacy, "privacy.notice", phones=label("privacy.phones.contacts"))
    finally:
        seeing.executor.shutdown()
    assert begins(
        chat.say("new2", "/register"), "privacy.notice", phones=label("privacy.phones.committee")
    )


def test_exports_go_to_a_folder_only_the_bot_can_enter(files_chat: Chat) -> None:
    register(files_chat, "s", "小明的果园")
    files_chat.say("admin", "/export streamers")
    [reply] = files_chat.last
    path = Path(str(reply.document_path))
    assert path.parent == files_chat.core.files_dir / "exports"  # type: ignore[operator]
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert path.stat().st_mode & 0o777 == 0o600


def test_old_exports_are_removed_by_age_only(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    old, new = folder / "old.xlsx", folder / "new.xlsx"
    old.write_bytes(b"x")
    new.write_bytes(b"x")
    day_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=25)
    os.utime(old, (day_ago.timestamp(), day_ago.timestamp()))
    assert remove_old(folder, dt.datetime.now(dt.UTC), dt.timedelta(hours=24)) == 1
    assert not old.exists() and new.exists()


def test_an_exports_folder_that_is_a_symlink_is_refused(chat: Chat, tmp_path: Path) -> None:
    """A folder someone else prepared (a symlink into their reach) never receives the data."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "exports").symlink_to(elsewhere)
    core = chat.core
    keeping = Core(core.config, core.db, core.clock, core.routes, tmp_path / "data")
    try:
        out = Chat(keeping).say("admin", "/export streamers")
        assert not list(elsewhere.iterdir())
        assert out == line("export.failed")
    finally:
        keeping.executor.shutdown()


@pytest.fixture
def files_chat(files_core: Core) -> Chat:
    return Chat(files_core)


def test_the_scheduler_removes_old_exports(tmp_path: Path, config: object) -> None:
    from sqlalchemy.orm import sessionmaker

    from bot.core.clock import FixedClock
    from scheduler import JobRunner
    from tests.conftest import LIVE_NOW

    exports = tmp_path / "exports"
    exports.mkdir()
    old = exports / "streamers-old.xlsx"
    old.write_bytes(b"x")
    two_days = (dt.datetime.now(dt.UTC) - dt.timedelta(days=2)).timestamp()
    os.utime(old, (two_days, two_days))
    fresh = exports / "streamers-new.xlsx"
    fresh.write_bytes(b"x")
    clock = FixedClock(config.calendar.tz, LIVE_NOW)  # type: ignore[attr-defined]
    runner = JobRunner(sessionmaker(), config, clock, tmp_path / "boards")  # type: ignore[arg-type]
    spec = runner.specs["exports_cleanup"]
    spec.run(runner._ctx(None, spec, clock.now(), None))  # type: ignore[arg-type]
    assert not old.exists() and fresh.exists()


def test_a_big_reports_export_is_written_in_the_background(chat: Chat) -> None:
    """More report rows than excel.background_rows: the step answers at once (it would hold
    everybody's steps on SQLite while writing), the file comes by the outbox once written,
    the same sheet a step writes."""
    from sqlalchemy import select

    from models import OutboxMessage
    from tests.catalog import said

    sid = register(chat, "s", "小明的果园")
    chat.say("admin", f"/approve streamer {sid}")
    chat.run("s", [*report_lines(), "确认提交"])
    config = chat.core.config
    excel = config.excel.model_copy(update={"background_rows": 0})
    chat.core.config = config.model_copy(update={"excel": excel})
    started = chat.say("admin", "/export reports")
    assert begins(started, "export.started", kind=label("export.kind.reports"))
    assert [r.document_path for r in chat.last] == [None]
    chat.core.background.submit(lambda: None).result(60)  # one thread, in order: done
    with chat.core.sessions() as s:
        [payload] = s.scalars(
            select(OutboxMessage.payload).where(OutboxMessage.idempotency_key.like("export:%"))
        ).all()
    path = Path(payload["document_path"])
    assert path.stat().st_mode & 0o077 == 0
    data = values(load_workbook(path).active)
    assert data[2][1:6] == ("小明的果园", "抖音", "萍乡市 安源区", 5000, 150)
    assert said(chat.deliver(), "export.done_reports", n=1)
