"""An English-speaking streamer never reads Chinese, except proper names that have no English
one (units, enterprises and their products, people) and the language button's 中文: a walk
through sign-up, /products, /report, /reports, /me and /help, every screen checked; an
English-speaking reviewer through /review (a held report, a streamer, a product), /streamers
and /streamer with a report rejected, and the notices each owner reads in their language."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.config import FestivalConfig
from bot.core.clock import FixedClock
from bot.core.dispatcher import Core
from handlers.certificate_issue import award_label, holder_of_streamer
from models import DailyReport, LiveAccount, Person, Streamer, Unit
from tests import festival_data as data
from tests.catalog import label, said
from tests.chat import Chat

# Chinese characters and the full-width punctuation that comes with them (「」、，：（）).
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]+")
EN = "en"


def chinese_left(text: str, proper_names: list[str]) -> list[str]:
    """The Chinese in `text` once the proper names are taken out, longest first."""
    for name in sorted(proper_names, key=len, reverse=True):
        text = text.replace(name, "")
    return CJK.findall(text)


def proper_names(db: Engine, config: FestivalConfig) -> list[str]:
    """Names with no English one: every unit, the enterprises and products of the catalogue,
    the committee's contacts; the language button's 中文 and the city level's 市本级 (the
    button shows what a unit's contact calls it)."""
    with Session(db) as s:
        units = list(s.scalars(select(Unit.name)))
    people = [c.name for c in config.committee.contacts]
    return [*units, *CATALOGUE, *people, "中文", "市本级"]


CATALOGUE = ["婺源茶业有限公司", "婺源绿茶", "红茶"]


def test_an_english_streamer_reads_no_chinese(
    chat: Chat, core: Core, db: Engine, clock: FixedClock, config: FestivalConfig
) -> None:
    clock.set(dt.datetime(2020, 11, 2, 20, 0))
    with Session(db, expire_on_commit=False) as s, s.begin():
        data.enterprise(
            s,
            CATALOGUE[0],
            [(CATALOGUE[1], "poverty_catalog"), (CATALOGUE[2], "farm")],
            industry="茶叶",
            user="tea",
        )
    allowed = proper_names(db, config)
    seen: list[str] = []

    def say(line: str) -> str:
        out = chat.say("en", line)
        seen.append(out)
        assert chinese_left(out, allowed) == [], f"after {line!r}:\n{out}"
        return out

    for line in ["/lang en", "/start", label("menu.streamer", EN)]:
        say(line)
    say(label("btn.accept", EN))
    # the unit picker: the city level typed as the Chinese button says it
    for line in ["1", "萍乡市", "市本级"]:
        say(line)
    # platforms typed by their English names, the other one by its Chinese name
    assert said(say("Douyin"), "ask.account_name", EN)
    # "Skip" typed at a required question is refused as such, not taken as the name
    assert said(say(label("btn.skip", EN)), "err.cannot_skip", EN)
    say("green_farm")
    say("京东直播")
    say("green_jd")
    for line in ["13800138000", "12k", "35000", "0", "20", "45", "100000", "5000", "800"]:
        say(line)
    for line in ["125k", label("btn.skip", EN), label("btn.skip", EN), "3.5%", "1,4"]:
        say(line)
    summary = say(label("opt.declare_yes", EN))
    assert "Categories: Farm produce, Tea" in summary
    assert "Platform: Douyin" in summary and "2nd platform: JD Live" in summary
    assert said(say(label("btn.confirm", EN)), "streamer.submitted", EN)

    with core.sessions() as s, s.begin():
        streamer = s.scalars(select(Streamer)).one()
        assert streamer.categories == ["农产品", "茶叶"]  # stored as the notice writes them
        assert streamer.unit_id == s.scalars(select(Unit.id).where(Unit.name == "萍乡市")).one()
        platforms = s.scalars(select(LiveAccount.platform).order_by(LiveAccount.id))
        assert list(platforms) == ["douyin", "jd"]
    chat.say("admin", "/start")
    chat.say("admin", f"/approve streamer {streamer.id}")
    notice = chat.deliver()
    # the Chinese reviewer's decision, told in the streamer's language and list
    assert chinese_left(notice, allowed) == []
    assert said(notice, "notice.approved", EN, title="green_farm, green_jd")

    me = say("/me")
    assert "Douyin green_farm, JD Live green_jd" in me

    catalogue = say("/products")
    catalogue = say(label("btn.products_all", EN))
    assert "[Poverty-relief catalogue]" in catalogue and "(Tea)" in catalogue
    say("1")  # picks 婺源绿茶
    say(label("btn.products_mine", EN))
    tags = say(label("btn.products_tags", EN))
    assert "Poverty-relief catalogue" in tags and "Farm products" in tags
    farm = say("Farm products")
    assert said(farm, "products.filter_tag", EN, value="Farm products")
    say(label("btn.products_mine", EN))
    categories = say(label("btn.products_categories", EN))
    assert "Fresh fruit and vegetables" in categories
    tea = say("Tea")
    assert said(tea, "products.filter_industry", EN, value="Tea")
    say(label("btn.done", EN))

    say("/report")
    for line in ["1", "1", "5000", "2h30m", "1200", "3k", "45"]:
        say(line)
    say(label("opt.no", EN))  # no split across the picked product
    summary = say(label("btn.skip", EN))  # no screenshot
    assert said(say(label("btn.confirm", EN)), "report.saved", EN)
    with core.sessions() as s:
        assert s.scalar(select(DailyReport.gmv_fen)) == 500_000
    say("/reports")
    say("/me")
    say("/help")
    assert len(seen) > 40


