"""The award list as a PNG picture: a plain table per award (its title, then place, winner,
unit, score or amount), drawn with the 龙虎榜's fonts and colours (handlers/board_image.py):
text in glyph runs (handlers/glyph_runs.py), so an emoji in a name is drawn, never a box."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

from handlers import glyph_runs as gr
from handlers.board_image import (
    ACCENT,
    BACKGROUND,
    INK,
    MARGIN,
    MUTED,
    STRIPE,
    font,
    save_png,
)

WIDTH, ROW, TITLE, SECTION = 1080, 48, 120, 64
# left edges of place, winner, unit, score
COLUMNS = (MARGIN, 110, 520, 860)


@dataclass(frozen=True)
class Section:
    title: str
    rows: list[tuple[str, str, str, str]]  # place, winner, unit, score (or amount)


def _text(
    draw: ImageDraw.ImageDraw, x: int, top: int, text: str, size: int, room: int, fill: str
) -> None:
    """A text whose top is at `top` (as Pillow's default anchor puts it), cut with … to `room`."""
    baseline = top + font(size).getmetrics()[0]
    gr.draw(draw, (x, baseline), gr.ellipsize(text, size, room), size, fill)


def render(
    title: str, headers: tuple[str, str, str, str], sections: list[Section], path: Path
) -> Path:
    """Draw the list and write it to path."""
    height = TITLE + ROW + sum(SECTION + ROW * len(s.rows) for s in sections) + MARGIN
    image = Image.new("RGB", (WIDTH, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    _text(draw, MARGIN, 36, title, 40, WIDTH - 2 * MARGIN, ACCENT)
    y = TITLE
    widths = [b - a - 12 for a, b in zip(COLUMNS, (*COLUMNS[1:], WIDTH - MARGIN), strict=True)]
    for x, w, header in zip(COLUMNS, widths, headers, strict=True):
        _text(draw, x, y + 10, header, 22, w, MUTED)
    y += ROW
    for section in sections:
        _text(draw, MARGIN, y + 16, section.title, 30, WIDTH - 2 * MARGIN, ACCENT)
        y += SECTION
        for i, row in enumerate(section.rows):
            if i % 2 == 0:
                draw.rectangle((MARGIN // 2, y, WIDTH - MARGIN // 2, y + ROW), fill=STRIPE)
            for x, w, cell in zip(COLUMNS, widths, row, strict=True):
                _text(draw, x, y + 10, cell, 24, w, INK)
            y += ROW
    return save_png(image, path)
