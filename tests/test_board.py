"""The 龙虎榜: computed from the maintained totals, published and stored, shown by /top in any
chat, /rank for a streamer; the picture is drawn with a real CJK font."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest
from PIL import Image, ImageFont
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.channels.console import render
from bot.config import FestivalConfig
from bot.core.dispatcher import Core
from bot.core.i18n import translate
from bot.core.messages import Incoming
from handlers import board_image
from models import Streamer, StreamerTotal, ranking
from models import board as boards
from models.scoring import ScoringRules, Totals, score_board
from tests import festival_data as data
from tests.catalog import begins, label, line, said
from tests.chat import Chat

DAY = dt.date(2020, 11, 2)
MONDAY_1 = dt.datetime(2020, 11, 2, 10, tzinfo=dt.UTC)
MONDAY_2 = dt.datetime(2020, 11, 9, 10, tzinfo=dt.UTC)


def publish(s: Session, config: FestivalConfig, period: str, at: dt.datetime) -> boards.Board:
    rules = ScoringRules.of(config)
    board = boards.publish(s, "all", period, rules, at)
    for scope in ["university", *(sc for sc, _n in boards.city_scopes(s))]:
        boards.publish(s, scope, period, rules, at)
    return board


FESTIVAL = "点亮原产地·江西青年直播节"  # config.yaml


def entry(rank: int, account: str, unit: str, gmv: int, score: str, change: str) -> str:
    """A line of the board, for a streamer with one day of reports."""
    return label(
        "board.line",
        rank=rank,
        account=account,
        unit=unit,
        gmv=gmv,
        days=1,
        score=score,
        change=change,
    )


def group_top(core: Core, args: str = "") -> str:
    inc = Incoming.from_text(
        "console", "someone", f"/top {args}".strip(), chat_id="g1", chat_kind="group"
    )
    return render(core.process_sync(inc))


def test_no_board_yet_is_said_plainly(chat: Chat, core: Core) -> None:
    assert chat.say("x", "/top") == line(
        "board.none_yet", start="2020-10-30", weekday="周一", hour="10"
    )
    assert begins(group_top(core), "board.none_yet")


def test_published_boards_show_the_change_since_the_last_one(
    db: Engine, config: FestivalConfig, core: Core, chat: Chat
) -> None:
    with Session(db, expire_on_commit=False) as s, s.begin():
        a = data.streamer(s, "赣南脐橙哥", "360702")  # 赣州市 章贡区
        b = data.streamer(s, "萍乡小花", "360302")  # 萍乡市 安源区
        data.streamer(s, "还没审核", "360302", status="pending_review")
        data.report(s, config, a, DAY, gmv_yuan=500)
        data.report(s, config, b, DAY, gmv_yuan=300)
        publish(s, config, "2020-11-02", MONDAY_1)
    with Session(db, expire_on_commit=False) as s, s.begin():
        c = data.streamer(s, "南大助农", "U001")  # 南昌大学团委, approved since
        data.report(s, config, c, DAY, gmv_yuan=900, minutes=600, viewers=900, likes=900)
        data.report(s, config, b, DAY, gmv_yuan=800)  # a correction moves b above a
        board = publish(s, config, "2020-11-09", MONDAY_2)
        assert board.entries == 3  # the unapproved streamer is not ranked
    out = group_top(core)
    assert out.splitlines()[0] == label(
        "board.title", festival=FESTIVAL, scope=label("board.scope_all"), date="2020-11-09"
    )
    same = label("board.same")
    assert out.splitlines()[1:4] == [
        entry(1, "南大助农", "南昌大学团委", 900, "92.5", label("board.new")),
        entry(2, "萍乡小花", "萍乡市 安源区", 800, "38.8", same),
        entry(3, "赣南脐橙哥", "赣州市 章贡区", 500, "18.8", label("board.down", n=2)),
    ]
    assert "1380000" not in out  # never a phone number
    assert chat.say("x", "/top") == out
    # per city and for universities: the same scores, ranks within the scope
    assert group_top(core, "萍乡").splitlines()[1] == entry(
        1, "萍乡小花", "萍乡市 安源区", 800, "38.8", same
    )
    assert said(group_top(core, "高校"), "board.line", rank=1, account="南大助农")
    assert said(group_top(core, "火星"), "board.unknown_scope", name="火星")


def test_publishing_twice_keeps_the_first(db: Engine, config: FestivalConfig) -> None:
    with Session(db) as s, s.begin():
        a = data.streamer(s, "甲")
        data.report(s, config, a, DAY)
        first = publish(s, config, "2020-11-02", MONDAY_1)
        data.report(s, config, a, DAY, gmv_yuan=9)
        again = publish(s, config, "2020-11-02", MONDAY_2)
        assert again.id == first.id and again.published_at == MONDAY_1


def test_rank_shows_breakdown_and_gap_to_next_tier(
    db: Engine, config: FestivalConfig, chat: Chat
) -> None:
    with Session(db) as s, s.begin():
        for i in range(4):
            data.report(s, config, data.streamer(s, f"主播{i}"), DAY, gmv_yuan=100 * (i + 1))
        data.streamer(s, "没战报", user="idle")
    out = chat.say("主播1", "/rank")
    assert out.splitlines()[0] == translate("zh_CN", "rank.title", rank="3", n="4", score="43.3")
    assert said(
        out,
        "rank.metric",
        metric=label("rank.metric_gmv"),
        value=label("rank.value_gmv", gmv="200"),
        percentile="33",
        points="13.3",
        weight="40",
    )
    assert (
        line(
            "rank.metric",
            metric=label("rank.metric_avg_daily_hours"),
            value=label("rank.value_hours", hours="2.0"),
            percentile="50",
            points="7.5",
            weight="15",
        )
        in out + "\n"
    )
    assert out.splitlines()[-1] == translate(
        "zh_CN", "rank.tier_gap", tier="一等奖", next="特等奖", last="1", gap="26.7"
    )
    assert begins(chat.say("idle", "/rank"), "rank.no_reports")
    assert begins(chat.say("nobody", "/rank"), "report.not_registered")


def test_the_picture_uses_a_cjk_font(tmp_path: Path) -> None:
    font = board_image.font(40)
    # the font maps these characters: a CJK glyph differs from the font's .notdef box
    notdef = font.getmask("\U0010fffd").getbbox()
    for ch in "龙虎榜点亮原产地萍乡赣州":
        assert font.getmask(ch).getbbox() != notdef, ch
    row = board_image.BoardRow(
        1, "赣南脐橙哥" * 5, "赣州市 章贡区", "12,000", "3", "88.5", "↑2", "up"
    )
    headers = ("名次", "主播", "推荐单位", "成交额（元）", "直播天数", "得分", "变化")
    picture = board_image.BoardPicture("🏆 龙虎榜 · 总榜", "节", "2020-11-09", headers, [row], ())
    path = board_image.render(picture, board_image.LANDSCAPE, tmp_path / "boards" / "b.png")
    with Image.open(path) as image:
        assert image.format == "PNG" and image.width == board_image.LANDSCAPE.width
        assert len(image.getcolors(1 << 20) or []) > 10  # text was drawn, not a blank sheet


def test_a_font_without_cjk_would_draw_boxes() -> None:
    """The check above can fail: Pillow's built-in font has no CJK glyphs."""
    plain = ImageFont.load_default(size=40)
    if not isinstance(plain, ImageFont.FreeTypeFont):
        pytest.skip("Pillow without FreeType default font")
    notdef = plain.getmask("\U0010fffd").getbbox()
    assert plain.getmask("龙").getbbox() == notdef


