"""What a handler gets for one step: the session, the config, the clock, who is writing and
their conversation state. One Ctx per incoming update."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from bot.config import FestivalConfig
from bot.core.clock import Clock
from bot.core.i18n import translate
from bot.core.messages import Button, Incoming, Reply
from models.scope import ReviewerScope, reviewer_scope

if TYPE_CHECKING:
    from bot.core.engine import FormEngine
    from bot.core.outbox import Outbox


@dataclass
class State:
    """The stored conversation state of one identity: the active flow and its data."""

    flow: str | None
    data: dict[str, Any]
    version: int

    def clear(self) -> None:
        """Leave the flow; drafts survive a cancel."""
        drafts = self.data.get("drafts")
        self.flow = None
        self.data = {"drafts": drafts} if drafts else {}


# ctx.services: runs a callable later, on a thread of its own (one, in order), after the step
# (Core.later): work too long for a step, which tells the person itself when it is done
BACKGROUND = "background"


@dataclass
class Ctx:
    session: Session
    config: FestivalConfig
    clock: Clock
    outbox: Outbox
    forms: FormEngine
    incoming: Incoming
    person_id: int
    identity_id: int
    locale: str
    privacy_accepted: bool
    state: State
    is_admin: bool = False
    action: str | None = None  # the pressed (or typed) button's action, version stripped
    # Process-wide cache of rarely changing lists (the unit directory); clear it on change.
    cache: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    # The bot's data directory (boards/: the 龙虎榜 pictures; uploads/: pictures people
    # sent); None: it keeps no files (tests that do not need them).
    files_dir: Path | None = None
    # What the process offers handlers beyond the database, set up by the app's wiring (the
    # WeChat QR code maker, the Telegram bot's username...): handlers never import channels.
    services: dict[str, Any] = field(default_factory=dict)
    # The step changes nothing (an answer repeated): the state is not stored, so buttons
    # shown before stay valid, and buttons shown now are stamped with the same version.
    keep_state: bool = False
    # Work that may only run once the step is committed, outside any transaction (SQLite's
    # VACUUM after an erasure); run by the core after the commit, failures logged.
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    _scope: ReviewerScope | None = field(default=None, repr=False)

    @property
    def scope(self) -> ReviewerScope:
        """What this person may review (queried once per step, when first needed)."""
        if self._scope is None:
            self._scope = reviewer_scope(self.session, self.person_id, self.is_admin)
        return self._scope

    def t(self, key: str, **params: object) -> str:
        return translate(self.locale, key, **params)

    def reply(self, key: str, **params: object) -> Reply:
        return Reply(self.t(key, **params))

    def button(self, label_key: str, action: str, **params: object) -> Button:
        """A button whose press is only valid while the state is unchanged (see dispatcher)."""
        return Button(self.t(label_key, **params), self.stamp(action))

    def stamp(self, action: str) -> str:
        # The version the state will have once this step is stored: a press of this button
        # after any later step is recognised as stale.
        return f"{self.state.version + (0 if self.keep_state else 1)}:{action}"
