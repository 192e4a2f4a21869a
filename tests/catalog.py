"""Assertions on what the bot said by catalog key (bot/core/locales): a test names the message
it expects, so rewording a message in the catalog does not break tests about something else.

    assert said(reply_text, "streamer.submitted")
    assert said(replies, "review.approved", name="小明的果园")
    assert not said(text, "join.expired")

A key's text is matched as a whole; parameters given are matched as their values, the others
as any text. A key that is not in the catalog, or one that is all parameters (it would match
anything), is an error of the test.

Exact console output is built from keys too, so an equality stays as strict as the literal was:

    assert chat.say("admin", "x") == line("err.empty") + buttons(label("btn.back"), numbered=False)
    assert chat.deliver() == notice("s", line("notice.approved", title="小明的果园"))"""

from __future__ import annotations

import re
from collections.abc import Iterable
from string import Formatter

from bot.core.i18n import DEFAULT_LOCALE, FORMATTER, translate
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
            parts.append(re.escape(FORMATTER.format_field(value, spec or "")))
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


def label(key: str, /, locale: str = DEFAULT_LOCALE, **params: object) -> str:
    """The message's text (a button's label, a part of an expected output); every parameter
    of the message must be given, and only those."""
    template = translate(locale, key)
    if template == key:
        raise KeyError(f"no message {key!r} in the {locale} catalog")
    fields = {f for _, f, _, _ in Formatter().parse(template) if f}
    if set(params) != fields:
        raise KeyError(f"{key!r} takes parameters {sorted(fields)}, given {sorted(params)}")
    return translate(locale, key, **params)


def line(key: str, /, locale: str = DEFAULT_LOCALE, **params: object) -> str:
    """The message as the console prints it on its own: its text and a new line."""
    return label(key, locale, **params) + "\n"


def buttons(*labels: str, numbered: bool = True) -> str:
    """A row of buttons as the console prints it under a message: `  [1] 通过  [2] 驳回` when
    they are numbered (answered by number), `  [返回]` when not."""
    if not labels:
        raise ValueError("a row of no buttons is not printed")
    shown = [f"[{n}] {text}" if numbered else f"[{text}]" for n, text in enumerate(labels, 1)]
    return "  " + "  ".join(shown) + "\n"


def notice(who: str, shown: str, chat_id: str | None = None) -> str:
    """A message delivered to someone else, as the console prints it: a header naming the
    recipient, then what they are shown (lines such as line() and buttons() build), indented."""
    if not shown.endswith("\n"):
        raise ValueError("what is shown is whole lines, each ending with a new line")
    body = "".join("   " + one + "\n" for one in shown[:-1].split("\n"))
    return f"📨 → {who} [{chat_id or who}]:\n" + body
