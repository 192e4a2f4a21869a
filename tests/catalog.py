"""Assertions on what the bot said by catalog key (bot/core/locales): a test names the message
it expects, so rewording a message in the catalog does not break tests about something else.

    assert said(reply_text, "streamer.submitted")
    assert said(replies, "review.approved", name="小明的果园")
    assert not said(text, "join.expired")

A key's text is matched as a whole; parameters given are matched as their values, the others
as any text. A key that is not in the catalog, or one that is all parameters (it would match
anything), is an error of the test."""

from __future__ import annotations

import re
from collections.abc import Iterable
from string import Formatter

from bot.core.i18n import DEFAULT_LOCALE, translate
from bot.core.messages import Reply

Said = str | Reply | Iterable[str | Reply]


def text_of(what: Said) -> str:
    """The text of a reply, of several replies or strings (one after the other), or a string."""
    if isinstance(what, str):
        return what
    if isinstance(what, Reply):
        return what.text
    return "\n".join(text_of(one) for one in what)


def pattern(key: str, locale: str = DEFAULT_LOCALE, **params: object) -> re.Pattern[str]:
    template = translate(locale, key)
    if template == key:
        raise KeyError(f"no message {key!r} in the {locale} catalog")
    parts: list[str] = []
    fixed = ""
    for literal, field, spec, conversion in Formatter().parse(template):
        parts.append(re.escape(literal))
        fixed += literal
        if field is None:
            continue
        if field in params:
            value = params[field]
            if conversion == "r":
                value = repr(value)
            elif conversion == "s":
                value = str(value)
            parts.append(re.escape(format(value, spec or "")))
        else:
            parts.append(".*?")
    unknown = set(params) - {f for _, f, _, _ in Formatter().parse(template) if f}
    if unknown:
        raise KeyError(f"{key!r} has no parameters {sorted(unknown)}")
    if not fixed.strip():
        raise ValueError(f"{key!r} is all parameters: it would match any text")
    return re.compile("".join(parts), re.S)


def said(what: Said, key: str, /, locale: str = DEFAULT_LOCALE, **params: object) -> bool:
    """Whether the message `key` (with these parameters) is in what the bot said."""
    return pattern(key, locale, **params).search(text_of(what)) is not None


def begins(what: Said, key: str, /, locale: str = DEFAULT_LOCALE, **params: object) -> bool:
    """Whether what the bot said begins with the message `key`."""
    return pattern(key, locale, **params).match(text_of(what)) is not None


def line(key: str, /, locale: str = DEFAULT_LOCALE, **params: object) -> str:
    """The message as the console prints it on its own: its text and a new line."""
    template = translate(locale, key)
    if template == key:
        raise KeyError(f"no message {key!r} in the {locale} catalog")
    return translate(locale, key, **params) + "\n"
