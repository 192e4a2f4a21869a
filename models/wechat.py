"""WeChat's shared state: callbacks already seen, each follower's customer-service window, the
access tokens every process shares, and one-time codes that link two channel identities.

Everything here is in the database because several bot processes may serve the same Official
Account: a resend may reach another process, and WeChat retires the previous access token on
each refresh, so one process refreshing alone would break the others' calls.

Longer than 300 lines on purpose: every statement of WeChat's shared tables (callbacks,
followers' windows, tokens, link codes), built once because every message runs some of them: one
area's tables and their queries, as DESIGN.md asks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Boolean,
    Connection,
    ForeignKey,
    String,
    Text,
    bindparam,
    delete,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, BigId, IdMixin
from models.db import is_sqlite

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class WeChatInbound(IdMixin, Base):
    """A callback already accepted (MsgId, or sender + CreateTime for events): a resend of the
    same message finds its row and is not processed again. Stored before processing."""

    __tablename__ = "wechat_inbound"

    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    received_at: Mapped[dt.datetime] = mapped_column(index=True)
    # What the step answered (the whole text; a passive reply is its first part), stored in
    # the step's commit: a resend whose first answer was lost on the way gets it again.
    reply: Mapped[str | None] = mapped_column(Text)
    late: Mapped[bool] = mapped_column(default=False)  # the reply went out by the outbox
    resends: Mapped[int] = mapped_column(default=0)  # WeChat's resends seen so far
    # A message answered empty (its step missed the passive budget) whose step has not
    # committed yet: stored before the empty answer, as WeChat will not send it again. The
    # Incoming as JSON, the worker holding it and until when (renewed while it lives); the
    # step's own commit clears the three, and once the lease has run out another worker
    # (or this one, restarted) takes the message over. All three None: handled.
    openid: Mapped[str | None] = mapped_column(String(100))
    pending: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[dt.datetime | None] = mapped_column(index=True)


class WeChatFollower(IdMixin, Base):
    """When a follower last wrote (the 48-hour customer-service window) and how many
    customer-service messages were sent since (the per-interaction quota)."""

    __tablename__ = "wechat_followers"

    openid: Mapped[str] = mapped_column(String(100), unique=True)
    last_interaction_at: Mapped[dt.datetime]
    sent_since: Mapped[int] = mapped_column(default=0)
    # the callback (its dedupe key) whose step asked the follower's open question: a late
    # reply to an earlier one is superseded, whichever worker's outbox loop takes it
    asked_by: Mapped[str | None] = mapped_column(String(200))


class WeChatToken(IdMixin, Base):
    """One access token per API account (an Official Account, a WeCom app), shared."""

    __tablename__ = "wechat_tokens"

    account: Mapped[str] = mapped_column(String(100), unique=True)
    token: Mapped[str] = mapped_column(String(1000), default="")
    expires_at: Mapped[dt.datetime]
    generation: Mapped[int] = mapped_column(default=0)  # refreshes so far (tests, diagnostics)


class LinkCode(IdMixin, Base):
    """A one-time code from /link on one channel, entered on another to merge the two people."""

    __tablename__ = "link_codes"

    code: Mapped[str] = mapped_column(String(20), unique=True)
    person_id: Mapped[int] = mapped_column(BigId, ForeignKey("people.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]


def _insert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


# ----- resends and the messages answered empty -------------------------------------------------
# Every message's step runs these, so they are statements built once and run on the step's own
# connection. Written as SQL: SQLAlchemy compiles its SQLite and PostgreSQL INSERT ... ON
# CONFLICT constructs anew at every execution (they are not cached), which cost more than
# running them; this SQL is the same on both. RETURNING, not rowcount: psycopg reports -1 for
# some INSERT ... ON CONFLICT.
_TIME = WeChatInbound.__table__.c.received_at.type
_VALUES = """INSERT INTO wechat_inbound (dedupe_key, received_at, reply, late, resends)
VALUES (:key, :now, :reply, :late, 0)"""
_FIRST = text(f"{_VALUES} ON CONFLICT (dedupe_key) DO NOTHING RETURNING id").bindparams(
    bindparam("now", type_=_TIME), bindparam("late", False, type_=Boolean())
)
# the step's record: a new row, or the message held for it (answered empty); a row already
# handled (a resend, a takeover that won) returns nothing
_FINISH = text(
    f"""{_VALUES} ON CONFLICT (dedupe_key) DO UPDATE SET reply = excluded.reply,
    openid = NULL, pending = NULL, owner = NULL, lease_until = NULL
    WHERE wechat_inbound.pending IS NOT NULL RETURNING id"""
).bindparams(bindparam("now", type_=_TIME), bindparam("late", False, type_=Boolean()))
# held: its reply goes by the outbox (late), so a resend of it is answered empty
_HOLD = text(
    """INSERT INTO wechat_inbound
    (dedupe_key, received_at, reply, late, resends, openid, pending, owner, lease_until)
    VALUES (:key, :now, NULL, :late, 0, :openid, :pending, :owner, :until)
    ON CONFLICT (dedupe_key) DO NOTHING"""
).bindparams(
    bindparam("now", type_=_TIME),
    bindparam("until", type_=_TIME),
    bindparam("late", True, type_=Boolean()),
)
_TOUCH = text(
    """INSERT INTO wechat_followers (openid, last_interaction_at, sent_since)
    VALUES (:openid, :now, 0) ON CONFLICT (openid)
    DO UPDATE SET last_interaction_at = excluded.last_interaction_at, sent_since = 0"""
).bindparams(bindparam("now", type_=_TIME))
# The same after a step: only while the follower is still someone (a step that erased them,
# /forget, has deleted their window and renamed their identity).
_TOUCH_KNOWN = text(
    """INSERT INTO wechat_followers (openid, last_interaction_at, sent_since, asked_by)
    SELECT :openid, :now, 0, :asked WHERE EXISTS
    (SELECT 1 FROM identities WHERE channel = 'wechat' AND user_id = :known)
    ON CONFLICT (openid)
    DO UPDATE SET last_interaction_at = excluded.last_interaction_at, sent_since = 0,
    asked_by = COALESCE(excluded.asked_by, wechat_followers.asked_by)"""
).bindparams(bindparam("now", type_=_TIME), bindparam("asked", type_=String(200)))


def first_delivery(session: Session, key: str, now: dt.datetime, reply: str | None = None) -> bool:
    """Records a callback (with the step's reply); False when it was recorded before (WeChat
    resent it)."""
    params = {"key": key[:200], "now": now, "reply": reply}
    return session.connection().execute(_FIRST, params).first() is not None


def finished(
    session: Session,
    key: str,
    openid: str,
    now: dt.datetime,
    reply: str | None,
    asked: bool = False,
) -> bool:
    """The step's own record of a message, in its transaction: the callback with its reply
    (the message held for it, if it was answered empty, is cleared), and the follower's new
    48-hour window; `asked`: the reply asks a question (this step asked the open one).
    False: handled before (a resend, or another worker finished it first): the caller
    rolls the step back."""
    session.flush()  # the step's ORM changes first (an erasure renames the identity)
    conn = session.connection()
    params = {"key": key[:200], "now": now, "reply": reply}
    if conn.execute(_FINISH, params).first() is None:
        return False
    # the openid twice under two names: PostgreSQL deduces one parameter's type once
    touch = {"openid": openid, "known": openid, "now": now, "asked": key[:200] if asked else None}
    conn.execute(_TOUCH_KNOWN, touch)
    return True


def asked_by(session: Session, openid: str) -> tuple[bool, str | None]:
    """Which callback's step asked the follower's open question, as committed: (known, its
    key); not known for a follower whose steps since the column came asked none."""
    found = session.scalar(select(WeChatFollower.asked_by).where(WeChatFollower.openid == openid))
    return found is not None, found


def hold(
    conn: Connection,
    key: str,
    openid: str,
    pending: str,
    owner: str,
    now: dt.datetime,
    until: dt.datetime,
) -> None:
    """A message about to be answered empty is stored for its step (`pending`: the Incoming
    as JSON), held by `owner` until `until`. Nothing happens if its step has committed
    already (its row is there)."""
    params = {"key": key[:200], "now": now, "openid": openid, "pending": pending}
    conn.execute(_HOLD, params | {"owner": owner, "until": until})


_RENEW = (
    update(WeChatInbound)
    .where(WeChatInbound.owner == bindparam("owner"), WeChatInbound.lease_until.is_not(None))
    .values(lease_until=bindparam("until", type_=_TIME))
)
_HELD = (
    select(
        WeChatInbound.dedupe_key,
        WeChatInbound.openid,
        WeChatInbound.owner,
        WeChatInbound.lease_until,
    )
    .where(WeChatInbound.lease_until.is_not(None))
    .order_by(WeChatInbound.id)
)


def renew(conn: Connection, owner: str, until: dt.datetime) -> int:
    """The worker is alive: every message it holds is held until `until` (one statement)."""
    result = conn.execute(_RENEW, {"owner": owner, "until": until})
    return int(result.rowcount)


@dataclass(frozen=True)
class Held:
    key: str
    openid: str
    owner: str
    lease_until: dt.datetime


def held(conn: Connection) -> list[Held]:
    """Every message answered empty whose step has not committed, oldest first."""
    return [Held(*row) for row in conn.execute(_HELD)]


def claim(
    conn: Connection, key: str, owner: str, now: dt.datetime, until: dt.datetime
) -> str | None:
    """Takes a held message over: one conditional update, so of two workers trying at once
    only one gets it. Taken when its lease has run out, or when `owner` holds it already
    (this worker restarted). Returns the Incoming's JSON, or None: not taken."""
    row = conn.execute(
        update(WeChatInbound)
        .where(
            WeChatInbound.dedupe_key == key[:200],
            WeChatInbound.lease_until.is_not(None),
            or_(WeChatInbound.lease_until <= now, WeChatInbound.owner == owner),
        )
        .values(owner=owner, lease_until=until)
        .returning(WeChatInbound.pending)
    ).first()
    return str(row[0]) if row is not None else None


