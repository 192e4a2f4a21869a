"""Certificates as people get them: the PDF's text read back (pypdf), the PNG opened with Pillow,
every character drawn checked against the font's own cmap (fontTools), long names kept inside
the page, the committee's ZIP, and the template's config."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from fontTools.ttLib import TTCollection
from PIL import Image, ImageDraw
from pypdf import PdfReader

from bot.config import ConfigError, FestivalConfig, load_config, parse_config
from handlers.board_image import font_path
from handlers.certificate_drawing import (
    MM,
    NO_END,
    NO_START,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    Ring,
    Text,
    printable,
    text_width,
    width,
    wrap,
)
from handlers.certificates import (
    AwardCertificate,
    Certificate,
    DonationAcknowledgement,
    Issuer,
    MissingGlyphs,
    ParticipationCertificate,
    PngOptions,
    certificate_number,
    format_date,
    issuer_from_config,
    layout,
    page_text,
    png_options,
    render,
    render_many,
    zip_certificates,
)

ROOT = Path(__file__).resolve().parent.parent
DAY = dt.date(2020, 12, 10)
RARE = "䶮"  # a real ideograph (CJK Extension A) that WenQuanYi Micro Hei does not have


@pytest.fixture(scope="module")
def config() -> FestivalConfig:
    return load_config(ROOT / "config.yaml")


@pytest.fixture(scope="module")
def issuer(config: FestivalConfig) -> Issuer:
    return issuer_from_config(config, DAY)


@cache
def cmap() -> dict[int, str]:
    collection = TTCollection(str(font_path()))
    return dict(collection.fonts[0]["cmap"].getBestCmap())


def pdf_text(path: Path) -> str:
    """The page's text with whitespace removed (titles are set letter-spaced)."""
    reader = PdfReader(path)
    assert len(reader.pages) == 1
    return re.sub(r"\s+", "", reader.pages[0].extract_text())


def assert_png(path: Path, dpi: int = 150) -> Image.Image:
    with Image.open(path) as image:
        image.load()
    assert image.format == "PNG"
    assert image.size == (round(297 / 25.4 * dpi), round(210 / 25.4 * dpi))  # A4 landscape
    assert image.mode == "P"
    assert round(image.info["dpi"][0]) == dpi
    return image


def ink_pixels(image: Image.Image, box: tuple[int, int, int, int]) -> int:
    """Pixels in box darker than the paper (text, lines)."""
    grey = image.convert("L").crop(box)
    return sum(count for value, count in enumerate(grey.histogram()) if value < 160)


def assert_drawable(cert: Certificate) -> str:
    """Every character the page draws has a glyph in the font (no tofu boxes); returns them."""
    text = page_text(layout(cert))
    missing = {ch for ch in text if ord(ch) not in cmap()}
    assert not missing, missing
    return text


def assert_inside(cert: Certificate) -> None:
    """No text leaves the inner frame (14 mm from the edge) or runs into the footer."""
    page = layout(cert)
    for shape in (*page.background, *page.foreground):
        if not isinstance(shape, Text):
            continue
        w = text_width(shape)
        left = {"left": shape.x, "center": shape.x - w / 2, "right": shape.x - w}[shape.align]
        assert 16 * MM <= left and left + w <= PAGE_WIDTH - 16 * MM, (shape.text, left, w)
        assert 16 * MM <= shape.y - shape.size and shape.y <= PAGE_HEIGHT - 16 * MM, shape.text
    for shape in page.foreground:
        if isinstance(shape, Text) and shape.size > 10:  # the body, above the footer
            assert shape.y <= 147 * MM, shape.text
    rings = [s for s in page.background if isinstance(s, Ring)]
    for ring in rings:  # the placeholder mark: only its own labels inside its square
        for shape in (*page.background, *page.foreground):
            if not isinstance(shape, Text) or abs(shape.x - ring.cx) < 1:
                continue
            w = text_width(shape)
            left = {"left": shape.x, "center": shape.x - w / 2, "right": shape.x - w}[shape.align]
            apart = left > ring.cx + ring.r or left + w < ring.cx - ring.r
            assert apart or shape.y < ring.cy - ring.r or shape.y - shape.size > ring.cy + ring.r, (
                shape.text
            )


