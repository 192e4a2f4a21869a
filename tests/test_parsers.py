from datetime import date
from decimal import Decimal

import pytest

from bot.core.parsers import (
    ParseError,
    normalize,
    parse_cn_mobile,
    parse_count,
    parse_date,
    parse_duration_minutes,
    parse_money_fen,
    parse_number,
    parse_percent,
    parse_text,
    parse_url,
    parse_yes_no,
)

TODAY = date(2020, 11, 2)
LONG = "x" * 10_000


def assert_error(exc: pytest.ExceptionInfo[ParseError], key: str, params: dict[str, object]):
    assert exc.value.key == key
    assert exc.value.params == params


def test_parse_error_is_value_error() -> None:
    err = ParseError("err.too_large", max=5)
    assert isinstance(err, ValueError)
    assert err.key == "err.too_large"
    assert err.params == {"max": 5}


# --- normalize / parse_text -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("５０００，１２：３０", "5000,12:30"),
        ("  hello   world  ", "hello world"),
        ("a\tb\nc\r\nd", "a b c d"),
        ("\u3000全角空格\u3000", "全角空格"),
        ("\u200bab\u200cc\u200dd\ufeff", "abcd"),
        ("a\x00b\x07c\x7f", "abc"),
        ("Ｈｅｌｌｏ", "Hello"),
        ("", ""),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize(
    ("raw", "kwargs", "expected"),
    [
        ("  小红的店  ", {}, "小红的店"),
        ("主播🙂小店🔥", {}, "主播🙂小店🔥"),
        ("Ａｂｃ  １２３", {}, "Abc 123"),
        ("x" * 100, {}, "x" * 100),
        ("abc", {"max_len": 3}, "abc"),
        ("ab", {"min_len": 2}, "ab"),
    ],
)
def test_parse_text_ok(raw: str, kwargs: dict[str, int], expected: str) -> None:
    assert parse_text(raw, **kwargs) == expected


@pytest.mark.parametrize(
    ("raw", "kwargs", "key", "params"),
    [
        ("", {}, "err.empty", {}),
        ("   ", {}, "err.empty", {}),
        ("\n\t\u3000", {}, "err.empty", {}),
        ("\x00\x01", {}, "err.bad_text", {}),
        ("\u200b\ufeff", {}, "err.bad_text", {}),
        (LONG, {}, "err.too_long", {"max": 100}),
        ("x" * 101, {}, "err.too_long", {"max": 100}),
        ("abcd", {"max_len": 3}, "err.too_long", {"max": 3}),
        ("a", {"min_len": 2}, "err.too_small", {"min": 2}),
    ],
)
def test_parse_text_errors(
    raw: str, kwargs: dict[str, int], key: str, params: dict[str, object]
) -> None:
    with pytest.raises(ParseError) as exc:
        parse_text(raw, **kwargs)
    assert_error(exc, key, params)


# --- parse_number -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("5000", "5000"),
        ("５０００", "5000"),
        ("  42  ", "42"),
        ("0", "0"),
        ("12,000", "12000"),
        ("12，000", "12000"),
        ("1,234,567", "1234567"),
        ("12 000", "12000"),
        ("3.14", "3.14"),
        ("1,234.50", "1234.50"),
        ("1.2万", "12000"),
        ("1.2 万", "12000"),
        ("3w", "30000"),
        ("3W", "30000"),
        ("5k", "5000"),
        ("5K", "5000"),
        ("12k", "12000"),
        ("2亿", "200000000"),
        ("1.5亿", "150000000"),
        ("1万2", "12000"),
        ("1万2千", "12000"),
        ("1万2500", "12500"),
        ("1万零500", "10500"),
        ("1亿2000万", "120000000"),
        ("3千万", "30000000"),
        ("五千", "5000"),
        ("一万二千", "12000"),
        ("一万二", "12000"),
        ("三千五", "3500"),
        ("三十", "30"),
        ("十", "10"),
        ("十五", "15"),
        ("两百", "200"),
        ("两百五", "250"),
        ("一百五十", "150"),
        ("一千零五", "1005"),
        ("一千零五十", "1050"),
        ("一千二百万", "12000000"),
        ("零", "0"),
        ("〇", "0"),
        ("1.5万", "15000"),
        ("5000元", "5000"),
        ("5000 元", "5000"),
        ("1.2万元", "12000"),
        ("5块", "5"),
        ("5块钱", "5"),
        ("300人", "300"),
        ("3次", "3"),
        ("10个", "10"),
        ("20单", "20"),
        ("8位", "8"),
        ("2小时", "2"),
        ("7天", "7"),
        ("3.5%", "3.5"),
        ("3.5％", "3.5"),
        ("100rmb", "100"),
        ("100 RMB", "100"),
        ("20yuan", "20"),
        ("¥1,234.50", "1234.50"),
        ("￥88", "88"),
        ("约5000", "5000"),
        ("约5000元", "5000"),
        ("-5", "-5"),
        ("－5", "-5"),
        ("负5", "-5"),
        ("负五千", "-5000"),
        ("-¥5", "-5"),
        ("¥-5", "-5"),
        ("99999999999999999999", "99999999999999999999"),
    ],
)
def test_parse_number_ok(raw: str, expected: str) -> None:
    result = parse_number(raw)
    assert isinstance(result, Decimal)
    assert result == Decimal(expected)


