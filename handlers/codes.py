"""One-time codes people read on one screen and type on another (invitations, /link)."""

from __future__ import annotations

import re
import secrets

from bot.core.parsers import normalize

# No 0/O, 1/I/L: codes are read aloud and typed from a phone screen.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8  # 31^8 ≈ 8.5e11 codes, each valid for hours at most: not guessable


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def show_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def clean_code(text: str, prefix: str = "") -> str:
    """What people type: lower case, spaces, dashes, full-width letters, a pasted prefix."""
    text = normalize(text).upper()
    if prefix:
        text = text.removeprefix(prefix.upper())
    return re.sub(r"[^A-Z0-9]", "", text)
