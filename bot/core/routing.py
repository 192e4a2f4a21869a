"""The routing table's shape: what the app hands the core (the core never imports handlers/),
and the one hook a channel hands it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from bot.core.context import Ctx
from bot.core.forms import Form
from bot.core.messages import Reply

Handler = Callable[[Ctx], list[Reply]]
ChatMoved = Callable[[Session, str, str, str, dt.datetime], None]  # channel, old id, new id
# What a channel writes in the step's own commit: (the step's session, the step's replies).
Record = Callable[[Session, list[Reply]], None]


@dataclass
class Routes:
    """The routing table the app hands to the core (the core never imports handlers/)."""

    commands: dict[str, Handler]  # "/start" -> handler; also reachable as button "cmd:start"
    flows: dict[str, Handler]  # non-form flows: active flow name -> handler of the input
    forms: dict[str, Form]
    fallback: Handler  # free text outside any flow
    group_commands: frozenset[str] = frozenset({"help", "top", "start"})
    interrupting: frozenset[str] = field(default_factory=frozenset)  # keep the form open
    # Who may use a command (permissions) or stay in a flow or form (flow_permissions), by
    # name: "admin" (the committee) or "reviewer" (the committee and unit contacts). Checked
    # here, in one place, on every step; a name not listed is open to everyone.
    permissions: dict[str, str] = field(default_factory=dict)
    flow_permissions: dict[str, str] = field(default_factory=dict)
    # What a channel needs of the festival, handed over here so that no channel imports
    # handlers/: the commands its menus list (a platform that has menus), and what to do when
    # a group chat gets a new id (Telegram: upgraded to a supergroup), in the caller's session.
    private_menu: tuple[str, ...] = ()
    group_menu: tuple[str, ...] = ()
    chat_moved: ChatMoved | None = None
    # Asked before a private message outside any flow is routed: replies to take the step
    # over (a question the person must answer first), or None to route it as usual.
    gate: Callable[[Ctx], list[Reply] | None] | None = None
