"""Who the scheduled jobs write to: approved streamers, unit contacts, admins, subscribed
group chats, and the people themselves, loaded in bulk.

Statements are built once, at import: a broadcast job asks for the same lists every time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from models.base import ReviewStatus
from models.board import BoardEntry
from models.committee import GroupSubscription
from models.people import Person, Role
from models.streamers import DailyReport, Streamer

# An IN list of bounded length keeps each statement within the databases' parameter limits.
PEOPLE_PER_QUERY = 1000

_APPROVED_STREAMERS = (
    select(Streamer.person_id)
    .where(Streamer.status == ReviewStatus.APPROVED.value)
    .order_by(Streamer.id)
)
# A page of them after a streamer id, with each one's language: read page by page (each its
# own statement, so a job may commit between pages), no Person object loaded.
_APPROVED_PAGE = (
    select(Streamer.id, Streamer.person_id, Person.locale)
    .join(Person, Person.id == Streamer.person_id)
    .where(Streamer.status == ReviewStatus.APPROVED.value, Streamer.id > bindparam("after"))
    .order_by(Streamer.id)
    .limit(bindparam("limit"))
)
_UNIT_CONTACTS = (
    select(Role.person_id, Role.unit_id)
    .where(Role.role == "unit_contact", Role.unit_id.is_not(None))
    .distinct()
    .order_by(Role.person_id, Role.unit_id)
)
_ADMINS = select(Role.person_id).where(Role.role == "admin").distinct().order_by(Role.person_id)
_SUBSCRIBED_CHATS = (
    select(GroupSubscription.channel, GroupSubscription.chat_id)
    .where(GroupSubscription.active.is_(True))
    .order_by(GroupSubscription.id)
)
_REPORTED_ON = (
    select(Streamer.person_id)
    .join(DailyReport, DailyReport.streamer_id == Streamer.id)
    .where(DailyReport.report_date == bindparam("day"))
)
# A page of a published board, after a rank (a board's ranks are 1..n, each once): the
# (board, rank) index walks it, and each page is its own statement, so a job may commit
# between pages (a cursor would not outlive the commit).
_RANKED = (
    select(
        Streamer.person_id,
        BoardEntry.rank,
        BoardEntry.previous_rank,
        BoardEntry.score,
        Person.locale,
    )
    .join(BoardEntry, BoardEntry.streamer_id == Streamer.id)
    .join(Person, Person.id == Streamer.person_id)
    .where(BoardEntry.board_id == bindparam("board"), BoardEntry.rank > bindparam("after"))
    .order_by(BoardEntry.rank)
    .limit(bindparam("limit"))
)
_PEOPLE = select(Person).where(Person.id.in_(bindparam("ids", expanding=True)))


def approved_streamers(session: Session) -> list[int]:
    """Person ids of the approved streamers, in the order they registered."""
    return list(session.scalars(_APPROVED_STREAMERS))


def approved_streamer_pages(session: Session, size: int) -> Iterator[list[tuple[int, str | None]]]:
    """The approved streamers as (person id, locale), `size` at a time, in the order they
    registered; the next page is read when asked for (after a commit, too)."""
    after = 0
    while rows := session.execute(_APPROVED_PAGE, {"after": after, "limit": size}).all():
        after = rows[-1][0]
        yield [(person_id, locale) for _sid, person_id, locale in rows]


def unit_contacts(session: Session) -> list[tuple[int, int]]:
    """(person id, unit id) of every unit contact; a contact of two units appears twice."""
    rows = session.execute(_UNIT_CONTACTS)
    return [(p, u) for p, u in rows.tuples() if u is not None]


def admins(session: Session) -> list[int]:
    return list(session.scalars(_ADMINS))


def subscribed_chats(session: Session) -> list[tuple[str, str]]:
    """(channel, chat id) of the group chats subscribed with /subscribe and still active."""
    return [(c, i) for c, i in session.execute(_SUBSCRIBED_CHATS).tuples()]


def reported_on(session: Session, day: dt.date) -> set[int]:
    """Person ids of the streamers with a report for the day (a rejected one counts too)."""
    return set(session.scalars(_REPORTED_ON, {"day": day}))


class Ranked(NamedTuple):
    """A streamer on a published board, as plain values (a board job reads 100,000)."""

    person_id: int
    rank: int
    previous_rank: int | None
    score: Decimal
    locale: str | None


def ranked_page(session: Session, board_id: int, after: int, limit: int) -> list[Ranked]:
    """The next `limit` streamers on a published board with a rank above `after`, best rank
    first ([] past the last one)."""
    rows = session.execute(_RANKED, {"board": board_id, "after": after, "limit": limit})
    return [Ranked(*row) for row in rows.tuples()]


def people(session: Session, person_ids: list[int]) -> list[Person]:
    """The people, in a few queries instead of one each (a broadcast reaches thousands)."""
    found: list[Person] = []
    for start in range(0, len(person_ids), PEOPLE_PER_QUERY):
        chunk = person_ids[start : start + PEOPLE_PER_QUERY]
        found += session.scalars(_PEOPLE, {"ids": chunk})
    return found
