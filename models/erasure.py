"""Erasure of people's personal data: a person's own /forget, and everyone's once the retention
date (config privacy.erase_after) has passed.

What goes: phone numbers, channel identities (user and chat ids), display names, free text
(enterprise details, product names, reasons, notes, the directed project), evidence and product
pictures, drafts, and every copy of them the bot made (stored Telegram updates, WeChat replies,
outbox payloads, other people's conversation states, audit values, which read "erased").
What stays: the figures (reports, totals, registration figures: anonymous without a name or a
phone), the account name of a streamer who was on a published board or an award list (boards
keep the name as published), the name of an enterprise with an award or a donation record, the
awards and the amounts. The person's row stays, anonymous (erased_at), so ids still resolve.

Files are not touched here (models know no folders): `erase` returns the references of stored
files that lost their last reference, and its caller removes them.

Longer than 300 lines on purpose: one erasure: what goes and what stays is decided together, in
one transaction (a name kept for a published board or an award decides whether its rows are
blanked; the values collected from the registrations are what the copies are searched for); the
search of the copies is apart, in models/erasure_copies.py.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from models import erased_marks
from models.awards import AwardEntry, Certificate
from models.board import BoardEntry
from models.donations import (
    DonationCertificate,
    DonationDirection,
    DonationPayment,
    Turnover,
    TurnoverStatus,
)
from models.enterprises import Enterprise, Product
from models.erasure_copies import (  # the copies, the search pattern, the free space
    ERASED,
    Needles,
    blank,
    chunks,
    ids_of,
    scrub_copies,
)
from models.feedback import Feedback
from models.imports import SheetImport
from models.outbox import OutboxMessage, OutboxStatus
from models.people import AuditEntry, DialogState, Identity, Person, Role
from models.streamers import DailyReport, LiveAccount, Streamer
from models.telegram import TelegramUpdate
from models.units import Unit
from models.wechat import LinkCode, WeChatFollower, WeChatInbound


@dataclass
class Erased:
    """What one erasure did: whose data, the stored files that lost their last reference,
    the import sheets that held the people's rows (to redact or remove), counts."""

    people: list[int] = field(default_factory=list)
    files: set[str] = field(default_factory=set)
    sheets: list[SheetImport] = field(default_factory=list)
    needles: Needles = field(default_factory=Needles)
    kept_names: int = 0  # registrations whose name stays (published boards, awards, donations)
    # the names erased, fingerprinted so that an old sheet cannot bring them back
    marks: dict[str, set[tuple[str, ...]]] = field(
        default_factory=lambda: {erased_marks.ACCOUNT: set(), erased_marks.ENTERPRISE: set()}
    )


# ----- who -------------------------------------------------------------------------------------
def due_for_retention(session: Session) -> list[int]:
    """The people the retention job erases: everyone not erased yet who holds no committee or
    unit-contact role (the office's own accounts stay), with or without a registration."""
    staff = select(Role.person_id)
    return ids_of(
        session,
        select(Person.id)
        .where(Person.erased_at.is_(None), Person.id.not_in(staff))
        .order_by(Person.id),
    )


def staff_holding_data(session: Session) -> list[int]:
    """The office's own accounts (committee and unit-contact roles) that still hold a
    registration, feedback or a draft of their own: the retention job erases those and keeps
    the account (its identities, name, roles and conversation) that runs the office."""
    staff = select(Role.person_id)
    drafting = {
        int(person)
        for person, data in session.execute(
            select(Identity.person_id, DialogState.data)
            .join(DialogState, DialogState.identity_id == Identity.id)
            .where(Identity.person_id.in_(staff))
        )
        if _holds_answers(data)
    }
    held = (
        select(Streamer.person_id)
        .where(Streamer.person_id.in_(staff), Streamer.phone != "")
        .union(
            select(Enterprise.person_id).where(
                Enterprise.person_id.in_(staff), Enterprise.phone != ""
            ),
            select(Feedback.person_id).where(Feedback.person_id.in_(staff)),
        )
        .subquery()
    )
    return sorted(set(ids_of(session, select(held.c[0]))) | drafting)


