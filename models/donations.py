"""The donation ledger (企业捐款): the festival turnover each enterprise reports after the live
period (confirmed by the committee against what streamers reported for its products), the
directed part it chooses, the payments the committee records, and the foundation's
certificate number. Money in fen (integers) throughout; Decimal only for display."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import BigInteger, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, IdMixin


class TurnoverStatus(StrEnum):
    SUBMITTED = "submitted"  # 待确认: reported, waiting for the committee
    CONFIRMED = "confirmed"  # 已确认: the donation due is computed from it
    ASKED_AGAIN = "asked_again"  # 请重新填报: the committee asked for a new figure (reason)


class Turnover(IdMixin, Base):
    """An enterprise's festival turnover (节间成交额), one current row per enterprise; each
    new report replaces the figure (revision + 1, the audit log keeps the old one)."""

    __tablename__ = "turnovers"

    enterprise_id: Mapped[int] = mapped_column(BigId, ForeignKey("enterprises.id"), unique=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    evidence_file_id: Mapped[str | None] = mapped_column(String(300))  # order export
    status: Mapped[str] = mapped_column(String(20), default=TurnoverStatus.SUBMITTED.value)
    reason: Mapped[str | None] = mapped_column(Text)  # why it was asked again
    revision: Mapped[int] = mapped_column(default=1)
    submitted_at: Mapped[dt.datetime]
    reviewed_at: Mapped[dt.datetime | None]
    reviewed_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("people.id"))


class DonationDirection(IdMixin, Base):
    """定向捐赠: the project of the enterprise's choice and the amount directed to it (within
    the bound the rules give for its confirmed turnover)."""

    __tablename__ = "donation_directions"

    enterprise_id: Mapped[int] = mapped_column(BigId, ForeignKey("enterprises.id"), unique=True)
    project: Mapped[str] = mapped_column(String(200))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    chosen_at: Mapped[dt.datetime]


class DonationPayment(IdMixin, Base):
    """A payment received by the foundation, recorded by the committee (several per
    enterprise; partial payments allowed)."""

    __tablename__ = "donation_payments"

    enterprise_id: Mapped[int] = mapped_column(BigId, ForeignKey("enterprises.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    received_on: Mapped[dt.date] = mapped_column(Date)
    recorded_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("people.id"))
    recorded_at: Mapped[dt.datetime]
    note: Mapped[str | None] = mapped_column(Text)


class DonationCertificate(IdMixin, Base):
    """The foundation's invoice / donation certificate number for an enterprise's donation."""

    __tablename__ = "donation_certificates"

    enterprise_id: Mapped[int] = mapped_column(BigId, ForeignKey("enterprises.id"), index=True)
    number: Mapped[str] = mapped_column(String(100))
    recorded_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("people.id"))
    recorded_at: Mapped[dt.datetime]
