"""The festival's money rules (企业捐款, 主播收益), as pure functions of plain values.

- Donation due: `donation_rate` × the enterprise's confirmed festival turnover.
- Directed part (定向捐赠): when the donation is above the threshold, at most
  `directed_share` × (donation − threshold) may go to a project the enterprise chooses;
  at or below the threshold, nothing. The rest (at least donation − directed maximum) is
  undirected, to 江西希望工程.
- Streamer share: `streamer_commission_rate` × the GMV a streamer reported (information only:
  who pays it is between the enterprise and the streamer).

Money is integer fen in and out. Rounding:
- a rate times an amount (the donation due, the streamer share) is rounded to the fen
  ROUND_HALF_UP (half a fen and more up): e.g. 5% of 0.10 元 (10 fen) is 0.5 fen → 1 fen;
- the directed maximum is a ceiling the enterprise may not pass, so it is rounded down
  (ROUND_DOWN): "up to half" never becomes half a fen more than half.

Worked example (SPEC.md): turnover 3,000,000 元 → donation 150,000 元 → up to 25,000 元
directed, at least 125,000 元 undirected.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

FEN_PER_YUAN = 100


@dataclass(frozen=True)
class DonationRules:
    rate: Decimal  # share of the turnover donated (0.05)
    threshold_fen: int  # above this donation, a part may be directed (100,000 元)
    directed_share: Decimal  # of the part above the threshold (0.50)

    @classmethod
    def of(cls, config: Any) -> DonationRules:
        """From the festival config (`revenue.*`)."""
        r = config.revenue
        return cls(
            rate=Decimal(r.donation_rate),
            threshold_fen=int(r.directed_donation_threshold_yuan) * FEN_PER_YUAN,
            directed_share=Decimal(r.directed_donation_share_above_threshold),
        )


@dataclass(frozen=True)
class Donation:
    """What a confirmed turnover means: the donation due and how it may be split."""

    turnover_fen: int
    due_fen: int
    directed_max_fen: int

    @property
    def undirected_min_fen(self) -> int:
        return self.due_fen - self.directed_max_fen


def rate_of(amount_fen: int, rate: Decimal) -> int:
    """rate × amount, in fen, ROUND_HALF_UP."""
    if amount_fen < 0:
        raise ValueError("an amount of money is not negative")
    return int((Decimal(amount_fen) * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def donation_due_fen(turnover_fen: int, rules: DonationRules) -> int:
    return rate_of(turnover_fen, rules.rate)


def directed_max_fen(due_fen: int, rules: DonationRules) -> int:
    """share × (donation − threshold) when the donation is above the threshold, else 0
    (rounded down: a ceiling)."""
    above = due_fen - rules.threshold_fen
    if above <= 0:
        return 0
    return int((Decimal(above) * rules.directed_share).quantize(Decimal(1), rounding=ROUND_DOWN))


def donation(turnover_fen: int, rules: DonationRules) -> Donation:
    due = donation_due_fen(turnover_fen, rules)
    return Donation(turnover_fen, due, directed_max_fen(due, rules))


def direction_refusal(amount_fen: int, due: Donation) -> str | None:
    """Why `amount_fen` cannot be directed out of this donation, or None when it can:
    "none_allowed" (at or below the threshold nothing may be directed), "not_positive",
    "above_max"."""
    if due.directed_max_fen <= 0:
        return "none_allowed"
    if amount_fen <= 0:
        return "not_positive"
    if amount_fen > due.directed_max_fen:
        return "above_max"
    return None


@dataclass(frozen=True)
class Statement:
    """An enterprise's donation account at a moment."""

    due_fen: int
    directed_fen: int
    received_fen: int

    @property
    def outstanding_fen(self) -> int:
        return max(self.due_fen - self.received_fen, 0)

    @property
    def overpaid_fen(self) -> int:
        return max(self.received_fen - self.due_fen, 0)

    @property
    def undirected_fen(self) -> int:
        return self.due_fen - self.directed_fen


def streamer_share_fen(gmv_fen: int, commission_rate: Decimal) -> int:
    """The streamer's 20% (by config) of the GMV they reported, ROUND_HALF_UP."""
    return rate_of(gmv_fen, commission_rate)