def _holds_answers(data: dict[str, Any] | None) -> bool:
    """A conversation state with a form's answers in it: drafts, or a form under way."""
    return bool(data and (data.get("drafts") or data.get("form")))


def is_erased(session: Session, person_id: int) -> bool:
    return session.scalar(select(Person.erased_at).where(Person.id == person_id)) is not None


def erased_among(session: Session, person_ids: Iterable[int]) -> set[int]:
    """Which of these people were erased."""
    found: set[int] = set()
    for chunk in chunks(sorted(set(person_ids))):
        found |= set(
            ids_of(
                session,
                select(Person.id).where(Person.id.in_(chunk), Person.erased_at.is_not(None)),
            )
        )
    return found


def holds_record(session: Session, person_id: int) -> bool:
    """An award or a donation record that the festival keeps (name, award, amount)."""
    s_ids = ids_of(session, select(Streamer.id).where(Streamer.person_id == person_id))
    e_ids = ids_of(session, select(Enterprise.id).where(Enterprise.person_id == person_id))
    awarded = bool(s_ids) and session.scalar(_awarded("streamer", s_ids).limit(1)) is not None
    return awarded or bool(_kept_enterprises(session, e_ids))


def _awarded(kind: str, ids: list[int]) -> Any:
    return select(AwardEntry.subject_id).where(
        AwardEntry.kind == kind, AwardEntry.subject_id.in_(ids)
    )


def _kept_streamers(session: Session, ids: list[int]) -> set[int]:
    """Streamers whose account name stays: on a published board, or on an award list."""
    kept: set[int] = set()
    for chunk in chunks(ids):
        kept |= set(
            ids_of(session, select(BoardEntry.streamer_id).where(BoardEntry.streamer_id.in_(chunk)))
        )
        kept |= set(ids_of(session, _awarded("streamer", chunk)))
    return kept


def _kept_enterprises(session: Session, ids: list[int]) -> set[int]:
    """Enterprises whose name stays: an award, a payment, a certificate or a confirmed
    turnover (the donation due is computed from it)."""
    kept: set[int] = set()
    for chunk in chunks(ids):
        kept |= set(ids_of(session, _awarded("enterprise", chunk)))
        for table in (DonationPayment, DonationCertificate):
            kept |= set(
                ids_of(session, select(table.enterprise_id).where(table.enterprise_id.in_(chunk)))
            )
        kept |= set(
            ids_of(
                session,
                select(Turnover.enterprise_id).where(
                    Turnover.enterprise_id.in_(chunk),
                    Turnover.status == TurnoverStatus.CONFIRMED.value,
                ),
            )
        )
    return kept


# ----- the erasure ---------------------------------------------------------------------------
def erase(
    session: Session,
    person_ids: Sequence[int],
    now: dt.datetime,
    extra: Iterable[str] = (),
    messages: bool = True,
    staff: Sequence[int] = (),
) -> Erased:
    """Erase these people's personal data and every copy of it (see the module's docstring),
    in the session's transaction; `extra`: more of their values to look for in copies (their
    drafts' answers, which only the forms can tell from choices); `messages`: False when
    the caller wipes every stored message anyway (forget_copies_after_retention), so they
    are not searched; `staff`: the office's own accounts (the retention job), whose
    registrations, feedback and drafts go while the account itself (identities, name, roles)
    stays. Idempotent: erasing an erased person again changes nothing that was not erased
    already. The erased names are fingerprinted (models/erased_marks.py)."""
    out = Erased(people=list(person_ids))
    out.needles.add(*extra)
    if not person_ids and not staff:
        return out
    items = _Items.of(session, list(person_ids))
    theirs = _Items.of(session, [p for p in staff if p not in set(person_ids)])
    for held in (items, theirs):
        _streamers(session, held, out)
        _enterprises(session, held, out)
        _feedback(session, held, out)
    _people(session, items, out, now)
    _staff_drafts(session, theirs, out)
    # before the audit notes naming them are erased
    out.sheets = _sheets(session, items) + _sheets(session, theirs)
    _audit(session, items)
    _audit(session, theirs, person=False)
    scrub_copies(session, out.needles, items.telegram_users, messages)
    out.files = _unreferenced(session, out.files)
    for kind, keys in out.marks.items():
        erased_marks.mark(session, kind, keys, now)
    return out