def test_parse_number_integral_results_have_no_exponent() -> None:
    assert str(parse_number("1.2万")) == "12000"
    assert str(parse_number("¥1,234.50")) == "1234.50"


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("", "err.empty"),
        ("   ", "err.empty"),
        ("abc", "err.not_a_number"),
        ("很多", "err.not_a_number"),
        ("🙂", "err.not_a_number"),
        ("1.2.3", "err.not_a_number"),
        ("12元34", "err.not_a_number"),
        ("1e5", "err.not_a_number"),
        ("1E5", "err.not_a_number"),
        ("NaN", "err.not_a_number"),
        ("Infinity", "err.not_a_number"),
        ("inf", "err.not_a_number"),
        (LONG, "err.not_a_number"),
        ("1" * 51, "err.not_a_number"),
        ("12,00", "err.not_a_number"),
        ("1 2", "err.not_a_number"),
        ("1.", "err.not_a_number"),
        (".5", "err.not_a_number"),
        ("--5", "err.not_a_number"),
        ("负-5", "err.not_a_number"),
        ("+5", "err.not_a_number"),
        ("万", "err.not_a_number"),
        ("元", "err.not_a_number"),
        ("1万25", "err.not_a_number"),
        ("1千2千", "err.not_a_number"),
        ("1千12百", "err.not_a_number"),
        ("一万零", "err.not_a_number"),
        ("二零二零", "err.not_a_number"),
        ("0x10", "err.not_a_number"),
        ("12:30", "err.not_a_number"),
        ("٣", "err.not_a_number"),
    ],
)
def test_parse_number_errors(raw: str, key: str) -> None:
    with pytest.raises(ParseError) as exc:
        parse_number(raw)
    assert_error(exc, key, {})


# --- parse_count ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "kwargs", "expected"),
    [
        ("５０００", {}, 5000),
        ("12,000", {}, 12000),
        ("1.2万", {}, 12000),
        ("3w", {}, 30000),
        ("5k", {}, 5000),
        ("五千", {}, 5000),
        ("一万二千", {}, 12000),
        ("两百", {}, 200),
        ("300人", {}, 300),
        ("0", {}, 0),
        ("2.0", {}, 2),
        ("1000000000000", {}, 10**12),
        ("5", {"min_value": 5, "max_value": 5}, 5),
    ],
)
def test_parse_count_ok(raw: str, kwargs: dict[str, int], expected: int) -> None:
    result = parse_count(raw, **kwargs)
    assert type(result) is int
    assert result == expected


@pytest.mark.parametrize(
    ("raw", "kwargs", "key", "params"),
    [
        ("-5", {}, "err.negative", {}),
        ("负3", {}, "err.negative", {}),
        ("-1.5", {}, "err.negative", {}),
        ("1.5", {}, "err.not_integer", {}),
        ("1.23456万", {}, "err.not_integer", {}),
        ("99999999999999999999", {}, "err.too_large", {"max": 10**12}),
        ("1000000000001", {}, "err.too_large", {"max": 10**12}),
        ("101", {"max_value": 100}, "err.too_large", {"max": 100}),
        ("0", {"min_value": 1}, "err.too_small", {"min": 1}),
        ("abc", {}, "err.not_a_number", {}),
        ("1e5", {}, "err.not_a_number", {}),
        ("", {}, "err.empty", {}),
    ],
)
def test_parse_count_errors(
    raw: str, kwargs: dict[str, int], key: str, params: dict[str, object]
) -> None:
    with pytest.raises(ParseError) as exc:
        parse_count(raw, **kwargs)
    assert_error(exc, key, params)


# --- parse_money_fen --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("¥1,234.50", 123450),
        ("5000元", 500000),
        ("1.2万", 1_200_000),
        ("0.01", 1),
        ("1.234", 123),
        ("1.235", 124),
        ("0.005", 1),
        ("0.004", 0),
        ("0", 0),
        ("两百五", 25000),
        ("10000000000", 10**12),
    ],
)
def test_parse_money_fen_ok(raw: str, expected: int) -> None:
    result = parse_money_fen(raw)
    assert type(result) is int
    assert result == expected


