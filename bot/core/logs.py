"""Logs hold no phone numbers: every log record, whoever writes it (our code, SQLAlchemy,
a database driver whose error quotes the row it refused: PostgreSQL's "DETAIL: Key (...)=(...)"),
has mainland mobile numbers masked (138****8000) in its message and its traceback when it is
made, before any handler sees it. Installed once at start (bot/__main__.py, scheduler.py).

Our own logging calls pass ids, never answers; this is the net under what we do not write
ourselves."""

from __future__ import annotations

import logging
import re
import traceback
from typing import Any

# an 11-digit mainland mobile number, also as people type it (138 0013 8000, 138-0013-8000)
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)[ -]?(\d{4})[ -]?(\d{4})(?!\d)")


def redact(text: str) -> str:
    return _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)


_installed = False


def install() -> None:
    """Masks phone numbers in every log record from now on (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    make = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a bad format string is the caller's bug: leave it to logging
            return record
        record.msg, record.args = redact(message), ()
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)))
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return record

    logging.setLogRecordFactory(factory)