def _staff_drafts(session: Session, items: _Items, out: Erased) -> None:
    """The office accounts' drafts and forms under way (a phone typed into a half-done
    registration): gone, with their pictures; the rest of the conversation stays."""
    for state in _rows(session, DialogState, items.identities, DialogState.identity_id):
        if _holds_answers(state.data):
            out.files |= set(_stored_paths(state.data))
            kept = {k: v for k, v in state.data.items() if k not in ("drafts", "form")}
            state.flow, state.data = None, kept
            state.version += 1  # a button shown for the form is stale now


@dataclass
class _Items:
    """The people's registrations and everything under them."""

    people: list[int]
    streamers: list[int]
    reports: list[int]
    accounts: list[int]
    enterprises: list[int]
    products: list[int]
    turnovers: list[int]
    identities: list[int]
    telegram_users: set[str]
    wechat_openids: set[str]

    @classmethod
    def of(cls, session: Session, people: list[int]) -> _Items:
        def ids(stmt: Any) -> list[int]:
            found: list[int] = []
            for chunk in chunks(people):
                found += ids_of(session, stmt(chunk))
            return found

        streamers = ids(lambda c: select(Streamer.id).where(Streamer.person_id.in_(c)))
        enterprises = ids(lambda c: select(Enterprise.id).where(Enterprise.person_id.in_(c)))
        # people left behind holding their names: the placeholder of a registration they
        # claimed from an imported sheet, the person merged into theirs by /link
        people = sorted(set(people) | _left_behind(session, people, streamers, enterprises))
        identities = [
            (int(i), ch, uid)
            for chunk in chunks(people)
            for i, ch, uid in session.execute(
                select(Identity.id, Identity.channel, Identity.user_id).where(
                    Identity.person_id.in_(chunk)
                )
            )
        ]

        def under(stmt: Any, parents: list[int]) -> list[int]:
            found: list[int] = []
            for chunk in chunks(parents):
                found += ids_of(session, stmt(chunk))
            return found

        return cls(
            people=people,
            streamers=streamers,
            reports=under(
                lambda c: select(DailyReport.id).where(DailyReport.streamer_id.in_(c)), streamers
            ),
            accounts=under(
                lambda c: select(LiveAccount.id).where(LiveAccount.streamer_id.in_(c)), streamers
            ),
            enterprises=enterprises,
            products=under(
                lambda c: select(Product.id).where(Product.enterprise_id.in_(c)), enterprises
            ),
            turnovers=under(
                lambda c: select(Turnover.id).where(Turnover.enterprise_id.in_(c)), enterprises
            ),
            identities=[i for i, _ch, _uid in identities],
            telegram_users={u for _i, ch, u in identities if ch == "telegram" and ":" not in u},
            wechat_openids={u for _i, ch, u in identities if ch == "wechat" and ":" not in u},
        )


