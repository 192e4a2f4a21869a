"""The 龙虎榜 as a PNG picture a youth league office can post as it is: a title band (title,
festival and live period), the board's date and week, the table (every column as wide as its
longest content, account names cut with … only when truly long, the top 3 set apart, ↑ green,
↓ red, 新上榜 marked) and a footer (where the data comes from, the scoring rule).

Two variants: landscape (1600 wide, the unit in its own column: for group chats) and
portrait (1080 wide, the unit under the name, up to 30 rows: for phones). The layout is
computed first (every text's box and the cell it must fit), then drawn: tests check the boxes.
Text is drawn run by run with the font that covers it (handlers/glyph_runs.py).

Longer than 300 lines on purpose: one drawing: the layout places every text and fill of one
picture in the variant's measures and the drawing paints exactly those, so they read best
together (the layout alone is about 130 lines). Its palette, `font` and `save_png` are the
festival's picture style, borrowed by the award list, certificates and posters."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from handlers import glyph_runs as gr

FONT_PACKAGE, FONT_FILE = gr.CJK

WIDTH, MARGIN = 1080, 36
BACKGROUND, STRIPE, INK, ACCENT, MUTED = "#fff8ee", "#fdebd3", "#2b1b0e", "#c0392b", "#7a6a5a"
BAND_TEXT, BAND_SUB, RULE = "#ffffff", "#ffe3c2", "#e6cfb0"
UP, DOWN, NEW, SAME = "#1e8e3e", "#c0392b", "#e67e22", "#9a8a7a"
TOP3_ROW = "#fff0c8"
MEDALS = ("#d4a017", "#9aa3ad", "#b8733a")  # gold, silver, bronze badges of ranks 1-3


def font_path() -> Path:
    return Path(gr._path(gr.CJK))


@cache
def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path()), size)


# ----- what the picture shows ---------------------------------------------------------------
@dataclass(frozen=True)
class BoardRow:
    rank: int
    account: str
    unit: str
    gmv: str
    days: str
    score: str
    change: str  # as shown: ↑2, ↓1, 新上榜, —
    trend: str  # up | down | new | same


@dataclass(frozen=True)
class BoardPicture:
    title: str  # 🏆 龙虎榜 · 总榜
    festival: str  # the festival's name and live period
    date: str  # the board's date and week
    headers: tuple[str, ...]  # rank, account, unit, gmv, days, score, change
    rows: list[BoardRow]
    footer: tuple[str, ...]  # data source, scoring rule, how many were ranked


@dataclass(frozen=True)
class Variant:
    name: str
    width: int
    margin: int
    title: int  # type sizes
    sub: int
    head: int
    cell: int
    unit: int
    foot: int
    row: int  # row height
    stacked: bool  # the unit under the account name (no unit column)
    gap: int  # between columns


LANDSCAPE = Variant("landscape", 1600, 56, 60, 30, 24, 28, 28, 22, 60, False, 32)
PORTRAIT = Variant("portrait", 1080, 40, 56, 28, 24, 30, 22, 22, 84, True, 22)
VARIANTS = {v.name: v for v in (LANDSCAPE, PORTRAIT)}


# ----- the layout -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Box:
    """One text as it will be drawn: `shown` is `text` or its cut form; x..x+width must lie in
    left..right (its cell, or the canvas)."""

    role: (
        str  # title, festival, date, header, rank, account, unit, gmv, days, score, change, footer
    )
    text: str
    shown: str
    x: float
    baseline: float
    size: int
    width: float
    left: float
    right: float
    fill: str


@dataclass
class Layout:
    variant: Variant
    width: int
    height: int = 0
    boxes: list[Box] = field(default_factory=list)
    fills: list[tuple[str, tuple[float, float, float, float], str]] = field(default_factory=list)

    def text(
        self,
        role: str,
        text: str,
        size: int,
        left: float,
        right: float,
        baseline: float,
        fill: str,
        align: str = "left",
        cut: bool = False,
    ) -> Box:
        shown = gr.ellipsize(text, size, right - left) if cut else text
        w = gr.width(shown, size)
        x = {"left": left, "right": right - w, "center": (left + right - w) / 2}[align]
        box = Box(role, text, shown, x, baseline, size, w, left, right, fill)
        self.boxes.append(box)
        return box


def _widest(texts: list[str], size: int) -> float:
    return max((gr.width(t, size) for t in texts), default=0.0)


KEYS = ("rank", "account", "unit", "gmv", "days", "score", "change")  # the headers' order
CHANGE_PAD = 10  # the 新上榜 pill's padding each side


def _columns(p: BoardPicture, v: Variant) -> dict[str, tuple[float, float]]:
    """Each column's left and right edge: as wide as its widest text (header included); the
    account column takes what is left (the unit column gives way when names need room)."""
    rows, heads = p.rows, dict(zip(KEYS, p.headers, strict=True))
    badge = v.cell * 1.5

    def need(key: str, cells: list[str], extra: float = 0.0) -> float:
        return max(gr.width(heads[key], v.head), _widest(cells, v.cell) + extra)

    widths = {
        "rank": max(
            gr.width(heads["rank"], v.head), badge, _widest([str(r.rank) for r in rows], v.cell)
        ),
        "gmv": need("gmv", [r.gmv for r in rows]),
        "days": need("days", [r.days for r in rows]),
        "score": need("score", [r.score for r in rows]),
        "change": need("change", [r.change for r in rows], 2 * CHANGE_PAD),
    }
    inner = v.width - 2 * v.margin
    order = ["rank", "account", "gmv", "days", "score", "change"]
    if not v.stacked:
        order.insert(2, "unit")
        widths["unit"] = need("unit", [r.unit for r in rows])
    gaps = v.gap * (len(order) - 1)
    account_need = need("account", [r.account for r in rows])
    left = inner - gaps - sum(widths.values())
    least = 10 * v.cell  # an account name keeps at least ten characters' room
    if not v.stacked and left < min(least, account_need):
        give = min(min(least, account_need) - left, widths["unit"] - 6 * v.cell)
        if give > 0:
            widths["unit"] -= give
            left += give
    widths["account"] = max(left, 4 * v.cell)
    edges, x = {}, float(v.margin)
    for key in order:
        edges[key] = (x, x + widths[key])
        x += widths[key] + v.gap
    return edges


def _fitted(
    lay: Layout, role: str, text: str, size: int, smallest: int, y: float, fill: str
) -> float:
    """A line across the canvas, made smaller (never cut) until it fits, or at `smallest`
    still too long, broken into lines at `size`; returns the height taken."""
    v = lay.variant
    room = lay.width - 2 * v.margin
    fitted = gr.fit_size(text, size, room, smallest)
    lines = [text] if gr.width(text, fitted) <= room else gr.wrap(text, size, room)
    size = fitted if len(lines) == 1 else size
    for line in lines:
        lay.text(role, line, size, v.margin, lay.width - v.margin, y + size, fill)
        y += size * 1.45
    return size * 1.45 * len(lines)


def layout(p: BoardPicture, v: Variant) -> Layout:
    lay = Layout(v, v.width)
    m = v.margin
    # the title band
    y = m * 0.8
    y += _fitted(lay, "title", p.title, v.title, v.title // 2, y, BAND_TEXT)
    y += _fitted(lay, "festival", p.festival, v.sub, v.sub // 2, y, BAND_SUB)
    band = y + m * 0.5
    lay.fills.append(("rect", (0, 0, v.width, band), ACCENT))
    y = band + m * 0.5
    y += _fitted(lay, "date", p.date, v.sub - 2, (v.sub - 2) // 2, y, INK)
    # the table's header
    cols = _columns(p, v)
    head_y = y + m * 0.3
    numeric = {"gmv", "days", "score"}
    for key, header in zip(KEYS, p.headers, strict=True):
        if key not in cols:
            continue
        a, b = cols[key]
        align = "right" if key in numeric else "center" if key in ("rank", "change") else "left"
        lay.text("header", header, v.head, a, b, head_y + v.head, MUTED, align)
    y = head_y + v.head * 1.8
    lay.fills.append(("rect", (m, y - 2, v.width - m, y), RULE))
    # the rows
    for i, r in enumerate(p.rows):
        top, bottom = y, y + v.row
        if r.rank <= 3:
            lay.fills.append(("rect", (m // 2, top, v.width - m // 2, bottom), TOP3_ROW))
        elif i % 2 == 1:
            lay.fills.append(("rect", (m // 2, top, v.width - m // 2, bottom), STRIPE))
        mid = (top + bottom) / 2
        base = mid + v.cell * 0.36  # CJK glyphs sit about this far above their baseline
        a, b = cols["rank"]
        if r.rank <= 3:
            rad = v.cell * 0.75
            cx = (a + b) / 2
            lay.fills.append(
                ("ellipse", (cx - rad, mid - rad, cx + rad, mid + rad), MEDALS[r.rank - 1])
            )
            lay.text("rank", str(r.rank), v.cell, a, b, base, BAND_TEXT, "center")
        else:
            lay.text("rank", str(r.rank), v.cell, a, b, base, INK, "center")
        a, b = cols["account"]
        name_fill = ACCENT if r.rank <= 3 else INK
        if v.stacked:
            name_base = mid - 2
            lay.text("account", r.account, v.cell, a, b, name_base, name_fill, cut=True)
            lay.text("unit", r.unit, v.unit, a, b, name_base + v.unit * 1.35, MUTED, cut=True)
        else:
            lay.text("account", r.account, v.cell, a, b, base, name_fill, cut=True)
            ua, ub = cols["unit"]
            lay.text("unit", r.unit, v.cell, ua, ub, base, MUTED, cut=True)
        for key in ("gmv", "days", "score"):
            a, b = cols[key]
            lay.text(key, getattr(r, key), v.cell, a, b, base, INK, "right")
        a, b = cols["change"]
        if r.trend == "new":
            box = lay.text("change", r.change, v.cell, a, b, base, BAND_TEXT, "center")
            h = v.cell * 0.72  # fills are drawn before every text: the pill under its word
            pill = (box.x - CHANGE_PAD, mid - h, box.x + box.width + CHANGE_PAD, mid + h)
            lay.fills.append(("pill", pill, NEW))
        else:
            colour = {"up": UP, "down": DOWN}.get(r.trend, SAME)
            lay.text("change", r.change, v.cell, a, b, base, colour, "center")
        y = bottom
    # the footer
    y += m * 0.4
    lay.fills.append(("rect", (m, y, v.width - m, y + 2), RULE))
    y += m * 0.3
    for line in p.footer:
        y += _fitted(lay, "footer", line, v.foot, v.foot - 4, y, MUTED)
    lay.height = int(y + m * 0.7)
    return lay


def draw(lay: Layout) -> Image.Image:
    image = Image.new("RGB", (lay.width, lay.height), BACKGROUND)
    canvas = ImageDraw.Draw(image)
    for kind, xy, colour in lay.fills:
        if kind == "ellipse":
            canvas.ellipse(xy, fill=colour)
        elif kind == "pill":
            canvas.rounded_rectangle(xy, radius=(xy[3] - xy[1]) / 2, fill=colour)
        else:
            canvas.rectangle(xy, fill=colour)
    for box in lay.boxes:
        gr.draw(canvas, (box.x, box.baseline), box.shown, box.size, box.fill)
    return image


def render(p: BoardPicture, variant: Variant, path: Path) -> Path:
    """Lay out, draw and write the board to path (parent directories are created)."""
    return save_png(draw(layout(p, variant)), path)


def save_png(image: Image.Image, path: Path) -> Path:
    """Write a picture to path (parent directories are created). Written beside and renamed
    into place: a reader (another /top, an upload) never sees half a picture while it is
    being drawn again."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".draw-", suffix=".png")
    try:
        with os.fdopen(fd, "wb") as fh:
            image.save(fh, "PNG", compress_level=6)  # optimize=True: 5x the time, 2% smaller
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
