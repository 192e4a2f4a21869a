"""Rows for the board and scheduler tests, stored directly (registration and reporting
through the conversation are tested in their own modules); people get a console identity and
a conversation state, so they can also write to the bot in a test."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from itertools import count

from sqlalchemy.orm import Session

from bot.config import FestivalConfig
from models import (
    DailyReport,
    DialogState,
    Enterprise,
    GroupSubscription,
    Identity,
    LiveAccount,
    Person,
    Product,
    ReportProductSale,
    Role,
    Streamer,
    audits,
    repo,
    totals,
)
from models.units import unit_by_code

NOW = dt.datetime(2020, 10, 10, tzinfo=dt.UTC)
_seq = count(1)


def person(
    session: Session, user: str, locale: str | None = None, channel: str = "console"
) -> Person:
    """A person on a channel (user: a console name, or a Telegram user id as text)."""
    p = Person(
        display_name=user,
        locale=locale,
        privacy_accepted_at=NOW,
        last_channel=channel,
        created_at=NOW,
    )
    session.add(p)
    session.flush()
    ident = Identity(person_id=p.id, channel=channel, user_id=user, chat_id=user, created_at=NOW)
    session.add(ident)
    session.flush()
    session.add(DialogState(identity_id=ident.id, flow=None, data={}, version=0, updated_at=NOW))
    session.flush()
    return p


def streamer(
    session: Session,
    account: str,
    unit_code: str = "360302",  # 萍乡市 安源区
    status: str = "approved",
    submitted: dt.datetime | None = None,
    user: str | None = None,
    channel: str = "console",
) -> Streamer:
    p = person(session, user or account, channel=channel)
    unit = unit_by_code(session, unit_code)
    assert unit is not None, unit_code
    s = Streamer(
        person_id=p.id,
        unit_id=unit.id,
        recommendation="self",
        phone=f"1380000{next(_seq):04d}",
        followers=5000,
        likes_received=0,
        tips_income=0,
        monthly_live_days=20,
        monthly_live_hours=40,
        cumulative_viewers=0,
        peak_concurrent=0,
        cumulative_orders=0,
        cumulative_sales_fen=0,
        categories=[],
        declarations=[],
        status=status,
        submitted_at=submitted or NOW + dt.timedelta(seconds=next(_seq)),
        created_at=NOW,
        updated_at=NOW,
    )
    session.add(s)
    session.flush()
    session.add(LiveAccount(streamer_id=s.id, platform="douyin", account_name=account))
    session.flush()
    return s


def second_account(session: Session, s: Streamer, account: str) -> LiveAccount:
    a = LiveAccount(streamer_id=s.id, platform="jd", account_name=account)
    session.add(a)
    session.flush()
    return a


def report(
    session: Session,
    config: FestivalConfig,
    s: Streamer,
    day: dt.date,
    gmv_yuan: int = 100,
    minutes: int = 120,
    viewers: int = 100,
    likes: int = 10,
    account: LiveAccount | None = None,
) -> DailyReport:
    """A report as the report form stores it (a correction if the day exists)."""
    acct = account or repo.accounts_of(session, s.id)[0]
    r = repo.report_of(session, acct.id, day)
    if r is None:
        r = DailyReport(
            account_id=acct.id,
            streamer_id=s.id,
            report_date=day,
            orders=0,
            created_at=NOW,
            updated_at=NOW,
            gmv_fen=0,
            duration_minutes=0,
            viewers=0,
            likes=0,
        )
        session.add(r)
    else:
        r.revision += 1
    r.gmv_fen, r.duration_minutes, r.viewers, r.likes = gmv_yuan * 100, minutes, viewers, likes
    session.flush()
    totals.refresh_day(session, s.id, day, config)
    return r


def audit_passed(session: Session, actor: int | None = None) -> int:
    """The committee's top-N audit done (what /audit stores): every report not rejected, of
    every streamer, passed at its current revision; how many."""
    from sqlalchemy import select

    reports = session.scalars(select(DailyReport).where(DailyReport.rejected.is_(False)))
    n = 0
    for r in reports:
        audits.record(
            session, r, audits.PASSED, evidence_matches=True, backend_present=False,
            backend_gmv_fen=None, reason=None, actor=actor, now=NOW,
        )  # fmt: skip
        n += 1
    return n


def contact(session: Session, user: str, unit_code: str) -> Person:
    p = person(session, user)
    unit = unit_by_code(session, unit_code)
    assert unit is not None
    session.add(Role(person_id=p.id, role="unit_contact", unit_id=unit.id, created_at=NOW))
    session.flush()
    return p


def admin(session: Session, user: str) -> Person:
    p = person(session, user)
    session.add(Role(person_id=p.id, role="admin", unit_id=None, created_at=NOW))
    session.flush()
    return p


def group(
    session: Session, chat_id: str, active: bool = True, channel: str = "console"
) -> GroupSubscription:
    g = GroupSubscription(
        channel=channel,
        chat_id=chat_id,
        title=chat_id,
        active=active,
        created_at=NOW,
        updated_at=NOW,
    )
    session.add(g)
    session.flush()
    return g


def enterprise(
    session: Session,
    name: str,
    products: Sequence[str | tuple[str, str | None]] = ("产品",),
    unit_code: str = "360302",
    industry: str = "农产品",
    user: str | None = None,
    product_status: str = "approved",
    monthly_turnover_yuan: int = 35_000,
    agreed: bool = True,
) -> tuple[Enterprise, list[Product]]:
    """An enterprise with products (names, or (name, priority tag key or None)), all in one
    status; `agreed`: it agreed to the money rules (False: registered before they were
    shown)."""
    products = [(p, None) if isinstance(p, str) else p for p in products]
    p = person(session, user or name)
    unit = unit_by_code(session, unit_code)
    assert unit is not None, unit_code
    e = Enterprise(
        person_id=p.id,
        unit_id=unit.id,
        name=name,
        industry=industry,
        main_products="、".join(n for n, _ in products),
        contact_name="王经理",
        money_rules_agreed_at=NOW if agreed else None,
        phone=f"1390000{next(_seq):04d}",
        has_shop=False,
        status="approved",
        submitted_at=NOW,
        created_at=NOW,
        updated_at=NOW,
    )
    session.add(e)
    session.flush()
    made = []
    for product_name, tag in products:
        made.append(
            Product(
                enterprise_id=e.id,
                name=product_name,
                priority_tag=tag,
                monthly_orders=1000,
                monthly_turnover_fen=monthly_turnover_yuan * 100,
                stock=5000,
                status=product_status,
                created_at=NOW,
                updated_at=NOW,
            )
        )
    session.add_all(made)
    session.flush()
    return e, made


def product_sale(session: Session, r: DailyReport, product: Product, gmv_yuan: int) -> None:
    """The part of a report's GMV the streamer assigned to a product."""
    session.add(ReportProductSale(report_id=r.id, product_id=product.id, gmv_fen=gmv_yuan * 100))
    session.flush()
