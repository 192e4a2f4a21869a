"""Forms are data: a form is a tuple of fields; the engine (engine.py) asks them one by one.

Adding a field to a registration form is one `Field(...)` line in the handler's form: the
pydantic model checked at confirm, the answers stored as they are (and edited from) and the
committee's spreadsheet column derive from it (handlers/schemas.py, handlers/export.py). Its
table column with a migration, and its catalog keys, are the rest of a new stored field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.core.context import Ctx
    from bot.core.messages import Reply

Answers = dict[str, Any]


class FieldError(Exception):
    """Raised at confirmation: the answer of `field` is not acceptable; ask it again."""

    def __init__(self, field: str, key: str, **params: object) -> None:
        super().__init__(f"{field}: {key}")
        self.field = field
        self.key = key
        self.params = params


@dataclass(frozen=True)
class Option:
    value: str  # what is stored in the answers
    label: str  # what the user sees (already translated or a proper name)
    # other names a person may type for it: festival data's name in the other language
    # (an English reader typing 抖音, a Chinese one typing Douyin)
    also: tuple[str, ...] = ()


@dataclass(frozen=True)
class Field:
    name: str
    prompt: str  # catalog key of the question
    label: str  # catalog key of the field's name in the summary
    # Turns typed text into the stored value; raises parsers.ParseError with a catalog key.
    parse: Callable[[str, Ctx, Answers], Any] | None = None
    # Choices shown as buttons; the stored value is Option.value (a list of them if multi).
    options: Callable[[Ctx, Answers], list[Option]] | None = None
    multi: bool = False
    # May be skipped; a function when the config decides (a screenshot required or not).
    optional: bool | Callable[[Ctx], bool] = False
    # The field is asked only when this says so (e.g. the shop link only if there is a shop).
    when: Callable[[Answers, Ctx], bool] | None = None
    # How the summary shows the stored value.
    show: Callable[[Any, Ctx], str] | None = None
    accepts_photo: bool = False  # the answer is a picture (evidence, product attachment)
    accepts_file: bool = False  # a file sent is an answer (its stored path), e.g. a 活动总结
    accepts_contact: bool = False  # a shared contact is an answer (the phone field)
    prompt_params: Callable[[Ctx, Answers], dict[str, object]] | None = None
    group: Form | None = None  # a repeated sub-form: the answer is a list of dicts
    max_items: Callable[[Ctx], int] | None = None
    # Answers that depend on this one and are asked again when it changes (city -> county).
    resets: tuple[str, ...] = ()
    # Catalog key of the field's column heading in the committee's spreadsheet, where the
    # notice's wording (or a unit such as 元) differs from the summary's label.
    heading: str | None = None
    # The column is not one of the notice's form (e.g. 产品类别): exports put it after the
    # notice's columns, so the notice's own stay exactly in its order.
    extra_column: bool = False
    # A value above this (from the config) is possible but unusual: the person is asked to
    # confirm it ("确认是 12,345,678 吗？") before it is taken.
    confirm_above: Callable[[Ctx], float] | None = None
    # A check of the answer however it came (a button, a label or number typed, parsed
    # text): raises ParseError with the reason, so the question is asked again at once
    # instead of the answer being refused only at 确认提交.
    check: Callable[[Any, Ctx, Answers], None] | None = None

    def skippable(self, ctx: Ctx) -> bool:
        return self.optional(ctx) if callable(self.optional) else self.optional

    def may_be_missing(self) -> bool:
        """Whether a finished form may lack this answer (skippable, or not always asked)."""
        return self.optional is not False or self.when is not None


@dataclass(frozen=True)
class Form:
    name: str
    title: str  # catalog key: summary heading
    fields: tuple[Field, ...]
    # Stores the confirmed answers; returns the closing replies. May raise FieldError.
    on_confirm: Callable[[Ctx, Answers], list[Reply]]
    # The item name used in group buttons ("产品"), catalog key.
    item_label: str = "form.item"

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def applies(self, field: Field, answers: Answers, ctx: Ctx) -> bool:
        return field.when is None or field.when(answers, ctx)

    def applicable(self, answers: Answers, ctx: Ctx) -> list[Field]:
        return [f for f in self.fields if self.applies(f, answers, ctx)]

    def prune(self, answers: Answers, ctx: Ctx) -> Answers:
        """Drop answers of fields that no longer apply (an earlier answer changed)."""
        dropped = {f.name for f in self.fields} - {f.name for f in self.applicable(answers, ctx)}
        return {k: v for k, v in answers.items() if k not in dropped}
