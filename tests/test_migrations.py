"""The Alembic migrations build exactly the schema the models describe, on SQLite and (when
TEST_DATABASE_URL is set) PostgreSQL, and the database itself enforces the unique keys."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, Float, Integer, Numeric, func, inspect, select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from bot.core.clock import FixedClock
from models import (
    Base,
    DailyReport,
    Identity,
    LiveAccount,
    OutboxMessage,
    Person,
    Streamer,
    Unit,
)
from models.db import HEAD, MIGRATIONS, make_engine, migrate

TABLES = {
    "alembic_version",
    "announcements",
    "wechat_qr_codes",
    "award_entries",
    "award_lists",
    "ambassador_marks",
    "certificates",
    "certificate_runs",
    "certificate_run_items",
    "report_audits",
    "unit_publicity",
    "product_picks",
    "report_product_sales",
    "turnovers",
    "donation_directions",
    "donation_payments",
    "donation_certificates",
    "audit_log",
    "board_entries",
    "boards",
    "daily_reports",
    "dialog_states",
    "enterprises",
    "erased_marks",
    "group_subscriptions",
    "identities",
    "invitations",
    "job_runs",
    "join_attempts",
    "link_codes",
    "live_accounts",
    "outbox",
    "people",
    "products",
    "roles",
    "sheet_imports",
    "feedback",
    "streamer_day_totals",
    "streamer_totals",
    "send_pauses",
    "streamers",
    "telegram_shown",
    "telegram_updates",
    "units",
    "wechat_followers",
    "wechat_inbound",
    "wechat_tokens",
}


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head() -> str:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1, f"several Alembic heads: {heads}"
    return heads[0]


def schema_diff(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def db_revision(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(text("SELECT version_num FROM alembic_version")))


@pytest.fixture
def fresh_sqlite(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    yield engine
    engine.dispose()


# ----- the schema -------------------------------------------------------------------------
def test_one_head() -> None:
    assert head() == HEAD == "0020_send_pauses"


def test_fresh_sqlite_matches_the_models(fresh_sqlite: Engine) -> None:
    migrate(fresh_sqlite)
    assert set(inspect(fresh_sqlite).get_table_names()) == TABLES
    assert db_revision(fresh_sqlite) == [head()]
    assert schema_diff(fresh_sqlite) == []


def test_test_database_matches_the_models(db: Engine) -> None:
    """The session database: SQLite, or PostgreSQL when TEST_DATABASE_URL is set."""
    assert set(inspect(db).get_table_names()) == TABLES
    assert db_revision(db) == [head()]
    assert schema_diff(db) == []


def test_migrate_twice_is_idempotent(fresh_sqlite: Engine) -> None:
    migrate(fresh_sqlite)
    migrate(fresh_sqlite)
    assert db_revision(fresh_sqlite) == [head()]
    assert set(inspect(fresh_sqlite).get_table_names()) == TABLES
    assert schema_diff(fresh_sqlite) == []


def test_migrate_again_keeps_data(db: Engine) -> None:
    with db.connect() as conn:
        units = conn.scalar(select(func.count()).select_from(Unit))
    migrate(db)
    assert db_revision(db) == [head()]
    assert schema_diff(db) == []
    with db.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Unit)) == units


def test_downgrade_to_base_and_up_again(fresh_sqlite: Engine) -> None:
    migrate(fresh_sqlite)
    cfg = alembic_config()
    with fresh_sqlite.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert set(inspect(fresh_sqlite).get_table_names()) == {"alembic_version"}
    assert db_revision(fresh_sqlite) == []
    migrate(fresh_sqlite)
    assert schema_diff(fresh_sqlite) == []


def test_no_float_columns_and_money_in_integer_fen() -> None:
    floats = [
        f"{table.name}.{col.name}"
        for table in Base.metadata.tables.values()
        for col in table.columns
        if isinstance(col.type, Float)
    ]
    assert floats == []
    money = [
        (table.name, col)
        for table in Base.metadata.tables.values()
        for col in table.columns
        if col.name.endswith("_fen")
    ]
    assert sorted(f"{t}.{c.name}" for t, c in money) == [
        "board_entries.gmv_fen",
        "daily_reports.gmv_fen",
        "donation_directions.amount_fen",
        "donation_payments.amount_fen",
        "products.monthly_turnover_fen",
        "report_audits.backend_gmv_fen",
        "report_audits.reported_gmv_fen",
        "report_product_sales.gmv_fen",
        "streamer_day_totals.gmv_fen",
        "streamer_totals.gmv_fen",
        "streamers.avg_order_value_fen",
        "streamers.cumulative_sales_fen",
        "streamers.dou_plus_spend_fen",
        "turnovers.amount_fen",
    ]
    assert all(isinstance(col.type, Integer) for _, col in money)
    # the remaining non-integer numbers are exact decimals, never binary floats
    decimals = {
        f"{table.name}.{col.name}": (col.type.precision, col.type.scale, col.type.asdecimal)
        for table in Base.metadata.tables.values()
        for col in table.columns
        if isinstance(col.type, Numeric)
    }
    assert decimals == {
        "streamers.monthly_live_hours": (6, 1, True),
        "streamers.conversion_rate": (5, 2, True),
        "board_entries.score": (7, 3, True),
        "award_entries.score": (7, 3, True),  # 0..100, as the board's
    }


# ----- constraints the database enforces --------------------------------------------------
@pytest.fixture
def now(clock: FixedClock) -> dt.datetime:
    return clock.now()


def add_person(session: Session, now: dt.datetime, name: str = "") -> Person:
    person = Person(display_name=name, created_at=now)
    session.add(person)
    session.flush()
    return person


def add_streamer(session: Session, now: dt.datetime) -> Streamer:
    person = add_person(session, now)
    unit = session.scalars(select(Unit).where(Unit.code == "360302")).one()
    streamer = Streamer(
        person_id=person.id,
        unit_id=unit.id,
        recommendation="self",
        phone="13800138000",
        followers=12000,
        likes_received=35000,
        tips_income=0,
        monthly_live_days=20,
        monthly_live_hours="45.5",
        cumulative_viewers=100000,
        peak_concurrent=5000,
        cumulative_orders=800,
        cumulative_sales_fen=12_500_000,
        created_at=now,
        updated_at=now,
    )
    session.add(streamer)
    session.flush()
    return streamer


def identity(person: Person | int, channel: str, user_id: str, now: dt.datetime) -> Identity:
    person_id = person if isinstance(person, int) else person.id
    return Identity(
        person_id=person_id, channel=channel, user_id=user_id, chat_id=user_id, created_at=now
    )


def assert_refused(session: Session, row: object) -> None:
    session.add(row)
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_unique_platform_account(db: Engine, now: dt.datetime) -> None:
    with Session(db) as session:
        first, second = add_streamer(session, now), add_streamer(session, now)
        session.add(LiveAccount(streamer_id=first.id, platform="douyin", account_name="小明的果园"))
        # the same name on another platform is another account
        session.add(LiveAccount(streamer_id=second.id, platform="jd", account_name="小明的果园"))
        session.commit()
        dup = LiveAccount(streamer_id=second.id, platform="douyin", account_name="小明的果园")
        assert_refused(session, dup)
        assert session.scalar(select(func.count()).select_from(LiveAccount)) == 2


def test_unique_streamer_platform(db: Engine, now: dt.datetime) -> None:
    with Session(db) as session:
        streamer = add_streamer(session, now)
        session.add(LiveAccount(streamer_id=streamer.id, platform="douyin", account_name="a"))
        session.commit()
        dup = LiveAccount(streamer_id=streamer.id, platform="douyin", account_name="b")
        assert_refused(session, dup)


def test_unique_channel_user_id(db: Engine, now: dt.datetime) -> None:
    with Session(db) as session:
        alice, bob = add_person(session, now), add_person(session, now)
        session.add(identity(alice, "telegram", "42", now))
        session.add(identity(bob, "wechat", "42", now))  # same user id, another channel
        session.commit()
        assert_refused(session, identity(bob, "telegram", "42", now))
        assert session.scalar(select(func.count()).select_from(Identity)) == 2


def test_unique_account_report_date(db: Engine, now: dt.datetime) -> None:
    def report(account: LiveAccount, day: dt.date) -> DailyReport:
        return DailyReport(
            account_id=account.id,
            streamer_id=account.streamer_id,
            report_date=day,
            gmv_fen=500_000,
            duration_minutes=150,
            viewers=1200,
            likes=3000,
            orders=45,
            created_at=now,
            updated_at=now,
        )

    with Session(db) as session:
        streamer = add_streamer(session, now)
        account = LiveAccount(streamer_id=streamer.id, platform="douyin", account_name="x")
        session.add(account)
        session.flush()
        session.add(report(account, dt.date(2020, 11, 1)))
        session.add(report(account, dt.date(2020, 11, 2)))
        session.commit()
        assert_refused(session, report(account, dt.date(2020, 11, 2)))
        assert session.scalar(select(func.count()).select_from(DailyReport)) == 2


def test_unique_outbox_idempotency_key(db: Engine, now: dt.datetime) -> None:
    def message(key: str) -> OutboxMessage:
        return OutboxMessage(
            idempotency_key=key,
            channel="console",
            chat_id="alice",
            payload={"text": "你好"},
            next_attempt_at=now,
            created_at=now,
        )

    with Session(db) as session:
        session.add_all([message("notice:1"), message("notice:2")])
        session.commit()
        assert_refused(session, message("notice:1"))
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 2
        assert session.scalar(select(OutboxMessage.status).limit(1)) == "pending"
        assert session.scalar(select(OutboxMessage.attempts).limit(1)) == 0


def test_foreign_keys_are_enforced(db: Engine, now: dt.datetime) -> None:
    with Session(db) as session:
        assert_refused(session, identity(999_999, "console", "orphan", now))


def test_aware_datetimes_come_back_in_utc(db: Engine, clock: FixedClock) -> None:
    local = dt.datetime(2020, 11, 2, 20, 0, tzinfo=clock.tz)
    with Session(db) as session:
        person = add_person(session, local)
        session.commit()
        session.expire_all()
        stored = session.get(Person, person.id)
        assert stored is not None
        assert stored.created_at == dt.datetime(2020, 11, 2, 12, 0, tzinfo=dt.UTC)
        assert stored.created_at.tzinfo == dt.UTC
        with pytest.raises(StatementError, match="naive datetime"):
            add_person(session, dt.datetime(2020, 11, 2, 20, 0))
        session.rollback()