# -- the three kinds, as PDF and PNG -------------------------------------------------------


def test_streamer_award_pdf_and_png(tmp_path: Path, issuer: Issuer) -> None:
    cert = AwardCertificate(
        "DLYCD2020-RY-00001",
        issuer,
        "赣南小橙子",
        "优秀主播奖·特等奖",
        "streamer",
        "江西青年电商扶贫大使",
    )
    done = render(cert, tmp_path)
    assert done.pdf == tmp_path / "DLYCD2020-RY-00001.pdf"
    assert done.png == tmp_path / "DLYCD2020-RY-00001.png"
    assert (done.category, done.holder) == ("award", "赣南小橙子")
    text = pdf_text(done.pdf)
    for expected in (
        "荣誉证书",
        "赣南小橙子：",
        "优秀主播奖·特等奖",
        "江西青年电商扶贫大使",
        "证书编号：DLYCD2020-RY-00001",
        "点亮原产地·江西青年直播节",
        "共青团江西省委",
        "点亮原产地组委会",
        "组委会主任刘小青",
        "2020年12月10日",
        "样章",  # no seal image configured: the rehearsal mark, labelled as such
        "演练用·非正式",
    ):
        assert expected in text, expected
    image = assert_png(done.png)
    assert ink_pixels(image, (200, 400, 1554, 800)) > 5000  # the body is drawn
    assert ink_pixels(image, (0, 0, 45, 45)) == 0  # the margin (outside the frame) is paper
    drawn = assert_drawable(cert)
    assert "赣南小橙子" in drawn and "优秀主播奖·特等奖" in drawn


@pytest.mark.parametrize(
    ("kind", "name", "award", "wording"),
    [
        ("unit", "萍乡市安源区团委", "优秀组织奖", "积极组织"),
        ("enterprise", "江西赣南脐橙农业科技有限公司", "爱心企业贡献奖", "热心公益"),
    ],
)
def test_unit_and_enterprise_awards(
    tmp_path: Path, issuer: Issuer, kind: Any, name: str, award: str, wording: str
) -> None:
    cert = AwardCertificate("DLYCD2020-RY-00040", issuer, name, award, kind)
    text = pdf_text(render(cert, tmp_path).pdf)
    assert name in text and award in text and wording in text
    assert "扶贫大使" not in text
    assert_drawable(cert)


def test_participation_certificate(tmp_path: Path, issuer: Issuer) -> None:
    cert = ParticipationCertificate("DLYCD2020-CY-00007", issuer, "小明的果园", "萍乡市安源区团委")
    done = render(cert, tmp_path)
    text = pdf_text(done.pdf)
    for expected in ("参与证书", "小明的果园：", "经萍乡市安源区团委推荐", "DLYCD2020-CY-00007"):
        assert expected in text, expected
    assert_png(done.png)
    assert_drawable(cert)


def test_donation_acknowledgement_amounts(tmp_path: Path, issuer: Issuer) -> None:
    cert = DonationAcknowledgement(
        "DLYCD2020-JZ-00003",
        issuer,
        "江西赣南脐橙农业科技有限公司",
        received_fen=12345670,
        directed_fen=2500000,
        directed_project="希望小学图书室",
        foundation_number="JX2020-000123",
    )
    done = render(cert, tmp_path)
    text = pdf_text(done.pdf)
    for expected in (
        "捐赠确认函",
        "编号：DLYCD2020-JZ-00003",
        "江西赣南脐橙农业科技有限公司：",
        "人民币（大写）：壹拾贰万叁仟肆佰伍拾陆元柒角整",
        "人民币（小写）：¥123,456.70",
        "定向捐赠人民币25,000.00元（大写：贰万伍仟元整）",
        "希望小学图书室",
        "票据编号：JX2020-000123",
        "江西希望工程（江西省青少年发展基金会）",
        "截至2020年12月10日",
        "不作为捐赠票据",
    ):
        assert expected in text, expected
    assert_png(done.png)
    assert_drawable(cert)


