"""The pure review and quota rules, as tables."""

from __future__ import annotations

import pytest

from models import review_rules as r
from models.quotas import Tally


@pytest.mark.parametrize(
    ("status", "approve", "committee", "expected"),
    [
        (r.PENDING_UNIT, True, False, r.PENDING_REVIEW),  # the unit recommends
        (r.PENDING_UNIT, False, False, r.REJECTED),
        (r.PENDING_REVIEW, True, False, None),  # past the unit: the committee's turn
        (r.PENDING_REVIEW, False, False, None),
        (r.PENDING_UNIT, True, True, r.APPROVED),  # the committee may decide at once
        (r.PENDING_REVIEW, True, True, r.APPROVED),
        (r.PENDING_REVIEW, False, True, r.REJECTED),
        (r.APPROVED, False, True, None),  # decided items are not decided again
        (r.REJECTED, True, True, None),
        (r.WITHDRAWN, True, True, None),
        (r.DRAFT, True, True, None),
    ],
)
def test_decision(status: str, approve: bool, committee: bool, expected: str | None) -> None:
    assert r.decision(status, approve, committee) == expected


@pytest.mark.parametrize(
    ("by_unit", "has_contact", "expected"),
    [
        (True, True, r.PENDING_REVIEW),
        (True, False, r.PENDING_REVIEW),
        (False, True, r.PENDING_UNIT),
        (False, False, r.PENDING_REVIEW),
    ],
)
def test_initial_status(by_unit: bool, has_contact: bool, expected: str) -> None:
    assert r.initial_status(by_unit, has_contact) == expected


@pytest.mark.parametrize(
    ("status", "key_changed", "expected"),
    [
        (r.APPROVED, False, r.APPROVED),  # a new phone number keeps the approval
        (r.APPROVED, True, r.PENDING_REVIEW),  # a new account goes back to review
        (r.REJECTED, False, "start"),
        (r.WITHDRAWN, False, "start"),
        (r.DRAFT, True, "start"),
        (r.PENDING_UNIT, True, r.PENDING_UNIT),
        (r.PENDING_REVIEW, True, r.PENDING_REVIEW),
    ],
)
def test_after_edit(status: str, key_changed: bool, expected: str) -> None:
    assert r.after_edit(status, key_changed, "start") == expected


@pytest.mark.parametrize(
    ("products", "expected"),
    [
        ([r.APPROVED, r.REJECTED], r.APPROVED),
        ([r.REJECTED, r.PENDING_REVIEW], r.PENDING_REVIEW),
        ([r.PENDING_UNIT, r.REJECTED], r.PENDING_UNIT),
        ([r.REJECTED, r.REJECTED], r.REJECTED),
        ([r.WITHDRAWN], r.WITHDRAWN),
        ([r.REJECTED, r.WITHDRAWN], r.REJECTED),
        ([], r.DRAFT),
    ],
)
def test_enterprise_status(products: list[str], expected: str) -> None:
    assert r.enterprise_status(products) == expected


@pytest.mark.parametrize(
    ("done", "low", "high", "shortfall", "over", "met"),
    [
        (0, 10, None, 10, 0, False),
        (6, 10, None, 4, 0, False),
        (10, 10, None, 0, 0, True),
        (25, 10, None, 0, 0, True),  # no maximum: never over
        (4, 5, 10, 1, 0, False),
        (10, 5, 10, 0, 0, True),
        (12, 5, 10, 0, 2, True),
        (0, 0, None, 0, 0, True),
    ],
)
def test_tally(done: int, low: int, high: int | None, shortfall: int, over: int, met: bool) -> None:
    t = Tally(done, low, high)
    assert (t.shortfall, t.over, t.met) == (shortfall, over, met)
