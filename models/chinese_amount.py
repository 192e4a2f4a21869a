"""Money as it is written on Chinese bills and receipts: integer fen in financial capitals
(大写金额, 壹拾贰万叁仟肆佰伍拾陆元柒角整) and in figures with separators (123,456.70).

The rules are those of 中国人民银行《支付结算办法》, 附件一《正确填写票据和结算凭证的基本规定》:

1. The characters are 零壹贰叁肆伍陆柒捌玖拾佰仟万亿元角分整; a 1 before 拾 is always written
   (壹拾万, 壹仟零壹拾元), as banks do, so that nothing can be added in front.
2. An amount that ends at 元 ends with 整. After 角 the rule allows either; we write 整 there
   too (柒角整), as the festival's notice does. After 分 never.
3. Zeros between non-zero digits are written as one 零 however many there are
   (¥6,007.14: 陆仟零柒元壹角肆分; ¥1,409.50: 壹仟肆佰零玖元伍角整).
4. Where the rule makes the 零 optional (the digit before 万 or before 元 is 0 and the next digit,
   千 or 角, is not: ¥107,000.53, ¥1,680.32), we leave it out, since the unit word already shows
   the gap: 壹拾万柒仟元伍角叁分, 壹仟陆佰捌拾元叁角贰分. One exception: when a whole 万 section
   is zero (1,0000,3000 元) we write 零 (壹亿零叁仟元), because 壹亿叁仟 would read as 1.3 亿.
5. 角 zero and 分 not: 零 after 元 (¥16,409.02: 壹万陆仟肆佰零玖元零贰分); this 零 is required.
6. Below one yuan there is no 元 part: ¥0.50 伍角整, ¥0.05 伍分. Zero is 零元整.

The words 人民币 in front (required on a bill) are the document's to write, not this module's.
"""

from __future__ import annotations

DIGITS = "零壹贰叁肆伍陆柒捌玖"
PLACES = ("", "拾", "佰", "仟")  # within a four-digit section
WAN, YI = 10**4, 10**8
# 9,999,9999,9999,9999 yuan: 万亿 is the largest unit a bill has room for.
MAX_FEN = 10**16 * 100 - 1


def _check(fen: int) -> None:
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise TypeError(f"an amount in fen must be an int, not {type(fen).__name__}")
    if fen < 0:
        raise ValueError(f"a negative amount has no written form: {fen}")
    if fen > MAX_FEN:
        raise ValueError(f"amount too large for financial capitals: {fen} fen")


def _section(n: int) -> str:
    """1 to 9999: digits with their places, one 零 for zeros between non-zero digits."""
    out: list[str] = []
    zero_pending = False
    for power in (3, 2, 1, 0):
        digit = n // 10**power % 10
        if digit == 0:
            zero_pending = bool(out)
            continue
        if zero_pending:
            out.append("零")
            zero_pending = False
        out.append(DIGITS[digit] + PLACES[power])
    return "".join(out)


def _below_yi(n: int) -> str:
    """1 to 9999,9999."""
    high, low = divmod(n, WAN)
    if not high:
        return _section(low)
    text = _section(high) + "万"
    if low:
        # 壹拾万零伍佰 (the 千 digit is 0: required), 壹拾贰万叁仟 (the 零 is optional: left out)
        text += ("零" if low < 1000 else "") + _section(low)
    return text


def _yuan(n: int) -> str:
    """1 to 9999,9999,9999,9999."""
    high, low = divmod(n, YI)
    if not high:
        return _below_yi(n)
    text = _below_yi(high) + "亿"
    if low:
        # The 零 goes where the 千万 digit is 0: 壹亿零贰佰万, 壹亿零叁仟 (a whole 万 section of
        # zeros), 壹亿零壹; not before a non-zero 千万 digit: 壹亿贰仟万; and where the 亿
        # section is all zeros (壹万亿零贰仟万), as rule 4's exception says.
        skipped = low < 1000 * WAN or high % WAN == 0
        text += ("零" if skipped else "") + _below_yi(low)
    return text


def amount_in_capitals(fen: int) -> str:
    """12345670 -> 壹拾贰万叁仟肆佰伍拾陆元柒角整; 0 -> 零元整 (see the module's rules)."""
    _check(fen)
    yuan, cents = divmod(fen, 100)
    jiao, fen_digit = divmod(cents, 10)
    if yuan == 0 and cents == 0:
        return "零元整"
    text = _yuan(yuan) + "元" if yuan else ""
    if jiao:
        text += DIGITS[jiao] + "角"
    elif fen_digit and yuan:
        text += "零"
    if fen_digit:
        return text + DIGITS[fen_digit] + "分"
    return text + "整"


def amount_in_figures(fen: int) -> str:
    """12345670 -> '123,456.70': always two decimals, as on a bill (no currency sign)."""
    _check(fen)
    yuan, cents = divmod(fen, 100)
    return f"{yuan:,}.{cents:02d}"