def test_the_current_ranking_is_the_scoring_rule(db: Engine, config: FestivalConfig) -> None:
    """models/ranking.py (columns from the totals) against score_board (the rule's statement)."""
    rnd = random.Random(7)
    rules = ScoringRules.of(config)
    with Session(db, expire_on_commit=False) as s, s.begin():
        for i in range(40):
            st = data.streamer(s, f"号{i}", rnd.choice(["360302", "360702", "U001"]))
            for d in range(rnd.randrange(0, 4)):  # some without any report
                data.report(
                    s,
                    config,
                    st,
                    DAY + dt.timedelta(days=d),
                    gmv_yuan=rnd.choice([0, 100, 100, 250, 10**7]),  # ties and a giant
                    minutes=rnd.choice([10, 30, 120, 120, 900]),
                    viewers=rnd.choice([5, 5, 80]),
                    likes=rnd.randrange(3),
                )
        rows = s.execute(
            select(Streamer.id, Streamer.submitted_at, StreamerTotal)
            .outerjoin(StreamerTotal, StreamerTotal.streamer_id == Streamer.id)
            .where(Streamer.status == "approved")
        ).all()
        got = ranking.current(s, rules).top()
    expected = score_board(
        [
            Totals(
                sid,
                t.reports,
                t.gmv_fen,
                t.viewers,
                t.likes,
                t.live_days,
                t.live_minutes,
                (sub, sid),
            )
            if t is not None
            else Totals(sid, 0, 0, 0, 0, 0, 0, (sub, sid))
            for sid, sub, t in rows
        ],
        rules,
    )
    assert len(got) == 40
    assert [(x.rank, x.totals.streamer_id, x.score, x.ps) for x in got] == [
        (x.rank, x.totals.streamer_id, x.score, x.ps) for x in expected
    ]


def test_the_current_ranking_of_nobody(db: Engine, config: FestivalConfig) -> None:
    with Session(db) as s:
        data.streamer(s, "还没审核", status="pending_review")  # not ranked
        ranked = ranking.current(s, ScoringRules.of(config))
    assert (len(ranked), ranked.ranked, ranked.top(), list(ranked.rows())) == (0, 0, [], [])
    assert ranked.rank_of(1) is None
