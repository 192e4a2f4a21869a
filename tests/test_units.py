"""The recommending units: Jiangxi's 11 cities and 100 county-level divisions from the data
file, plus the universities and provincial units of config.yaml, loaded once."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, aliased

from bot.config import FestivalConfig
from bot.core.clock import FixedClock
from models import Unit
from models.unit_directory import DIVISIONS_CSV, UnitRow, read_divisions, sync_units

CITIES = {
    "360100": "南昌市",
    "360200": "景德镇市",
    "360300": "萍乡市",
    "360400": "九江市",
    "360500": "新余市",
    "360600": "鹰潭市",
    "360700": "赣州市",
    "360800": "吉安市",
    "360900": "宜春市",
    "361000": "抚州市",
    "361100": "上饶市",
}


def all_rows(config: FestivalConfig) -> list[UnitRow]:
    return read_divisions() + [UnitRow(u.code, u.name, u.kind) for u in config.units.extra]


# ----- the data file ----------------------------------------------------------------------
def test_eleven_cities() -> None:
    rows = read_divisions()
    cities = {r.code: r.name for r in rows if r.kind == "city"}
    assert cities == CITIES
    assert all(r.parent_code is None and r.division is None for r in rows if r.kind == "city")


def test_one_hundred_county_level_divisions() -> None:
    rows = read_divisions()
    counties = [r for r in rows if r.kind == "county"]
    assert len(rows) == 111
    assert len(counties) == 100
    assert Counter(r.division for r in counties) == {
        "district": 27,
        "county_city": 12,
        "county": 61,
    }


def test_every_county_belongs_to_a_city_with_the_same_prefix() -> None:
    rows = read_divisions()
    kinds = {r.code: r.kind for r in rows}
    for row in rows:
        if row.kind != "county":
            continue
        assert row.parent_code is not None, row
        assert kinds.get(row.parent_code) == "city", row
        assert row.code[:4] == row.parent_code[:4], row


def test_codes_are_unique_six_digit_jiangxi_codes() -> None:
    rows = read_divisions()
    codes = [r.code for r in rows]
    assert len(set(codes)) == len(codes)
    assert all(len(c) == 6 and c.isdigit() and c.startswith("36") for c in codes)
    names = [r.name for r in rows]
    assert len(set(names)) == len(names)  # no two units share a name in Jiangxi


def test_parents_come_before_their_children() -> None:
    """sync_units links a county to a city already seen: the file must list cities first."""
    seen: set[str] = set()
    for row in read_divisions():
        if row.parent_code:
            assert row.parent_code in seen, row
        seen.add(row.code)


def test_post_2020_divisions() -> None:
    by_code = {r.code: r for r in read_divisions()}
    assert (by_code["361104"].name, by_code["361104"].division) == ("广信区", "district")
    assert (by_code["360783"].name, by_code["360783"].division) == ("龙南市", "county_city")
    assert (by_code["360113"].name, by_code["360113"].division) == ("红谷滩区", "district")
    assert (by_code["360302"].name, by_code["360302"].parent_code) == ("安源区", "360300")
    assert "湾里区" not in {r.name for r in by_code.values()}


def test_the_file_has_the_documented_header() -> None:
    lines = DIVISIONS_CSV.read_text(encoding="utf-8").splitlines()
    data = [line for line in lines if not line.startswith("#")]
    assert data[0] == "code,name,kind,parent_code"
    assert len(data) == 1 + 111


# ----- the database -----------------------------------------------------------------------
def test_database_holds_all_units(db: Engine, config: FestivalConfig) -> None:
    with Session(db) as session:
        total = session.scalar(select(func.count()).select_from(Unit))
        assert total == 111 + len(config.units.extra)
        assert total == 118
        counts = dict(
            session.execute(select(Unit.kind, func.count()).group_by(Unit.kind)).tuples().all()
        )
        assert counts == {
            "city": 11,
            "county": 100,
            "provincial_university": 4,
            "other_university": 1,
            "provincial_unit": 2,
        }


def test_database_links_counties_to_their_city(db: Engine) -> None:
    parent = aliased(Unit)
    with Session(db) as session:
        pairs = session.execute(
            select(Unit.code, Unit.kind, parent.code, parent.kind).outerjoin(
                parent, parent.id == Unit.parent_id
            )
        ).all()
    for code, kind, parent_code, parent_kind in pairs:
        if kind == "county":
            assert parent_kind == "city" and parent_code[:4] == code[:4], code
        else:
            assert parent_code is None, code
    anyuan = next(p for p in pairs if p[0] == "360302")
    assert anyuan[2] == "360300"


def test_extra_units_from_config(db: Engine, config: FestivalConfig) -> None:
    with Session(db) as session:
        extra = {
            u.code: (u.name, u.kind, u.division, u.active)
            for u in session.scalars(select(Unit).where(Unit.code.in_(["U001", "U101", "P002"])))
        }
    assert extra == {
        "U001": ("南昌大学团委", "provincial_university", None, True),
        "U101": ("江西工业职业技术学院团委", "other_university", None, True),
        "P002": ("省青创团工委", "provincial_unit", None, True),
    }


def test_sync_again_adds_nothing(db: Engine, config: FestivalConfig, clock: FixedClock) -> None:
    with Session(db) as session, session.begin():
        before = session.scalar(select(func.count()).select_from(Unit))
        assert sync_units(session, all_rows(config), clock.now()) == 0
        assert session.scalar(select(func.count()).select_from(Unit)) == before


def test_sync_adds_only_the_new_unit(db: Engine, config: FestivalConfig, clock: FixedClock) -> None:
    """A unit added to config later is loaded on the next start; the rest stay as they are."""
    rows = [*all_rows(config), UnitRow("P003", "测试团工委", "provincial_unit")]
    with Session(db) as session:
        before = session.scalar(select(func.count()).select_from(Unit))
        assert sync_units(session, rows, clock.now()) == 1
        assert session.scalar(select(func.count()).select_from(Unit)) == before + 1
        assert sync_units(session, rows, clock.now()) == 0
        session.rollback()  # the units table is shared by the whole test session
        assert session.scalar(select(func.count()).select_from(Unit)) == before
