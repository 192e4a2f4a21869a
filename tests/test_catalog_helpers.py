"""The catalog assertions of tests/catalog.py can fail: a helper that always said yes would
make every test that uses it pass whatever the bot said."""

from __future__ import annotations

import pytest

from bot.core.i18n import translate
from bot.core.messages import Reply
from tests.catalog import begins, buttons, label, line, notice, said


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


def test_label_needs_exactly_the_parameters_of_its_message() -> None:
    assert label("btn.reject") == translate("zh_CN", "btn.reject")
    assert label("btn.evidence", day="11-02") == translate("zh_CN", "btn.evidence", day="11-02")
    assert label("btn.evidence", day="11-02") != label("btn.evidence", day="11-03")
    with pytest.raises(KeyError):
        label("btn.evidence")  # a missing parameter would leave "{day}" in the expected text
    with pytest.raises(KeyError):
        label("btn.reject", day="11-02")
    with pytest.raises(KeyError):
        line("review.done_approve")


def test_buttons_are_the_console_row_numbered_or_not() -> None:
    assert buttons("通过", "驳回") == "  [1] 通过  [2] 驳回\n"
    assert buttons("返回", numbered=False) == "  [返回]\n"
    assert buttons("通过", "驳回") != buttons("驳回", "通过")
    assert buttons("通过") != buttons("通过", numbered=False)
    with pytest.raises(ValueError):
        buttons()


def test_notice_is_the_console_delivery_of_a_message() -> None:
    shown = line("notice.approved", title="小明的果园") + buttons("去审核", numbered=False)
    text = translate("zh_CN", "notice.approved", title="小明的果园")
    assert notice("s", shown) == f"📨 → s [s]:\n   {text}\n     [去审核]\n"
    assert notice("s", shown).startswith("📨 → s [s]:\n   ")
    assert notice("小明", shown, chat_id="42").startswith("📨 → 小明 [42]:\n")
    assert notice("s", shown) != notice("t", shown)
    assert notice("s", shown) != notice("s", line("notice.approved", title="安源脐橙"))
    assert notice("s", "一\n\n二\n") == "📨 → s [s]:\n   一\n   \n   二\n"
    with pytest.raises(ValueError):
        notice("s", "没有换行")
