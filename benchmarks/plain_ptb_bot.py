"""The baseline of benchmarks/telegram.py: a plain python-telegram-bot bot, the way such bots
are usually written (ConversationHandler + PicklePersistence + the Application's Updater),
doing a 16-question streamer registration with the same Bot API calls per step as ours (a
press: answerCallbackQuery, the keyboard edited away, sendMessage; typed text: sendMessage).

Run: TELEGRAM_BOT_TOKEN=... TELEGRAM_API_BASE_URL=http://127.0.0.1:PORT/bot \\
     python benchmarks/plain_ptb_bot.py /tmp/plain.pickle
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# This file's directory is sys.path[0] when run as a script, and it holds telegram.py:
# drop it, or `import telegram` would find the benchmark instead of the library.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update  # noqa: E402
from telegram.ext import (  # noqa: E402
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    PicklePersistence,
    filters,
)

# (key, question, buttons or None for typed text): 16 questions, as the 附件2 form
QUESTIONS: list[tuple[str, str, list[str] | None]] = [
    ("platform", "直播平台？", ["抖音", "京东直播"]),
    ("account", "达人账号名？", None),
    ("phone", "联系电话？", None),
    ("followers", "粉丝量？", None),
    ("likes", "获赞量？", None),
    ("tips", "直播音浪总收入？", None),
    ("days", "月均直播有效天？", None),
    ("hours", "月均直播有效时长？", None),
    ("viewers", "累积观看人数？", None),
    ("peak", "最高同时在线人数？", None),
    ("orders", "直播累计销量(单)？", None),
    ("sales", "直播累计销售额？", None),
    ("dou_plus", "dou+消耗？", ["跳过"]),
    ("conversion", "转化率？", None),
    ("categories", "主要直播品类？", ["农产品", "粮油米面"]),
    ("declaration", "推荐条件确认", ["以上全部属实"]),
]
CONFIRM = len(QUESTIONS)


def keyboard(labels: list[str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(x, callback_data=x) for x in labels]])


async def ask(update: Update, context: ContextTypes.DEFAULT_TYPE, n: int) -> int:
    chat = update.effective_chat
    assert chat is not None
    if n == CONFIRM:
        markup = keyboard(["确认提交"])
        await context.bot.send_message(chat.id, "请核对以上信息", reply_markup=markup)
        return n
    _key, question, buttons = QUESTIONS[n]
    markup = keyboard([*(buttons or []), "返回", "取消"])
    await context.bot.send_message(chat.id, question, reply_markup=markup)
    return n


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(chat.id, "欢迎！请选择：", reply_markup=keyboard(["主播报名"]))
    return -2


async def begin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    await _pressed(update)
    assert context.user_data is not None
    context.user_data["answers"] = {}
    return await ask(update, context, 0)


async def _pressed(update: Update) -> str:
    query = update.callback_query
    assert query is not None and query.message is not None
    await query.answer()
    await query.edit_message_reply_markup(None)
    return query.data or ""


def answer_handler(n: int):  # type: ignore[no-untyped-def]
    async def on_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        value = await _pressed(update) if update.callback_query else update.message.text  # type: ignore[union-attr]
        assert context.user_data is not None
        context.user_data.setdefault("answers", {})[QUESTIONS[n][0]] = value
        return await ask(update, context, n + 1)

    return on_answer


async def confirm(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    await _pressed(update)
    assert context.user_data is not None and context.bot_data is not None
    user = update.effective_user
    registration = {"user": user.id if user else None, **context.user_data["answers"]}
    context.bot_data.setdefault("registrations", []).append(registration)
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(chat.id, "报名已提交！")
    return ConversationHandler.END


def main() -> None:
    persistence = PicklePersistence(sys.argv[1] if len(sys.argv) > 1 else "plain.pickle")
    builder = (
        Application.builder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .persistence(persistence)
        # PTB's default: one update at a time. With concurrent_updates(True) the next answer
        # of a user who answers instantly arrives before the handler has returned its new
        # state, and the ConversationHandler files it under the previous question.
        .connection_pool_size(64)
    )
    if os.environ.get("TELEGRAM_API_BASE_URL"):
        builder = builder.base_url(os.environ["TELEGRAM_API_BASE_URL"])
    app = builder.build()
    states: dict[object, list[object]] = {-2: [CallbackQueryHandler(begin)]}
    for n in range(len(QUESTIONS)):
        states[n] = [
            CallbackQueryHandler(answer_handler(n)),
            MessageHandler(filters.TEXT & ~filters.COMMAND, answer_handler(n)),
        ]
    states[CONFIRM] = [CallbackQueryHandler(confirm)]
    app.add_handler(
        ConversationHandler(
            entry_points=[CommandHandler("start", start)],
            states=states,  # type: ignore[arg-type]
            fallbacks=[],
            name="registration",
            persistent=True,
        )
    )
    app.run_polling(allowed_updates=["message", "callback_query"])


if __name__ == "__main__":
    main()
