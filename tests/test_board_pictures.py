"""Every published board has its picture: the overall one is drawn by the weekly job, a
city's or the universities' on the first /top that asks for it, then kept with the board."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from dataclasses import replace
from functools import partial
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.config import FestivalConfig
from bot.core.dispatcher import Core
from bot.core.i18n import fmt_yuan, translate
from bot.core.messages import Incoming, Reply
from handlers import board_image
from handlers import glyph_runs as gr
from handlers.board_picture import (
    COLUMNS,
    change_text,
    content,
    festival_name,
    rule_line,
    trend,
    week_of,
)
from models import board as boards
from tests import festival_data as data
from tests.test_board import DAY, MONDAY_1, publish


def top(core: Core, args: str) -> Reply:
    inc = Incoming.from_text("console", "viewer", f"/top {args}", chat_id="g9", chat_kind="group")
    (reply,) = core.process_sync(inc)
    return reply


def test_a_city_board_is_drawn_when_first_asked_for_then_kept(
    db: Engine, config: FestivalConfig, files_core: Core, tmp_path: Path
) -> None:
    with Session(db, expire_on_commit=False) as s, s.begin():
        a = data.streamer(s, "萍乡小花", "360302")  # 萍乡市 安源区
        b = data.streamer(s, "赣南脐橙哥", "360702")  # 赣州市 章贡区
        data.report(s, config, a, DAY, gmv_yuan=300)
        data.report(s, config, b, DAY, gmv_yuan=500)
        publish(s, config, "2020-11-02", MONDAY_1)
    first = top(files_core, "萍乡")
    assert first.image_path is not None
    picture = Path(first.image_path)
    assert picture.parent == tmp_path / "boards" and picture.name.startswith("board-city-")
    with Image.open(picture) as image:
        assert image.format == "PNG"
    assert "萍乡小花" in first.text and "赣南脐橙哥" not in first.text
    with Session(db) as s:
        stored = s.scalars(
            select(boards.Board.image_path).where(boards.Board.scope.startswith("city:"))
        ).all()
    assert str(picture) in stored  # kept with the board: the next /top sends the same file
    drawn_at = picture.stat().st_mtime_ns
    again = top(files_core, "萍乡市")
    assert again.image_path == first.image_path and picture.stat().st_mtime_ns == drawn_at
    # a city with nobody on its board gets the text, and no empty picture
    empty = top(files_core, "九江")
    assert empty.image_path is None and "九江" in empty.text


# ----- the picture itself: fonts, boxes, goldens ----------------------------------------------
# Goldens: tests/goldens/board-*.png. After a deliberate change to the picture, regenerate
# them (and the README's samples in docs/) with
#     REGENERATE_GOLDENS=1 .venv/bin/python -m pytest -q tests/test_board_pictures.py
# then look at the new PNGs before committing them. The comparison is tolerant, so another
# Pillow or FreeType version's antialiasing (or a text moved by a pixel) does not fail it: the
# mean pixel difference over the picture, and over each 160x64 tile (a cell's content changed
# makes its tile differ by ~30; antialiasing noise ~3; the whole picture moved 1 px ~19).
GOLDENS = Path(__file__).parent / "goldens"
DOCS = Path(__file__).parent.parent / "docs"
MAX_MEAN_DIFF = 6.0  # of 255, averaged over every pixel and channel
MAX_TILE_DIFF = 24.0  # the same, in the worst 160x64 tile
TILE = (160, 64)
LONGEST = "赣南脐橙哥哥的直播间" * 4  # 40 characters: the form's longest account name
NAMES = (
    "赣南脐橙哥🍊",
    "萍乡小花",
    "🔥井冈山红米饭🔥",
    LONGEST,
    "Lucy的果园 👩‍🌾",
    "❤️鄱阳湖大闸蟹",
    "景德镇瓷器小王",
    "庐山云雾茶Tea",
)
UNITS = (
    "萍乡市 安源区",
    "萍乡市 湘东区",
    "萍乡市 莲花县",
    "萍乡市 上栗县",
    "萍乡市 芦溪县",
    "萍乡市 安源区",
    "萍乡市 湘东区",
    "萍乡市",
)
PREVIOUS = (3, None, 2, 4, None, 9, 6, None)  # up, new, down, same, new, up, down, new


def sample(config: FestivalConfig, locale: str, rows: int) -> board_image.BoardPicture:
    """A city board (萍乡市, week 2) with the longest name, emoji and every kind of change,
    worded from the catalogs as board_picture.content words a published board."""
    t = partial(translate, locale)
    entries = [
        board_image.BoardRow(
            i + 1,
            NAMES[i % len(NAMES)],
            UNITS[i % len(UNITS)],
            fmt_yuan((rows - i) * 1_234_567_00 // (i + 1)),
            str(28 - i // 2),
            f"{98.6 - i * 2.7:.1f}",
            change_text(locale, PREVIOUS[i % 8] if i < 8 else i + 1 + (i % 3) - 1, i + 1),
            trend(PREVIOUS[i % 8] if i < 8 else i + 1 + (i % 3) - 1, i + 1),
        )
        for i in range(rows)
    ]
    cal = config.calendar
    return board_image.BoardPicture(
        title=t("board.pic_title", scope=t("board.scope_city", city="萍乡市")),
        festival=t(
            "board.pic_festival",
            festival=festival_name(config, locale),
            start=cal.live_start.isoformat(),
            end=cal.live_end.isoformat(),
        ),
        date=t("board.pic_date", date="2020-11-09", week=week_of(cal.live_start, MONDAY)),
        headers=tuple(t(f"board.col_{c}") for c in COLUMNS),
        rows=entries,
        footer=(
            t("board.pic_source"),
            rule_line(config, locale),
            t("board.pic_count", n="1,234", shown=rows),
        ),
    )


MONDAY = dt.date(2020, 11, 9)
CASES = [("landscape", "zh_CN", 20), ("portrait", "zh_CN", 30), ("portrait", "en", 30)]
WHOLE = {"title", "festival", "date", "header", "rank", "gmv", "days", "score", "change"}


@pytest.mark.parametrize(("variant", "locale", "rows"), CASES)
def test_every_drawn_character_has_a_font_and_nothing_is_cut(
    config: FestivalConfig, variant: str, locale: str, rows: int
) -> None:
    picture = sample(config, locale, rows)
    lay = board_image.layout(picture, board_image.VARIANTS[variant])
    assert lay.width == board_image.VARIANTS[variant].width
    kinds = {r.trend for r in picture.rows}
    assert kinds >= {"up", "down", "new", "same"}
    for box in lay.boxes:
        for run in gr.runs(box.shown):  # every character in a run its font's cmap maps
            assert all(ord(ch) in run.face.cmap for ch in run.text), (box.shown, run)
        assert gr.drawn_text(box.shown) == box.shown  # nothing left out: every one has a font
        # drawn inside its cell (or the canvas), and the canvas holds it
        assert box.left - 0.5 <= box.x and box.x + box.width <= box.right + 0.5, box
        assert 0 <= box.left and box.right <= lay.width and 0 < box.baseline < lay.height
        if box.role in WHOLE:
            assert box.shown == box.text, box  # drawn whole, never with …
    roles = [b.role for b in lay.boxes]
    assert roles.count("change") == rows and roles.count("title") == 1
    dates = [b for b in lay.boxes if b.role == "date"]
    assert [b.shown for b in dates] == [picture.date] and "2020-11-09" in dates[0].shown
    assert [b.text for b in lay.boxes if b.role == "change"] == [r.change for r in picture.rows]
    accounts = [b for b in lay.boxes if b.role == "account"]
    for box in accounts:  # only the truly long name is cut, and it keeps its head
        if box.text == LONGEST:
            assert box.shown.endswith("…") and LONGEST.startswith(box.shown[:-1])
        else:
            assert box.shown == box.text, box
    # the footer's lines say all of the footer (a long rule may take two lines)
    footer = "".join(b.shown for b in lay.boxes if b.role == "footer").replace(" ", "")
    assert footer == "".join(picture.footer).replace(" ", "")


def test_the_first_week_fits_new_entries_and_the_title(config: FestivalConfig) -> None:
    """The week-1 picture of the issue: every change 新上榜, a city's title with its date."""
    picture = sample(config, "zh_CN", 6)
    rows = [
        board_image.BoardRow(r.rank, r.account, r.unit, r.gmv, r.days, r.score, "新上榜", "new")
        for r in picture.rows
    ]
    first = board_image.BoardPicture(
        picture.title, picture.festival, picture.date, picture.headers, rows, picture.footer
    )
    for variant in board_image.VARIANTS.values():
        lay = board_image.layout(first, variant)
        changes = [b for b in lay.boxes if b.role == "change"]
        assert [b.shown for b in changes] == [translate("zh_CN", "board.new")] * 6
        assert all(b.x + b.width <= b.right + 0.5 for b in changes)
        (title,) = (b for b in lay.boxes if b.role == "title")
        assert title.shown == first.title and "萍乡市" in title.shown


