"""The Telegram adapter reads the Bot API's update JSON directly (no PTB objects)."""

from __future__ import annotations

from typing import Any

from bot.channels.telegram import adapter

USER = {"id": 42, "is_bot": False, "first_name": "小明", "last_name": "王", "language_code": "en"}
PRIVATE = {"id": 42, "type": "private", "first_name": "小明"}
GROUP = {"id": -100123, "type": "supergroup", "title": "龙虎榜群"}


def message(**fields: Any) -> dict[str, Any]:
    return {"update_id": 7, "message": {"message_id": 3, "date": 0, "from": USER, **fields}}


def test_text_in_a_private_chat() -> None:
    inc = adapter.to_incoming(message(chat=PRIVATE, text="1.2万"), "festival_bot")
    assert inc is not None
    assert (inc.user_id, inc.chat_id, inc.chat_kind, inc.text) == ("42", "42", "private", "1.2万")
    assert inc.display_name == "小明 王" and inc.language == "en" and inc.message_id == "3"


def test_commands_with_our_name_count_and_another_bots_are_ignored() -> None:
    ours = adapter.to_incoming(message(chat=GROUP, text="/top@Festival_Bot city"), "festival_bot")
    assert ours is not None and ours.command == "top" and ours.chat_kind == "group"
    assert adapter.to_incoming(message(chat=GROUP, text="/top@other_bot"), "festival_bot") is None


def test_the_largest_photo_is_taken() -> None:
    sizes = [
        {"file_id": "small", "file_unique_id": "s", "width": 90, "height": 90},
        {"file_id": "large", "file_unique_id": "l", "width": 1280, "height": 960},
        {"file_id": "mid", "file_unique_id": "m", "width": 320, "height": 320},
    ]
    inc = adapter.to_incoming(message(chat=PRIVATE, photo=sizes), "b")
    assert inc is not None and inc.photo == "large"


def test_contact_sticker_and_service_messages() -> None:
    contact = {"phone_number": "+8613800138000", "first_name": "小明", "user_id": 42}
    inc = adapter.to_incoming(message(chat=PRIVATE, contact=contact), "b")
    assert inc is not None and inc.contact == "+8613800138000"
    sticker = {"file_id": "x", "file_unique_id": "x", "type": "regular", "width": 1, "height": 1}
    inc = adapter.to_incoming(message(chat=PRIVATE, sticker=sticker), "b")
    assert inc is not None and inc.unsupported == "sticker"
    assert adapter.to_incoming(message(chat=GROUP, new_chat_members=[USER]), "b") is None


def test_a_press_and_what_it_was_pressed_on() -> None:
    query = {
        "id": "q1",
        "from": {"id": 42, "first_name": "小明"},
        "chat_instance": "c",
        "data": "form:v3:o:1",
        "message": {"message_id": 9, "date": 0, "chat": PRIVATE, "reply_markup": {"x": 1}},
    }
    payload = {"update_id": 8, "callback_query": query}
    inc = adapter.to_incoming(payload, "b")
    assert inc is not None and inc.button == "form:v3:o:1" and inc.message_id == "9"
    assert inc.display_name == "小明"
    press = adapter.pressed(payload)
    assert press is not None and press[0] == "q1" and press[1]["message_id"] == 9
    no_data = {"update_id": 9, "callback_query": {**query, "data": None}}
    assert adapter.to_incoming(no_data, "b") is None


def test_edits_channel_posts_and_migrations() -> None:
    edited = {"update_id": 10, "edited_message": {"message_id": 1, "chat": PRIVATE, "from": USER}}
    assert adapter.to_incoming(edited, "b") is None
    post = {"update_id": 11, "message": {"message_id": 1, "date": 0, "chat": GROUP, "text": "x"}}
    assert adapter.to_incoming(post, "b") is None  # no sender
    moved = message(chat={"id": -5, "type": "group"}, migrate_to_chat_id=-1005)
    assert adapter.migration(moved) == ("-5", "-1005")
    assert adapter.migration(message(chat=PRIVATE, text="hi")) is None