def test_donation_without_directed_part_or_receipt(tmp_path: Path, issuer: Issuer) -> None:
    cert = DonationAcknowledgement("DLYCD2020-JZ-00004", issuer, "某某科技有限公司", 10000000)
    text = pdf_text(render(cert, tmp_path).pdf)
    assert "壹拾万元整" in text and "¥100,000.00" in text
    assert "定向" not in text and "票据编号" not in text
    assert "捐赠票据由基金会另行开具" in text


@pytest.mark.parametrize(
    ("received", "directed", "project", "reason"),
    [
        (0, 0, None, "above zero"),
        (-100, 0, None, "above zero"),
        (100, 200, "项目", "between 0"),
        (100, -1, "项目", "between 0"),
        (10000, 100, None, "needs its project"),
        (10000, 100, "  ", "needs its project"),
    ],
)
def test_donation_values_are_checked(
    issuer: Issuer, received: int, directed: int, project: str | None, reason: str
) -> None:
    with pytest.raises(ValueError, match=reason):
        DonationAcknowledgement("N1", issuer, "某企业", received, directed, project)


def test_pdf_is_the_same_bytes_each_time(tmp_path: Path, issuer: Issuer) -> None:
    cert = ParticipationCertificate("DLYCD2020-CY-00001", issuer, "小明", "南昌市团委")
    first = render(cert, tmp_path / "a").pdf.read_bytes()
    assert render(cert, tmp_path / "b").pdf.read_bytes() == first


# -- what does not fit, what cannot be printed ---------------------------------------------

LONG_NAME = "江西省某某县某某镇某某村农产品电子商务专业合作社联合社（有限责任）第二分社" * 2


def long_cases(issuer: Issuer) -> list[Certificate]:
    crowded = Issuer(
        "点亮原产地·江西青年直播节（第一届全省青年电商直播助农活动暨江西特色农产品展销周）",
        2020,
        ("共青团江西省委员会", "江西省青少年发展基金会（江西希望工程办公室）", "点亮原产地组委会"),
        "组委会主任（常务副主任兼秘书长） 刘小青",
        dt.date(2020, 12, 31),
        "chinese",
    )
    return [
        AwardCertificate("L-1", issuer, LONG_NAME, "爱心企业突出贡献奖", "enterprise"),
        AwardCertificate(
            "L-2", issuer, "小" * 30, "优秀主播奖·特等奖" * 5, "streamer", "大使" * 30
        ),
        ParticipationCertificate("L-3", issuer, "Streamer" * 12, LONG_NAME),
        DonationAcknowledgement(
            "L-4", issuer, LONG_NAME, 999_999_999_999_99, 12_345_678_901_23, LONG_NAME, "X" * 60
        ),
        DonationAcknowledgement("L-5", crowded, LONG_NAME, 12345678, 1, "项目"),
        AwardCertificate("L-6", crowded, "短", "优秀组织奖", "unit"),
    ]


def test_long_texts_shrink_or_wrap_inside_the_page(issuer: Issuer, tmp_path: Path) -> None:
    for cert in long_cases(issuer):
        assert_inside(cert)
        drawn = assert_drawable(cert)
        assert cert.holder in drawn  # wrapped, never cut
    # and they render
    award = long_cases(issuer)[0]
    text = pdf_text(render(award, tmp_path).pdf)
    assert LONG_NAME in text


def test_a_name_too_long_for_any_size_is_refused(issuer: Issuer) -> None:
    cert = AwardCertificate("L-9", issuer, "很长的名字" * 400, "优秀组织奖", "unit")
    with pytest.raises(ValueError, match="too long"):
        layout(cert)


def test_emoji_are_left_out_and_missing_ideographs_refused(issuer: Issuer, tmp_path: Path) -> None:
    cert = ParticipationCertificate("E-1", issuer, "小明的果园🍊\u200d", "南昌市\n团委")
    done = render(cert, tmp_path)
    assert done.holder == "小明的果园"
    text = pdf_text(done.pdf)
    assert "小明的果园：" in text and "🍊" not in text and "南昌市团委" in text
    assert ord(RARE) not in cmap()
    bad = AwardCertificate("E-2", issuer, f"王{RARE}", "优秀主播奖·优秀奖", "streamer")
    with pytest.raises(MissingGlyphs) as caught:
        layout(bad)
    assert caught.value.characters == RARE