def test_a_character_no_font_has_is_left_out_not_drawn_as_a_box() -> None:
    unassigned = "\u0378"  # no font maps it
    assert gr.drawn_text(f"萍乡{unassigned}小花") == "萍乡小花"
    (run,) = gr.runs("🏆")
    assert run.face.color and run.face.name == "emoji"
    zwj = gr.runs("果园👩‍🌾")  # a ZWJ sequence stays one emoji run
    assert [r.face.name for r in zwj] == ["cjk", "emoji"] and zwj[1].text == "👩‍🌾"


def test_the_scoring_rule_comes_from_the_weights(config: FestivalConfig) -> None:
    weights = config.awards.score_weights
    rule = rule_line(config, "zh_CN")
    for metric, weight in weights.model_dump().items():
        part = translate(
            "zh_CN",
            "board.pic_rule_part",
            metric=translate("zh_CN", f"rank.metric_{metric}"),
            weight=f"{weight * 100:.0f}",
        )
        assert part in rule


@pytest.mark.parametrize(
    ("day", "week"),
    [("2020-11-02", 1), ("2020-11-09", 2), ("2020-11-16", 3), ("2020-11-30", 5)],
)
def test_the_week_a_board_closes(config: FestivalConfig, day: str, week: int) -> None:
    assert week_of(config.calendar.live_start, dt.date.fromisoformat(day)) == week


