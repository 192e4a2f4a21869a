"""A certificate page as a PNG (Pillow): A4 landscape at the configured dpi, a palette picture.
Most pages of a run share their frame and issuing body, so that part is drawn once per process
and only what differs (the number, the body) is drawn per certificate."""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageColor, ImageDraw, ImageFont

from handlers.board_image import font_path
from handlers.certificate_drawing import (
    PAGE_HEIGHT,
    PAGE_WIDTH,
    Box,
    Page,
    Picture,
    Ring,
    Shape,
    Text,
    start_x,
    text_width,
    width,
    write_atomically,
)


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
    x = start_x(shape, text_width(shape))
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
        x = start_x(shape, w)
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
    return write_atomically(
        path, lambda fh: image.save(fh, "PNG", compress_level=compress_level, dpi=(dpi, dpi))
    )
