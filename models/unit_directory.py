"""Loads the recommending units into the database: Jiangxi's cities and counties from the
committed data file, universities and provincial units from config (idempotent)."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.units import Unit

DIVISIONS_CSV = Path(__file__).resolve().parent / "data" / "jiangxi_divisions.csv"


@dataclass(frozen=True)
class UnitRow:
    code: str
    name: str
    kind: str
    division: str | None = None
    parent_code: str | None = None


def read_divisions(path: Path = DIVISIONS_CSV) -> list[UnitRow]:
    """Cities become kind 'city'; districts, county-level cities and counties kind 'county'."""
    with path.open(encoding="utf-8") as fh:
        lines = [line for line in fh if not line.startswith("#")]
    rows = []
    for rec in csv.DictReader(lines):
        is_city = rec["kind"] == "city"
        rows.append(
            UnitRow(
                code=rec["code"],
                name=rec["name"],
                kind="city" if is_city else "county",
                division=None if is_city else rec["kind"],
                parent_code=rec["parent_code"] or None,
            )
        )
    return rows


def sync_units(session: Session, rows: Iterable[UnitRow], now: dt.datetime) -> int:
    """Insert the units not yet in the database; returns how many were added."""
    existing = {u.code: u for u in session.scalars(select(Unit))}
    added = 0
    for row in rows:  # parents come before their children in the file
        if row.code in existing:
            continue
        parent = existing.get(row.parent_code) if row.parent_code else None
        unit = Unit(
            code=row.code,
            name=row.name,
            kind=row.kind,
            division=row.division,
            parent_id=parent.id if parent else None,
            created_at=now,
        )
        session.add(unit)
        session.flush()
        existing[row.code] = unit
        added += 1
    return added