def test_every_festival_label_has_an_english_name(config: FestivalConfig) -> None:
    """What the config names for people to read has an English name beside the Chinese."""
    labelled = [
        *config.platforms,
        *config.products.categories,
        *config.products.priority_tags,
        *config.units.kinds.values(),
        *config.awards.streamer,
        *config.awards.enterprise,
    ]
    assert [item.label for item in labelled if not item.label_en] == []
    assert [x for x in labelled if x.label_en and CJK.search(x.label_en)] == []
    assert config.festival.name_in("en") == config.festival.name_en
    assert config.festival.name_in("zh_CN") == config.festival.name
    assert config.platform_label("jd", "en") == "JD Live"
    assert config.platform_label("jd") == "京东直播"
    assert config.category_label("茶叶", "en") == "Tea"
    assert config.category_label("旧品类", "en") == "旧品类"  # no longer in the config: as stored
    assert config.tag_label("unsold", "en") == "Unsold stock"
    assert config.award_label("enterprise", "outstanding", "zh_CN") == "突出贡献奖"
    assert config.unit_kind_label("county", "en") == "County League committee"


def test_a_label_without_an_english_name_is_shown_as_it_is(config: FestivalConfig) -> None:
    """A category may be written as plain text (a proper name, or a config from before
    label_en): it is its own name in both languages."""
    products = config.products.model_validate(
        {"categories": ["井冈山特产", {"label": "茶叶", "label_en": "Tea"}], "priority_tags": []}
    )
    assert [c.label_in("en") for c in products.categories] == ["井冈山特产", "Tea"]
    assert products.categories[0].names() == ("井冈山特产",)


def test_an_english_reviewer_reads_no_chinese(
    chat: Chat, db: Engine, clock: FixedClock, config: FestivalConfig
) -> None:
    """/review's cards (a held report, a streamer, a product), the end of the round,
    /streamers and /streamer with a rejected report: platforms, categories, priority tags and
    lists in English; each owner told in their own language."""
    clock.set(dt.datetime(2020, 11, 2, 20, 0))
    with Session(db, expire_on_commit=False) as s, s.begin():
        green = data.streamer(s, "green_farm", status="pending_review", user="green")
        green.categories = ["农产品", "茶叶"]
        data.second_account(s, green, "green_jd")
        held = data.streamer(s, "held_farm", user="held")
        report = data.report(s, config, held, dt.date(2020, 11, 1), gmv_yuan=220_000)
        report.held, report.flags = True, [{"rule": "gmv_spike"}]
        _, products = data.enterprise(
            s,
            CATALOGUE[0],
            [(CATALOGUE[1], "poverty_catalog")],
            industry="茶叶",
            user="tea",
            product_status="pending_review",
        )
        for person in s.scalars(select(Person)):
            person.locale = EN
        ids = green.id, held.id, products[0].id
    allowed = proper_names(db, config)
    seen: list[str] = []

    def check(out: str, after: str) -> str:
        seen.append(out)
        assert chinese_left(out, allowed) == [], f"after {after!r}:\n{out}"
        return out

    def say(line: str) -> str:
        return check(chat.say("admin", line), line)

    def press(button: str) -> str:
        return check(chat.press("admin", button), button)

    say("/lang en")
    say("/start")
    assert said(say("/review"), "trust.card_title", EN)
    card = press(label("btn.clear_report", EN))
    assert said(card, "review.card_streamer", EN, id=ids[0])
    assert "Douyin green_farm, JD Live green_jd" in card
    assert said(card, "review.card_categories", EN, categories="Farm produce, Tea")
    card = press(label("btn.approve", EN))
    assert said(card, "review.card_product", EN, id=ids[2])
    assert said(card, "review.card_industry", EN, industry="Tea")
    assert "Poverty-relief catalogue" in card
    press(label("btn.reject", EN))
    end = say("no sales record")
    assert said(end, "review.queue_finished", EN, n=3)
    notices = check(chat.deliver(), "the decisions")
    assert said(notices, "notice.report_cleared", EN, account="Douyin held_farm")
    assert said(notices, "notice.approved", EN, title="green_farm, green_jd")
    assert said(notices, "notice.rejected", EN, title=CATALOGUE[1])

    listing = say("/streamers")
    assert said(listing, "streamers.line", EN, accounts="Douyin green_farm, JD Live green_jd")
    say(f"/streamer {ids[1]}")
    press(label("btn.reject_report", EN, day="11-01 Douyin"))
    assert said(say("figures do not add up"), "streamers.report_rejected", EN)
    notice = check(chat.deliver(), "the report's rejection")
    assert said(notice, "notice.report_rejected", EN, account="Douyin held_farm")
    assert len(seen) > 10