def release(conn: Connection, key: str) -> None:
    """A held message whose step failed (the follower was told): not handled, so a resend
    of it is handled anew, as for any failed step."""
    conn.execute(
        delete(WeChatInbound).where(
            WeChatInbound.dedupe_key == key[:200], WeChatInbound.lease_until.is_not(None)
        )
    )


@dataclass(frozen=True)
class Handled:
    """A callback handled before: what it was answered, and how many resends came so far
    (this one included)."""

    reply: str | None
    late: bool
    resends: int


def resent(session: Session, key: str) -> Handled | None:
    """A resend of a callback handled before (counted), or None: not handled yet. A message
    still held for its step counts as late (its reply will go by the outbox)."""
    row = session.execute(
        update(WeChatInbound)
        .where(WeChatInbound.dedupe_key == key[:200])
        .values(resends=WeChatInbound.resends + 1)
        .returning(WeChatInbound.reply, WeChatInbound.late, WeChatInbound.resends)
    ).first()
    return Handled(row[0], bool(row[1]), int(row[2])) if row is not None else None


def went_late(session: Session, key: str) -> None:
    """The callback's reply went out by the outbox (its passive answer was empty)."""
    session.execute(
        update(WeChatInbound).where(WeChatInbound.dedupe_key == key[:200]).values(late=True)
    )


