"""Money: the rules shown and agreed, the enterprise's turnover and its confirmation, the
directed part, payments, certificate numbers, the ledger and the streamer's share, as
console transcripts on the rehearsal clock; stored values checked in the database."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.core.clock import FixedClock
from bot.core.dispatcher import Core
from bot.core.messages import Incoming
from handlers import money
from models import (
    AuditEntry,
    DonationPayment,
    Enterprise,
    OutboxMessage,
    Product,
    Turnover,
    ledger,
)
from tests import festival_data as fd
from tests.catalog import said
from tests.chat import Chat
from tests.flows import enterprise_two_products, streamer_lines

WINDOW = dt.datetime(2020, 11, 30, 10, 0)  # inside turnover.opens..deadline
YUAN = 100


def make_enterprise(core: Core, name: str, user: str, **kw: object) -> int:
    with core.sessions() as s, s.begin():
        return fd.enterprise(s, name, user=user, **kw)[0].id  # type: ignore[arg-type]


def confirmed(core: Core, enterprise_id: int, yuan: int) -> None:
    """A turnover confirmed by the committee (the review is tested on its own)."""
    with core.sessions() as s, s.begin():
        row = ledger.submit_turnover(s, enterprise_id, yuan * YUAN, "console:x", fd.NOW)
        ent = s.get(Enterprise, enterprise_id)
        assert ent is not None  # (any person as the reviewer: only the decision matters here)
        assert ledger.decide_turnover(s, row.id, row.revision, True, None, ent.person_id, fd.NOW)


def count(core: Core, model: type) -> int:
    with core.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def press_data(core: Core, user: str, data: str) -> list[str]:
    replies = core.process_sync(Incoming("console", user, user, button=data))
    return [r.text for r in replies]


# ----- the rules, shown and agreed -------------------------------------------------------------
def test_registration_shows_the_rule_and_needs_agreement(chat: Chat, core: Core) -> None:
    out = chat.run("ent", enterprise_two_products()[:-1])  # up to the rule's question
    assert said(out, "ask.money_rules")
    assert said(out, "money.rule_donation", rate="5", threshold="100,000", share="50")
    out = chat.say("ent", "不同意")
    assert said(out, "enterprise.summary_title")
    out = chat.say("ent", "确认提交")
    assert said(out, "money.must_agree") and said(out, "ask.money_rules")
    assert count(core, Enterprise) == 0
    assert said(chat.say("ent", "同意"), "enterprise.summary_title")
    assert said(chat.say("ent", "确认提交"), "enterprise.submitted")
    with core.sessions() as s:
        ent = s.scalars(select(Enterprise)).one()
        assert ent.money_rules_agreed_at is not None
        audit = s.scalars(select(AuditEntry)).one()
        assert audit.after is not None and audit.after["money_rules"] == "agree"


def test_streamer_registration_and_help_show_the_share(chat: Chat) -> None:
    out = chat.run("s", streamer_lines("小明的果园")[:-1])
    assert said(out, "ask.declarations")
    assert said(out, "money.rule_streamer", commission="20")
    out = chat.say("x", "/help")
    assert said(out, "money.rule_donation", rate="5", threshold="100,000", share="50")
    assert said(out, "money.rule_streamer", commission="20")
    assert not said(out, "money.help_committee")
    assert said(chat.say("admin", "/help"), "money.help_committee")


def test_an_enterprise_registered_before_is_asked_at_its_next_message(
    chat: Chat, core: Core, clock: FixedClock
) -> None:
    eid = make_enterprise(core, "老字号食品", "old", agreed=False)
    assert said(chat.say("old", "/help"), "help.text")  # help is never held up
    out = chat.say("old", "/start")
    assert said(out, "money.agree_intro", name="老字号食品")
    assert said(out, "money.rule_donation") and not said(out, "menu.title")
    assert said(chat.say("old", "随便说点什么"), "err.use_buttons")
    out = chat.say("old", "暂不")
    assert said(out, "money.agree_later") and said(out, "menu.title")
    assert said(chat.say("old", "/start"), "menu.title")  # not asked again today
    assert said(chat.say("old", "/me"), "money.me_not_agreed")
    clock.advance(days=1)
    assert said(chat.say("old", "/me"), "money.agree_intro")  # the next day: asked again
    out = chat.say("old", "同意")
    assert said(out, "money.agreed")
    assert said(chat.say("old", "/start"), "menu.title")
    with core.sessions() as s:
        ent = s.get(Enterprise, eid)
        assert ent is not None and ent.money_rules_agreed_at == clock.now()
        actions = s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
        assert actions == ["money_rules_later", "money_rules_agreed"]


def test_the_notice_to_earlier_enterprises_goes_once(
    chat: Chat, core: Core, clock: FixedClock
) -> None:
    make_enterprise(core, "老企业甲", "a", agreed=False)
    make_enterprise(core, "新企业乙", "b", agreed=True)
    for _start in range(2):  # the bot started twice
        with core.sessions() as s, s.begin():
            assert money.notify_unagreed(s, core.config, clock) == 1
    with core.sessions() as s:
        rows = s.scalars(select(OutboxMessage)).all()
        assert len(rows) == 1  # told once, however often the bot starts
        assert said(rows[0].payload["text"], "notice.money_rules", name="老企业甲")
    assert said(chat.deliver(), "money.rule_donation", rate="5")


# ----- the turnover ------------------------------------------------------------------------------
@pytest.fixture
def selling(core: Core, config: object) -> dict[str, int]:
    """绿源 (products A, B) and 别家 (product C); one streamer's reports split across them:
    counted 300 + 200 for 绿源, a rejected report and one before the live period not."""
    with core.sessions() as s, s.begin():
        green, _ = fd.enterprise(s, "绿源农业", user="ent", products=("脐橙", "血鸭"))
        other, _ = fd.enterprise(s, "别家", user="other", products=("茶叶",))
        a, b = s.scalars(select(Product).where(Product.enterprise_id == green.id)).all()
        (c,) = s.scalars(select(Product).where(Product.enterprise_id == other.id)).all()
        st = fd.streamer(s, "主播一")
        cfg = core.config
        r1 = fd.report(s, cfg, st, dt.date(2020, 11, 2), gmv_yuan=1000)
        fd.product_sale(s, r1, a, 300)
        fd.product_sale(s, r1, b, 200)
        fd.product_sale(s, r1, c, 50)
        r2 = fd.report(s, cfg, st, dt.date(2020, 11, 3), gmv_yuan=999)
        fd.product_sale(s, r2, a, 999)
        r2.rejected = True
        r3 = fd.report(s, cfg, st, dt.date(2020, 10, 20), gmv_yuan=77)
        fd.product_sale(s, r3, a, 77)
        return {"green": green.id, "other": other.id, "a": a.id, "b": b.id, "c": c.id}


def test_sales_per_product_and_enterprise_count_only_counted_reports(
    core: Core, selling: dict[str, int]
) -> None:
    cal = core.config.calendar
    with core.sessions() as s:
        assert ledger.reported_sales_by_product(s, cal.live_start, cal.live_end) == {
            selling["a"]: 300 * YUAN,
            selling["b"]: 200 * YUAN,
            selling["c"]: 50 * YUAN,
        }
        assert ledger.reported_sales_by_enterprise(s, cal.live_start, cal.live_end) == {
            selling["green"]: 500 * YUAN,
            selling["other"]: 50 * YUAN,
        }
        only = ledger.reported_sales_by_enterprise(
            s, cal.live_start, cal.live_end, [selling["other"]]
        )
        assert only == {selling["other"]: 50 * YUAN}


def test_turnover_only_in_its_window(chat: Chat, clock: FixedClock, selling: object) -> None:
    assert said(chat.say("ent", "/turnover"), "turnover.closed", opens="2020-11-28")
    assert said(chat.say("nobody", "/turnover"), "turnover.not_enterprise")
    assert not said(chat.say("ent", "/start"), "menu.turnover")
    clock.set(WINDOW)
    assert said(chat.say("ent", "/start"), "menu.turnover")
    assert said(chat.say("ent", "填报节间成交额"), "ask.turnover_amount")


def test_turnover_reported_then_confirmed(
    chat: Chat, core: Core, clock: FixedClock, selling: dict[str, int]
) -> None:
    chat.say("admin", "/start")  # the committee's admin has written to the bot
    clock.set(WINDOW)
    assert said(chat.say("ent", "/turnover"), "ask.turnover_amount")
    for bad in ("很多", "-5", "2000000000", "😀", "１２abc"):
        out = chat.say("ent", bad)
        assert said(out, "ask.turnover_amount") and not said(out, "ask.turnover_evidence"), bad
    out = chat.say("ent", "x" * 10_000)
    assert said(out, "err.message_too_long") and said(out, "ask.turnover_amount")
    assert said(chat.say("ent", "３００万"), "ask.turnover_evidence")  # full-width digits
    assert said(chat.say("ent", "截图"), "err.need_file")
    out = chat.say("ent", "/photo order1")
    assert said(out, "turnover.summary_title")
    out = chat.say("ent", "确认提交")
    assert said(out, "turnover.submitted", amount="3,000,000")
    with core.sessions() as s:
        t = s.scalars(select(Turnover)).one()
        assert (t.enterprise_id, t.amount_fen, t.status, t.revision) == (
            selling["green"],
            3_000_000 * YUAN,
            "submitted",
            1,
        )
        assert t.evidence_file_id == "console:order1"
    assert said(chat.deliver(), "notice.turnover_submitted", name="绿源农业", amount="3,000,000")

    out = chat.say("admin", "/turnovers")
    assert said(out, "turnovers.card_amount", amount="3,000,000")
    assert said(out, "turnovers.card_sales", sales="500")  # counted reports only
    assert said(out, "turnovers.card_due", due="150,000", directed="25,000")
    stale = next(b.data for r in chat.last for b in r.flat_buttons() if b.label == "确认")
    out = chat.press("admin", "确认")
    assert said(out, "turnovers.done_confirmed", name="绿源农业")
    assert said(out, "turnovers.queue_empty")
    assert said(press_data(core, "admin", stale), "err.stale_button")  # pressed twice
    delivered = chat.deliver()
    assert said(delivered, "notice.turnover_confirmed", due="150,000", directed="25,000")
    with core.sessions() as s:
        t = s.scalars(select(Turnover)).one()
        assert t.status == "confirmed" and t.reviewed_at == clock.now()
        assert "confirm_turnover" in s.scalars(select(AuditEntry.action)).all()
    assert said(chat.say("ent", "/turnover"), "turnover.already_confirmed")
    out = chat.say("ent", "/donations")
    assert said(out, "donations.due_line", due="150,000")
    assert said(out, "donations.outstanding_line", outstanding="150,000")


def test_the_order_export_may_be_a_file(
    chat: Chat, core: Core, clock: FixedClock, selling: object, tmp_path: Path
) -> None:
    """An xlsx, csv or pdf order export sent as a file is the evidence (where the channel
    takes files: Telegram, the console); the committee gets it as a document. Any other file
    is asked for again."""
    clock.set(WINDOW)
    chat.run("ent", ["/turnover", "300万"])
    notes = tmp_path / "notes.docx"
    notes.write_bytes(b"not an order export")
    out = chat.say("ent", f"/file {notes}")
    assert said(out, "err.turnover_file_kind") and said(out, "ask.turnover_evidence")
    export = tmp_path / "订单导出.xlsx"
    export.write_bytes(b"PK")
    out = chat.say("ent", f"/file {export}")
    assert said(out, "turnover.summary_title") and said(out, "turnover.file_received")
    assert said(chat.say("ent", "确认提交"), "turnover.submitted", amount="3,000,000")
    with core.sessions() as s:
        assert s.scalars(select(Turnover.evidence_file_id)).one() == str(export)
    chat.say("admin", "/turnovers")
    shown = [r for r in chat.last if r.document_path or r.image_path]
    assert [(r.document_path, r.image_path) for r in shown] == [(str(export), None)]
    assert said(shown[0].text, "turnovers.evidence_of")


def test_asked_again_and_a_new_revision_meanwhile(
    chat: Chat, core: Core, clock: FixedClock, selling: object
) -> None:
    clock.set(WINDOW)
    chat.run("ent", ["/turnover", "100万", "/photo o1", "确认提交"])
    out = chat.say("admin", "/turnovers")
    assert said(out, "turnovers.card_amount", amount="1,000,000")
    assert said(chat.press("admin", "请重新填报"), "review.ask_reason")
    assert said(chat.say("admin", "x"), "review.ask_reason")  # a reason of one letter
    out = chat.say("admin", "截图看不清")
    assert said(out, "turnovers.done_asked_again") and said(out, "turnovers.queue_empty")
    assert said(chat.deliver(), "notice.turnover_asked_again", reason="截图看不清")
    chat.run("ent", ["/turnover", "200万", "/photo o2", "确认提交"])
    assert said(chat.say("admin", "/turnovers"), "turnovers.card_amount", amount="2,000,000")
    confirm = next(b.data for r in chat.last for b in r.flat_buttons() if b.label == "确认")
    # the enterprise files again while the committee looks at revision 2
    chat.run("ent", ["/turnover", "210万", "/photo o3", "确认提交"])
    out = "\n".join(press_data(core, "admin", confirm))
    assert said(out, "turnovers.changed")
    assert said(out, "turnovers.card_amount", amount="2,100,000")  # the new revision
    with core.sessions() as s:
        t = s.scalars(select(Turnover)).one()
        assert (t.amount_fen, t.revision, t.status) == (2_100_000 * YUAN, 3, "submitted")


def test_only_the_committee_reviews_and_records(chat: Chat, selling: dict[str, int]) -> None:
    for command in ("/turnovers", f"/payment {selling['green']} 100", "/donation_cert 1 X1"):
        assert said(chat.say("ent", command), "err.not_allowed"), command
    assert said(chat.say("nobody", "/donations"), "donations.not_enterprise")
    assert said(chat.say("nobody", "/direct"), "donations.not_enterprise")


# ----- the directed part ------------------------------------------------------------------------
def test_directed_part_within_the_bound(chat: Chat, core: Core) -> None:
    eid = make_enterprise(core, "大户", "big")
    assert said(chat.say("big", "/direct"), "direct.no_turnover")
    confirmed(core, eid, 3_000_000)
    assert said(chat.say("big", "/direct"), "ask.direct_project")
    assert said(chat.say("big", "希望小学图书室"), "ask.direct_amount", max="25,000")
    out = chat.say("big", "3万")
    assert said(out, "direct.refused_above_max", max="25,000") and said(out, "ask.direct_amount")
    assert said(chat.say("big", "0"), "direct.refused_not_positive")
    assert said(chat.say("big", "25,000.01"), "direct.refused_above_max")
    assert said(chat.say("big", "2.5万"), "direct.summary_title")
    out = chat.say("big", "确认提交")
    assert said(out, "direct.saved", project="希望小学图书室", amount="25,000")
    assert said(out, "donations.directed_line", directed="25,000", max="25,000")
    with core.sessions() as s:
        d = ledger.direction_of(s, eid)
        assert d is not None and (d.project, d.amount_fen) == ("希望小学图书室", 25_000 * YUAN)


def test_no_directed_part_at_the_threshold(chat: Chat, core: Core) -> None:
    eid = make_enterprise(core, "刚好", "edge")
    confirmed(core, eid, 2_000_000)  # donation exactly 100,000: nothing above it
    assert said(chat.say("edge", "/direct"), "direct.refused_none_allowed")


# ----- payments, certificates, the ledger --------------------------------------------------------
def test_payments_partial_and_validated(chat: Chat, core: Core, clock: FixedClock) -> None:
    clock.set(WINDOW)
    eid = make_enterprise(core, "大户", "big")
    confirmed(core, eid, 3_000_000)
    assert said(chat.say("admin", "/payment"), "payment.usage")
    assert said(chat.say("admin", "/payment 99999 5万"), "donations.no_enterprise")
    assert said(chat.say("admin", "/payment abc 5万"), "donations.no_enterprise")
    for bad in ("abc", "-5", "0", "99999999999", "😀"):
        out = chat.say("admin", f"/payment {eid} {bad}")
        assert said(out, "payment.usage"), bad
    assert said(chat.say("admin", f"/payment {eid} 1万 12-25"), "payment.future_date")
    assert count(core, DonationPayment) == 0
    out = chat.say("admin", f"/payment {eid} 10万 11-29 首笔")
    assert said(out, "payment.recorded", name="大户", amount="100,000", date="2020-11-29")
    assert said(out, "donations.outstanding_line", outstanding="50,000")
    assert said(chat.say("admin", f"/payment {eid} 10万 11-29 首笔"), "payment.duplicate")
    delivered = chat.deliver()
    assert said(delivered, "notice.payment_recorded", amount="100,000")
    assert said(delivered, "donations.received_line", received="100,000")
    out = chat.say("admin", f"/payment {eid} 50000.5")
    assert said(out, "donations.received_line", received="150,000.50")
    assert said(out, "donations.overpaid_line", overpaid="0.50")
    with core.sessions() as s:
        payments = s.scalars(select(DonationPayment).order_by(DonationPayment.id)).all()
        assert [(p.amount_fen, p.received_on, p.note) for p in payments] == [
            (100_000 * YUAN, dt.date(2020, 11, 29), "首笔"),
            (50_000_50, dt.date(2020, 11, 30), None),
        ]
        assert ledger.received_by_enterprise(s) == {eid: 150_000_50}
        assert ledger.received_by_enterprise(s, until=dt.date(2020, 11, 29)) == {
            eid: 100_000 * YUAN
        }
        audited = s.scalars(
            select(AuditEntry).where(AuditEntry.action == "payment").order_by(AuditEntry.id)
        ).all()
        assert [a.after["amount_fen"] for a in audited if a.after] == [100_000 * YUAN, 50_000_50]

    assert said(chat.say("admin", "/donation_cert"), "cert.usage")
    assert said(chat.say("admin", f"/donation_cert {eid} JXHF-2020-001"), "cert.recorded")
    assert said(chat.say("admin", f"/donation_cert {eid} JXHF-2020-001"), "cert.already")
    assert said(chat.deliver(), "notice.donation_cert", number="JXHF-2020-001")
    out = chat.say("big", "/donations")
    assert said(out, "donations.certificates_line", numbers="JXHF-2020-001")


def test_the_ledger_sorted_paged_and_exported(
    chat: Chat, core: Core, files_core: Core, clock: FixedClock
) -> None:
    ids = [make_enterprise(core, f"企业{n:02d}", f"e{n}") for n in range(20)]
    confirmed(core, ids[3], 3_000_000)  # due 150,000
    confirmed(core, ids[5], 1_000_000)  # due 50,000
    with core.sessions() as s, s.begin():
        ledger.add_payment(s, ids[3], 140_000 * YUAN, dt.date(2020, 11, 30), None, fd.NOW)
    out = chat.say("admin", "/donations outstanding")
    lines = out.splitlines()
    assert said(lines[0], "donations.ledger_title", n="20", due="200,000", received="140,000")
    assert said(lines[1], "donations.ledger_line", name="企业05", outstanding="50,000")
    assert said(lines[2], "donations.ledger_line", name="企业03", outstanding="10,000")
    assert said(out, "donations.page", page="1", pages="2")
    out = chat.say("admin", "/donations name 2")
    assert said(out, "donations.page", page="2", pages="2") and "企业19" in out
    assert said(chat.say("admin", "/donations sideways"), "donations.usage")
    replies = files_core.process_sync(Incoming.from_text("console", "admin", "/donations export"))
    assert said(replies, "donations.exported", n="20")
    path = replies[0].document_path
    assert path is not None and Path(path).exists()
    from openpyxl import load_workbook

    sheet = load_workbook(path).active
    assert sheet is not None
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    assert len(rows) == 20
    row3 = next(r for r in rows if r[0] == ids[3])
    assert row3[5] == 150_000 and row3[9] == 140_000 and row3[10] == 10_000


def test_the_cli_prints_the_ledger(
    core: Core,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bot.donations_cli import main

    eid = make_enterprise(core, "大户", "big")
    confirmed(core, eid, 3_000_000)
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(["--sort", "due"]) == 0
    out = capsys.readouterr().out
    assert said(out, "donations.ledger_title", n="1", due="150,000")
    assert said(out, "donations.ledger_line", id=eid, name="大户", outstanding="150,000")


# ----- the streamer's share ---------------------------------------------------------------------
def test_streamer_share_statement(chat: Chat, core: Core) -> None:
    with core.sessions() as s, s.begin():
        st = fd.streamer(s, "小明的果园", user="s")
        fd.report(s, core.config, st, dt.date(2020, 11, 1), gmv_yuan=1000)
        fd.report(s, core.config, st, dt.date(2020, 11, 2), gmv_yuan=234)
    out = chat.say("s", "/share")
    assert said(out, "share.statement", gmv="1,234", rate="20", share="246.80")
    assert said(chat.say("s", "/me"), "share.statement", share="246.80")
    assert said(chat.say("nobody", "/share"), "share.not_streamer")