def test_a_chinese_owner_is_told_in_chinese_by_an_english_reviewer(
    chat: Chat, db: Engine, config: FestivalConfig
) -> None:
    """The notice's list and platform follow the owner's language, not the reviewer's."""
    with Session(db, expire_on_commit=False) as s, s.begin():
        green = data.streamer(s, "甲", status="pending_review", user="green")
        data.second_account(s, green, "乙")
    chat.say("admin", "/start")
    chat.say("admin", "/lang en")
    chat.say("admin", "/review")
    chat.press("admin", label("btn.approve", EN))
    assert said(chat.deliver(), "notice.approved", title="甲、乙")


def test_certificates_name_awards_in_the_festivals_language(
    db: Engine, config: FestivalConfig
) -> None:
    """A festival whose language is English prints English award names and lists."""
    english = config.model_copy(update={"locale": config.locale.model_copy(update={"default": EN})})
    assert CJK.search(award_label(english, "streamer", "grand")) is None
    assert "Grand prize" in award_label(english, "streamer", "grand")
    assert "突出贡献奖" in award_label(config, "enterprise", "outstanding")
    with Session(db, expire_on_commit=False) as s, s.begin():
        s_row = data.streamer(s, "green_farm")
        data.second_account(s, s_row, "green_jd")
        assert holder_of_streamer(s, english, s_row) == "green_farm, green_jd"
        assert holder_of_streamer(s, config, s_row) == "green_farm、green_jd"


def test_an_english_committee_member_exports_the_notices_layout_with_english_values(
    chat: Chat,
) -> None:
    """The notice's sheets keep the notice's layout in Chinese (title, header line, headings,
    the 已撤回 sheet: the sheet is the notice's 附件); the festival's own words in the cells
    (platform, recommendation, status) are the reader's. The daily reports are no form of the
    notice: headings and values both in the reader's language."""
    from openpyxl import load_workbook

    from handlers import sheets
    from tests.committee_helpers import register
    from tests.flows import report_lines

    sid = register(chat, "s", "小明的果园")
    chat.say("admin", "/lang en")

    def book(command: str) -> list[tuple[object, ...]]:
        chat.say("admin", command)
        [reply] = chat.last
        assert reply.document_path is not None, reply.text
        ws = load_workbook(reply.document_path).active
        assert ws is not None
        return [tuple(r) for r in ws.iter_rows(values_only=True)]

    data = book("/export streamers")
    assert data[0][0] == label("sheet.title.streamers", year=2020)
    assert data[1][0] == label("sheet.unit_line", unit="萍乡市 安源区")
    assert list(data[2]) == [label(c.heading) for c in sheets.STREAMER_COLUMNS]
    n = len(sheets.notice_columns("streamers"))
    assert data[3][n] == "Douyin"  # 直播平台
    assert data[3][n + 2 : n + 4] == (
        label("review.rec.self", EN),
        label("status.pending_review", EN),
    )

    chat.say("admin", f"/approve streamer {sid}")
    chat.run("s", [*report_lines(), "确认提交"])
    data = book("/export reports")
    assert data[1][:4] == tuple(
        label(f"export.col.{c}", EN) for c in ("date", "account", "platform", "unit")
    )
    assert data[2][1:3] == ("小明的果园", "Douyin")