def test_a_name_with_nothing_printable_is_refused(issuer: Issuer) -> None:
    with pytest.raises(ValueError, match="nothing that can be printed"):
        layout(ParticipationCertificate("E-3", issuer, " 🍊🍊\u200d ", "南昌市团委"))


def test_printable_keeps_letters_and_collapses_space() -> None:
    assert printable("  Ａ  小明\t\n果园 ✨ ") == "Ａ 小明 果园"
    assert printable(f"王{RARE}") == f"王{RARE}"  # kept, for missing_glyphs to report


def test_wrap_breaks_lines_by_the_rules() -> None:
    text = "感谢贵单位积极参与2020年「点亮原产地·江西青年直播节」，热心支持江西希望工程。" * 3
    for room in (80.0, 123.0, 200.0, 333.0):
        lines = wrap(text, 14, room)
        assert "".join(lines) == text
        for i, line in enumerate(lines):
            assert width(line, 14) <= room
            if i:
                assert line[0] not in NO_START, lines
            if i < len(lines) - 1:
                assert line[-1] not in NO_END, lines
        assert all("2020" in line or "202" not in line for line in lines)  # figures stay whole
    cut = wrap("A" * 50, 10, 30)  # a word wider than the line is cut
    assert "".join(cut) == "A" * 50 and all(width(line, 10) <= 30 for line in cut)


# -- seal, numbers, dates ------------------------------------------------------------------


def test_a_seal_image_replaces_the_placeholder(tmp_path: Path, issuer: Issuer) -> None:
    seal = tmp_path / "seal.png"
    ring = Image.new("RGBA", (300, 300), (0, 0, 0, 0))
    ImageDraw.Draw(ring).ellipse((10, 10, 290, 290), outline=(200, 20, 20, 230), width=24)
    ring.save(seal)
    sealed = Issuer(issuer.festival, 2020, issuer.bodies, None, DAY, seal_image=seal)
    cert = AwardCertificate("S-1", sealed, "赣南小橙子", "优秀组织奖", "unit")
    done = render(cert, tmp_path)
    text = pdf_text(done.pdf)
    assert "样章" not in text and "组委会主任" not in text  # signatory None: no line
    reader = PdfReader(done.pdf)
    resources = reader.pages[0]["/Resources"]
    assert any(
        xobject.get_object()["/Subtype"] == "/Image"
        for xobject in resources["/XObject"].values()  # type: ignore[union-attr]
    )
    image = assert_png(done.png).convert("RGB")
    x, y = round((PAGE_WIDTH - 82 * MM) / 72 * 150), round(170 * MM / 72 * 150)
    reds = [image.getpixel((x + dx, y + dy)) for dx in range(-130, 131, 2) for dy in (-1, 0, 1)]
    assert any(r > 150 and g < 90 and b < 90 for r, g, b in reds)  # type: ignore[misc]


def test_numbers_and_dates(config: FestivalConfig) -> None:
    assert certificate_number(config, "award", 1) == "DLYCD2020-RY-00001"
    assert certificate_number(config, "participation", 2000) == "DLYCD2020-CY-02000"
    assert certificate_number(config, "donation", 123456) == "DLYCD2020-JZ-123456"
    assert format_date(DAY, "numeric") == "2020年12月10日"
    assert format_date(DAY, "chinese") == "二〇二〇年十二月十日"
    assert format_date(dt.date(2021, 1, 1), "chinese") == "二〇二一年一月一日"
    assert format_date(dt.date(2020, 11, 20), "chinese") == "二〇二〇年十一月二十日"
    assert format_date(dt.date(2020, 10, 31), "chinese") == "二〇二〇年十月三十一日"
    assert format_date(dt.date(2020, 3, 5), "numeric") == "2020年3月5日"


def test_issuer_from_config(config: FestivalConfig) -> None:
    issuer = issuer_from_config(config, DAY)
    assert issuer.festival == "点亮原产地·江西青年直播节" and issuer.year == 2020
    assert issuer.bodies == ("共青团江西省委", "点亮原产地组委会")
    assert issuer.date == DAY and issuer.seal_image is None
    assert png_options(config) == PngOptions(150, 1)
    fixed = parse_config({**raw(), "certificates": {**raw()["certificates"], "date": "2020-12-08"}})
    assert issuer_from_config(fixed, DAY).date == dt.date(2020, 12, 8)


