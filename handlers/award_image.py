"""The award list as a PNG picture: a plain table per award (its title, then place, winner,
unit, score or amount), drawn with the 龙虎榜's font and colours (handlers/board_image.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

from handlers.board_image import (
    ACCENT,
    BACKGROUND,
    INK,
    MARGIN,
    MUTED,
    STRIPE,
    _fit,
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


def render(
    title: str, headers: tuple[str, str, str, str], sections: list[Section], path: Path
) -> Path:
    """Draw the list and write it to path."""
    height = TITLE + ROW + sum(SECTION + ROW * len(s.rows) for s in sections) + MARGIN
    image = Image.new("RGB", (WIDTH, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.text((MARGIN, 36), _fit(draw, title, WIDTH - 2 * MARGIN, 40), font=font(40), fill=ACCENT)
    y = TITLE
    for x, header in zip(COLUMNS, headers, strict=True):
        draw.text((x, y + 10), header, font=font(22), fill=MUTED)
    y += ROW
    widths = [b - a - 12 for a, b in zip(COLUMNS, (*COLUMNS[1:], WIDTH - MARGIN), strict=True)]
    for section in sections:
        draw.text((MARGIN, y + 16), section.title, font=font(30), fill=ACCENT)
        y += SECTION
        for i, row in enumerate(section.rows):
            if i % 2 == 0:
                draw.rectangle((MARGIN // 2, y, WIDTH - MARGIN // 2, y + ROW), fill=STRIPE)
            for x, w, cell in zip(COLUMNS, widths, row, strict=True):
                draw.text((x, y + 10), _fit(draw, cell, w, 24), font=font(24), fill=INK)
            y += ROW
    return save_png(image, path)
