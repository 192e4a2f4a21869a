"""The catalog assertions of tests/catalog.py can fail: a helper that always said yes would
make every test that uses it pass whatever the bot said."""

from __future__ import annotations

import pytest

from bot.core.i18n import translate
from bot.core.messages import Reply
from tests.catalog import begins, line, said


def test_said_finds_the_message_with_or_without_its_parameters() -> None:
    text = "前言\n" + translate("zh_CN", "review.done_approve", title="小明的果园") + "\n[1] 下一项"
    assert said(text, "review.done_approve")
    assert said(text, "review.done_approve", title="小明的果园")
    assert not said(text, "review.done_approve", title="安源脐橙")
    assert not said(text, "review.done_reject")
    assert said([Reply("别的"), Reply(text)], "review.done_approve")
    assert not begins(text, "review.done_approve") and begins(text[3:], "review.done_approve")


def test_a_reworded_or_unknown_key_is_an_error_of_the_test() -> None:
    with pytest.raises(KeyError):
        said("任何文字", "no.such.key")
    with pytest.raises(KeyError):
        said("任何文字", "review.done_approve", nobody="x")
    with pytest.raises(KeyError):
        line("no.such.key")
    assert line("me.nothing") == translate("zh_CN", "me.nothing") + "\n"