@pytest.mark.parametrize(
    ("raw", "kwargs", "key", "params"),
    [
        ("-5", {}, "err.negative", {}),
        ("-0.01", {}, "err.negative", {}),
        ("10000000001", {}, "err.too_large", {"max": 10**10}),
        ("99999999999999999999", {}, "err.too_large", {"max": 10**10}),
        ("100.01", {"max_yuan": 100}, "err.too_large", {"max": 100}),
        ("很多", {}, "err.not_a_number", {}),
        ("   ", {}, "err.empty", {}),
    ],
)
def test_parse_money_fen_errors(
    raw: str, kwargs: dict[str, int], key: str, params: dict[str, object]
) -> None:
    with pytest.raises(ParseError) as exc:
        parse_money_fen(raw, **kwargs)
    assert_error(exc, key, params)


# --- parse_percent ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("3.5%", "3.50"),
        ("3.5", "3.50"),
        ("3.5 %", "3.50"),
        ("３.５％", "3.50"),
        ("百分之五", "5.00"),
        ("百分之3.5", "3.50"),
        ("0", "0.00"),
        ("100", "100.00"),
        ("12.345", "12.35"),
        ("0.035", "0.04"),
    ],
)
def test_parse_percent_ok(raw: str, expected: str) -> None:
    result = parse_percent(raw)
    assert result == Decimal(expected)
    assert str(result) == expected


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("100.01", "err.bad_percent"),
        ("-1", "err.bad_percent"),
        ("abc", "err.bad_percent"),
        ("5元", "err.unit_mismatch"),  # a sum of money is no rate
        ("1e2", "err.bad_percent"),
        ("百分之", "err.bad_percent"),
        ("", "err.empty"),
    ],
)
def test_parse_percent_errors(raw: str, key: str) -> None:
    with pytest.raises(ParseError) as exc:
        parse_percent(raw)
    assert_error(exc, key, {"unit": "元"} if key == "err.unit_mismatch" else {})


# --- parse_duration_minutes -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2小时30分", 150),
        ("2小时30分钟", 150),
        ("2小时30", 150),
        ("2个小时", 120),
        ("两小时", 120),
        ("3 小时", 180),
        ("2h30m", 150),
        ("2H30M", 150),
        ("2h 30min", 150),
        ("2h", 120),
        ("2.5h", 150),
        ("2.5小时", 150),
        ("150分钟", 150),
        ("150min", 150),
        ("90分", 90),
        ("三十分钟", 30),
        ("2:30", 150),
        ("2：30", 150),
        ("0:45", 45),
        ("半小时", 30),
        ("半个小时", 30),
        ("一个半小时", 90),
        ("1个半小时", 90),
        ("两个半小时", 150),
        ("3", 180),
        ("2.5", 150),
        ("0", 0),
        ("1.01h", 61),
        ("24", 24 * 60),
    ],
)
def test_parse_duration_ok(raw: str, expected: int) -> None:
    assert parse_duration_minutes(raw) == expected


@pytest.mark.parametrize(
    ("raw", "kwargs", "key", "params"),
    [
        ("-3", {}, "err.bad_duration", {}),
        ("-2小时", {}, "err.bad_duration", {}),
        ("负2", {}, "err.bad_duration", {}),
        ("abc", {}, "err.bad_duration", {}),
        ("小时", {}, "err.bad_duration", {}),
        ("分钟", {}, "err.bad_duration", {}),
        ("2:75", {}, "err.bad_duration", {}),
        ("2天", {}, "err.unit_mismatch", {"unit": "天"}),  # days are no duration
        ("1e1", {}, "err.bad_duration", {}),
        (LONG, {}, "err.bad_duration", {}),
        ("", {}, "err.empty", {}),
        ("25", {}, "err.duration_too_long", {"max_hours": 24}),
        ("24小时1分", {}, "err.duration_too_long", {"max_hours": 24}),
        ("1500分钟", {}, "err.duration_too_long", {"max_hours": 24}),
        ("3小时", {"max_hours": 2}, "err.duration_too_long", {"max_hours": 2}),
    ],
)
def test_parse_duration_errors(
    raw: str, kwargs: dict[str, int], key: str, params: dict[str, object]
) -> None:
    with pytest.raises(ParseError) as exc:
        parse_duration_minutes(raw, **kwargs)
    assert_error(exc, key, params)


