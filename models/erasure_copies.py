"""Where copies of erased values hide, and how they go (models/erasure.py erases the values
themselves): other people's messages (outbox payloads), stored Telegram updates and WeChat
replies, conversation states, audit values. The values are searched for as one pattern; the
database's free space is reclaimed after (vacuum)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, Text, cast, or_, select, update
from sqlalchemy.orm import Session

from models.outbox import OutboxMessage, OutboxStatus
from models.people import AuditEntry, DialogState
from models.telegram import TelegramUpdate
from models.units import Unit
from models.wechat import WeChatInbound

ERASED = "erased"  # what an erased value reads as (audit values, copies, free text)

# Shorter values are not searched for in copies: they would match other people's words (a
# two-letter Latin name inside "Light Up the Origin"); such a value stays only in copies that
# expire (stored updates: telegram.keep_updates_days) or that the retention job wipes.
MIN_NEEDLE = 2
MIN_ASCII_NEEDLE = 4
_CHUNK = 500  # ids per IN (...) list


@dataclass
class Needles:
    """The erased values, searched for in the copies: the stored form and the form JSON text
    holds them in (non-ASCII characters as \\uXXXX escapes)."""

    values: set[str] = field(default_factory=set)

    def add(self, *values: str | None) -> None:
        for value in values:
            value = (value or "").strip()
            if value.startswith(f"{ERASED}-"):
                continue
            shortest = MIN_ASCII_NEEDLE if value.isascii() else MIN_NEEDLE
            if len(value) >= shortest and value != ERASED:
                self.values.add(value)
                if value.isdigit() and len(value) == 11:  # a mobile number as people write it
                    self.values.add(f"{value[:3]} {value[3:7]} {value[7:]}")
                    self.values.add(f"{value[:3]}-{value[3:7]}-{value[7:]}")

    def patterns(self) -> set[str]:
        """What to look for in stored text: the values, and their JSON-escaped forms."""
        return self.values | {json.dumps(v)[1:-1] for v in self.values}

    def regex(self) -> re.Pattern[str] | None:
        """One pattern for all the values, as a trie (the retention job looks for the values
        of thousands of people at once: a plain alternation tries each at every position)."""
        if not self.values:
            return None
        return re.compile(_trie_pattern(sorted(self.values)))


def _trie_pattern(words: list[str]) -> str:
    """A regular expression matching any of the words, longest first, sharing prefixes."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}  # a word ends here

    def emit(node: dict[str, Any]) -> str:
        ends = "" in node
        branches = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if ends:  # longer words first, then the word that ends here
            return f"(?:{body})?"
        return body

    return emit(trie)


def chunks(ids: Sequence[Any]) -> Iterator[list[Any]]:
    for i in range(0, len(ids), _CHUNK):
        yield list(ids[i : i + _CHUNK])


def ids_of(session: Session, stmt: Any) -> list[int]:
    return [int(i) for i in session.scalars(stmt)]


# Up to this many values, the database picks the rows that may hold them (LIKE); beyond, every
# row is read and searched here (a statement of thousands of LIKEs is refused by SQLite).
_MAX_LIKES = 60


