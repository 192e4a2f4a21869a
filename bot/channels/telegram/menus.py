"""The command menus Telegram shows: Chinese by default, English for `en` clients; private
chats and groups get their own lists, which the routing table gives (only commands it has)."""

from __future__ import annotations

import logging
from typing import Any

from telegram import BotCommand, BotCommandScopeAllGroupChats, BotCommandScopeAllPrivateChats
from telegram.error import TelegramError

from bot.channels.telegram.sender import Sender
from bot.core.i18n import translate
from bot.core.routing import Routes

log = logging.getLogger(__name__)


async def set_commands(bot: Any, sender: Sender, routes: Routes) -> None:
    for language in ("zh_CN", "en"):
        code = None if language == "zh_CN" else "en"
        for scope, names in (
            (BotCommandScopeAllPrivateChats(), routes.private_menu),
            (BotCommandScopeAllGroupChats(), routes.group_menu),
        ):
            commands = [
                BotCommand(name, translate(language, f"tg.cmd.{name}"))
                for name in names
                if name in routes.commands
            ]

            async def set_menu(
                _c: str, commands: Any = commands, scope: Any = scope, code: Any = code
            ) -> Any:
                return await bot.set_my_commands(commands, scope=scope, language_code=code)

            try:
                await sender.call("", set_menu)
            except TelegramError as exc:  # a menu is a convenience: never stop the bot
                log.warning("setMyCommands failed: %s", exc)