# --- parse_cn_mobile (made-up numbers only) ---------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13800138000", "13800138000"),
        ("+86 138-0013-8000", "13800138000"),
        ("138 0013 8000", "13800138000"),
        ("１３８００１３８０００", "13800138000"),
        ("138.0013.8000", "13800138000"),
        ("(+86) 139 1234 5678", "13912345678"),
        ("+8613912345678", "13912345678"),
        ("0086 15000000000", "15000000000"),
        ("86 15000000000", "15000000000"),
        ("8615000000000", "15000000000"),
    ],
)
def test_parse_cn_mobile_ok(raw: str, expected: str) -> None:
    assert parse_cn_mobile(raw) == expected


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("12345", "err.bad_phone"),
        ("1380013800", "err.bad_phone"),
        ("23800138000", "err.bad_phone"),
        ("138001380000", "err.bad_phone"),
        ("010-12345678", "err.bad_phone"),
        ("+1 650 253 0000", "err.bad_phone"),
        ("1380013800a", "err.bad_phone"),
        ("abc", "err.bad_phone"),
        ("", "err.empty"),
    ],
)
def test_parse_cn_mobile_errors(raw: str, key: str) -> None:
    with pytest.raises(ParseError) as exc:
        parse_cn_mobile(raw)
    assert_error(exc, key, {})


# --- parse_date (today = 2020-11-02) ----------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("今天", date(2020, 11, 2)),
        ("today", date(2020, 11, 2)),
        ("Today", date(2020, 11, 2)),
        ("昨天", date(2020, 11, 1)),
        ("yesterday", date(2020, 11, 1)),
        ("前天", date(2020, 10, 31)),
        ("2020-11-02", date(2020, 11, 2)),
        ("2020/11/2", date(2020, 11, 2)),
        ("2020.11.2", date(2020, 11, 2)),
        ("２０２０－１１－０２", date(2020, 11, 2)),
        ("2020年11月2日", date(2020, 11, 2)),
        ("2020 年 11 月 2 日", date(2020, 11, 2)),
        ("2019-02-28", date(2019, 2, 28)),
        ("11-02", date(2020, 11, 2)),
        ("11/2", date(2020, 11, 2)),
        ("11.2", date(2020, 11, 2)),
        ("11月2日", date(2020, 11, 2)),
        ("11月2号", date(2020, 11, 2)),
        ("11月1", date(2020, 11, 1)),
        ("1-15", date(2020, 1, 15)),
        ("5-3", date(2020, 5, 3)),
        # 2020-11-02 is a Monday
        ("周一", date(2020, 11, 2)),
        ("星期日", date(2020, 11, 1)),
        ("礼拜六", date(2020, 10, 31)),
        ("上周一", date(2020, 10, 26)),
        ("2号", date(2020, 11, 2)),
        ("1日", date(2020, 11, 1)),
        ("31号", date(2020, 10, 31)),  # ahead this month: last month's
        ("十一月二日", date(2020, 11, 2)),
        ("十月三十一号", date(2020, 10, 31)),
        ("二〇二〇年十一月一日", date(2020, 11, 1)),
    ],
)
def test_parse_date_ok(raw: str, expected: date) -> None:
    assert parse_date(raw, today=TODAY) == expected


@pytest.mark.parametrize(
    ("raw", "today", "kwargs", "expected"),
    [
        ("12-31", date(2021, 1, 2), {}, date(2020, 12, 31)),
        ("12月31日", date(2021, 1, 2), {}, date(2020, 12, 31)),
        ("1-1", date(2021, 1, 2), {}, date(2021, 1, 1)),
        ("12-31", TODAY, {"allow_future": True}, date(2020, 12, 31)),
        ("2021-05-01", TODAY, {"allow_future": True}, date(2021, 5, 1)),
        ("2020-10-03", TODAY, {"max_back_days": 30}, date(2020, 10, 3)),
        ("今天", TODAY, {"max_back_days": 0}, TODAY),
    ],
)
def test_parse_date_options(raw: str, today: date, kwargs: dict[str, object], expected: date):
    assert parse_date(raw, today=today, **kwargs) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "kwargs", "key", "params"),
    [
        ("2月30日", {}, "err.bad_date", {}),
        ("2020-02-30", {}, "err.bad_date", {}),
        ("2019-02-29", {}, "err.bad_date", {}),
        ("2020-13-01", {}, "err.bad_date", {}),
        ("13/1", {}, "err.bad_date", {}),
        ("2020/11-02", {}, "err.bad_date", {}),
        ("明天见", {}, "err.bad_date", {}),
        ("明天", {}, "err.future_date", {}),
        ("tomorrow", {}, "err.future_date", {}),
        ("后天", {}, "err.future_date", {}),
        ("周八", {}, "err.bad_date", {}),
        ("三十二号", {}, "err.bad_date", {}),
        ("3号", {"max_back_days": 1}, "err.date_too_old", {"days": 1}),
        ("abc", {}, "err.bad_date", {}),
        ("20201102", {}, "err.bad_date", {}),
        (LONG, {}, "err.bad_date", {}),
        ("", {}, "err.empty", {}),
        ("12-31", {}, "err.future_date", {}),
        ("2020-11-03", {}, "err.future_date", {}),
        ("2020-10-02", {"max_back_days": 30}, "err.date_too_old", {"days": 30}),
        ("前天", {"max_back_days": 1}, "err.date_too_old", {"days": 1}),
    ],
)
def test_parse_date_errors(
    raw: str, kwargs: dict[str, object], key: str, params: dict[str, object]
) -> None:
    with pytest.raises(ParseError) as exc:
        parse_date(raw, today=TODAY, **kwargs)  # type: ignore[arg-type]
    assert_error(exc, key, params)


