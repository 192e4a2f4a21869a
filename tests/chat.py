"""A transcript driver: what a person types goes through the real console parsing and the
core; the replies come back as the console would print them."""

from __future__ import annotations

import asyncio
import io

from bot.channels.console import CHANNEL, ConsoleSender, parse_line, render
from bot.core.delivery import OutboxDispatcher
from bot.core.dispatcher import Core
from bot.core.messages import Reply


class Chat:
    def __init__(self, core: Core) -> None:
        self.core = core
        self.delivered = io.StringIO()
        self.dispatcher = OutboxDispatcher(
            core.sessions, core.clock, {CHANNEL: ConsoleSender(self.delivered)}
        )
        self.last: list[Reply] = []

    def say(self, user: str, line: str) -> str:
        """One line typed by `user`; returns the printed replies."""
        inc = parse_line(line, user)
        assert inc is not None
        self.last = self.core.process_sync(inc)
        return render(self.last)

    def run(self, user: str, lines: list[str]) -> str:
        return "".join(self.say(user, line) for line in lines)

    def press(self, user: str, label: str) -> str:
        """Press the button with this label through its callback data (as Telegram would)."""
        for reply in self.last:
            for button in reply.flat_buttons():
                if button.label == label or button.label.endswith(" " + label):
                    from bot.core.messages import Incoming

                    self.last = self.core.process_sync(
                        Incoming(CHANNEL, user, user, button=button.data)
                    )
                    return render(self.last)
        raise AssertionError(
            f"no button {label!r} in {[b.label for r in self.last for b in r.flat_buttons()]}"
        )

    def deliver(self) -> str:
        """Runs the outbox dispatcher; returns what was delivered since the last call."""

        async def drain() -> None:
            while await self.dispatcher.run_once():
                pass

        asyncio.run(drain())
        out = self.delivered.getvalue()
        self.delivered.seek(0)
        self.delivered.truncate()
        return out


def form_answers(core: Core, user: str) -> dict[str, object]:
    """The answers stored so far in the form `user` is filling in (console identity)."""
    from sqlalchemy import select

    from models import DialogState, Identity

    with core.sessions() as s:
        data = s.scalars(
            select(DialogState.data)
            .join(Identity, Identity.id == DialogState.identity_id)
            .where(Identity.user_id == user)
        ).one()
    return dict(data["form"]["answers"])