def _streamers(session: Session, items: _Items, out: Erased) -> None:
    kept = _kept_streamers(session, items.streamers)
    out.kept_names += len(kept)
    for s in _rows(session, Streamer, items.streamers):
        out.needles.add(s.phone, s.reject_reason)
        s.phone, s.reject_reason = "", None
    for a in _rows(session, LiveAccount, items.accounts):
        # a kept name stays here only: its copies (replies, notices) go like everything else
        out.needles.add(a.account_name)
        if not a.account_name.startswith(f"{ERASED}-"):
            out.marks[erased_marks.ACCOUNT].add((a.platform, a.account_name))
        if a.streamer_id not in kept and not a.account_name.startswith(f"{ERASED}-"):
            a.account_name = f"{ERASED}-{a.id}"  # unique per platform, as account names are
    # a streamer has a report a day: only those with a picture or a reason are read, and
    # they are changed by statement, not loaded one by one
    for chunk in chunks(items.streamers):
        holding = (DailyReport.streamer_id.in_(chunk)) & or_(
            DailyReport.evidence_file_id.is_not(None), DailyReport.reject_reason.is_not(None)
        )
        for ref, reason in session.execute(
            select(DailyReport.evidence_file_id, DailyReport.reject_reason).where(holding)
        ):
            if ref:
                out.files.add(ref)
            out.needles.add(reason)
        session.execute(
            update(DailyReport).where(holding).values(evidence_file_id=None, reject_reason=None)
        )
    _certificates(session, "streamer", [i for i in items.streamers if i not in kept], out)


def _enterprises(session: Session, items: _Items, out: Erased) -> None:
    kept = _kept_enterprises(session, items.enterprises)
    out.kept_names += len(kept)
    for e in _rows(session, Enterprise, items.enterprises):
        out.needles.add(e.phone, e.contact_name, e.main_products, e.shop_type, e.shop_link)
        e.phone, e.contact_name, e.main_products = "", "", ""
        e.shop_type, e.shop_link = None, None
        out.needles.add(e.name)  # kept or not, its copies go
        if not e.name.startswith(f"{ERASED}-"):
            out.marks[erased_marks.ENTERPRISE].add((e.name,))
        if e.id not in kept and not e.name.startswith(f"{ERASED}-"):
            e.name = f"{ERASED}-{e.id}"
    for p in _rows(session, Product, items.products):
        if p.attachment_file_id:
            out.files.add(p.attachment_file_id)
        if not p.name.startswith(f"{ERASED}-"):
            out.needles.add(p.name)
        out.needles.add(p.reject_reason)
        p.attachment_file_id, p.reject_reason, p.name = None, None, f"{ERASED}-{p.id}"
    for t in _rows(session, Turnover, items.turnovers):
        if t.evidence_file_id:
            out.files.add(t.evidence_file_id)
        out.needles.add(t.reason)
        t.evidence_file_id, t.reason = None, None
    for chunk in chunks(items.enterprises):
        for d in session.scalars(
            select(DonationDirection).where(DonationDirection.enterprise_id.in_(chunk))
        ):
            out.needles.add(d.project)
            d.project = ERASED
        for p in session.scalars(
            select(DonationPayment).where(DonationPayment.enterprise_id.in_(chunk))
        ):
            out.needles.add(p.note)
            p.note = None
    _certificates(session, "enterprise", [i for i in items.enterprises if i not in kept], out)


def _certificates(session: Session, kind: str, subject_ids: list[int], out: Erased) -> None:
    """Certificates naming someone whose name goes (participation): their files go too."""
    for chunk in chunks(subject_ids):
        for c in session.scalars(
            select(Certificate).where(
                Certificate.subject_kind == kind, Certificate.subject_id.in_(chunk)
            )
        ):
            out.files |= {p for p in (c.pdf_path, c.png_path) if p}
            c.pdf_path, c.png_path = None, None


def _feedback(session: Session, items: _Items, out: Erased) -> None:
    """Their 反馈 (free text, files) goes whole: nothing of it is a festival record; its audit
    entries keep who and when."""
    for chunk in chunks(items.people):
        rows = list(session.scalars(select(Feedback).where(Feedback.person_id.in_(chunk))))
        for fb in rows:
            out.needles.add(fb.went_well, fb.improve, fb.summary)
            out.files |= set(_stored_paths(fb.files))
            for entry in session.scalars(
                select(AuditEntry).where(
                    AuditEntry.entity == "feedback", AuditEntry.entity_id == fb.id
                )
            ):
                entry.before = _erased_values(entry.before)
                entry.after = _erased_values(entry.after)
        session.execute(delete(Feedback).where(Feedback.person_id.in_(chunk)))


