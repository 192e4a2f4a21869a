"""Building blocks shared by the festival's forms: the answers' kinds (parsers with their
bounds) and how values are shown in summaries. The unit picker is `unit_picker.py`.

Slightly over 300 lines on purpose: every kind of answer implements the same four things
(parse, type, cell, stored answer), side by side so that a new kind is written like the others."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field as Bounds
from pydantic import StringConstraints

from bot.config import Labelled
from bot.core import parsers as p
from bot.core.context import Ctx
from bot.core.forms import Answers, Field, Option
from bot.core.i18n import fmt_int, fmt_minutes, fmt_yuan

Parse = Callable[[str, Ctx, Answers], Any]


# ----- answers' kinds: parser, pydantic type and spreadsheet cell declared together ---------
# A kind is the parser of a field (Field.parse) that also knows the stored value's pydantic
# type with its bounds (the form's model is built from them, handlers.schemas), how a
# spreadsheet cell shows it (handlers.export) and how a stored value is an answer again (the
# snapshot a stored registration is edited from). So a bound such as 31 days is written once.
@dataclass(frozen=True)
class Kind:
    def __call__(self, raw: str, ctx: Ctx, a: Answers) -> Any:
        raise NotImplementedError

    @property
    def annotation(self) -> Any:
        """The stored value's type, with its bounds."""
        raise NotImplementedError

    def cell(self, value: Any, _ctx: Ctx) -> Any:
        return "" if value is None else value

    def answer(self, stored: Any) -> Any:
        """A stored value as the parser's result (answers are JSON)."""
        return stored

    def then(self, check: Check) -> Kind:
        """This kind with a further check of the parsed value (against the config, another
        answer, the database): the check raises parsers.ParseError."""
        return Checked(self, check)


Check = Callable[[Any, Ctx, Answers], None]


@dataclass(frozen=True)
class Checked(Kind):
    kind: Kind
    check: Check

    def __call__(self, raw: str, ctx: Ctx, a: Answers) -> Any:
        value = self.kind(raw, ctx, a)
        self.check(value, ctx, a)
        return value

    @property
    def annotation(self) -> Any:
        return self.kind.annotation

    def cell(self, value: Any, ctx: Ctx) -> Any:
        return self.kind.cell(value, ctx)

    def answer(self, stored: Any) -> Any:
        return self.kind.answer(stored)


@dataclass(frozen=True)
class Text(Kind):
    max_len: int | None = None  # None: the config's conversation.text_max_len

    def __call__(self, raw: str, ctx: Ctx, _a: Answers) -> str:
        return p.parse_text(raw, max_len=self.max_len or ctx.config.conversation.text_max_len)

    @property
    def annotation(self) -> Any:
        return Annotated[str, StringConstraints(min_length=1, max_length=self.max_len)]


@dataclass(frozen=True)
class Count(Kind):
    """A whole number of people, times, orders...; `limit`: what a real account can have,
    from the config (a phone number typed as a follower count is far above it)."""

    max_value: int = 10**11
    units: tuple[str, ...] = p.COUNT_UNITS  # what the number may be typed with
    limit: Callable[[Ctx], int] | None = None

    def __call__(self, raw: str, ctx: Ctx, _a: Answers) -> int:
        ceiling = min(self.limit(ctx), self.max_value) if self.limit else self.max_value
        return p.parse_count(raw, max_value=ceiling, units=self.units)

    @property
    def annotation(self) -> Any:
        return Annotated[int, Bounds(ge=0, le=self.max_value)]


@dataclass(frozen=True)
class Money(Kind):
    """An amount typed in yuan, stored as integer fen."""

    max_yuan: int = 10**10
    limit: Callable[[Ctx], int] | None = None  # a lower ceiling from the config

    def __call__(self, raw: str, ctx: Ctx, _a: Answers) -> int:
        ceiling = self.limit(ctx) if self.limit else self.max_yuan
        return p.parse_money_fen(raw, max_yuan=ceiling)

    @property
    def annotation(self) -> Any:
        return Annotated[int, Bounds(ge=0, le=self.max_yuan * 100)]

    def cell(self, value: Any, _ctx: Ctx) -> Any:
        # a number in yuan with two decimals (the stored value is exact fen)
        return "" if value is None else round(value / 100, 2)


@dataclass(frozen=True)
class Hours(Kind):
    """A number of hours (one decimal), as in 月均直播有效时长."""

    max_hours: int

    def __call__(self, raw: str, _ctx: Ctx, _a: Answers) -> str:
        # a duration as people type it: 45.5, 45小时, 2小时30分 (a plain number is hours)
        minutes = p.parse_duration_minutes(raw, max_hours=self.max_hours)
        return str((Decimal(minutes) / 60).quantize(Decimal("0.1")))

    @property
    def annotation(self) -> Any:
        return Annotated[Decimal, Bounds(ge=0, le=self.max_hours)]

    def cell(self, value: Any, _ctx: Ctx) -> Any:
        return "" if value is None else float(value)

    def answer(self, stored: Any) -> Any:
        return None if stored is None else str(stored)


