"""What each certificate says and where: the page layout of the three kinds (award,
participation, donation acknowledgement). handlers/certificates.py turns pages into files.

The wording is in the message catalog (cert.*, zh_CN: certificates are Chinese documents), the
issuing body, signatory, date, seal and numbering in config.yaml (certificates:). Without a seal
image the seal's place holds a grey 样章 mark that says it is a rehearsal: never a made-up seal.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from handlers.certificate_documents import (
    AwardCertificate,
    Certificate,
    Issuer,
    MissingGlyphs,
    ParticipationCertificate,
    category,
    format_date,
    t,
)
from handlers.certificate_drawing import (
    MM,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    Align,
    Box,
    Page,
    Picture,
    Ring,
    Shape,
    Text,
    fitting_size,
    missing_glyphs,
    printable,
    wrap,
)
from models.chinese_amount import amount_in_capitals, amount_in_figures

PAPER, GOLD, RED, INK, MUTED, GREY, PALE = (
    "#fffdf7",
    "#b8893a",
    "#b83227",
    "#2b2118",
    "#6b5b4b",
    "#9a9a9a",
    "#d9d9d9",
)
LEFT, RIGHT = 38 * MM, PAGE_WIDTH - 38 * MM
SEAL_X, SEAL_Y, SEAL_SIZE = PAGE_WIDTH - 82 * MM, 170 * MM, 42 * MM
# The placeholder stands beside the issuing body, not over it, so that both stay readable.
MARK_X, MARK_Y, MARK_R = SEAL_X - 50 * MM, SEAL_Y - 2 * MM, 17 * MM
FOOTER_ROOM = 88 * MM  # the issuing body's lines, centred on the seal


@dataclass(frozen=True)
class Block:
    """A paragraph of the body: set at size, smaller together with the rest when the body is
    too long, and a one-line block (a name, an award) first shrunk before it is wrapped."""

    text: str
    size: float
    colour: str = INK
    align: Literal["left", "center"] = "left"
    one_line: bool = False
    space_before: float = 0.0


def _flow(blocks: list[Block], top: float, bottom: float, centred: bool) -> list[Text]:
    """The blocks from top down, all smaller together until they end above bottom; centred:
    the space left is shared above and below."""
    room = RIGHT - LEFT
    for step in range(11):
        scale = 1 - step * 0.05
        texts: list[Text] = []
        y = top
        for block in blocks:
            size = round(block.size * scale * 4) / 4
            lines = [block.text]
            if block.one_line and fitting_size(block.text, size, room) >= size * 0.7:
                size = fitting_size(block.text, size, room)
            else:
                lines = wrap(block.text, size, room)
            y += block.space_before * scale
            for line in lines:
                y += size * 1.55
                x = LEFT if block.align == "left" else PAGE_WIDTH / 2
                texts.append(Text(x, y - size * 0.45, line, size, block.colour, block.align))
        if y <= bottom:
            shift = (bottom - y) / 2 if centred else 0
            return [replace(text, y=text.y + shift) for text in texts]
    raise ValueError("the text is too long for one certificate page")


def _fitted(
    x: float, y: float, text: str, size: float, room: float, colour: str, align: Align
) -> Text:
    """One line at size, smaller when it does not fit room (the issuing body, the number)."""
    return Text(x, y, text, fitting_size(text, size, room), colour, align)


def _frame(title: str, issuer: Issuer, title_y: float, title_size: float) -> tuple[Shape, ...]:
    inset, inner = 10 * MM, 14 * MM
    shapes: list[Shape] = [
        Box(inset, inset, PAGE_WIDTH - 2 * inset, PAGE_HEIGHT - 2 * inset, GOLD, 3),
        Box(inner, inner, PAGE_WIDTH - 2 * inner, PAGE_HEIGHT - 2 * inner, RED, 0.8),
        _fitted(PAGE_WIDTH / 2, 32 * MM, issuer.festival, 15, RIGHT - LEFT, RED, "center"),
        Text(PAGE_WIDTH / 2, title_y, title, title_size, RED, "center", tracking=title_size / 3),
    ]
    if issuer.seal_image is None:
        shapes += [
            Ring(MARK_X, MARK_Y, MARK_R, GREY, 1, dash=4),
            Text(MARK_X, MARK_Y + 3 * MM, t("cert.placeholder_mark"), 24, PALE, "center", 4),
            Text(MARK_X, MARK_Y + 10 * MM, t("cert.placeholder_note"), 8, GREY, "center"),
        ]
    return tuple(shapes)


def _footer(issuer: Issuer) -> list[Shape]:
    lines = [(body, 15.0, INK) for body in issuer.bodies]
    if issuer.signatory:
        lines.append((issuer.signatory, 12.0, MUTED))
    lines.append((format_date(issuer.date, issuer.date_style), 14.0, INK))
    y = SEAL_Y - 7 * MM - (len(lines) - 3) * 4 * MM
    shapes: list[Shape] = []
    # beside the placeholder mark, the lines stay clear of it
    room = FOOTER_ROOM if issuer.seal_image else 2 * (SEAL_X - MARK_X - MARK_R - 3 * MM)
    for text, size, colour in lines:
        shapes.append(_fitted(SEAL_X, y, text, size, room, colour, "center"))
        y += size * 1.6
    if issuer.seal_image is not None:
        shapes.append(Picture(issuer.seal_image, SEAL_X, SEAL_Y, SEAL_SIZE))
    return shapes


def _body(cert: Certificate) -> list[Block]:
    issuer = cert.issuer
    common = {"year": issuer.year, "festival": issuer.festival}
    if isinstance(cert, AwardCertificate):
        blocks = [
            Block(t("cert.salutation", name=printable(cert.winner)), 22, one_line=True),
            Block("\u3000\u3000" + t(f"cert.award_{cert.kind}", **common), 16, space_before=4),
            Block(printable(cert.award), 30, RED, "center", one_line=True, space_before=8),
        ]
        if cert.title:
            title = t("cert.award_title", title=printable(cert.title))
            blocks.append(Block(title, 18, RED, "center", one_line=True, space_before=2))
        return [*blocks, Block("\u3000\u3000" + t("cert.award_closing"), 16, space_before=8)]
    if isinstance(cert, ParticipationCertificate):
        body = t("cert.participation_body", unit=printable(cert.unit), **common)
        return [
            Block(t("cert.salutation", name=printable(cert.streamer)), 22, one_line=True),
            Block("\u3000\u3000" + body, 16, space_before=6),
            Block("\u3000\u3000" + t("cert.participation_closing"), 16, space_before=6),
        ]
    opening = t(
        "cert.donation_opening",
        recipient=issuer.donation_recipient,
        date=format_date(issuer.date, issuer.date_style),
        **common,
    )
    capitals = t("cert.donation_capitals", capitals=amount_in_capitals(cert.received_fen))
    figures = t("cert.donation_figures", figures=amount_in_figures(cert.received_fen))
    blocks = [
        Block(t("cert.salutation", name=printable(cert.enterprise)), 18, one_line=True),
        Block("\u3000\u3000" + opening, 14, space_before=2),
        Block("\u3000\u3000" + capitals, 17, RED, one_line=True, space_before=4),
        Block("\u3000\u3000" + figures, 17, RED, one_line=True),
    ]
    if cert.directed_fen:
        directed = t(
            "cert.donation_directed",
            figures=amount_in_figures(cert.directed_fen),
            capitals=amount_in_capitals(cert.directed_fen),
            project=printable(cert.directed_project or ""),
        )
        blocks.append(Block("\u3000\u3000" + directed, 14, space_before=4))
    receipt = (
        t("cert.donation_foundation_number", number=printable(cert.foundation_number))
        if cert.foundation_number
        else t("cert.donation_no_foundation_number")
    )
    blocks.append(Block("\u3000\u3000" + receipt, 14))
    return [*blocks, Block("\u3000\u3000" + t("cert.donation_closing"), 14, space_before=4)]


def layout(cert: Certificate) -> Page:
    """Where every word of the certificate goes; raises MissingGlyphs for a name the font
    cannot print."""
    if not printable(cert.holder):
        raise ValueError(f"{cert.number}: the name has nothing that can be printed")
    kind = category(cert)
    title = t(f"cert.title_{kind}")
    if kind == "donation":
        frame = _frame(title, cert.issuer, 52 * MM, 32)
        body = _flow(_body(cert), 58 * MM, 146 * MM, centred=False)
        note = wrap(t("cert.donation_note"), 9, MARK_X - MARK_R - LEFT - 6 * MM)
        extra: list[Shape] = [
            Text(LEFT, 182 * MM + i * 13, line, 9, MUTED) for i, line in enumerate(note)
        ]
        number = t("cert.number_donation", number=cert.number)
    else:
        frame = _frame(title, cert.issuer, 62 * MM, 40)
        body = _flow(_body(cert), 72 * MM, 146 * MM, centred=True)
        extra = []
        number = t("cert.number", number=cert.number)
    top = [_fitted(RIGHT, 24 * MM, number, 10, 110 * MM, MUTED, "right")]
    # The issuing body, date, seal and note are the same on every certificate of a kind in a
    # run: part of the background, which the PNG side draws once per process.
    page = Page(
        PAPER,
        (*frame, *_footer(cert.issuer), *extra),
        (*top, *body),
        title=f"{title} {cert.number} {cert.holder}",
    )
    missing = missing_glyphs(page_text(page))
    if missing:
        raise MissingGlyphs(cert.number, missing)
    return page


def page_text(page: Page) -> str:
    """Every character the page draws (the tests check the font covers each one)."""
    return "".join(s.text for s in (*page.background, *page.foreground) if isinstance(s, Text))
