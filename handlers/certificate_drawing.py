"""A certificate page as shapes, and what both drawings of it share: WenQuanYi Micro Hei (the
font of the 龙虎榜 picture, handlers/board_image.py) measured once with reportlab's metrics,
line breaking, and writing a file atomically. handlers/certificate_pdf.py draws a page as a
PDF, handlers/certificate_png.py as a PNG; where a line breaks and how small a long name is set
are decided here, once for both files.

Coordinates are points (1/72 inch) from the page's top left corner; y is the text's baseline.
"""

from __future__ import annotations

import os
import tempfile
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import IO, Literal

from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from handlers.board_image import font_path

PAGE_WIDTH, PAGE_HEIGHT = landscape(A4)  # 841.89 x 595.28 points
MM = 72 / 25.4
FONT = "WenQuanYiMicroHei"
Align = Literal["left", "center", "right"]


@dataclass(frozen=True)
class Text:
    x: float
    y: float  # baseline
    text: str
    size: float
    colour: str
    align: Align = "left"
    tracking: float = 0.0  # extra space between characters (titles)


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    width: float
    height: float
    colour: str
    line: float


@dataclass(frozen=True)
class Ring:
    cx: float
    cy: float
    r: float
    colour: str
    line: float
    dash: float = 0.0  # length of dashes and gaps; 0: solid


@dataclass(frozen=True)
class Picture:
    path: Path
    cx: float
    cy: float
    size: float  # the longer side; the picture keeps its proportions


Shape = Text | Box | Ring | Picture


@dataclass(frozen=True)
class Page:
    paper: str
    background: tuple[Shape, ...]  # shared by many pages: drawn once per process for PNGs
    foreground: tuple[Shape, ...]
    title: str = ""  # the PDF's document title


# -- the font and its metrics (loaded once per process) -----------------------------------


@cache
def pdf_font() -> TTFont:
    """The TTC's first face (WenQuanYi Micro Hei), registered with reportlab."""
    font = TTFont(FONT, str(font_path()), subfontIndex=0)
    pdfmetrics.registerFont(font)
    return font


def width(text: str, size: float) -> float:
    """The text's advance width in points (widths add up: no kerning in this font)."""
    pdf_font()
    return float(pdfmetrics.stringWidth(text, FONT, size))


def missing_glyphs(text: str) -> str:
    """The characters of text that the font has no glyph for (in order, each once)."""
    cmap = pdf_font().face.charToGlyph
    return "".join(dict.fromkeys(ch for ch in text if ord(ch) not in cmap and ch != "\n"))


def printable(text: str) -> str:
    """Whitespace collapsed, invisible characters (joiners, controls) and the emoji and other
    symbols the font lacks left out ('小明的果园🍊' is printed 小明的果园). Missing letters and
    ideographs stay, for missing_glyphs to find: a name is never silently changed."""
    cmap = pdf_font().face.charToGlyph
    text = " ".join(text.split())
    kept = (
        ch
        for ch in text
        if not unicodedata.category(ch).startswith("C")  # controls, joiners, private use
        and (ord(ch) in cmap or not unicodedata.category(ch).startswith(("S", "M")))
    )
    return " ".join("".join(kept).split())


def text_width(shape: Text) -> float:
    return width(shape.text, shape.size) + shape.tracking * max(len(shape.text) - 1, 0)


# -- line breaking -------------------------------------------------------------------------

# Never at the start of a line (closing punctuation), never at the end (opening).
NO_START = set("，。、：；！？）」』》〉】”’,.:;!?)]}%·…—")
NO_END = set("（「『《〈【“‘([{¥￥")
WORD = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz.,%-_+/¥@#&'")


def _tokens(text: str) -> Iterator[str]:
    """Ideographs one by one; runs of Latin letters, digits and figures stay together."""
    word = ""
    for ch in text:
        if ch in WORD:
            word += ch
            continue
        if word:
            yield word
            word = ""
        yield ch
    if word:
        yield word


def wrap(text: str, size: float, room: float) -> list[str]:
    """Lines of text no wider than room at size (a word wider than room is cut)."""
    lines: list[list[str]] = [[]]
    used = 0.0
    for token in _tokens(text):
        parts = [token] if width(token, size) <= room else list(token)
        for part in parts:
            w = width(part, size)
            line = lines[-1]
            if line and used + w > room:
                # keep closing punctuation with the character before it, opening with after
                carry: list[str] = []
                if part[0] in NO_START:  # 」， : both go, with the character before them
                    while len(line) > 1:
                        carry.insert(0, line.pop())
                        if carry[0][0] not in NO_START:
                            break
                while len(line) > 1 and line[-1][-1] in NO_END:
                    carry.insert(0, line.pop())
                if carry and width("".join(carry), size) + w > room:
                    line.extend(carry)  # no room to keep them together: break as it comes
                    carry = []
                lines.append(carry)
                line = carry
                used = width("".join(carry), size)
            if part == " " and not line:
                continue
            line.append(part)
            used += w
    return ["".join(line).rstrip() for line in lines if "".join(line).strip()]


def fitting_size(text: str, size: float, room: float) -> float:
    """The largest size not above size (in quarter points) at which text fits on one line."""
    at_one = width(text, 1)
    if at_one <= 0 or at_one * size <= room:
        return size
    return int(room / at_one * 4) / 4


# -- shared by both drawings --------------------------------------------------------------


def write_atomically(path: Path, write: Callable[[IO[bytes]], None]) -> Path:
    """Written beside and renamed into place: no half-written certificate is ever seen."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".draw-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def start_x(shape: Text, w: float) -> float:
    return {"left": shape.x, "center": shape.x - w / 2, "right": shape.x - w}[shape.align]
