"""Engine creation and migrations. SQLite gets WAL + synchronous=NORMAL: every committed step
survives a killed process (not a power cut, which is not the risk here)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# The newest migration (tests/test_migrations.py checks that it is Alembic's one head): a
# database already there is not migrated, and Alembic (about 9 MB) is never loaded.
HEAD = "0020_send_pauses"

# JSON columns are written exactly as json.dumps writes them, without its check for circular
# references (stored values are plain answers, lists and dicts, never circular): that check
# was a third of encoding the conversation state, which every step stores.
_JSON_ENCODER = json.JSONEncoder(check_circular=False)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    parsed = make_url(url)
    kwargs.setdefault("json_serializer", _JSON_ENCODER.encode)
    # A failed statement's error (logged with the step's traceback, kept in job_runs) shows
    # the SQL without its values: they are answers, phone numbers among them.
    kwargs.setdefault("hide_parameters", True)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    return create_engine(url, **kwargs)


def is_sqlite(bind: Engine | Connection) -> bool:
    return bind.dialect.name == "sqlite"


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def at_head(engine: Engine) -> bool:
    """Whether the database's schema is the newest one (a new database is not)."""
    try:
        with engine.connect() as conn:
            found = list(conn.scalars(text("SELECT version_num FROM alembic_version")))
    except (OperationalError, ProgrammingError):  # no alembic_version table: a new database
        return False
    return found == [HEAD]


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (idempotent)."""
    if at_head(engine):
        return
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")


def advisory_lock(conn: Connection, a: int, b: int) -> None:
    """PostgreSQL: wait for the session-level advisory lock (a, b), held by `conn` until
    advisory_unlock_all or its end."""
    conn.execute(text("SELECT pg_advisory_lock(:a, :b)"), {"a": a, "b": b})
    conn.commit()


def advisory_unlock_all(conn: Connection) -> None:
    conn.execute(text("SELECT pg_advisory_unlock_all()"))