def _mean(diff: Image.Image) -> float:
    return sum(ImageStat.Stat(diff).mean) / 3


def _differences(a: Image.Image, b: Image.Image) -> tuple[float, float]:
    """The mean difference over the whole picture and over its worst tile."""
    diff = ImageChops.difference(a.convert("RGB"), b.convert("RGB"))
    w, h = TILE
    tiles = (
        _mean(diff.crop((x, y, min(diff.width, x + w), min(diff.height, y + h))))
        for y in range(0, diff.height, h)
        for x in range(0, diff.width, w)
    )
    return _mean(diff), max(tiles)


def test_the_golden_comparison_sees_one_changed_cell(config: FestivalConfig) -> None:
    """The tolerance is not blindness: one account name and one change in row 6 fail it."""
    picture = sample(config, "zh_CN", 20)
    rows = list(picture.rows)
    rows[5] = replace(rows[5], account="完全不同的名字", change="↓9", trend="down")
    a = board_image.draw(board_image.layout(picture, board_image.LANDSCAPE))
    b = board_image.draw(board_image.layout(replace(picture, rows=rows), board_image.LANDSCAPE))
    mean, worst = _differences(a, b)
    assert mean < MAX_MEAN_DIFF and worst > MAX_TILE_DIFF


@pytest.mark.parametrize(("variant", "locale", "rows"), CASES)
def test_the_picture_matches_its_golden(
    config: FestivalConfig, variant: str, locale: str, rows: int, tmp_path: Path
) -> None:
    name = f"board-city-{variant}-{locale}.png"
    drawn = board_image.render(
        sample(config, locale, rows), board_image.VARIANTS[variant], tmp_path / name
    )
    if os.environ.get("REGENERATE_GOLDENS"):
        GOLDENS.mkdir(exist_ok=True)
        shutil.copy(drawn, GOLDENS / name)
        shutil.copy(drawn, DOCS / name)  # the README's samples
    with Image.open(drawn) as new, Image.open(GOLDENS / name) as golden:
        assert new.size == golden.size
        mean, worst = _differences(new, golden)
        assert mean < MAX_MEAN_DIFF and worst < MAX_TILE_DIFF, (mean, worst)


def test_private_top_sends_the_portrait_picture_in_the_readers_language(
    db: Engine, config: FestivalConfig, files_core: Core, tmp_path: Path
) -> None:
    with Session(db, expire_on_commit=False) as s, s.begin():
        for i in range(35):
            st = data.streamer(s, f"主播{i}号", "360302")
            data.report(s, config, st, DAY, gmv_yuan=100 + i)
        data.person(s, "reader", locale="en")
        publish(s, config, "2020-11-02", MONDAY_1)
    private = Incoming.from_text("console", "reader", "/top", chat_kind="private")
    (reply,) = files_core.process_sync(private)
    assert reply.image_path is not None and reply.image_path.endswith("-portrait-en.png")
    with Image.open(reply.image_path) as image:
        assert image.width == board_image.PORTRAIT.width and image.height > image.width
    zh = Incoming.from_text("console", "viewer", "/top", chat_kind="private")
    (zh_reply,) = files_core.process_sync(zh)
    assert zh_reply.image_path and zh_reply.image_path.endswith("-portrait-zh_CN.png")
    group = top(files_core, "")  # a group gets the landscape one kept with the board
    assert group.image_path and Path(group.image_path).name == "board-all-2020-11-02.png"
    with Session(db) as s:
        board = boards.latest(s, "all")
        assert board is not None and board.image_path == group.image_path
        picture = content(s, config, "en", board, config.leaderboard.portrait_rows)
    assert len(picture.rows) == config.leaderboard.portrait_rows  # 35 ranked, 30 drawn
    assert picture.rows[0].trend == "new"
