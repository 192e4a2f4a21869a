"""Who may register as a streamer (主播推荐条件): a pure rule, plain values.

At least `min_followers` followers (粉丝量1000以上, the number from the config), and every
self-declaration of the config confirmed (experience, a good record, planning, teamwork). The
form asks the followers long before the declarations, so a value not known yet (None) is not
held against anyone: each step checks what it has.
"""

from __future__ import annotations

from typing import Literal

Refusal = Literal["followers_below_min", "declaration_required"]


def refusal(followers: int | None, declared: bool | None, *, min_followers: int) -> Refusal | None:
    """Why these figures do not qualify, or None when they do (as far as they are known)."""
    if followers is not None and followers < min_followers:
        return "followers_below_min"
    if declared is False:
        return "declaration_required"
    return None
