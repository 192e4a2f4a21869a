"""The committee's records of the donation ledger: `/payment` (a payment the foundation
received, several and partial allowed, the same one twice refused without a note that tells
them apart; the enterprise gets its statement) and `/donation_cert` (the foundation's invoice or
certificate number; the enterprise is told). Both audited.
"""

from __future__ import annotations

import datetime as dt

from bot.core.context import Ctx
from bot.core.i18n import fmt_typed, fmt_yuan
from bot.core.messages import Reply
from bot.core.parsers import ParseError, normalize, parse_date, parse_money_fen, parse_text
from handlers import notify
from handlers.donations import row_of, statement_text, tell_statement
from models import Enterprise, ledger, repo

NOTE_MAX = 200
CERT_MAX = 100


def _enterprise_arg(ctx: Ctx, raw: str) -> Enterprise | None:
    raw = normalize(raw)
    if not raw.isdigit() or len(raw) > 18:
        return None
    return ctx.session.get(Enterprise, int(raw))


def payment(ctx: Ctx) -> list[Reply]:
    """/payment ENTERPRISE_ID AMOUNT [DATE] [NOTE]: a payment received by the foundation."""
    parts = ctx.incoming.args.split(maxsplit=3)
    if len(parts) < 2:
        return [ctx.reply("payment.usage")]
    ent = _enterprise_arg(ctx, parts[0])
    if ent is None:
        return [ctx.reply("donations.no_enterprise", id=fmt_typed(parts[0]))]
    try:
        amount = parse_money_fen(parts[1], max_yuan=ctx.config.turnover.max_yuan)
    except ParseError as err:
        return [ctx.reply(err.key, **err.params), ctx.reply("payment.usage")]
    if amount <= 0:
        return [ctx.reply("payment.not_positive"), ctx.reply("payment.usage")]
    today = ctx.clock.today()
    received_on, rest = today, parts[2:]
    if rest:
        try:
            received_on = parse_date(rest[0], today=today)
            rest = rest[1:]
        except ParseError as err:
            if err.key == "err.future_date":  # said of a payment, not of a daily report
                return [ctx.reply("payment.future_date"), ctx.reply("payment.usage")]
    note = None
    if rest:
        try:
            note = parse_text(" ".join(rest), max_len=NOTE_MAX)
        except ParseError as err:
            return [ctx.reply(err.key, **err.params), ctx.reply("payment.usage")]
    if _same_payment(ctx, ent.id, amount, received_on, note):
        return [ctx.reply("payment.duplicate", amount=fmt_yuan(amount), date=received_on)]
    now = ctx.clock.now()
    row = ledger.add_payment(ctx.session, ent.id, amount, received_on, ctx.person_id, now, note)
    repo.audit(
        ctx.session,
        now,
        ctx.person_id,
        "payment",
        "enterprise",
        ent.id,
        after={"payment_id": row.id, "amount_fen": amount, "received_on": str(received_on)},
        note=note,
    )
    statement = row_of(ctx, ent.id)
    assert statement is not None
    tell_statement(
        ctx,
        statement,
        f"payment:{row.id}",
        "notice.payment_recorded",
        amount=fmt_yuan(amount),
        date=received_on,
    )
    return [
        ctx.reply("payment.recorded", name=ent.name, amount=fmt_yuan(amount), date=received_on),
        Reply(statement_text(ctx.locale, statement)),
    ]


def _same_payment(
    ctx: Ctx, enterprise_id: int, amount: int, day: dt.date, note: str | None
) -> bool:
    """The same command sent twice records one payment: a second payment of the same amount
    on the same day needs a note that tells them apart."""
    return any(
        (p.amount_fen, p.received_on, p.note) == (amount, day, note)
        for p in ledger.payments_of(ctx.session, enterprise_id)
    )


def donation_cert(ctx: Ctx) -> list[Reply]:
    """/donation_cert ENTERPRISE_ID NUMBER: the foundation's invoice / certificate number."""
    parts = ctx.incoming.args.split(maxsplit=1)
    if len(parts) < 2:
        return [ctx.reply("cert.usage")]
    ent = _enterprise_arg(ctx, parts[0])
    if ent is None:
        return [ctx.reply("donations.no_enterprise", id=fmt_typed(parts[0]))]
    try:
        number = parse_text(parts[1], max_len=CERT_MAX)
    except ParseError as err:
        return [ctx.reply(err.key, **err.params), ctx.reply("cert.usage")]
    if number in ledger.certificates_by_enterprise(ctx.session, [ent.id]).get(ent.id, []):
        return [ctx.reply("cert.already", number=number, name=ent.name)]
    now = ctx.clock.now()
    ledger.add_certificate(ctx.session, ent.id, number, ctx.person_id, now)
    repo.audit(
        ctx.session,
        now,
        ctx.person_id,
        "donation_cert",
        "enterprise",
        ent.id,
        after={"number": number},
    )
    notify.to_person(
        ctx,
        ent.person_id,
        f"donation_cert:{ent.id}:{number}",
        "notice.donation_cert",
        number=number,
    )
    return [ctx.reply("cert.recorded", number=number, name=ent.name)]
