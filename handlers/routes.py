"""The routing table: every command and flow of the festival bot on one screen."""

from __future__ import annotations

from bot.core.routing import Routes
from handlers import (
    announce,
    audit,
    awards,
    board,
    certificate_issue,
    direct,
    donations,
    enterprise,
    export,
    feedback,
    forget,
    groups,
    history,
    import_chat,
    invite,
    link,
    me,
    menu,
    money,
    payments,
    products,
    progress,
    reconcile,
    report,
    report_review,
    review,
    roles,
    streamer,
    turnover,
    turnover_review,
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
        "products": products.products,  # 选品
        "certificate": certificate_issue.my_certificates,  # one's own certificates
        "join": invite.join,
        "link": link.link,  # one person on Telegram and WeChat
        "forget": forget.forget,  # erase one's own personal data (after a confirmation)
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
        "announce": announce.announce,  # a contact: to its own unit's people
        "export": export.export,  # a contact: their own unit (a city with its counties)
        "import": import_chat.usage,  # the sheet itself is sent as a file
        # committee only
        "invite": invite.invite,
        "invites": invite.invites,
        "revoke": invite.revoke,
        "units": progress.units,
        "history": history.history,
        "certificates": certificate_issue.certificates,  # all, as one ZIP
        "roles": roles.roles,
        "unrole": roles.unrole,
        "recompute": board.recompute,
        # the awards (获奖名单)
        "awards": awards.awards,
        "ambassador": awards.ambassador,
        "publicity": awards.publicity,
        "audit": audit.audit,  # the top-N audit before /awards final
        "reconcile": reconcile.reconcile,  # reported figures that should agree
        # 龙虎榜
        "top": board.top,
        "rank": board.rank,
        # money: enterprises (/turnover, /direct), streamers (/share), the committee
        # (/turnovers, /payment, /donation_cert); /donations: the ledger for the committee,
        # an enterprise contact's own statement
        "turnover": turnover.start,
        "direct": direct.direct,
        "share": donations.share,
        "donations": donations.donations,
        "turnovers": turnover_review.turnovers,
        "payment": payments.payment,
        "donation_cert": payments.donation_cert,
        # 反馈期: streamers and unit contacts fill it in, the committee reads it
        "feedback": feedback.feedback,
    },
    flows={
        "privacy": menu.privacy_flow,
        forget.FLOW: forget.forget_flow,
        "lang": menu.lang_flow,
        "me": me.me_flow,
        "products": products.products_flow,
        "review": review.review_flow,
        "report_review": report_review.report_review_flow,
        turnover_review.FLOW: turnover_review.turnover_review_flow,
        audit.FLOW: audit.audit_flow,
        "money_rules": money.agreement_flow,
        "announce": announce.announce_flow,
        import_chat.SCAN_FLOW: import_chat.scan_flow,  # the stamped scan after an import
    },
    forms={
        f.name: f
        for f in (
            streamer.FORM,
            enterprise.FORM,
            report.FORM,
            invite.FORM,
            turnover.FORM,
            direct.DIRECT_FORM,
            feedback.STREAMER_FORM,
            feedback.UNIT_FORM,
        )
    },
    fallback=menu.fallback,
    group_commands=frozenset({"help", "start", "subscribe", "unsubscribe", "top"}),
    interrupting=frozenset({"help"}),
    # Who may do what, in one place (checked by the core on every step, flows included).
    permissions={
        **dict.fromkeys(
            (
                "review",
                "pending",
                "approve",
                "reject",
                "unit",
                "streamers",
                "streamer",
                "announce",
                "export",
                "import",
            ),
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
                "certificates",
            ),
            "admin",
        ),
        **dict.fromkeys(("awards", "ambassador", "publicity", "audit", "reconcile"), "admin"),
        # in a group: only the committee subscribes it to broadcasts
        **dict.fromkeys(("subscribe", "unsubscribe"), "admin"),
        # the donation ledger's entries
        **dict.fromkeys(("turnovers", "payment", "donation_cert"), "admin"),
    },
    flow_permissions={
        "review": "reviewer",
        "report_review": "reviewer",
        "invite": "admin",
        "turnover_review": "admin",
        audit.FLOW: "admin",
        "announce": "reviewer",
        import_chat.SCAN_FLOW: "reviewer",
    },
    # an enterprise that has not agreed to the money rules is asked first (handlers/money.py)
    gate=money.gate,
    # the command menus of platforms that show one (Telegram), in the order shown
    private_menu=(
        "start",
        "register",
        "enterprise",
        "report",
        "products",
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
