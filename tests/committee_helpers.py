"""Shared steps of the committee tests: invite and join, register, read what was delivered."""

from __future__ import annotations

import re

from sqlalchemy import select

from bot.core.dispatcher import Core
from models import Identity, Streamer
from tests.catalog import said
from tests.chat import Chat
from tests.flows import streamer_lines

CODE = re.compile(r"邀请码已生成：([A-Z0-9]{4}-[A-Z0-9]{4})")
ANYUAN, XIANGDONG, PINGXIANG = "360302", "360313", "360300"


def invite(chat: Chat, arg: str, admin: str = "admin") -> str:
    out = chat.say(admin, f"/invite {arg}")
    match = CODE.search(out)
    assert match, out
    return match[1]


def make_contact(chat: Chat, user: str, unit_code: str) -> None:
    code = invite(chat, unit_code)
    assert said(chat.say(user, f"/join {code}"), "join.welcome_contact")
    chat.deliver()


def register(chat: Chat, user: str, account: str) -> int:
    """A self-recommended streamer of 萍乡市 安源区 (the flows' default answers)."""
    out = chat.run(user, [*streamer_lines(account), "确认提交"])
    assert said(out, "streamer.submitted"), out
    return streamer_id(chat.core, user)


def streamer_id(core: Core, user: str) -> int:
    with core.sessions() as s:
        person = s.scalar(select(Identity.person_id).where(Identity.user_id == user))
        return s.scalars(select(Streamer.id).where(Streamer.person_id == person)).one()


def status(core: Core, streamer: int) -> str:
    with core.sessions() as s:
        row = s.get(Streamer, streamer)
        assert row is not None
        return row.status
