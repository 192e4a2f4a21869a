"""The core's entry point: new users, stale buttons, group chats, unknown commands, overlong
messages, command parsing, the language switch and many users at once."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from bot.config import FestivalConfig
from bot.core.clock import FixedClock
from bot.core.dispatcher import Core
from bot.core.i18n import translate
from bot.core.messages import Incoming, Reply
from models import DialogState, Identity, Person
from tests.catalog import begins, said
from tests.chat import Chat

MENU_ZH = "欢迎来到2020年「点亮原产地·江西青年直播节」！请选择："
MENU_EN = "Welcome to Light Up the Origin: Jiangxi Youth Livestream Festival 2020! Please choose:"
LABELS_ZH = [
    "主播报名",
    "企业报名",
    "每日战报",
    "选品",
    "我的登记",
    "我的战报",
    "帮助",
    "English / 中文",
]
LABELS_EN = [
    "Streamer sign-up",
    "Company sign-up",
    "Daily report",
    "Products",
    "My registration",
    "My reports",
    "Help",
    "English / 中文",
]
ACTIONS = ["register", "enterprise", "report", "products", "me", "reports", "help", "lang"]


def say(core: Core, user: str, text: str, **kw: object) -> list[Reply]:
    return core.process_sync(Incoming.from_text("console", user, text, **kw))


def press(core: Core, user: str, data: str) -> list[Reply]:
    return core.process_sync(Incoming("console", user, user, button=data))


def labels(reply: Reply) -> list[str]:
    return [b.label for b in reply.flat_buttons()]


def data(reply: Reply) -> list[str]:
    return [b.data for b in reply.flat_buttons()]


def version_of(core: Core, user: str) -> int:
    with core.sessions() as s:
        return s.scalars(
            select(DialogState.version)
            .join(Identity, Identity.id == DialogState.identity_id)
            .where(Identity.user_id == user)
        ).one()


# ----- a new user -------------------------------------------------------------------------
def test_new_user_gets_the_menu(core: Core) -> None:
    (menu,) = say(core, "alice", "/start")
    assert menu.text == MENU_ZH
    assert labels(menu) == LABELS_ZH
    assert data(menu) == [f"1:cmd:{a}" for a in ACTIONS]  # stamped with the next version
    assert menu.numbered
    assert [len(row) for row in menu.buttons] == [2, 2, 2, 2]
    with core.sessions() as s:
        person = s.scalars(select(Person)).one()
        identity = s.scalars(select(Identity)).one()
        state = s.scalars(select(DialogState)).one()
    assert (identity.channel, identity.user_id, identity.chat_id) == ("console", "alice", "alice")
    assert identity.person_id == person.id
    assert (person.locale, person.last_channel, person.privacy_accepted_at) == (
        None,
        "console",
        None,
    )
    assert (state.identity_id, state.flow, state.version) == (identity.id, None, 1)


def test_new_user_typing_anything_gets_the_menu(core: Core) -> None:
    hint, menu = say(core, "bob", "你好")
    assert hint.text == translate("zh_CN", "fallback.text")
    assert menu.text == MENU_ZH
    assert labels(menu) == LABELS_ZH


def test_english_client_gets_english(core: Core) -> None:
    (menu,) = say(core, "carol", "/start", language="en-GB")
    assert menu.text == MENU_EN
    assert labels(menu) == LABELS_EN


def test_typed_menu_label_and_number_press_the_button(core: Core) -> None:
    say(core, "dave", "/start")
    (text,) = say(core, "dave", "帮助")
    assert begins(text, "help.text", festival="点亮原产地·江西青年直播节")
    say(core, "dave", "/start")
    (text,) = say(core, "dave", "7")  # the seventh button: 帮助
    assert begins(text, "help.text", festival="点亮原产地·江西青年直播节")


# ----- stale buttons ----------------------------------------------------------------------
def test_old_button_is_refused_as_stale(core: Core) -> None:
    (first,) = say(core, "alice", "/start")
    (second,) = say(core, "alice", "/start")
    assert data(first)[6] == "1:cmd:help"
    assert data(second)[6] == "2:cmd:help"
    assert version_of(core, "alice") == 2

    replies = press(core, "alice", data(first)[6])  # a button of the older menu
    assert [r.text for r in replies] == [translate("zh_CN", "err.stale_button")]
    assert version_of(core, "alice") == 3  # the refusal is a step too

    (third,) = say(core, "alice", "/start")
    (answer,) = press(core, "alice", data(third)[6])  # the newest menu's button works
    assert begins(answer, "help.text", festival="点亮原产地·江西青年直播节")


def test_unversioned_button_is_always_valid(core: Core) -> None:
    say(core, "alice", "/start")
    say(core, "alice", "/start")
    (answer,) = press(core, "alice", "*:cmd:help")  # e.g. a button in a notice
    assert begins(answer, "help.text", festival="点亮原产地·江西青年直播节")


def test_garbled_button_data_is_stale(core: Core) -> None:
    say(core, "alice", "/start")
    replies = press(core, "alice", "x:cmd:help")
    assert [r.text for r in replies] == [translate("zh_CN", "err.stale_button")]


# ----- group chats ------------------------------------------------------------------------
def test_group_free_text_gets_no_reply(core: Core) -> None:
    assert say(core, "alice", "大家好", chat_id="-100123", chat_kind="group") == []
    assert say(core, "alice", "帮助", chat_id="-100123", chat_kind="group") == []


def test_register_in_a_group_asks_for_a_private_chat(core: Core) -> None:
    replies = say(core, "alice", "/register", chat_id="-100123", chat_kind="group")
    assert [r.text for r in replies] == [translate("zh_CN", "group.private_only")]
    assert said(replies[0], "group.private_only")
    with core.sessions() as s:
        # the identity's chat is the person's private chat, never the group
        assert s.scalars(select(Identity.chat_id)).one() == "alice"


def test_help_in_a_group_is_answered(core: Core) -> None:
    (reply,) = say(core, "alice", "/help", chat_id="-100123", chat_kind="group")
    assert begins(reply, "help.text", festival="点亮原产地·江西青年直播节")


# ----- commands and message size ----------------------------------------------------------
def test_unknown_command(core: Core) -> None:
    replies = say(core, "alice", "/unknowncommand")
    assert [r.text for r in replies] == [
        translate("zh_CN", "err.unknown_command", command="unknowncommand")
    ]


def test_overlong_message_is_refused_before_parsing(core: Core, config: FestivalConfig) -> None:
    assert config.conversation.message_max_len == 2000
    replies = say(core, "alice", "长" * 10_000)
    assert [r.text for r in replies] == [translate("zh_CN", "err.message_too_long", max=2000)]
    # the limit itself is still accepted (and then not understood)
    replies = say(core, "alice", "长" * 2000)
    assert replies[0].text == translate("zh_CN", "fallback.text")
    replies = say(core, "alice", "长" * 2001)
    assert [r.text for r in replies] == [translate("zh_CN", "err.message_too_long", max=2000)]


def test_from_text_parses_commands() -> None:
    inc = Incoming.from_text("telegram", "42", "/start@festival_bot unit_360302")
    assert (inc.command, inc.args, inc.text) == ("start", "unit_360302", None)
    assert (inc.channel, inc.user_id, inc.chat_id, inc.chat_kind) == (
        "telegram",
        "42",
        "42",
        "private",
    )
    inc = Incoming.from_text("console", "u", "  /LANG   en  ")
    assert (inc.command, inc.args) == ("lang", "en")
    inc = Incoming.from_text("console", "u", "/help")
    assert (inc.command, inc.args) == ("help", "")
    inc = Incoming.from_text("console", "u", "5000元 / 2小时")
    assert (inc.command, inc.text) == (None, "5000元 / 2小时")
    inc = Incoming.from_text("console", "u", "/reject streamer 3 截图\n不清晰")
    assert (inc.command, inc.args) == ("reject", "streamer 3 截图\n不清晰")
    inc = Incoming.from_text("wechat", "openid", "/start", chat_id="g1", chat_kind="group")
    assert (inc.command, inc.chat_id, inc.chat_kind) == ("start", "g1", "group")


def test_start_with_a_unit_link_in_telegram_form(core: Core) -> None:
    """Telegram sends '/start@bot payload' in groups and '/start payload' from a deep link."""
    (bad, menu) = say(core, "alice", "/start@festival_bot unit_999999")
    assert bad.text == translate("zh_CN", "start.bad_link")
    assert menu.text == MENU_ZH
    (privacy,) = say(core, "alice", "/start@festival_bot unit_360302")
    assert begins(privacy, "privacy.notice")  # the recommendation starts: privacy first


# ----- language ---------------------------------------------------------------------------
def test_lang_switches_and_back(core: Core) -> None:
    say(core, "alice", "/start")
    done, menu = say(core, "alice", "/lang en")
    assert done.text == "Language set to English."
    assert (menu.text, labels(menu)) == (MENU_EN, LABELS_EN)
    (menu,) = say(core, "alice", "/start")
    assert (menu.text, labels(menu)) == (MENU_EN, LABELS_EN)  # it is remembered
    replies = say(core, "alice", "/nosuch")
    assert replies[0].text == (
        "There's no /nosuch command. Send /help to see the available commands."
    )
    with core.sessions() as s:
        assert s.scalars(select(Person.locale)).one() == "en"

    done, menu = say(core, "alice", "/lang zh")
    assert done.text == translate("zh_CN", "lang.set")
    assert (menu.text, labels(menu)) == (MENU_ZH, LABELS_ZH)
    with core.sessions() as s:
        assert s.scalars(select(Person.locale)).one() == "zh_CN"


def test_lang_without_argument_offers_buttons(core: Core) -> None:
    (choose,) = say(core, "alice", "/lang")
    assert choose.text == translate("zh_CN", "lang.choose")
    assert labels(choose) == ["中文", "English"]
    assert data(choose) == ["1:lang:zh_CN", "1:lang:en"]
    done, menu = press(core, "alice", "1:lang:en")
    assert done.text == "Language set to English."
    assert menu.text == MENU_EN


# ----- many users at once -----------------------------------------------------------------
def test_twenty_new_users_at_once(core: Core) -> None:
    users = [f"user{i:02d}" for i in range(20)]

    async def everyone() -> list[list[Reply]]:
        return await asyncio.gather(
            *(core.process(Incoming.from_text("console", u, "/start")) for u in users)
        )

    results = asyncio.run(everyone())
    assert len(results) == 20
    for replies in results:
        assert [r.text for r in replies] == [MENU_ZH]
        assert labels(replies[0]) == LABELS_ZH
    with core.sessions() as s:
        assert sorted(s.scalars(select(Identity.user_id))) == users
        assert s.scalar(select(func.count()).select_from(Person)) == 20
        assert sorted(s.scalars(select(DialogState.version))) == [1] * 20
    assert len(core.order) == 0  # per-user turns are released


def test_one_user_many_messages_at_once_are_all_stored(core: Core) -> None:
    say(core, "alice", "/start")

    async def burst() -> list[list[Reply]]:
        return await asyncio.gather(
            *(core.process(Incoming.from_text("console", "alice", "/start")) for _ in range(5))
        )

    results = asyncio.run(burst())
    assert [[r.text for r in replies] for replies in results] == [[MENU_ZH]] * 5
    assert version_of(core, "alice") == 6


def test_writing_again_clears_unreachable(chat: Chat, core: Core, clock: FixedClock) -> None:
    """A person the outbox found unreachable (blocked bot) who writes again is reachable."""
    chat.say("u", "/start")
    with core.sessions() as s, s.begin():
        person = s.scalars(select(Person)).one()
        person.unreachable_at = clock.now()
    chat.say("u", "/help")
    with core.sessions() as s:
        assert s.scalars(select(Person.unreachable_at)).one() is None


def test_a_huge_command_argument_is_refused_before_the_handler(chat: Chat, core: Core) -> None:
    out = chat.say("u", "/join " + "A" * 5000)
    assert begins(out, "err.message_too_long")
    with core.sessions() as s:
        from models import JoinAttempt

        assert s.scalar(select(func.count()).select_from(JoinAttempt)) == 0
