"""When people may register themselves: until `calendar.registration_deadline` (inclusive,
the festival's time zone). After it, self-registration is closed when
`calendar.registration_closes` says so; a unit contact or the committee can still add late
entries (the Excel import), which reviewers see marked 截止后补报. Editing a registration
already made stays open (/me)."""

from __future__ import annotations

import datetime as dt

from bot.core.context import Ctx
from bot.core.messages import Reply


def days_left(today: dt.date, deadline: dt.date) -> int | None:
    """Days until the deadline (0 on its last day); None once it has passed."""
    return (deadline - today).days if today <= deadline else None


def closed(ctx: Ctx) -> bool:
    cal = ctx.config.calendar
    past = days_left(ctx.clock.today(), cal.registration_deadline) is None
    return cal.registration_closes and past


def refusal(ctx: Ctx) -> Reply | None:
    """Why a new self-registration cannot start now, or None."""
    if not closed(ctx):
        return None
    return ctx.reply("registration.closed", deadline=ctx.config.calendar.registration_deadline)


def menu_line(ctx: Ctx) -> str | None:
    """The menu's reminder of the days left, before the deadline."""
    cal = ctx.config.calendar
    left = days_left(ctx.clock.today(), cal.registration_deadline)
    if left is None:
        return None
    deadline = cal.registration_deadline
    if left == 0:
        return ctx.t("registration.last_day", deadline=deadline)
    return ctx.t("registration.days_left", days=left, deadline=deadline)


def is_late(created_at: dt.datetime, ctx: Ctx) -> bool:
    """A registration added after a closing deadline (by a unit's import or the committee);
    where self-registration stays open, nothing is late."""
    cal = ctx.config.calendar
    return (
        cal.registration_closes and created_at.astimezone(cal.tz).date() > cal.registration_deadline
    )
