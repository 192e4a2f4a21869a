"""A page of shapes drawn twice, the same way: as a PDF with reportlab (the CJK font embedded as
a subset) and as a PNG with Pillow. Both use WenQuanYi Micro Hei (the font of the 龙虎榜 picture,
handlers/board_image.py), measured once with reportlab's metrics, so that where a line breaks
and how small a long name is set are decided once for both files.

Coordinates are points (1/72 inch) from the page's top left corner; y is the text's baseline.
"""

from __future__ import annotations

import os
import tempfile
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import cache, lru_cache
from pathlib import Path
from typing import IO, Literal

from PIL import Image, ImageColor, ImageDraw, ImageFont
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

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


# -- PDF -----------------------------------------------------------------------------------


def _write_atomically(path: Path, write: Callable[[IO[bytes]], None]) -> Path:
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


def _start_x(shape: Text, w: float) -> float:
    return {"left": shape.x, "center": shape.x - w / 2, "right": shape.x - w}[shape.align]


def _pdf_shape(c: canvas.Canvas, shape: Shape) -> None:
    if isinstance(shape, Text):
        c.setFillColor(HexColor(shape.colour))
        c.setFont(FONT, shape.size)
        y = PAGE_HEIGHT - shape.y
        if shape.tracking:
            x = _start_x(shape, text_width(shape))
            for ch in shape.text:
                c.drawString(x, y, ch)
                x += width(ch, shape.size) + shape.tracking
        elif shape.align == "center":
            c.drawCentredString(shape.x, y, shape.text)
        elif shape.align == "right":
            c.drawRightString(shape.x, y, shape.text)
        else:
            c.drawString(shape.x, y, shape.text)
    elif isinstance(shape, Box):
        c.setStrokeColor(HexColor(shape.colour))
        c.setLineWidth(shape.line)
        y = PAGE_HEIGHT - shape.y - shape.height
        c.rect(shape.x, y, shape.width, shape.height, stroke=1, fill=0)
    elif isinstance(shape, Ring):
        c.setStrokeColor(HexColor(shape.colour))
        c.setLineWidth(shape.line)
        if shape.dash:
            c.setDash(shape.dash, shape.dash)
        c.circle(shape.cx, PAGE_HEIGHT - shape.cy, shape.r, stroke=1, fill=0)
        c.setDash()
    else:
        half = shape.size / 2
        c.drawImage(
            str(shape.path),
            shape.cx - half,
            PAGE_HEIGHT - shape.cy - half,
            shape.size,
            shape.size,
            mask="auto",
            preserveAspectRatio=True,
            anchor="c",
        )


def write_pdf(page: Page, path: Path, author: str = "") -> Path:
    """One A4 landscape page; the font is embedded as a subset of the characters used."""
    pdf_font()

    def write(fh: IO[bytes]) -> None:
        # invariant: the same page gives the same bytes (no creation time or random id)
        c = canvas.Canvas(fh, pagesize=(PAGE_WIDTH, PAGE_HEIGHT), invariant=1)
        c.setTitle(page.title)
        c.setAuthor(author)
        c.setFillColor(HexColor(page.paper))
        c.rect(0, 0, PAGE_WIDTH, PAGE_HEIGHT, stroke=0, fill=1)
        for shape in (*page.background, *page.foreground):
            _pdf_shape(c, shape)
        c.showPage()
        c.save()

    return _write_atomically(path, write)


# -- PNG -----------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _pil_font(pixels: float) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path()), pixels, layout_engine=ImageFont.Layout.BASIC)


@lru_cache(maxsize=4)
def _seal(path: Path, pixels: int) -> Image.Image:
    seal = Image.open(path).convert("RGBA")
    seal.thumbnail((pixels, pixels), Image.Resampling.LANCZOS)
    return seal


@lru_cache(maxsize=16384)
def _glyph(ch: str, pixels: float) -> tuple[Image.Image, int, int] | None:
    """A character's anti-aliased mask and its offset from the pen (left, baseline): drawn once
    per size and process, since FreeType's rendering is most of a PNG's cost otherwise."""
    font = _pil_font(pixels)
    left, top, right, bottom = font.getbbox(ch, anchor="ls")
    if right <= left or bottom <= top:
        return None  # a space
    mask = Image.new("L", (int(right - left), int(bottom - top)))
    ImageDraw.Draw(mask).text((-left, -top), ch, font=font, fill=255, anchor="ls")
    return mask, int(left), int(top)


def _png_text(image: Image.Image, shape: Text, k: float) -> None:
    """Character by character at the advances reportlab measures: the PNG breaks and spaces
    its lines exactly as the PDF does."""
    pixels = round(shape.size * k * 4) / 4
    x = _start_x(shape, text_width(shape))
    y = round(shape.y * k)
    ink = ImageColor.getrgb(shape.colour)
    for ch in shape.text:
        glyph = _glyph(ch, pixels)
        if glyph is not None:
            mask, left, top = glyph
            image.paste(ink, (round(x * k) + left, y + top), mask)
        x += width(ch, shape.size) + shape.tracking


