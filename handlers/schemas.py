"""The finished answers, validated once more as pydantic models before anything is stored.

A form's model is built from the form itself: each field's type and bounds come from its kind
(handlers.fields), so a bound like 31 days is written once, with the field, and a new field
is validated without a line here. A model's base declares only what the handler derives from
the answers rather than asks (the unit a picker leads to, the recommendation), which the
form's own field of that name, if any, gives way to."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, create_model
from sqlalchemy import inspect

from bot.core.forms import Field as FormField
from handlers.fields import annotation_of


class FormModel(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


M = TypeVar("M", bound=FormModel)


def model_of(name: str, fields: Iterable[FormField], base: type[M]) -> type[M]:
    """A pydantic model of a form's answers: a field that may be skipped, or is asked only
    sometimes, may be missing; a repeated sub-form is a list of at least one item."""
    own = set(base.model_fields)
    definitions: dict[str, Any] = {}
    for field in fields:
        if field.name in own:
            continue
        if field.group is not None:
            item = model_of(f"{name}Item", field.group.fields, FormModel)
            kind: Any = list[item]  # type: ignore[valid-type]
            if field.may_be_missing():  # asked only sometimes (the report's split)
                definitions[field.name] = (kind | None, Field(default=None, min_length=1))
            else:
                definitions[field.name] = (kind, Field(min_length=1))
        elif field.may_be_missing():
            definitions[field.name] = (annotation_of(field) | None, None)
        else:
            definitions[field.name] = (annotation_of(field), ...)
    return create_model(name, __base__=base, **definitions)


def stored_fields(
    fields: Iterable[FormField], table: type[Any], base: type[FormModel] = FormModel
) -> tuple[FormField, ...]:
    """The fields whose answer is stored as it is, in the table's column of the same name,
    in the form's order: what a stored registration is edited from, and the spreadsheet's
    columns. A value the handler derives (the base's) is not stored as it is."""
    return tuple(f for f in fields if f.name in _columns(table) and f.name not in base.model_fields)


def row_values(
    values: Mapping[str, Any], table: type[Any], *, exclude: Iterable[str] = ()
) -> dict[str, Any]:
    """The validated values (a model's dump) that are columns of the table: not the answers
    that only lead to one (the unit picker's)."""
    return {k: v for k, v in values.items() if k in _columns(table) and k not in exclude}


_COLUMNS: dict[type[Any], frozenset[str]] = {}


def _columns(table: type[Any]) -> frozenset[str]:
    # the submit step asks for every registration: the mapper is inspected once
    if table not in _COLUMNS:
        _COLUMNS[table] = frozenset(inspect(table).columns.keys())
    return _COLUMNS[table]


class StreamerDerived(FormModel):
    unit: str = Field(min_length=1)
    recommendation: str = Field(pattern="^(org|self)$")
    declarations: list[str]  # the config's, all confirmed (the answer is a plain yes)


class EnterpriseDerived(FormModel):
    unit: str = Field(min_length=1)


class ReportDerived(FormModel):
    report_date: dt.date  # the answer is an ISO date
    account_id: int  # chosen, or the only account (preset)
