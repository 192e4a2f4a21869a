"""The 龙虎榜 as a PNG picture, in Chinese with a real CJK font (WenQuanYi Micro Hei, shipped
by the paperang-p2-fonts-cjk package that pyproject installs), never tofu boxes."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT_PACKAGE = "paperang_p2_fonts_cjk"
FONT_FILE = "fonts/wqy-microhei.ttc"

WIDTH, ROW, HEAD, MARGIN = 1080, 56, 150, 36
BACKGROUND, STRIPE, INK, ACCENT, MUTED = "#fff8ee", "#fdebd3", "#2b1b0e", "#c0392b", "#7a6a5a"
# column x positions (left edges) for rank, account, unit, GMV, days, score, change
COLUMNS = (MARGIN, 130, 400, 640, 800, 900, 990)


def font_path() -> Path:
    return Path(str(resources.files(FONT_PACKAGE).joinpath(FONT_FILE)))


@cache
def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path()), size)


@dataclass(frozen=True)
class ImageRow:
    rank: int
    account: str
    unit: str
    gmv: str
    days: str
    score: str
    change: str


def _fit(draw: ImageDraw.ImageDraw, text: str, width: int, size: int) -> str:
    """Cut a text to the column's width (long account names end with …)."""
    f = font(size)
    if draw.textlength(text, font=f) <= width:
        return text
    while text and draw.textlength(text + "…", font=f) > width:
        text = text[:-1]
    return text + "…"


def render(title: str, headers: tuple[str, ...], rows: list[ImageRow], path: Path) -> Path:
    """Draw the board and write it to path (parent directories are created)."""
    height = HEAD + ROW * (len(rows) + 1) + MARGIN
    image = Image.new("RGB", (WIDTH, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.text((MARGIN, 40), _fit(draw, title, WIDTH - 2 * MARGIN, 44), font=font(44), fill=ACCENT)
    y = HEAD
    for x, header in zip(COLUMNS, headers, strict=True):
        draw.text((x, y + 12), header, font=font(24), fill=MUTED)
    widths = [b - a - 12 for a, b in zip(COLUMNS, (*COLUMNS[1:], WIDTH - MARGIN), strict=True)]
    for i, row in enumerate(rows):
        y = HEAD + ROW * (i + 1)
        if i % 2 == 0:
            draw.rectangle((MARGIN // 2, y, WIDTH - MARGIN // 2, y + ROW), fill=STRIPE)
        cells = (str(row.rank), row.account, row.unit, row.gmv, row.days, row.score, row.change)
        for x, w, cell in zip(COLUMNS, widths, cells, strict=True):
            colour = ACCENT if cell is cells[0] and row.rank <= 3 else INK
            draw.text((x, y + 12), _fit(draw, cell, w, 26), font=font(26), fill=colour)
    return save_png(image, path)


def save_png(image: Image.Image, path: Path) -> Path:
    """Write a picture to path (parent directories are created). Written beside and renamed
    into place: a reader (another /top, an upload) never sees half a picture while it is
    being drawn again."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".draw-", suffix=".png")
    try:
        with os.fdopen(fd, "wb") as fh:
            image.save(fh, "PNG", optimize=True)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
