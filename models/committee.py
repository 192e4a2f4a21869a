"""The committee's own records: invitation codes, wrong-code attempts (/join and /link, for
rate limiting) and the group chats subscribed to broadcasts; and their queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from sqlalchemy import ForeignKey, String, UniqueConstraint, bindparam, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, BigId, IdMixin
from models.repo import changed_rows


class Invitation(IdMixin, Base):
    """A one-time code that makes whoever redeems it an admin or a contact of one unit, or
    (role "claim") the person of a registration a unit imported from its sheet."""

    __tablename__ = "invitations"

    code: Mapped[str] = mapped_column(String(20), unique=True)
    role: Mapped[str] = mapped_column(String(20))  # admin | unit_contact | claim
    unit_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("units.id"), index=True)
    # None: made by the command line (python -m bot import), not by a person in a chat
    created_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("people.id"))
    # role "claim": the imported registration it hands over (streamer | enterprise, its id)
    claim_kind: Mapped[str | None] = mapped_column(String(20))
    claim_id: Mapped[int | None] = mapped_column(BigId, index=True)
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]
    redeemed_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("people.id"))
    redeemed_at: Mapped[dt.datetime | None]


class JoinAttempt(IdMixin, Base):
    """Each /join or /link with a code that did not work, so that guessing one-time codes can
    be rate limited (one count for both kinds: see handlers/codes.py)."""

    __tablename__ = "join_attempts"

    person_id: Mapped[int] = mapped_column(BigId, ForeignKey("people.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(index=True)


class GroupSubscription(IdMixin, Base):
    """A group chat that receives broadcasts (the 龙虎榜, announcements). Subscribed with
    /subscribe in the group; group chats listed in config.yaml receive them as well."""

    __tablename__ = "group_subscriptions"
    __table_args__ = (UniqueConstraint("channel", "chat_id"),)

    channel: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(default=True)
    subscribed_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("people.id"))
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


# ----- invitations ----------------------------------------------------------------------------
def code_taken(session: Session, code: str) -> bool:
    return session.scalar(select(Invitation.id).where(Invitation.code == code)) is not None


def codes_taken(session: Session, codes: Collection[str]) -> set[str]:
    """Which of these codes are stored already."""
    wanted = sorted(codes)
    taken: set[str] = set()
    for start in range(0, len(wanted), 500):  # within every engine's limit of parameters
        chunk = wanted[start : start + 500]
        taken.update(session.scalars(select(Invitation.code).where(Invitation.code.in_(chunk))))
    return taken


def invitation_by_code(session: Session, code: str) -> Invitation | None:
    return session.scalars(select(Invitation).where(Invitation.code == code)).first()


def open_invitations(session: Session, now: dt.datetime, limit: int) -> list[Invitation]:
    """Codes that can still be redeemed, oldest first."""
    return list(
        session.scalars(
            select(Invitation)
            .where(
                Invitation.redeemed_at.is_(None),
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > now,
                Invitation.role != "claim",  # an import's codes are listed with the import
            )
            .order_by(Invitation.id)
            .limit(limit)
        )
    )


def revoke_invitation(session: Session, code: str, now: dt.datetime) -> int | None:
    """The revoked invitation's id; None when there is no such code or it was redeemed or
    revoked already (an expired one may still be revoked: nothing is lost)."""
    return session.execute(
        update(Invitation)
        .where(
            Invitation.code == code,
            Invitation.redeemed_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
        .values(revoked_at=now)
        .returning(Invitation.id)
    ).scalar()


def claim_invitation(
    session: Session, invitation_id: int, person_id: int, now: dt.datetime
) -> bool:
    """Redeem the invitation for this person; False when someone redeemed or revoked it
    meanwhile (two people redeeming one code at once: the conditional update lets one through)."""
    won = changed_rows(
        session,
        update(Invitation)
        .where(
            Invitation.id == invitation_id,
            Invitation.redeemed_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
        .values(redeemed_by=person_id, redeemed_at=now),
    )
    return won == 1


# ----- wrong codes ----------------------------------------------------------------------------
def failed_codes_since(session: Session, person_id: int, since: dt.datetime) -> list[dt.datetime]:
    """When this person typed a wrong code after `since`, oldest first."""
    return list(
        session.scalars(
            select(JoinAttempt.at)
            .where(JoinAttempt.person_id == person_id, JoinAttempt.at > since)
            .order_by(JoinAttempt.at)
        )
    )


# Built once: every registration listed in an exported sheet asks it
_OPEN_CLAIM_CODE = (
    select(Invitation.code)
    .where(
        Invitation.role == "claim",
        Invitation.claim_kind == bindparam("kind"),
        Invitation.claim_id == bindparam("item"),
        Invitation.redeemed_at.is_(None),
        Invitation.revoked_at.is_(None),
        Invitation.expires_at > bindparam("now"),
    )
    .order_by(Invitation.id.desc())
    .limit(1)
)


def open_claim_code(session: Session, kind: str, item_id: int, now: dt.datetime) -> str | None:
    """The registration's claim code while it can still be opened, else None."""
    params = {"kind": kind, "item": item_id, "now": now}
    code: str | None = session.connection().execute(_OPEN_CLAIM_CODE, params).scalar()
    return code