def _people(session: Session, items: _Items, out: Erased, now: dt.datetime) -> None:
    for p in _rows(session, Person, items.people):
        out.needles.add(p.display_name)
        p.display_name = ""
        if p.erased_at is None:
            p.erased_at = now
    # the unit's contact of an imported sheet, when it is one of these people's numbers
    phones = {n for n in out.needles.values if n.isdigit() and len(n) == 11}
    if phones:
        session.execute(
            update(Unit)
            .where(Unit.contact_phone.in_(phones))
            .values(contact_name=None, contact_phone=None)
        )
    for ident in _rows(session, Identity, items.identities):
        out.needles.add(ident.user_id if ident.channel == "wechat" else None)
        erased_id = f"{ERASED}:{ident.id}"  # the platform's account no longer leads here
        ident.user_id, ident.chat_id = erased_id, erased_id
    for state in _rows(session, DialogState, items.identities, DialogState.identity_id):
        out.files |= set(_stored_paths(state.data))
        state.flow, state.data = None, {}
    for chunk in chunks(items.people):
        session.execute(delete(LinkCode).where(LinkCode.person_id.in_(chunk)))
        session.execute(delete(Role).where(Role.person_id.in_(chunk)))
    if items.wechat_openids:
        openids = sorted(items.wechat_openids)
        session.execute(delete(WeChatFollower).where(WeChatFollower.openid.in_(openids)))
        for openid in openids:
            for row in session.scalars(
                select(WeChatInbound).where(
                    WeChatInbound.dedupe_key.contains(openid, autoescape=True)
                    | (WeChatInbound.openid == openid)  # a message held for a late step
                )
            ):
                row.dedupe_key, row.reply = f"{ERASED}:{row.id}", None
                row.openid = row.pending = row.owner = row.lease_until = None
    # what was sent to them, or waits to be: its text goes, its key stays (sent once)
    for chunk in chunks(items.people):
        mine = OutboxMessage.person_id.in_(chunk)
        session.execute(
            update(OutboxMessage)
            .where(mine, OutboxMessage.status == OutboxStatus.PENDING.value)
            .values(status=OutboxStatus.FAILED.value, last_error=ERASED)
        )
        session.execute(
            update(OutboxMessage).where(mine).values(payload={"text": ERASED}, chat_id=ERASED)
        )
    # their stored Telegram updates (private chats are keyed by the user's id)
    for user in items.telegram_users:
        for u in session.scalars(select(TelegramUpdate).where(TelegramUpdate.chat_key == user)):
            blank(u)


def _audit(session: Session, items: _Items, person: bool = True) -> None:
    """The audit entries of the people's own registrations, reports, products, turnovers
    and (`person`) person: who did what when stays, the values read "erased" (numbers stay:
    figures)."""
    owned = {
        "streamer": items.streamers,
        "daily_report": items.reports,
        "enterprise": items.enterprises,
        "product": items.products,
        "turnover": items.turnovers,
        "person": items.people if person else [],
    }
    for entity, ids in owned.items():
        for chunk in chunks(ids):
            for entry in session.scalars(
                select(AuditEntry).where(
                    AuditEntry.entity == entity, AuditEntry.entity_id.in_(chunk)
                )
            ):
                entry.before = _erased_values(entry.before)
                entry.after = _erased_values(entry.after)
                entry.note = ERASED if entry.note else None


# the festival's own words in audit values, not the person's: kept, so the story still reads
_KEPT_KEYS = frozenset({"status", "recommendation"})


