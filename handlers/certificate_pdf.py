"""A certificate page as a PDF (reportlab): one A4 landscape page, the font embedded as a
subset of the characters used."""

from __future__ import annotations

from pathlib import Path
from typing import IO

from reportlab.lib.colors import HexColor
from reportlab.pdfgen import canvas

from handlers.certificate_drawing import (
    FONT,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    Box,
    Page,
    Ring,
    Shape,
    Text,
    pdf_font,
    start_x,
    text_width,
    width,
    write_atomically,
)


def _pdf_shape(c: canvas.Canvas, shape: Shape) -> None:
    if isinstance(shape, Text):
        c.setFillColor(HexColor(shape.colour))
        c.setFont(FONT, shape.size)
        y = PAGE_HEIGHT - shape.y
        if shape.tracking:
            x = start_x(shape, text_width(shape))
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

    return write_atomically(path, write)
