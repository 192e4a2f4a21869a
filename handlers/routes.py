"""The routing table: every command and flow of the festival bot on one screen."""

from __future__ import annotations

from bot.core.dispatcher import Routes
from handlers import enterprise, me, menu, report, review, streamer

ROUTES = Routes(
    commands={
        "start": menu.start,
        "menu": menu.start,
        "help": menu.help_,
        "cancel": menu.cancel,
        "lang": menu.lang,
        "register": menu.register_streamer,
        "enterprise": menu.register_enterprise,
        "report": menu.daily_report,
        "me": me.me,
        "reports": me.reports,
        "pending": review.pending,
        "approve": review.approve,
        "reject": review.reject,
    },
    flows={
        "privacy": menu.privacy_flow,
        "lang": menu.lang_flow,
        "me": me.me_flow,
    },
    forms={f.name: f for f in (streamer.FORM, enterprise.FORM, report.FORM)},
    fallback=menu.fallback,
    group_commands=frozenset({"help", "start"}),
    interrupting=frozenset({"help"}),
)
