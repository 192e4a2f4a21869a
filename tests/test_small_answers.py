"""Small answers that used to mislead: text at the privacy question, ids and codes shown back
as typed, the invitation form's unit question, /rank's wording."""

from __future__ import annotations

from tests.catalog import label, said
from tests.chat import Chat


def test_text_at_the_privacy_question_says_why_it_is_asked_again(chat: Chat) -> None:
    chat.run("p", ["/start", label("menu.streamer")])
    out = chat.say("p", "你好")
    assert said(out, "err.use_buttons")
    assert (chat.last[-1].question or "") == "privacy"


def test_an_overlong_id_is_shown_as_typed_not_cut(chat: Chat) -> None:
    chat.say("admin", "/help")
    typed = "9" * 38
    out = chat.say("admin", f"/approve streamer {typed}")
    assert said(out, "review.not_found", kind="streamer", id="9" * 24 + "…")
    out = chat.say("admin", "/approve streamer 12345")
    assert said(out, "review.not_found", kind="streamer", id="12345")


def test_a_code_that_cannot_be_one_is_shown_as_typed(chat: Chat) -> None:
    chat.say("admin", "/help")
    assert said(chat.say("admin", "/revoke XXXX"), "invite.cannot_revoke", code="XXXX")
    assert said(chat.say("admin", "/revoke ABCDEFGH"), "invite.cannot_revoke", code="ABCD-EFGH")


def test_the_invitation_form_asks_which_unit_not_yours(chat: Chat) -> None:
    chat.say("admin", "/invite")
    chat.say("admin", label("opt.invite_role.unit_contact"))
    assert (chat.last[-1].question or "").endswith("['unit_group']")
    assert said(chat.last, "ask.invite_unit_group")
    assert not said(chat.last, "ask.unit_group")
