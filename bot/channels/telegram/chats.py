"""What Telegram's answers tell about chats: a person who blocked the bot (recorded, so nobody
keeps sending to them; cleared when they write again) and a group upgraded to a supergroup
(its subscription follows the new id)."""

from __future__ import annotations

import datetime as dt

from bot.channels.telegram.adapter import CHANNEL
from bot.core.dispatcher import Core
from models.people import set_unreachable, unreachable_chats
from models.telegram import UpdateStore


class Chats:
    def __init__(self, core: Core, store: UpdateStore) -> None:
        self.core = core
        self.store = store
        # private chats that blocked the bot, known in memory so that a message from one of
        # them (it is unblocked now) costs a write only then
        self.unreachable: set[str] = set()

    async def load(self) -> None:
        self.unreachable = set(await self.core.offload(self._unreachable))

    def _unreachable(self) -> list[str]:
        with self.core.sessions() as session:
            return unreachable_chats(session, CHANNEL)

    async def blocked(self, chat_id: str) -> None:
        """The person blocked the bot (the sender saw a Forbidden)."""
        if chat_id:
            await self.core.offload(self._set, chat_id, self.core.clock.now())
            self.unreachable.add(chat_id)

    async def wrote(self, chat_id: str) -> None:
        """A private message: if the chat had blocked the bot, it has not any more."""
        if chat_id in self.unreachable:
            await self.core.offload(self._set, chat_id, None)
            self.unreachable.discard(chat_id)

    def _set(self, chat_id: str, when: dt.datetime | None) -> None:
        with self.core.sessions() as session, session.begin():
            set_unreachable(session, CHANNEL, chat_id, when)

    async def migrated(self, old_id: str, new_id: str, update_id: int | None = None) -> None:
        """A group's new id (from a migration update, or from a send that Telegram refused
        with ChatMigrated); the update, if any, is marked handled in the same commit."""
        await self.core.offload(self._migrate, old_id, new_id, update_id)

    def _migrate(self, old_id: str, new_id: str, update_id: int | None) -> None:
        with self.core.sessions() as session, session.begin():
            now = self.core.clock.now()
            if self.core.routes.chat_moved is not None:
                self.core.routes.chat_moved(session, CHANNEL, old_id, new_id, now)
            if update_id is not None:
                self.store.mark(session, update_id, now)