# --- parse_url --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://example.com/x", "https://example.com/x"),
        ("http://example.com", "http://example.com"),
        ("  https://example.com/a?b=1&c=2#d  ", "https://example.com/a?b=1&c=2#d"),
        ("www.example.com/x", "https://www.example.com/x"),
        ("shop.m.jd.com/product/1.html", "https://shop.m.jd.com/product/1.html"),
        ("ｈｔｔｐｓ：／／ｅｘａｍｐｌｅ．ｃｏｍ", "https://example.com"),
        (
            "【抖音商城】某某店 https://v.douyin.com/AbCdEf/ 复制此链接，打开Dou音搜索，直接观看！",
            "https://v.douyin.com/AbCdEf/",
        ),
        ("看看这个https://v.douyin.com/AbC/复制此链接", "https://v.douyin.com/AbC/"),
        ("【京东】https://3.cn/abc-XYZ」", "https://3.cn/abc-XYZ"),
        ("链接：https://example.com/path).", "https://example.com/path"),
    ],
)
def test_parse_url_ok(raw: str, expected: str) -> None:
    assert parse_url(raw) == expected


@pytest.mark.parametrize(
    ("raw", "kwargs", "key", "params"),
    [
        ("abc", {}, "err.bad_url", {}),
        ("1.5", {}, "err.bad_url", {}),
        ("ftp://example.com/x", {}, "err.bad_url", {}),
        ("javascript:alert(1)", {}, "err.bad_url", {}),
        ("http://localhost/x", {}, "err.bad_url", {}),
        ("http://a..b.com", {}, "err.bad_url", {}),
        ("https://example.com:99999/", {}, "err.bad_url", {}),
        ("某某店 复制此链接", {}, "err.bad_url", {}),
        ("www.example.com 看看", {}, "err.bad_url", {}),
        ("", {}, "err.empty", {}),
        ("https://example.com/" + "a" * 500, {}, "err.too_long", {"max": 500}),
        ("https://example.com/abc", {"max_len": 20}, "err.too_long", {"max": 20}),
    ],
)
def test_parse_url_errors(
    raw: str, kwargs: dict[str, int], key: str, params: dict[str, object]
) -> None:
    with pytest.raises(ParseError) as exc:
        parse_url(raw, **kwargs)
    assert_error(exc, key, params)


# --- parse_yes_no -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("是", True),
        ("有", True),
        ("对", True),
        ("好", True),
        ("yes", True),
        ("YES", True),
        ("y", True),
        ("true", True),
        (" 是的！", True),
        ("否", False),
        ("没有", False),
        ("无", False),
        ("不是", False),
        ("no", False),
        ("N", False),
        ("false", False),
        ("1", None),
        ("0", None),
        ("", None),
        ("   ", None),
        ("也许", None),
        ("🙂", None),
    ],
)
def test_parse_yes_no(raw: str, expected: bool | None) -> None:
    assert parse_yes_no(raw) is expected


@pytest.mark.parametrize(
    "raw",
    [
        "小明\u202e的果园",  # RIGHT-TO-LEFT OVERRIDE: would flip the rest of a board line
        "小明\u2066的果园\u2069",  # isolates
        "小明\u200e的\u00ad果园",  # LEFT-TO-RIGHT MARK, soft hyphen
        "\ufeff小明的果园",
    ],
)
def test_invisible_format_characters_are_removed_from_text(raw: str) -> None:
    assert parse_text(raw) == "小明的果园"


def test_emoji_stay_in_text() -> None:
    assert parse_text("小明🍊果园 👍🏽") == "小明🍊果园 👍🏽"