def scrub_copies(
    session: Session, needles: Needles, telegram_users: set[str], messages: bool
) -> None:
    """Copies of the erased values elsewhere: other people's conversation states, the audit
    entries of others' actions and (`messages`) other people's messages, stored updates (a
    reviewer's pressed card carries its text) and WeChat replies."""
    if messages:
        _group_updates(session, telegram_users)
    pattern = needles.regex()
    if pattern is None:
        return
    likes = needles.patterns()

    def candidates(model: Any, *columns: Any) -> Iterable[Any]:
        if len(likes) <= _MAX_LIKES:
            cond = or_(
                *(cast(c, Text).contains(p, autoescape=True) for c in columns for p in likes)
            )
            yield from session.scalars(select(model).where(cond))
            return
        for chunk in chunks(ids_of(session, select(model.id).order_by(model.id))):
            yield from session.scalars(select(model).where(model.id.in_(chunk)))

    def scrub(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: scrub(v) for k, v in value.items()}
        if isinstance(value, list):
            return [scrub(v) for v in value]
        if isinstance(value, str):
            return pattern.sub(ERASED, value)
        return value

    if messages:
        for o in candidates(OutboxMessage, OutboxMessage.payload):
            o.payload = scrub(o.payload)
        for u in candidates(TelegramUpdate, TelegramUpdate.payload, TelegramUpdate.replies):
            u.payload, u.replies = scrub(u.payload), scrub(u.replies)
        for w in candidates(WeChatInbound, WeChatInbound.reply):
            w.reply = scrub(w.reply)
    for d in candidates(DialogState, DialogState.data):
        d.data = scrub(d.data)
    for a in candidates(AuditEntry, AuditEntry.before, AuditEntry.after, AuditEntry.note):
        a.before, a.after, a.note = scrub(a.before), scrub(a.after), scrub(a.note)


def _group_updates(session: Session, telegram_users: set[str]) -> None:
    """Their messages elsewhere (a group chat): updates whose sender is one of them."""
    for user in telegram_users:
        for u in session.scalars(
            select(TelegramUpdate).where(
                cast(TelegramUpdate.payload, Text).contains(user, autoescape=True)
            )
        ):
            if _sent_by(u.payload, user):
                blank(u)


def blank(u: TelegramUpdate) -> None:
    """An update with nothing in it but its id (a start that finds it unhandled skips it)."""
    u.payload, u.replies = {"update_id": u.update_id}, None


def _sent_by(payload: Any, user: str) -> bool:
    if isinstance(payload, dict):
        for key, value in payload.items():
            if key in ("from", "user") and isinstance(value, dict) and str(value.get("id")) == user:
                return True
            if key == "user_id" and str(value) == user:
                return True
            if _sent_by(value, user):
                return True
    if isinstance(payload, list):
        return any(_sent_by(v, user) for v in payload)
    return False


def forget_copies_after_retention(session: Session) -> None:
    """After the retention date no message is waiting to be read: the texts of everything
    sent or given up, of stored Telegram updates and of WeChat replies go, whoever they were
    for (a notice to a reviewer quoted a registration)."""
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status != OutboxStatus.PENDING.value)
        .values(payload={"text": ERASED})
    )
    for u in session.scalars(
        select(TelegramUpdate).where(TelegramUpdate.processed_at.is_not(None))
    ):
        blank(u)
    session.execute(update(WeChatInbound).values(reply=None))
    session.execute(update(Unit).values(contact_name=None, contact_phone=None))


# the tables an erasure writes to (VACUUMed after it on PostgreSQL)
TOUCHED = (
    "people",
    "identities",
    "dialog_states",
    "roles",
    "link_codes",
    "streamers",
    "live_accounts",
    "daily_reports",
    "enterprises",
    "products",
    "turnovers",
    "donation_directions",
    "donation_payments",
    "certificates",
    "units",
    "sheet_imports",
    "outbox",
    "telegram_updates",
    "wechat_inbound",
    "wechat_followers",
    "audit_log",
)


def vacuum(engine: Engine, full: bool = False) -> None:
    """After an erasure, outside any transaction. SQLite: VACUUM rewrites the file without its
    free pages (where the erased values still were), then the WAL, which held the pages as
    written, is checkpointed and truncated. PostgreSQL: VACUUM makes the dead row versions'
    space reusable (`full`: VACUUM FULL rewrites the tables into new files, taking each
    table's lock in turn: the retention job's, after the festival); the old bytes stay in
    the freed disk blocks and WAL segments until reused or recycled, and in any backup."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("VACUUM")
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        elif engine.dialect.name == "postgresql":
            command = "VACUUM FULL" if full else "VACUUM"
            conn.exec_driver_sql(f"{command} {', '.join(TOUCHED)}")