def _erased_values(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: v if k in _KEPT_KEYS and isinstance(v, str) else _erased_values(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_erased_values(v) for v in value]
    if isinstance(value, str):
        return ERASED
    return value


_MERGED = re.compile(r"^merged person (\d+)$")


def _left_behind(
    session: Session, people: list[int], streamers: list[int], enterprises: list[int]
) -> set[int]:
    found: set[int] = set()
    for entity, ids in (("streamer", streamers), ("enterprise", enterprises)):
        for chunk in chunks(ids):
            for after in session.scalars(
                select(AuditEntry.after).where(
                    AuditEntry.action == "claim",
                    AuditEntry.entity == entity,
                    AuditEntry.entity_id.in_(chunk),
                )
            ):
                placeholder = (after or {}).get("from_placeholder")
                if isinstance(placeholder, int):
                    found.add(placeholder)
    for chunk in chunks(people):
        for note in session.scalars(
            select(AuditEntry.note).where(
                AuditEntry.action == "link",
                AuditEntry.entity == "person",
                AuditEntry.entity_id.in_(chunk),
            )
        ):
            if note and (m := _MERGED.match(note)):
                found.add(int(m.group(1)))
    # only people who hold nothing of anyone else (no identity, no registration of their own)
    held = set()
    for chunk in chunks(sorted(found)):
        held |= set(
            ids_of(session, select(Identity.person_id).where(Identity.person_id.in_(chunk)))
        )
        held |= set(
            ids_of(session, select(Streamer.person_id).where(Streamer.person_id.in_(chunk)))
        )
        held |= set(
            ids_of(session, select(Enterprise.person_id).where(Enterprise.person_id.in_(chunk)))
        )
    return found - held


_IMPORT_NOTE = re.compile(r"^import (\d+)")


def _sheets(session: Session, items: _Items) -> list[SheetImport]:
    """The imports that brought in or changed these people's registrations: their audit
    notes name them ("import N: ..."), read before those notes are erased."""
    found: set[int] = set()
    for entity, ids in (("streamer", items.streamers), ("enterprise", items.enterprises)):
        for chunk in chunks(ids):
            for note in session.scalars(
                select(AuditEntry.note).where(
                    AuditEntry.entity == entity,
                    AuditEntry.entity_id.in_(chunk),
                    AuditEntry.note.like("import %"),
                )
            ):
                if note and (m := _IMPORT_NOTE.match(note)):
                    found.add(int(m.group(1)))
    if not found:
        return []
    return list(session.scalars(select(SheetImport).where(SheetImport.id.in_(sorted(found)))))


def all_sheets(session: Session) -> list[SheetImport]:
    """Every import that still keeps its workbook or scan (the retention job removes them)."""
    return list(
        session.scalars(
            select(SheetImport).where(
                or_(SheetImport.file_path.is_not(None), SheetImport.scan_path.is_not(None))
            )
        )
    )


def _rows(session: Session, model: Any, ids: list[int], column: Any = None) -> Iterator[Any]:
    column = column if column is not None else model.id
    for chunk in chunks(ids):
        yield from session.scalars(select(model).where(column.in_(chunk)))


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, str):
        yield value


def _stored_paths(value: Any) -> Iterator[str]:
    """File references in a draft: our stored copies are absolute paths."""
    for s in _strings(value):
        if s.startswith("/") and len(s) < 300:
            yield s


def _unreferenced(session: Session, refs: set[str]) -> set[str]:
    """The references no row still holds (a picture stored once, by its digest, may have been
    sent by two people)."""
    if not refs:
        return set()
    held: set[str] = set()
    wanted = sorted(refs)
    columns = (
        DailyReport.evidence_file_id,
        Product.attachment_file_id,
        Turnover.evidence_file_id,
        Certificate.pdf_path,
        Certificate.png_path,
    )
    for column in columns:
        for chunk in chunks(wanted):
            held |= set(session.scalars(select(column).where(column.in_(chunk))))
    return refs - held


def drafts_of(session: Session, person_ids: Sequence[int]) -> list[dict[str, Any]]:
    """The conversation states of these people's identities (their drafts' answers), each
    with its open flow as "_flow"."""
    found: list[dict[str, Any]] = []
    for chunk in chunks(list(person_ids)):
        found += [
            {**(data or {}), "_flow": flow}
            for flow, data in session.execute(
                select(DialogState.flow, DialogState.data)
                .join(Identity, Identity.id == DialogState.identity_id)
                .where(Identity.person_id.in_(chunk))
            )
        ]
    return found
