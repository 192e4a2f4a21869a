"""/export: the committee's spreadsheets, read back with openpyxl."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook

from tests.catalog import begins, label, line
from tests.chat import Chat
from tests.committee_helpers import ANYUAN, make_contact, register
from tests.flows import enterprise_two_products, report_lines


def rows(chat: Chat, command: str) -> list[tuple[object, ...]]:
    chat.say("admin", command)
    [reply] = chat.last
    assert reply.document_path is not None
    path = Path(reply.document_path)
    assert path.stat().st_mode & 0o077 == 0  # only the bot's user can read it
    sheet = load_workbook(path).active
    assert sheet is not None
    return [tuple(r) for r in sheet.iter_rows(values_only=True)]


def test_streamers_in_the_notice_layout(chat: Chat) -> None:
    sid = register(chat, "s", "小明的果园")
    data = rows(chat, "/export streamers")
    assert data[0][0] == label("export.generated", at="2020-11-02 20:00")
    columns = ("no", "account", "platform", "phone", "followers")
    assert data[1][:5] == tuple(label(f"export.col.{c}") for c in columns)
    assert data[2][:5] == (1, "小明的果园", "抖音", "13800138000", 12000)
    assert data[2][12] == 125000  # 累计销售额 in yuan
    assert data[2][-4:] == (label("review.rec.self"), label("status.pending_review"), None, sid)
    done = chat.say("admin", "/export streamers")
    assert begins(done, "export.done", kind=label("export.kind.streamers"), n=1)


def test_one_unit_with_its_counties(chat: Chat) -> None:
    register(chat, "s", "小明的果园")  # 萍乡市 安源区
    assert len(rows(chat, "/export streamers 360300")) == 3  # the city includes its counties
    assert len(rows(chat, "/export streamers 360313")) == 2  # another county: header only
    assert chat.say("admin", "/export streamers 999999") == line("export.no_unit", code="999999")


def test_enterprises_one_row_per_product(chat: Chat) -> None:
    chat.run("ent", [*enterprise_two_products(), "确认提交"])
    data = rows(chat, "/export enterprises")
    assert [r[9] for r in data[2:]] == ["莲花血鸭", "安源脐橙"]
    assert {r[1] for r in data[2:]} == {"萍乡绿源农业有限公司"}


def test_reports_with_rejections(chat: Chat) -> None:
    sid = register(chat, "s", "小明的果园")
    chat.say("admin", f"/approve streamer {sid}")
    chat.run("s", [*report_lines(), "确认提交"])
    data = rows(chat, "/export reports")
    assert data[2][1:6] == ("小明的果园", "抖音", "萍乡市 安源区", 5000, 150)


def test_export_is_for_the_committee_only(chat: Chat) -> None:
    make_contact(chat, "c1", ANYUAN)
    assert begins(chat.say("c1", "/export streamers"), "err.not_allowed")
    assert begins(chat.say("admin", "/export"), "export.usage")
    assert begins(chat.say("admin", "/export phones"), "export.usage")


def test_exports_go_to_a_folder_only_the_bot_can_enter(chat: Chat, tmp_path: Path) -> None:
    from bot.core.dispatcher import Core

    core = chat.core
    keeping = Core(core.config, core.db, core.clock, core.routes, tmp_path)
    try:
        keeping_chat = Chat(keeping)
        register(keeping_chat, "s", "小明的果园")
        keeping_chat.say("admin", "/export streamers")
        [reply] = keeping_chat.last
        path = Path(str(reply.document_path))
        assert path.parent == tmp_path / "exports"
        assert path.parent.stat().st_mode & 0o777 == 0o700
        assert path.stat().st_mode & 0o777 == 0o600
    finally:
        keeping.executor.shutdown()


def test_an_exports_folder_that_is_a_symlink_is_refused(chat: Chat, tmp_path: Path) -> None:
    """A folder someone else prepared (a symlink into their reach) never receives the data."""
    from bot.core.dispatcher import Core

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
