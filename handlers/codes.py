"""One-time codes people read on one screen and type on another (invitations, /link), and the
rate limit on wrong ones.

Wrong codes of both kinds are counted in one table (join_attempts): both are codes of this
module's alphabet, so a person guessing them is one threat, and one budget keeps alternating
/join and /link from doubling the tries. Each command applies its own numbers from config.yaml
to that count. Attempts are rows in the step's transaction, so the limit survives restarts
and holds across processes.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets

from sqlalchemy.orm import Session

from bot.core.parsers import normalize
from models import JoinAttempt, committee

# No 0/O, 1/I/L: codes are read aloud and typed from a phone screen.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8  # 31^8 ≈ 8.5e11 codes, each valid for hours at most: not guessable


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def show_code(code: str) -> str:
    """A code as printed (ABCD-EFGH); something typed that cannot be one is shown as typed."""
    if len(code) != CODE_LENGTH:
        return code if len(code) <= 24 else code[:24] + "…"
    return f"{code[:4]}-{code[4:]}"


def clean_code(text: str, prefix: str = "") -> str:
    """What people type: lower case, spaces, dashes, full-width letters, a pasted prefix."""
    text = normalize(text).upper()
    if prefix:
        text = text.removeprefix(prefix.upper())
    return re.sub(r"[^A-Z0-9]", "", text)


def blocked_for(
    session: Session, person_id: int, now: dt.datetime, max_failed: int, window: dt.timedelta
) -> dt.timedelta | None:
    """How long this person must wait before trying a code again (None: not blocked): they
    had `max_failed` wrong codes within `window`; the wait ends when enough of them age out."""
    failures = committee.failed_codes_since(session, person_id, now - window)
    if len(failures) < max_failed:
        return None
    return failures[len(failures) - max_failed] + window - now


def record_failure(session: Session, person_id: int, now: dt.datetime) -> None:
    """A wrong code, in the step's transaction (refusals while blocked are not recorded, so
    waiting out the window always ends the block)."""
    session.add(JoinAttempt(person_id=person_id, at=now))
