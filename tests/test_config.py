"""config.yaml: the shipped file loads with the 2020 edition's values; a broken file is refused
with a message that names the key path and the reason."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from bot.config import ConfigError, FestivalConfig, load_config, parse_config

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config.yaml"


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    data = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def broken(raw: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> str:
    """The ConfigError message for a modified copy of the shipped config."""
    data = copy.deepcopy(raw)
    change(data)
    with pytest.raises(ConfigError) as info:
        parse_config(data, "festival.yaml")
    return str(info.value)


# ----- the shipped file -------------------------------------------------------------------
def test_shipped_config_calendar_is_the_2020_edition(config: FestivalConfig) -> None:
    cal = config.calendar
    assert config.festival.year == 2020
    assert config.festival.name == "点亮原产地·江西青年直播节"
    assert cal.timezone == "Asia/Shanghai"
    assert cal.tz == ZoneInfo("Asia/Shanghai")
    assert cal.registration_deadline == dt.date(2020, 10, 19)
    assert cal.review_until == dt.date(2020, 10, 25)
    assert cal.warmup_start == dt.date(2020, 10, 25)
    assert cal.warmup_end == dt.date(2020, 10, 29)
    assert cal.launch == dt.datetime(2020, 10, 30, 10, 0)
    assert cal.live_start == dt.date(2020, 10, 30)
    assert cal.live_end == dt.date(2020, 11, 27)
    assert cal.feedback_deadline == dt.date(2020, 12, 10)


def test_shipped_config_rules(config: FestivalConfig) -> None:
    assert config.eligibility.min_followers == 1000
    assert config.eligibility.declarations == ["experience", "good_record", "planning", "teamwork"]
    assert [(a.key, a.count) for a in config.awards.streamer] == [
        ("grand", 1),
        ("first", 2),
        ("second", 5),
        ("third", 10),
        ("excellent", 20),
    ]
    assert [a.label for a in config.awards.streamer] == [
        "特等奖",
        "一等奖",
        "二等奖",
        "三等奖",
        "优秀奖",
    ]
    assert config.awards.organisation_count == 30
    assert [(a.key, a.min_donation_yuan) for a in config.awards.enterprise] == [
        ("contribution", 100_000),
        ("outstanding", 500_000),
    ]
    w = config.awards.score_weights
    assert (w.gmv, w.live_days, w.avg_daily_hours, w.viewers, w.likes) == (
        Decimal("0.40"),
        Decimal("0.15"),
        Decimal("0.15"),
        Decimal("0.15"),
        Decimal("0.15"),
    )
    assert w.gmv + w.live_days + w.avg_daily_hours + w.viewers + w.likes == Decimal(1)
    assert config.revenue.streamer_commission_rate == Decimal("0.20")
    assert config.revenue.donation_rate == Decimal("0.05")
    assert config.conversation.message_max_len == 2000
    assert [p.key for p in config.platforms] == ["douyin", "jd"]
    assert config.platform_label("douyin") == "抖音"
    assert config.platform_label("kuaishou") == "kuaishou"  # unknown key shown as is


def test_shipped_config_units(config: FestivalConfig) -> None:
    kinds = config.units.kinds
    assert set(kinds) == {
        "city",
        "county",
        "provincial_university",
        "other_university",
        "provincial_unit",
    }
    quotas = {k: (v.streamers.min, v.streamers.max, v.products.min) for k, v in kinds.items()}
    assert quotas == {
        "city": (10, None, 3),
        "county": (10, None, 3),
        "provincial_university": (5, 10, 0),
        "other_university": (2, 5, 0),
        "provincial_unit": (2, 5, 0),
    }
    assert len(config.units.extra) == 7
    assert [u.code for u in config.units.extra] == [
        "U001",
        "U002",
        "U003",
        "U004",
        "U101",
        "P001",
        "P002",
    ]


def test_load_config_equals_parse_config_of_the_same_dict(raw: dict[str, Any]) -> None:
    assert load_config(CONFIG) == parse_config(raw)


def test_committee_phone_numbers_are_placeholders(
    config: FestivalConfig, raw: dict[str, Any]
) -> None:
    contacts = config.committee.contacts
    assert len(contacts) == 4
    assert [c.phone for c in contacts] == [
        "13800000001",
        "13800000002",
        "13800000003",
        "13800000004",
    ]
    assert all(c.phone.startswith("138000000") for c in contacts)
    # the raw YAML too: the numbers are quoted strings, not integers that lose a leading zero
    assert all(isinstance(c["phone"], str) for c in raw["committee"]["contacts"])


# ----- refused configs --------------------------------------------------------------------
def test_weights_not_summing_to_one(raw: dict[str, Any]) -> None:
    msg = broken(raw, lambda d: d["awards"]["score_weights"].update(gmv=0.5))
    assert (
        msg == "festival.yaml: awards.score_weights: Value error, weights must sum to 1, not 1.10"
    )


def test_live_end_before_live_start(raw: dict[str, Any]) -> None:
    msg = broken(raw, lambda d: d["calendar"].update(live_end=dt.date(2020, 10, 29)))
    assert msg == "festival.yaml: calendar: Value error, live_start must not be after live_end"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (
            {"review_until": dt.date(2020, 10, 18)},
            "review_until must be between registration_deadline and live_start",
        ),
        (
            {"review_until": dt.date(2020, 10, 31)},
            "review_until must be between registration_deadline and live_start",
        ),
        (
            {"launch": dt.datetime(2020, 12, 1, 10)},
            "launch must be between registration_deadline and live_end",
        ),
    ],
)
def test_calendar_order(raw: dict[str, Any], change: dict[str, Any], reason: str) -> None:
    msg = broken(raw, lambda d: d["calendar"].update(change))
    assert msg == f"festival.yaml: calendar: Value error, {reason}"


def test_registration_deadline_after_live_start(raw: dict[str, Any]) -> None:
    msg = broken(raw, lambda d: d["calendar"].update(registration_deadline=dt.date(2020, 11, 1)))
    assert msg == (
        "festival.yaml: calendar: Value error, registration_deadline must be before live_start"
    )


def test_unknown_time_zone(raw: dict[str, Any]) -> None:
    msg = broken(raw, lambda d: d["calendar"].update(timezone="Asia/Nanchang"))
    assert msg == "festival.yaml: calendar.timezone: Value error, unknown time zone 'Asia/Nanchang'"


def test_negative_min_followers(raw: dict[str, Any]) -> None:
    msg = broken(raw, lambda d: d["eligibility"].update(min_followers=-1))
    assert msg == (
        "festival.yaml: eligibility.min_followers: Input should be greater than or equal to 0"
    )


def test_unknown_extra_key_is_refused(raw: dict[str, Any]) -> None:
    msg = broken(raw, lambda d: d["festival"].update(sponsor="某公司"))
    assert msg == "festival.yaml: festival.sponsor: Extra inputs are not permitted"
    msg = broken(raw, lambda d: d.update(calender={}))  # a typo of a top-level section
    assert msg == "festival.yaml: calender: Extra inputs are not permitted"


def test_quota_max_below_min(raw: dict[str, Any]) -> None:
    msg = broken(
        raw, lambda d: d["units"]["kinds"]["provincial_university"]["streamers"].update(max=3)
    )
    assert msg == (
        "festival.yaml: units.kinds.provincial_university.streamers: "
        "Value error, max must not be below min"
    )


def test_several_errors_are_all_named(raw: dict[str, Any]) -> None:
    def change(d: dict[str, Any]) -> None:
        d["eligibility"]["min_followers"] = -5
        d["calendar"]["timezone"] = "Nowhere"

    msg = broken(raw, change)
    assert "calendar.timezone: Value error, unknown time zone 'Nowhere'" in msg
    assert "eligibility.min_followers: Input should be greater than or equal to 0" in msg
    assert msg.count("; ") == 1


def test_yaml_that_is_not_a_mapping() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(["festival"])
    assert str(info.value) == (
        "config: (top level): Input should be a valid dictionary or instance of FestivalConfig"
    )


def test_not_yaml_file(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("festival: [name: 点亮原产地\n  year: 2020\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}: not valid YAML at line 2 (")


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == (
        f"{path}: (top level): Input should be a valid dictionary or instance of FestivalConfig"
    )


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f"{path}: cannot read (No such file or directory)"


def test_modified_copy_on_disk_loads(tmp_path: Path, raw: dict[str, Any]) -> None:
    data = copy.deepcopy(raw)
    data["eligibility"]["min_followers"] = 500
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    loaded = load_config(path)
    assert loaded.eligibility.min_followers == 500
    assert loaded.calendar.live_end == dt.date(2020, 11, 27)


def test_shipped_config_wechat_link_limit_and_outside_the_window(config: FestivalConfig) -> None:
    wechat = config.wechat
    assert (wechat.link_max_failed, wechat.link_failed_window_minutes) == (5, 60)
    assert wechat.template is None and wechat.subscribe is None  # undeliverable: rerouted


def test_wechat_subscribe_message_is_checked(raw: dict[str, Any]) -> None:
    def subscribe(fields: dict[str, str]) -> Callable[[dict[str, Any]], None]:
        def change(d: dict[str, Any]) -> None:
            d["wechat"]["subscribe"] = {"template_id": "SUB", "fields": fields}

        return change

    good = copy.deepcopy(raw)
    subscribe({"thing1": "first_line", "time2": "date"})(good)
    parsed = parse_config(good)
    assert parsed.wechat.subscribe is not None
    assert parsed.wechat.subscribe.fields == {"thing1": "first_line", "time2": "date"}
    message = broken(raw, subscribe({"first": "first_line"}))
    assert message.startswith("festival.yaml: wechat.subscribe.fields: Value error, ")
    assert "thing1" in message
    message = broken(raw, subscribe({"thing1": "headline"}))
    assert message.startswith("festival.yaml: wechat.subscribe.fields.thing1: Input should be")
    message = broken(raw, lambda d: d["wechat"].update(link_max_failed=0))
    assert message.startswith("festival.yaml: wechat.link_max_failed: Input should be greater")


@pytest.mark.parametrize(
    ("line", "setting"),
    [
        ("  live_end: 2020-11-31", "calendar.live_end"),  # there is no 31 November
        ("  launch: 2020-10-30T25:00:00", "calendar.launch"),
    ],
)
def test_an_impossible_date_names_its_setting(tmp_path: Path, line: str, setting: str) -> None:
    """One line naming the setting, not a traceback from inside PyYAML."""
    key = line.split(":")[0]
    shipped = Path(__file__).resolve().parent.parent / "config.yaml"
    lines = shipped.read_text("utf-8").splitlines()
    first = next(i for i, ln in enumerate(lines) if ln.startswith(key + ":"))  # calendar's
    lines[first] = line
    assert line in lines  # the setting was found and changed
    path = tmp_path / "config.yaml"
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    assert setting in str(exc.value) and "\n" not in str(exc.value)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("garbage", "not a database URL"),
        ("postgresql://nobody@127.0.0.1:1/none", "cannot open or reach it"),
        ("sqlite:////proc/no-such-dir/festival.db", "cannot create its folder"),
    ],
)
def test_database_problems_at_start_are_one_line(
    config: FestivalConfig, url: str, expected: str
) -> None:
    from bot.app import open_database
    from bot.core.clock import Clock
    from bot.settings import Settings

    normalized = Settings(database_url=url).database_url
    with pytest.raises(ConfigError) as exc:
        open_database(normalized, config, Clock(config.calendar.tz))
    assert str(exc.value).startswith("DATABASE_URL") and expected in str(exc.value)
    assert "\n" not in str(exc.value)


def test_postgres_urls_use_the_installed_driver() -> None:
    from bot.settings import Settings

    for given in ("postgres://u@h/db", "postgresql://u@h/db"):
        assert Settings(database_url=given).database_url == "postgresql+psycopg://u@h/db"
    assert Settings(database_url="sqlite:///x.db").database_url == "sqlite:///x.db"


# ----- evidence modes and the anomaly rules' thresholds ------------------------------------
@pytest.mark.parametrize(("old", "mode"), [(True, "all"), (False, "optional")])
def test_the_old_evidence_flag_still_loads(raw: dict[str, Any], old: bool, mode: str) -> None:
    data = copy.deepcopy(raw)
    data["reports"].pop("evidence")
    data["reports"]["evidence_required"] = old
    assert parse_config(data).reports.evidence == mode


def test_evidence_mode_and_old_flag_together(raw: dict[str, Any]) -> None:
    msg = broken(raw, lambda d: d["reports"].update(evidence_required=True))
    assert "evidence_required and evidence" in msg


def test_evidence_needed_by_mode(config: FestivalConfig) -> None:
    above = config.reports.model_copy(update={"evidence": "above", "evidence_above_yuan": 100})
    assert not above.evidence_needed(10_000, flagged=False)  # exactly the amount
    assert above.evidence_needed(10_001, flagged=False)
    assert above.evidence_needed(1, flagged=True)
    flagged = config.reports.model_copy(update={"evidence": "flagged"})
    assert flagged.evidence_needed(1, flagged=True) and not flagged.evidence_needed(10**9, False)
    assert config.reports.model_copy(update={"evidence": "all"}).evidence_needed(0, False)
    assert not config.reports.model_copy(update={"evidence": "optional"}).evidence_needed(1, True)


def test_trust_bounds_in_order(raw: dict[str, Any]) -> None:
    msg = broken(raw, lambda d: d["trust"].update(aov_min_yuan=6000))
    assert "aov_min_yuan must be below aov_max_yuan" in msg


def test_a_held_wechat_message_is_swept_within_its_lease(raw: dict[str, Any]) -> None:
    """Each worker renews its leases at each sweep: a sweep as long as the lease would let a
    live worker's held messages be taken over."""
    msg = broken(raw, lambda d: d["wechat"].update(pending_sweep_seconds=30))
    assert msg == (
        "festival.yaml: wechat: Value error, "
        "pending_sweep_seconds must be shorter than pending_lease_seconds"
    )