def _png_shape(image: Image.Image, draw: ImageDraw.ImageDraw, shape: Shape, k: float) -> None:
    if isinstance(shape, Text):
        _png_text(image, shape, k)
    elif isinstance(shape, Box):
        corners = (shape.x, shape.y, shape.x + shape.width, shape.y + shape.height)
        xy = tuple(round(v * k) for v in corners)
        draw.rectangle(xy, outline=shape.colour, width=max(1, round(shape.line * k)))
    elif isinstance(shape, Ring):
        box = tuple(v * k for v in (shape.cx - shape.r, shape.cy - shape.r))
        box += tuple(v * k for v in (shape.cx + shape.r, shape.cy + shape.r))
        line = max(1, round(shape.line * k))
        if not shape.dash:
            draw.ellipse(box, outline=shape.colour, width=line)
            return
        step = shape.dash / shape.r * 57.29578  # degrees per dash
        start = 0.0
        while start < 360:
            draw.arc(box, start, min(start + step, 360), fill=shape.colour, width=line)
            start += 2 * step
    else:
        seal = _seal(shape.path, round(shape.size * k))
        x, y = round(shape.cx * k - seal.width / 2), round(shape.cy * k - seal.height / 2)
        image.paste(seal, (x, y), seal)


def _colours(page: Page) -> tuple[str, ...]:
    shapes = (*page.background, *page.foreground)
    found = {s.colour for s in shapes if isinstance(s, Text | Box | Ring)}
    return tuple(sorted(found - {page.paper}))


@lru_cache(maxsize=8)
def _palette(paper: str, colours: tuple[str, ...], seal: Path | None) -> Image.Image:
    """Ramps from the paper to each ink (anti-aliased edges keep their shades) and a seal's own
    colours: a palette PNG is written several times faster than an RGB one, a third the size."""
    seal_colours: list[tuple[int, ...]] = []
    if seal is not None:
        picture = _seal(seal, 240)
        flat = Image.new("RGB", picture.size, paper)
        flat.paste(picture, (0, 0), picture)
        small = flat.quantize(48, method=Image.Quantize.MEDIANCUT).convert("RGB")
        seal_colours = [rgb for _, rgb in small.getcolors(256) or [] if isinstance(rgb, tuple)]
    steps = max(4, (255 - len(seal_colours)) // max(len(colours), 1))
    base = ImageColor.getrgb(paper)[:3]
    entries: list[tuple[int, ...]] = [base]
    for colour in colours:
        ink = ImageColor.getrgb(colour)[:3]
        for i in range(1, steps + 1):
            entries.append(
                tuple(round(b + (c - b) * i / steps) for b, c in zip(base, ink, strict=True))
            )
    entries = list(dict.fromkeys([*entries, *seal_colours]))[:256]
    palette = Image.new("P", (1, 1))
    palette.putpalette([v for rgb in entries for v in rgb])
    return palette


def _bounds(shape: Shape) -> tuple[float, float, float, float]:
    """Where a shape may leave ink, in points (a little generous)."""
    if isinstance(shape, Text):
        w = text_width(shape)
        x = _start_x(shape, w)
        return x - 2, shape.y - shape.size, x + w + 2, shape.y + shape.size * 0.35
    if isinstance(shape, Box):
        pad = shape.line + 1
        return (
            shape.x - pad,
            shape.y - pad,
            shape.x + shape.width + pad,
            shape.y + shape.height + pad,
        )
    if isinstance(shape, Ring):
        r = shape.r + shape.line + 1
        return shape.cx - r, shape.cy - r, shape.cx + r, shape.cy + r
    half = shape.size / 2 + 1
    return shape.cx - half, shape.cy - half, shape.cx + half, shape.cy + half


def _moved(shape: Shape, dx: float, dy: float) -> Shape:
    if isinstance(shape, Text | Box):
        return replace(shape, x=shape.x + dx, y=shape.y + dy)
    return replace(shape, cx=shape.cx + dx, cy=shape.cy + dy)


@lru_cache(maxsize=8)
def _background(
    paper: str, shapes: tuple[Shape, ...], dpi: int, inks: tuple[str, ...], seal: Path | None
) -> tuple[Image.Image, Image.Image]:
    """The shared part of a kind of page, drawn once: in colour, and in the palette."""
    palette = _palette(paper, inks, seal)
    k = dpi / 72
    image = Image.new("RGB", (round(PAGE_WIDTH * k), round(PAGE_HEIGHT * k)), paper)
    draw = ImageDraw.Draw(image)
    for shape in shapes:
        _png_shape(image, draw, shape, k)
    return image, image.quantize(palette=palette, dither=Image.Dither.NONE)


def draw_png(page: Page, dpi: int) -> Image.Image:
    """The page as a palette picture (mode P) of A4 landscape at dpi. Only the part the
    foreground covers is drawn and mapped to the palette; the rest is the cached background."""
    seals = [s.path for s in (*page.background, *page.foreground) if isinstance(s, Picture)]
    inks, seal = _colours(page), (seals[0] if seals else None)
    palette = _palette(page.paper, inks, seal)
    colour, mapped = _background(page.paper, page.background, dpi, inks, seal)
    image = mapped.copy()
    if not page.foreground:
        return image
    k = dpi / 72
    bounds = [_bounds(shape) for shape in page.foreground]
    left = max(0, int(min(b[0] for b in bounds) * k))
    top = max(0, int(min(b[1] for b in bounds) * k))
    right = min(image.width, int(max(b[2] for b in bounds) * k) + 1)
    bottom = min(image.height, int(max(b[3] for b in bounds) * k) + 1)
    region = colour.crop((left, top, right, bottom))
    draw = ImageDraw.Draw(region)
    for shape in page.foreground:
        _png_shape(region, draw, _moved(shape, -left / k, -top / k), k)
    image.paste(region.quantize(palette=palette, dither=Image.Dither.NONE), (left, top))
    return image


def write_png(page: Page, path: Path, dpi: int = 150, compress_level: int = 1) -> Path:
    image = draw_png(page, dpi)
    return _write_atomically(
        path, lambda fh: image.save(fh, "PNG", compress_level=compress_level, dpi=(dpi, dpi))
    )
