"""Who reads a phone number in full: the committee always; a unit's contact only when config
says contacts may (`excel.contacts_see_phones`; the privacy notice says which), otherwise
masked (138****8000: enough to recognise a number, nothing more). One rule for everything a
contact is shown: the exports and the /review cards."""

from __future__ import annotations

from bot.core.context import Ctx
from bot.core.i18n import mask_phone


def sees_phones(ctx: Ctx) -> bool:
    """Whether this reader sees phone numbers in full."""
    return ctx.scope.committee or ctx.config.excel.contacts_see_phones


def shown_phone(ctx: Ctx, phone: str) -> str:
    """The phone number as this reader may see it."""
    return phone if sees_phones(ctx) else mask_phone(phone)
