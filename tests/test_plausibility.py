"""Numbers that cannot be what was asked are refused with the reason and asked again: a
value beyond what a real account can have (a phone number typed as a follower count), or a
unit that belongs to another question (3小时 as likes, 100块 as hours, 3.5% as a sum of money,
¥ before a count). An unusual but possible value is confirmed before it is taken."""

from __future__ import annotations

import pytest

from bot.core.dispatcher import Core
from tests import flows
from tests.catalog import said
from tests.chat import Chat, form_answers

LINES = flows.streamer_lines("acct_p")
AT = {name: LINES.index(value) for name, value in (("followers", "1.2万"), ("likes", "3.5万"))}
AT |= {
    "hours": 14,  # "45.5"
    "viewers": 15,
    "sales": 18,  # "12.5万"
    "conversion": 21,  # "3.5%"
}


def _up_to(chat: Chat, user: str, index: int) -> None:
    chat.run(user, LINES[:index])


@pytest.mark.parametrize(
    ("question", "typed", "key"),
    [
        ("followers", "１２３４５６７８９０１", "err.too_large"),  # a phone number, full width
        ("likes", "3小时", "err.unit_mismatch"),
        ("hours", "100块", "err.unit_mismatch"),
        ("sales", "3.5%", "err.unit_mismatch"),
        ("conversion", "¥100", "err.unit_mismatch"),
        ("viewers", "¥5", "err.unit_mismatch"),
    ],
)
def test_a_number_that_cannot_be_the_answer_is_asked_again(
    core: Core, chat: Chat, question: str, typed: str, key: str
) -> None:
    user = f"p_{question}"
    _up_to(chat, user, AT[question])
    before = form_answers(core, user)
    shown_before = chat.last[-1].text
    chat.say(user, typed)
    assert said(chat.last[0], key), chat.last[0].text
    assert chat.last[-1].text == shown_before  # the same question again
    assert form_answers(core, user) == before  # nothing stored


def test_hours_are_typed_as_people_type_them(core: Core, chat: Chat) -> None:
    _up_to(chat, "p_h", AT["hours"])
    chat.say("p_h", "2小时30分")
    assert form_answers(core, "p_h")["monthly_live_hours"] == "2.5"


def test_an_unusual_follower_count_is_confirmed_first(core: Core, chat: Chat) -> None:
    _up_to(chat, "p_c", AT["followers"])
    chat.say("p_c", "12,345,678")
    assert said(chat.last, "form.confirm_value", value="12,345,678")
    assert "followers" not in form_answers(core, "p_c")
    chat.say("p_c", "没错")
    assert form_answers(core, "p_c")["followers"] == 12_345_678
    assert said(chat.last, "ask.likes_received")


def test_an_unusual_value_can_be_retyped(core: Core, chat: Chat) -> None:
    _up_to(chat, "p_r", AT["followers"])
    chat.say("p_r", "12345678")
    chat.say("p_r", "重新填写")
    assert said(chat.last, "ask.followers")
    assert "followers" not in form_answers(core, "p_r")
    chat.say("p_r", "12345678")
    chat.say("p_r", "1800")  # typed instead of confirming: a new answer
    assert form_answers(core, "p_r")["followers"] == 1800
    assert said(chat.last, "ask.likes_received")


def test_a_doubled_unusual_value_is_not_taken_unconfirmed(core: Core) -> None:
    """The same unusual value typed twice, the second before the confirmation was shown: a
    repeat; a different one then would skip the confirmation, so it is not taken."""
    import dataclasses

    from bot.channels.console import parse_line

    chat = Chat(core)
    _up_to(chat, "p_d", AT["followers"])
    chat.say("p_d", "12345678")
    for typed, expected in (("12345678", []), ("23456789", None)):
        inc = parse_line(typed, "p_d")
        assert inc is not None
        replies = core.process_sync(dataclasses.replace(inc, early=True))
        if expected is not None:
            assert replies == expected
        else:
            assert said(replies, "form.early_not_taken")
    assert "followers" not in form_answers(core, "p_d")
    chat.say("p_d", "没错")
    assert form_answers(core, "p_d")["followers"] == 12_345_678
