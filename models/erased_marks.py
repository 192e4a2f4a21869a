"""Fingerprints of erased registrations, so that a unit's sheet imported after someone erased
their data (by /forget or the retention job) does not bring them back: the import skips a row
whose streamer account or enterprise name was erased, and says so.

A fingerprint is the SHA-256 of the kind and the name as compared (full-width folded, no
spaces, lower case): the name cannot be read back from it, only matched by someone who
already has the name (an account name is public on its platform). Phone numbers are not
fingerprinted: eleven digits are few enough to be found again from their hash."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Iterable

from sqlalchemy import String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, IdMixin

ACCOUNT = "account"  # a streamer's account: (platform, account name)
ENTERPRISE = "enterprise"  # an enterprise: (name,)


class ErasedMark(IdMixin, Base):
    __tablename__ = "erased_marks"
    __table_args__ = (UniqueConstraint("kind", "digest"),)

    kind: Mapped[str] = mapped_column(String(20))
    digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]


def _plain(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower()


def fingerprint(kind: str, key: tuple[str, ...]) -> str:
    joined = "\x1f".join((kind, *(_plain(part) for part in key)))
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()


def _stored(session: Session, kind: str, digests: Iterable[str]) -> set[str]:
    wanted = sorted(set(digests))
    found: set[str] = set()
    for start in range(0, len(wanted), 500):  # within every engine's limit of parameters
        chunk = wanted[start : start + 500]
        found.update(
            session.scalars(
                select(ErasedMark.digest).where(
                    ErasedMark.kind == kind, ErasedMark.digest.in_(chunk)
                )
            )
        )
    return found


def mark(session: Session, kind: str, keys: Iterable[tuple[str, ...]], now: dt.datetime) -> None:
    """These names were erased (each once, however often erased)."""
    digests = {fingerprint(kind, key) for key in keys}
    for digest in sorted(digests - _stored(session, kind, digests)):
        session.add(ErasedMark(kind=kind, digest=digest, created_at=now))


def marked(session: Session, kind: str, keys: Iterable[tuple[str, ...]]) -> set[tuple[str, ...]]:
    """Which of these names were erased."""
    by_digest = {fingerprint(kind, key): key for key in keys}
    return {by_digest[d] for d in _stored(session, kind, by_digest)}
