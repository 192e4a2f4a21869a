"""Permissions are declared once, in the routing table, and the core enforces them: every
guarded command tried from every role that may not use it, flows included, and group chats."""

from __future__ import annotations

import pytest

from bot.core.dispatcher import Core
from bot.core.i18n import translate
from bot.core.messages import Incoming
from handlers.routes import ROUTES
from tests.chat import Chat
from tests.committee_helpers import ANYUAN, make_contact

ADMIN_ONLY = "抱歉，这个功能只对组委会开放。"
REVIEWERS_ONLY = "抱歉，这个功能只对组委会和单位联系人开放。"
# Commands anyone may use: each handler shows only the person's own data.
OPEN = {
    "start", "menu", "help", "cancel", "lang", "register", "enterprise", "report", "me",
    "reports", "join", "top", "rank", "link",
    "forget",  # one's own personal data: erased after a confirmation
    "products",  # 选品: the handler itself answers who may pick (approved streamers)
    "certificate",  # one's own certificates: the handler finds whose
    # money: an enterprise's own turnover, directed part and statement (the committee's
    # ledger for admins), a streamer's own share
    "turnover", "direct", "donations", "share",
    # 反馈期: a streamer's form, a unit contact's summary (the scope decides), the committee's
    # list (ctx.scope.committee)
    "feedback",
}  # fmt: skip


def test_every_command_is_either_open_or_guarded() -> None:
    """A new command must be classified here on purpose."""
    assert set(ROUTES.commands) - set(ROUTES.permissions) == OPEN
    assert set(ROUTES.permissions) <= set(ROUTES.commands)
    assert set(ROUTES.permissions.values()) <= {"admin", "reviewer"}
    assert set(ROUTES.flow_permissions) <= set(ROUTES.flows) | set(ROUTES.forms)


@pytest.mark.parametrize("command", sorted(ROUTES.permissions))
def test_a_streamer_is_refused_every_guarded_command(chat: Chat, command: str) -> None:
    expected = ADMIN_ONLY if ROUTES.permissions[command] == "admin" else REVIEWERS_ONLY
    for args in ("", " 1", " streamer 1 x"):
        assert chat.say("someone", f"/{command}{args}").startswith(expected)


@pytest.mark.parametrize(
    "command", sorted(c for c, level in ROUTES.permissions.items() if level == "admin")
)
def test_a_unit_contact_is_refused_committee_commands(chat: Chat, command: str) -> None:
    make_contact(chat, "c1", ANYUAN)
    assert chat.say("c1", f"/{command} 1").startswith(ADMIN_ONLY)


@pytest.mark.parametrize(
    "command", sorted(c for c, level in ROUTES.permissions.items() if level == "reviewer")
)
def test_a_unit_contact_may_use_reviewer_commands(chat: Chat, command: str) -> None:
    make_contact(chat, "c1", ANYUAN)
    out = chat.say("c1", f"/{command}")
    assert not out.startswith((ADMIN_ONLY, REVIEWERS_ONLY)), out


def test_buttons_of_guarded_commands_are_checked_too(chat: Chat, core: Core) -> None:
    """A forged or old button that runs a command goes through the same check."""
    out = core.process_sync(Incoming("console", "someone", "someone", button="*:cmd:units"))
    assert out[0].text.startswith(ADMIN_ONLY)
    out = core.process_sync(Incoming("console", "someone", "someone", button="*:cmd:review"))
    assert out[0].text.startswith(REVIEWERS_ONLY)


def test_group_chats_answer_only_group_commands(core: Core) -> None:
    private_only = translate("zh_CN", "group.private_only")
    for text in ("/review", "/units", "/streamer 1", "/me", "/unit", "/history streamer 1"):
        inc = Incoming.from_text("console", "admin", text, chat_id="group-1", chat_kind="group")
        assert [r.text for r in core.process_sync(inc)] == [private_only], text


def test_subscribing_a_group_is_for_the_committee(core: Core) -> None:
    inc = Incoming.from_text("console", "someone", "/subscribe", chat_id="g", chat_kind="group")
    assert core.process_sync(inc)[0].text.startswith(ADMIN_ONLY)


def test_help_names_every_command_of_the_committee_and_of_unit_contacts() -> None:
    """A command added to the routing table is also told to the people who may use it."""
    from bot.core.i18n import translate

    for locale in ("zh_CN", "en"):
        committee = translate(locale, "help.committee") + translate(locale, "money.help_committee")
        contact = translate(locale, "help.contact")
        for command, needed in ROUTES.permissions.items():
            assert f"/{command}" in committee, (locale, command)
            if needed == "reviewer" and command != "pending":
                assert f"/{command}" in contact, (locale, command)


def test_help_names_every_open_command() -> None:
    from bot.core.i18n import translate

    for locale in ("zh_CN", "en"):
        text = translate(locale, "help.text", festival="x")
        for command in set(ROUTES.commands) - set(ROUTES.permissions):
            if command not in ("start", "menu", "help"):  # the menu itself
                assert f"/{command}" in text, (locale, command)
