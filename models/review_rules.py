"""The review rules, pure: who may move a registration from which state to which.

草稿 draft → 待推荐 pending_unit (a self-recommendation to a unit that has a contact)
→ 待审核 pending_review (the unit endorsed it; or a unit's own recommendation; or a unit without
a contact) → 已通过 approved / 已驳回 rejected; 已撤回 withdrawn by the applicant at any time.
A unit contact acts on 待推荐 (recommend = pass it on, or reject); the committee decides
everything that is pending, including what still waits for a unit.
"""

from __future__ import annotations

from collections.abc import Iterable

from models.base import ReviewStatus

# One vocabulary, ReviewStatus (its values are what the tables store); the short names let the
# rules below read as the notice states them.
DRAFT = ReviewStatus.DRAFT
PENDING_UNIT = ReviewStatus.PENDING_UNIT
PENDING_REVIEW = ReviewStatus.PENDING_REVIEW
APPROVED = ReviewStatus.APPROVED
REJECTED = ReviewStatus.REJECTED
WITHDRAWN = ReviewStatus.WITHDRAWN

PENDING = (PENDING_UNIT, PENDING_REVIEW)
# What counts towards a unit's quota: endorsed by the unit (or its own) and not turned down.
COUNTED = (PENDING_REVIEW, APPROVED)


def decision(status: str, approve: bool, by_committee: bool) -> ReviewStatus | None:
    """The new status after a reviewer's decision, or None when it is not theirs to take."""
    if by_committee:
        if status not in PENDING:
            return None
        return APPROVED if approve else REJECTED
    if status != PENDING_UNIT:
        return None
    return PENDING_REVIEW if approve else REJECTED


def initial_status(recommended_by_unit: bool, unit_has_contact: bool) -> ReviewStatus:
    """Where a (re)submitted registration starts."""
    if not recommended_by_unit and unit_has_contact:
        return PENDING_UNIT
    return PENDING_REVIEW


def after_edit(status: str, key_fields_changed: bool, start: str) -> str:
    """An edit resubmits a rejected, withdrawn or draft registration (to `start`); an approved
    one goes back to review only when a key field (account, platform, unit) changed."""
    if status in (REJECTED, WITHDRAWN, DRAFT):
        return start
    if status == APPROVED and key_fields_changed:
        return PENDING_REVIEW
    return status


def enterprise_status(product_statuses: Iterable[str]) -> ReviewStatus:
    """An enterprise takes part once one of its products is approved; otherwise it is as far
    as its furthest product."""
    statuses = set(product_statuses)
    for status in (APPROVED, PENDING_REVIEW, PENDING_UNIT, REJECTED, WITHDRAWN):
        if status in statuses:
            return status
    return DRAFT
