"""Notices to other people, always through the outbox, in the recipient's language."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.config import UnitKindConfig
from bot.core.context import Ctx
from bot.core.i18n import fmt_list, translate
from bot.core.messages import Button, Reply
from handlers.unit_picker import unit_info_by_id
from models import Person, Unit, quotas
from models.units import reviewers_of_unit_with_locale


def locale_of(ctx: Ctx, person_id: int) -> str:
    """The language a notice to this person is written in (their own, else the default)."""
    person = ctx.session.get(Person, person_id)
    return (person.locale if person else None) or ctx.config.locale.default


def to_person(ctx: Ctx, person_id: int, key: str, text_key: str, **params: object) -> None:
    text = translate(locale_of(ctx, person_id), text_key, **params)
    ctx.outbox.to_person(person_id, key, Reply(text))


Reviewers = list[tuple[int, str | None]]  # (person id, locale): unit_reviewers().people


def submitted(
    ctx: Ctx,
    kind: str,
    item_id: int,
    title: str | tuple[str, ...],
    unit_id: int,
    status: str,
    version: int,
    reviewers: Reviewers | None = None,
) -> None:
    """A registration was submitted or resubmitted: tell the committee and the unit contacts
    (`reviewers` when the caller has looked them up already). `version`: the audit entry of
    this submission, so each submission is told once and a later one always is (a clock
    time would repeat on a rehearsal clock started again at the same time). `title`: a
    name, or names each reviewer reads listed in their language."""
    unit = unit_info_by_id(ctx, unit_id)
    unit_name = unit.full_name if unit else ""
    if reviewers is None:
        reviewers = reviewers_of_unit_with_locale(ctx.session, unit_id)
    notices = []
    for person_id, locale in reviewers:
        if person_id == ctx.person_id:
            continue
        locale = locale or ctx.config.locale.default
        text = translate(
            locale,
            f"notice.submitted_{kind}",
            title=title if isinstance(title, str) else fmt_list(title, locale),
            unit=unit_name,
            status=translate(locale, f"status.{status}"),
            id=item_id,
        )
        button = Button(translate(locale, "btn.pending"), "*:cmd:review")
        key = f"submitted:{kind}:{item_id}:v{version}:{person_id}"
        notices.append((person_id, key, Reply(text, ((button,),))))
    ctx.outbox.to_people(notices)


def quota_exceeded(
    ctx: Ctx, unit_id: int, only: str | None = None, reviewers: Reviewers | None = None
) -> None:
    """A unit passed the maximum of its quota: warn its contacts and the committee (once per
    new count). Quotas never block; the committee decides what to do. `only`: the one tally
    that can have changed ("streamers" or "products")."""
    info = unit_info_by_id(ctx, unit_id)
    if info is None:
        return
    kinds: Mapping[Any, UnitKindConfig] = ctx.config.units.kinds
    quota = kinds[info.kind]
    tallies = [only] if only else ["streamers", "products"]
    if all(getattr(quota, what).max is None for what in tallies):
        return  # no ceiling for this kind of unit (cities, counties): nothing to count
    unit = ctx.session.get(Unit, unit_id)
    if unit is None:
        return
    # No pending names: the warning does not list them, and this runs in the step that
    # submits a registration (the last, busiest step of the form).
    progress = quotas.progress_of_units(ctx.session, ctx.config.units.kinds, [unit], only=only)[0]
    for what, tally in (("streamers", progress.streamers), ("products", progress.products)):
        if tally.over <= 0:
            continue
        if reviewers is None:
            reviewers = reviewers_of_unit_with_locale(ctx.session, unit_id)
        notices = []
        for person_id, locale in reviewers:
            text = translate(
                locale or ctx.config.locale.default,
                f"notice.quota_over_{what}",
                unit=progress.unit_name,
                done=tally.done,
                max=tally.max,
            )
            key = f"quota_over:{unit_id}:{what}:{tally.done}:{person_id}"
            notices.append((person_id, key, Reply(text)))
        ctx.outbox.to_people(notices)