@dataclass(frozen=True)
class Minutes(Kind):
    """A duration typed as 2小时30分 / 2.5 / 150分钟, stored in minutes; the ceiling in hours
    from the config, never above max_hours."""

    limit: Callable[[Ctx], int]
    max_hours: int = 24

    def __call__(self, raw: str, ctx: Ctx, _a: Answers) -> int:
        return p.parse_duration_minutes(raw, max_hours=min(self.limit(ctx), self.max_hours))

    @property
    def annotation(self) -> Any:
        return Annotated[int, Bounds(ge=0, le=self.max_hours * 60)]


@dataclass(frozen=True)
class Percent(Kind):
    def __call__(self, raw: str, _ctx: Ctx, _a: Answers) -> str:
        return str(p.parse_percent(raw))

    @property
    def annotation(self) -> Any:
        return Annotated[Decimal, Bounds(ge=0, le=100)]

    def cell(self, value: Any, _ctx: Ctx) -> Any:
        return "" if value is None else f"{value}%"

    def answer(self, stored: Any) -> Any:
        return None if stored is None else str(stored)


@dataclass(frozen=True)
class Phone(Kind):
    def __call__(self, raw: str, _ctx: Ctx, _a: Answers) -> str:
        return p.parse_cn_mobile(raw)

    @property
    def annotation(self) -> Any:
        return Annotated[str, StringConstraints(pattern=r"^1\d{10}$")]


@dataclass(frozen=True)
class Url(Kind):
    max_len: int = 500

    def __call__(self, raw: str, _ctx: Ctx, _a: Answers) -> str:
        return p.parse_url(raw, max_len=self.max_len)

    @property
    def annotation(self) -> Any:
        return Annotated[str, StringConstraints(max_length=self.max_len)]


@dataclass(frozen=True)
class YesNo(Kind):
    """是/否, answered "yes" or "no" (with yes_no_options), stored as a boolean."""

    def __call__(self, raw: str, _ctx: Ctx, _a: Answers) -> str:
        answer = p.parse_yes_no(raw)
        if answer is None:
            raise p.ParseError("err.use_buttons")
        return "yes" if answer else "no"

    @property
    def annotation(self) -> Any:
        return bool  # pydantic reads "yes" and "no"

    def cell(self, value: Any, ctx: Ctx) -> Any:
        return yes_no_cell(value, ctx)

    def answer(self, stored: Any) -> Any:
        return "yes" if stored else "no"


def text(max_len: int | None = None) -> Kind:
    return Text(max_len)


def count(
    max_value: int = 10**11,
    units: tuple[str, ...] = p.COUNT_UNITS,
    limit: Callable[[Ctx], int] | None = None,
) -> Kind:
    return Count(max_value, units, limit)


def days(max_value: int) -> Kind:
    """A number of days (天/日)."""
    return Count(max_value, p.DAY_UNITS)


def money(max_yuan: int = 10**10) -> Kind:
    return Money(max_yuan)


def hours(max_hours: int) -> Kind:
    return Hours(max_hours)


percent = Percent()
phone = Phone()
url = Url()
yes_no_parse = YesNo()


def yes_no_cell(value: Any, ctx: Ctx) -> str:
    return ctx.t("export.yes") if value else ctx.t("export.no")


# ----- what an answer of any field is: its type, its cell, the answer from a stored value --
def annotation_of(field: Field) -> Any:
    """The pydantic type of a field's answer, from its kind; a choice is the chosen value
    (a list of them if multi), a picture its file id."""
    if isinstance(field.parse, Kind):
        return field.parse.annotation
    if field.options is not None:
        return Annotated[list[str], Bounds(min_length=1)] if field.multi else str
    if field.accepts_photo or field.accepts_file:
        return str
    raise TypeError(f"field {field.name!r}: its kind of value is not known")


def cell_of(field: Field, value: Any, ctx: Ctx) -> Any:
    """A stored value in the committee's spreadsheet: a number, a choice's label, 是/否."""
    if isinstance(field.parse, Kind):
        return field.parse.cell(value, ctx)
    if field.accepts_photo:
        return yes_no_cell(value, ctx)
    if field.options is not None:
        labels = {o.value: o.label for o in field.options(ctx, {})}
        if field.multi:
            return "、".join(labels.get(str(v), str(v)) for v in value or ())
        return "" if value is None else labels.get(value, value)
    return "" if value is None else value


def answer_of(field: Field, stored: Any) -> Any:
    return field.parse.answer(stored) if isinstance(field.parse, Kind) else stored


def labelled_option(ctx: Ctx, value: str, item: Labelled) -> Option:
    """A choice of festival data (a platform, a category, a tag): shown in the reader's
    language, and taken typed in either (an English reader typing 抖音 means Douyin)."""
    return Option(value, item.label_in(ctx.locale), item.names())


def yes_no_options(ctx: Ctx, _a: Answers) -> list[Option]:
    return [Option("yes", ctx.t("opt.yes")), Option("no", ctx.t("opt.no"))]


# ----- how values are shown -----------------------------------------------------------------
def show_int(value: Any, _ctx: Ctx) -> str:
    return fmt_int(int(value))


def show_yuan(value: Any, ctx: Ctx) -> str:
    return ctx.t("fmt.yuan", amount=fmt_yuan(int(value)))


def show_minutes(value: Any, ctx: Ctx) -> str:
    return fmt_minutes(int(value), ctx.locale)


def show_hours(value: Any, ctx: Ctx) -> str:
    return ctx.t("fmt.hours_decimal", h=value)


def show_percent(value: Any, _ctx: Ctx) -> str:
    return f"{value}%"
