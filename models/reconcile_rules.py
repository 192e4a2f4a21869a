"""When two figures that should agree are listed for the committee (/reconcile, and the audit
accepting a typed backend GMV at once): a pure rule over integer fen.

A difference is listed when it is above every threshold that is set: `percent` of the
reference (the independent figure: the enterprise's turnover, the platform backend's GMV) and
`fen` in absolute terms. Exactly at a threshold is not above it. A reference of 0 makes any
non-zero difference infinitely many percent.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Threshold:
    percent: Decimal | None
    fen: int | None

    @classmethod
    def of(cls, percent: Decimal | None, yuan: int | None) -> Threshold:
        return cls(percent, None if yuan is None else yuan * 100)

    def exceeded(self, claimed_fen: int, reference_fen: int) -> bool:
        diff = abs(claimed_fen - reference_fen)
        if diff == 0:
            return False
        if self.fen is not None and diff <= self.fen:
            return False
        # diff / reference > percent / 100, in integers and exact decimals (no floats)
        return self.percent is None or diff * 100 > self.percent * abs(reference_fen)


def percent_of(diff_fen: int, reference_fen: int) -> Decimal | None:
    """The difference as a percentage of the reference, one decimal (None: reference 0)."""
    if reference_fen == 0:
        return None
    return (Decimal(diff_fen) * 100 / abs(reference_fen)).quantize(Decimal("0.1"))