# -- the committee's downloads -------------------------------------------------------------


def test_render_many_and_zip(tmp_path: Path, issuer: Issuer) -> None:
    certs: list[Certificate] = [
        AwardCertificate(
            "DLYCD2020-RY-00001", issuer, "赣南小橙子", "优秀主播奖·特等奖", "streamer"
        ),
        ParticipationCertificate("DLYCD2020-CY-00001", issuer, "小明/的果园", "南昌市团委"),
        DonationAcknowledgement("DLYCD2020-JZ-00001", issuer, "某某有限公司", 15000000),
        ParticipationCertificate("DLYCD2020-CY-00002", issuer, f"王{RARE}", "南昌市团委"),
    ]
    batch = render_many(certs, tmp_path / "out", PngOptions(dpi=72), processes=2)
    assert [d.number for d in batch.rendered] == [c.number for c in certs[:3]]
    assert [(f.number, f.holder) for f in batch.failed] == [("DLYCD2020-CY-00002", f"王{RARE}")]
    assert RARE in batch.failed[0].reason
    assert_png(batch.rendered[0].png, dpi=72)

    archive = zip_certificates(batch.rendered, tmp_path / "all.zip")
    with zipfile.ZipFile(archive) as z:
        names = z.namelist()
        assert "获奖证书/DLYCD2020-RY-00001_赣南小橙子.pdf" in names
        assert "参与证书/DLYCD2020-CY-00001_小明的果园.png" in names  # no "/" from the name
        assert "捐赠确认函/DLYCD2020-JZ-00001_某某有限公司.pdf" in names
        assert len(names) == 3 * 2 + 1
        entry = "获奖证书/DLYCD2020-RY-00001_赣南小橙子.pdf"
        assert z.read(entry) == batch.rendered[0].pdf.read_bytes()
        index = z.read("清单.csv").decode("utf-8")
    assert index.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(index.removeprefix("\ufeff"))))
    assert rows[0] == ["编号", "类别", "获得者", "PDF", "PNG"]
    assert rows[3][:3] == ["DLYCD2020-JZ-00001", "捐赠确认函", "某某有限公司"]
    assert not list(tmp_path.glob(".zip-*"))  # nothing half-written left behind

    with pytest.raises(ValueError, match="twice"):
        zip_certificates([batch.rendered[0], batch.rendered[0]], tmp_path / "dup.zip")
    assert not (tmp_path / "dup.zip").exists()
    with pytest.raises(ValueError, match="unique"):
        render_many([certs[0], certs[0]], tmp_path / "again")


# -- config --------------------------------------------------------------------------------


@cache
def _raw() -> str:
    return (ROOT / "config.yaml").read_text(encoding="utf-8")


def raw() -> dict[str, Any]:
    data = yaml.safe_load(_raw())
    assert isinstance(data, dict)
    return data


def test_shipped_certificate_template(config: FestivalConfig) -> None:
    c = config.certificates
    assert c.issuing_body == ["共青团江西省委", "点亮原产地组委会"]
    assert c.seal_image is None and c.date is None and c.date_style == "numeric"
    assert (c.png_dpi, c.png_compress_level) == (150, 1)


def test_config_without_the_section_has_defaults() -> None:
    data = raw()
    del data["certificates"]
    c = parse_config(data).certificates
    assert c.issuing_body == ["点亮原产地组委会"] and c.signatory is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"number_format": "DL-{year}"}, "must contain {serial}"),
        ({"number_format": "DL-{serial}-{unit}"}, "cannot be filled"),
        ({"number_format": "证书{serial}"}, "letters, digits"),
        ({"seal_image": "no/such/seal.png"}, "seal image not found"),
        ({"issuing_body": []}, "issuing_body"),
        ({"png_dpi": 20}, "png_dpi"),
        ({"date_style": "roman"}, "date_style"),
        ({"number_codes": {"award": "荣誉"}}, "number_codes.award"),
    ],
)
def test_bad_template_is_refused(change: dict[str, Any], message: str) -> None:
    data = raw()
    data["certificates"] = {**data["certificates"], **change}
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_config(data)
