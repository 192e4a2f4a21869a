"""Financial capitals (大写金额) and figures: the examples of 中国人民银行《支付结算办法》
附件一, cases worked out by hand, and every amount read back to its number by an independent
reader."""

from __future__ import annotations

import itertools
import random

import pytest

from models.chinese_amount import MAX_FEN, amount_in_capitals, amount_in_figures

CASES = [
    # the and the notice's examples
    (12345678, "壹拾贰万叁仟肆佰伍拾陆元柒角捌分"),
    (12345670, "壹拾贰万叁仟肆佰伍拾陆元柒角整"),
    (10000000, "壹拾万元整"),
    (0, "零元整"),
    # 支付结算办法附件一's examples (where it allows two forms, the one without the optional 零)
    (140950, "壹仟肆佰零玖元伍角整"),
    (600714, "陆仟零柒元壹角肆分"),
    (168032, "壹仟陆佰捌拾元叁角贰分"),
    (10700053, "壹拾万柒仟元伍角叁分"),
    (1640902, "壹万陆仟肆佰零玖元零贰分"),
    (32504, "叁佰贰拾伍元零肆分"),
    # below one yuan: no 元 part
    (1, "壹分"),
    (9, "玖分"),
    (10, "壹角整"),
    (11, "壹角壹分"),
    (99, "玖角玖分"),
    # 元 boundaries
    (100, "壹元整"),
    (101, "壹元零壹分"),
    (110, "壹元壹角整"),
    (1000, "壹拾元整"),
    (1100, "壹拾壹元整"),
    (1001, "壹拾元零壹分"),
    (2000, "贰拾元整"),
    (9999, "玖拾玖元玖角玖分"),
    (10000, "壹佰元整"),
    (10100, "壹佰零壹元整"),
    (11000, "壹佰壹拾元整"),
    (101000, "壹仟零壹拾元整"),
    (100100, "壹仟零壹元整"),
    (100000, "壹仟元整"),
    (999999, "玖仟玖佰玖拾玖元玖角玖分"),
    # 万: the 零 before a section whose 千 digit is 0 is required, before a non-zero 千 not written
    (1000000, "壹万元整"),
    (1000100, "壹万零壹元整"),
    (1010000, "壹万零壹佰元整"),
    (1100000, "壹万壹仟元整"),
    (10050000, "壹拾万零伍佰元整"),
    (10001000, "壹拾万零壹拾元整"),
    (10000001, "壹拾万元零壹分"),
    (10000010, "壹拾万元壹角整"),
    (15000000, "壹拾伍万元整"),
    (100000000, "壹佰万元整"),
    (100700000, "壹佰万柒仟元整"),
    (999999999, "玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
    (1000000000, "壹仟万元整"),
    (1000000100, "壹仟万零壹元整"),
    (1002000000, "壹仟零贰万元整"),
    # the donation thresholds
    (50000000, "伍拾万元整"),
    (2500000, "贰万伍仟元整"),
    (15000000, "壹拾伍万元整"),
    # 亿
    (10000000000, "壹亿元整"),
    (10000000100, "壹亿零壹元整"),
    (10000300000, "壹亿零叁仟元整"),
    (10050000000, "壹亿零伍拾万元整"),
    (10200000000, "壹亿零贰佰万元整"),
    (12000000000, "壹亿贰仟万元整"),
    (12000300000, "壹亿贰仟万叁仟元整"),
    (12000030000, "壹亿贰仟万零叁佰元整"),
    (100000000000, "壹拾亿元整"),
    (100010000000, "壹拾亿零壹拾万元整"),
    # 万亿
    (100000000000000, "壹万亿元整"),
    (100002000000000, "壹万亿零贰仟万元整"),
    (100000000000100, "壹万亿零壹元整"),
    (123456789012345678, "壹仟贰佰叁拾肆万伍仟陆佰柒拾捌亿玖仟零壹拾贰万叁仟肆佰伍拾陆元柒角捌分"),
    (MAX_FEN, "玖仟玖佰玖拾玖万玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
]


@pytest.mark.parametrize(("fen", "text"), CASES)
def test_capitals(fen: int, text: str) -> None:
    assert amount_in_capitals(fen) == text


FIGURES = [
    (0, "0.00"),
    (1, "0.01"),
    (99, "0.99"),
    (100, "1.00"),
    (12345670, "123,456.70"),
    (99999, "999.99"),
    (100000, "1,000.00"),
    (10000000, "100,000.00"),
    (10000000100, "100,000,001.00"),
    (MAX_FEN, "9,999,999,999,999,999.99"),
]


@pytest.mark.parametrize(("fen", "text"), FIGURES)
def test_figures(fen: int, text: str) -> None:
    assert amount_in_figures(fen) == text


@pytest.mark.parametrize("convert", [amount_in_capitals, amount_in_figures])
def test_refused(convert: object) -> None:
    assert callable(convert)
    with pytest.raises(ValueError, match="negative"):
        convert(-1)
    with pytest.raises(ValueError, match="too large"):
        convert(MAX_FEN + 1)
    for wrong in (1.5, True, "100"):
        with pytest.raises(TypeError):
            convert(wrong)


# An independent reader: capitals back to fen, ignoring 零 (its placement is checked apart).
NUM = {c: i for i, c in enumerate("零壹贰叁肆伍陆柒捌玖")}
PLACE = {"拾": 10, "佰": 100, "仟": 1000}


def _read_section(text: str) -> int:
    total = digit = 0
    for ch in text:
        if ch in PLACE:
            total += digit * PLACE[ch]
            digit = 0
        else:
            digit = NUM[ch]
    return total + digit


def _read_integer(text: str) -> int:
    if "亿" in text:
        high, low = text.split("亿")
        return _read_integer(high) * 10**8 + _read_integer(low)
    if "万" in text:
        high, low = text.split("万")
        return _read_section(high) * 10**4 + _read_section(low)
    return _read_section(text)


def read_back(text: str) -> int:
    if text == "零元整":
        return 0
    yuan_text, _, rest = text.rpartition("元")
    fen = _read_integer(yuan_text) * 100
    rest = rest.removesuffix("整").lstrip("零")
    if "角" in rest:
        jiao, rest = rest.split("角")
        fen += NUM[jiao] * 10
    if rest:
        assert rest.endswith("分")
        fen += NUM[rest[:-1]]
    return fen


def well_formed(text: str) -> None:
    assert "零零" not in text
    for unit in "拾佰仟万亿元角分整":
        if text != "零元整":
            assert "零" + unit not in text, text
    assert text == "零元整" or not text.startswith("零")
    assert text.endswith(("整", "分"))
    assert not ("分" in text and text.endswith("整"))
    assert "拾" not in text or not text.startswith("拾")
    assert all(ch in "零壹贰叁肆伍陆柒捌玖拾佰仟万亿元角分整" for ch in text)


def amounts() -> list[int]:
    rng = random.Random(20261206)
    values = {fen for fen, _ in CASES}
    for digits in range(1, 19):
        for _ in range(300):
            # many zeros: they are where the rules are
            values.add(int("".join(rng.choice("0000123456789") for _ in range(digits))))
    for power in range(19):
        values.update({10**power - 1, 10**power, 10**power + 1})
    return sorted(v for v in values if 0 <= v <= MAX_FEN)


def test_every_amount_reads_back_and_is_well_formed() -> None:
    for fen in amounts():
        text = amount_in_capitals(fen)
        assert read_back(text) == fen, (fen, text)
        well_formed(text)
        assert amount_in_figures(fen).replace(",", "").replace(".", "").lstrip("0") == (
            str(fen).lstrip("0")
        )


def test_a_zero_stands_for_every_gap_between_digits() -> None:
    """One 零 for every run of zeros between non-zero digits, except the optional ones of
    rule 4: a run ending at the 元 digit (the 元 word shows it), and a run ending at the 万, 亿
    or 万亿 digit that is shorter than a whole four-digit section."""
    for fen in amounts()[1:]:  # not 0 (零元整)
        digits = str(fen)
        text = amount_in_capitals(fen)
        # positions counted from the 分 digit: 0 分, 1 角, 2 元, 6 万, 10 亿, 14 万亿
        nonzero = [len(digits) - 1 - i for i, d in enumerate(digits) if d != "0"]
        expected = 0
        for high, low in itertools.pairwise(nonzero):
            run, lowest = high - low - 1, low + 1
            if run == 0:
                continue
            optional = lowest == 2 or (lowest in (6, 10, 14) and run < 4)
            expected += not optional
        assert text.count("零") == expected, (fen, text)
