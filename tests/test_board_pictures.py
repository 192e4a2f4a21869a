"""Every published board has its picture: the overall one is drawn by the weekly job, a
city's or the universities' on the first /top that asks for it, then kept with the board."""

from __future__ import annotations

from pathlib import Path

from PIL import Image
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.config import FestivalConfig
from bot.core.dispatcher import Core
from bot.core.messages import Incoming, Reply
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
