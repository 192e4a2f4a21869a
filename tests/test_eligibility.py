"""The streamer eligibility rule, as a table."""

from __future__ import annotations

import pytest

from models.eligibility import Refusal, refusal


@pytest.mark.parametrize(
    ("followers", "declared", "minimum", "expected"),
    [
        (1000, True, 1000, None),  # exactly the minimum qualifies
        (999, True, 1000, "followers_below_min"),
        (800, None, 1000, "followers_below_min"),  # the followers step: nothing declared yet
        (12000, None, 1000, None),
        (None, False, 1000, "declaration_required"),  # the confirm step
        (None, True, 1000, None),
        (0, True, 0, None),  # a festival without a minimum
        (500, False, 1000, "followers_below_min"),  # the followers are said first
    ],
)
def test_refusal(
    followers: int | None, declared: bool | None, minimum: int, expected: Refusal | None
) -> None:
    assert refusal(followers, declared, min_followers=minimum) == expected