def delivered(session: Session, key: str) -> bool:
    """Recorded before: a resend of a callback already handled."""
    found = session.scalar(select(WeChatInbound.id).where(WeChatInbound.dedupe_key == key[:200]))
    return found is not None


def forget_deliveries(session: Session, before: dt.datetime) -> int:
    """Callbacks handled before `before` (resends come within seconds); held ones stay."""
    result = session.execute(
        delete(WeChatInbound).where(
            WeChatInbound.received_at < before, WeChatInbound.lease_until.is_(None)
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


# ----- the customer-service window ---------------------------------------------------------------
def touch_follower(session: Session, openid: str, now: dt.datetime) -> None:
    """The follower interacted: a new 48-hour window with a fresh quota."""
    session.connection().execute(_TOUCH, {"openid": openid, "now": now})


def reserve_service_message(
    session: Session, openid: str, now: dt.datetime, window: dt.timedelta, quota: int
) -> bool:
    """Takes one customer-service message of the follower's quota if the window is open; one
    conditional update, so concurrent senders never exceed the quota together."""
    result = session.execute(
        update(WeChatFollower)
        .where(
            WeChatFollower.openid == openid,
            WeChatFollower.last_interaction_at > now - window,
            WeChatFollower.sent_since < quota,
        )
        .values(sent_since=WeChatFollower.sent_since + 1)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def close_window(session: Session, openid: str) -> None:
    """WeChat said the window is closed (its clock or quota disagrees with ours): believe it."""
    session.execute(
        update(WeChatFollower)
        .where(WeChatFollower.openid == openid)
        .values(last_interaction_at=EPOCH)
    )


# ----- the shared access token -------------------------------------------------------------------
def current_token(
    session: Session, account: str, now: dt.datetime, margin: dt.timedelta
) -> str | None:
    row = session.execute(
        select(WeChatToken.token, WeChatToken.expires_at).where(WeChatToken.account == account)
    ).first()
    if row is None or not row.token or row.expires_at - margin <= now:
        return None
    return str(row.token)


def refresh_token(
    session: Session,
    account: str,
    now: dt.datetime,
    margin: dt.timedelta,
    fetch: Callable[[], tuple[str, int]],
    stale: str | None = None,
) -> str:
    """Returns a valid token, fetching a new one only if the stored one is missing, expiring,
    or the `stale` one a call was just refused with. Runs inside the caller's transaction and
    holds the row's lock during the fetch (FOR UPDATE on PostgreSQL; on SQLite the write lock
    the first statement takes), so of several processes only one fetches: the others wait and
    then find its token. `fetch` returns (token, expires_in seconds)."""
    session.execute(
        _insert(session)(WeChatToken)
        .values(account=account, token="", expires_at=EPOCH, generation=0)
        .on_conflict_do_nothing(index_elements=["account"])
    )
    if is_sqlite(session.get_bind()):
        # take SQLite's write lock now, before reading (a plain SELECT would not)
        session.execute(
            update(WeChatToken)
            .where(WeChatToken.account == account)
            .values(generation=WeChatToken.generation)
        )
    row = session.execute(
        select(WeChatToken).where(WeChatToken.account == account).with_for_update()
    ).scalar_one()
    if row.token and row.token != stale and row.expires_at - margin > now:
        return row.token  # another process refreshed while we waited for the lock
    token, expires_in = fetch()
    row.token = token
    row.expires_at = now + dt.timedelta(seconds=expires_in)
    row.generation += 1
    session.flush()
    return token


def token_generation(session: Session, account: str) -> int:
    return int(
        session.scalar(select(WeChatToken.generation).where(WeChatToken.account == account)) or 0
    )


# ----- /link: one person, two channels -----------------------------------------------------------
# Rows that belong to a person other than these (registrations, reports, roles, invitations...)
# make the person "hold" something; linking never merges two people who both hold something.
_NOT_HOLDINGS = {"identities", "link_codes", "outbox", "audit_log", "join_attempts"}


def issue_link_code(
    session: Session, person_id: int, channel: str, code: str, now: dt.datetime, ttl: dt.timedelta
) -> None:
    session.execute(
        delete(LinkCode).where(LinkCode.person_id == person_id, LinkCode.used_at.is_(None))
    )
    session.add(
        LinkCode(
            code=code, person_id=person_id, channel=channel, created_at=now, expires_at=now + ttl
        )
    )


def open_link_code(session: Session, code: str, now: dt.datetime) -> LinkCode | None:
    """The unused, unexpired code, locked against a second use."""
    return session.scalars(
        select(LinkCode)
        .where(LinkCode.code == code, LinkCode.used_at.is_(None), LinkCode.expires_at > now)
        .with_for_update()
    ).first()


def holds_something(session: Session, person_id: int) -> bool:
    for table in Base.metadata.sorted_tables:
        if table.name in _NOT_HOLDINGS:
            continue
        for fk in table.foreign_keys:
            if fk.column.table.name == "people" and fk.column.name == "id":
                found = session.execute(
                    select(fk.parent).where(fk.parent == person_id).limit(1)
                ).first()
                if found is not None:
                    return True
    return False


def merge_people(session: Session, keep: int, drop: int, channel: str) -> None:
    """`drop`'s channel identities (and undelivered messages) move to `keep`; `drop` stays
    behind without identities, so the audit log that names it still resolves."""
    from models.outbox import OutboxMessage, OutboxStatus
    from models.people import Identity, Person

    session.execute(update(Identity).where(Identity.person_id == drop).values(person_id=keep))
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.person_id == drop, OutboxMessage.status == OutboxStatus.PENDING.value)
        .values(person_id=keep)
    )
    kept, dropped = session.get(Person, keep), session.get(Person, drop)
    if kept is not None and dropped is not None:
        kept.last_channel = channel
        kept.privacy_accepted_at = kept.privacy_accepted_at or dropped.privacy_accepted_at
        kept.display_name = kept.display_name or dropped.display_name
