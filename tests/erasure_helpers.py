"""What the erasure tests look through: the whole database as text (every table, every
column) and every file under a data directory (workbooks unzipped)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from sqlalchemy import Engine, Text, cast, column, inspect, select, table


def database_text(engine: Engine) -> str:
    """Every row of every table, every column cast to text by the database itself (JSON as
    stored: non-ASCII characters as \\uXXXX escapes)."""
    lines: list[str] = []
    names = inspect(engine).get_table_names()
    with engine.connect() as conn:
        for name in sorted(names):
            columns = [c["name"] for c in inspect(engine).get_columns(name)]
            t = table(name, *(column(c) for c in columns))
            for row in conn.execute(select(*(cast(t.c[c], Text) for c in columns))):
                values = ("" if v is None else str(v).replace("\n", "\\n") for v in row)
                lines.append(f"{name}: " + " | ".join(values))
    return "\n".join(lines)


def forms(value: str) -> list[str]:
    """A value as stored text may hold it: as typed, and as JSON writes it."""
    return list(dict.fromkeys([value, json.dumps(value)[1:-1]]))


def found_in_database(engine: Engine, *values: str) -> list[str]:
    """The lines of the dump that hold any of these values (in any stored form)."""
    dump = database_text(engine)
    needles = [f for v in values for f in forms(v)]
    return [line for line in dump.splitlines() if any(n in line for n in needles)]


def file_texts(folder: Path) -> dict[Path, bytes]:
    """Every file under the folder as bytes; a workbook (a ZIP) as its parts' bytes."""
    out: dict[Path, bytes] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                data = b"".join(z.read(n) for n in z.namelist())
        out[path] = data
    return out


def found_in_files(folder: Path, *values: str) -> list[Path]:
    needles = [v.encode() for v in values]
    return [p for p, data in file_texts(folder).items() if any(n in data for n in needles)]
