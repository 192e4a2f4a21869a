"""The routing table: every command and flow of the festival bot on one screen."""

from __future__ import annotations

from bot.core.routing import Routes
from handlers import (
    awards,
    board,
    enterprise,
    export,
    groups,
    history,
    invite,
    link,
    me,
    menu,
    progress,
    report,
    report_review,
    review,
    roles,
    streamer,
)
from models import subscriptions

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
        "join": invite.join,
        "link": link.link,  # one person on Telegram and WeChat
        # committee and unit contacts
        "review": review.review,
        "pending": review.review,  # the button of older notices
        "approve": review.approve,
        "reject": review.reject,
        "subscribe": groups.subscribe,
        "unsubscribe": groups.unsubscribe,
        "unit": progress.unit,
        "streamers": report_review.streamers,
        "streamer": report_review.streamer,
        # committee only
        "invite": invite.invite,
        "invites": invite.invites,
        "revoke": invite.revoke,
        "units": progress.units,
        "history": history.history,
        "export": export.export,
        "roles": roles.roles,
        "unrole": roles.unrole,
        "recompute": board.recompute,
        # the awards (获奖名单)
        "awards": awards.awards,
        "ambassador": awards.ambassador,
        "publicity": awards.publicity,
        # 龙虎榜
        "top": board.top,
        "rank": board.rank,
    },
    flows={
        "privacy": menu.privacy_flow,
        "lang": menu.lang_flow,
        "me": me.me_flow,
        "review": review.review_flow,
        "report_review": report_review.report_review_flow,
    },
    forms={f.name: f for f in (streamer.FORM, enterprise.FORM, report.FORM, invite.FORM)},
    fallback=menu.fallback,
    group_commands=frozenset({"help", "start", "subscribe", "unsubscribe", "top"}),
    interrupting=frozenset({"help"}),
    # Who may do what, in one place (checked by the core on every step, flows included).
    permissions={
        **dict.fromkeys(
            ("review", "pending", "approve", "reject", "unit", "streamers", "streamer"),
            "reviewer",
        ),
        **dict.fromkeys(
            (
                "invite",
                "invites",
                "revoke",
                "units",
                "history",
                "recompute",
                "roles",
                "unrole",
                "export",
            ),
            "admin",
        ),
        **dict.fromkeys(("awards", "ambassador", "publicity"), "admin"),
        # in a group: only the committee subscribes it to broadcasts
        **dict.fromkeys(("subscribe", "unsubscribe"), "admin"),
    },
    flow_permissions={"review": "reviewer", "report_review": "reviewer", "invite": "admin"},
    # the command menus of platforms that show one (Telegram), in the order shown
    private_menu=(
        "start",
        "register",
        "enterprise",
        "report",
        "me",
        "reports",
        "help",
        "link",  # one person on Telegram and WeChat (/link CODE is typed with the code)
        "lang",
        "cancel",
    ),
    group_menu=("top", "help", "subscribe", "unsubscribe"),
    chat_moved=subscriptions.migrate,
)
