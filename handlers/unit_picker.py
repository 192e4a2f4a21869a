"""The unit picker shared by the forms: city -> county (or 市本级), or a university or a
provincial unit; and the per-process unit directory the forms and notices read units from
(units are only added at start; a code not seen reloads it once)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.core.context import Ctx
from bot.core.forms import Answers, Field, Option
from bot.core.i18n import translate
from models.units import UnitInfo, child_units, unit_directory, units_of_kind

# ----- the unit picker: city -> county (or 市本级), or a university / provincial unit ----------
UNIT_GROUPS = {
    "city": ("city", "county"),
    "university": ("provincial_university", "other_university"),
    "provincial": ("provincial_unit",),
}


def _cached(ctx: Ctx, key: str, load: Callable[[], list[Option]]) -> list[Option]:
    """Unit lists change only when units are added; the cache is cleared then."""
    if key not in ctx.cache:
        ctx.cache[key] = load()
    options: list[Option] = ctx.cache[key]
    return options


def _units(ctx: Ctx, *kinds: str) -> list[Option]:
    return _cached(
        ctx,
        "units:" + ",".join(kinds),
        lambda: [Option(u.code, u.name) for u in units_of_kind(ctx.session, *kinds)],
    )


def _group_options(ctx: Ctx, _a: Answers) -> list[Option]:
    return [
        Option(key, ctx.t(f"opt.unit_group.{key}"))
        for key, kinds in UNIT_GROUPS.items()
        if key == "city" or _units(ctx, *kinds)
    ]


def _city_options(ctx: Ctx, _a: Answers) -> list[Option]:
    return _units(ctx, "city")


def _county_options(ctx: Ctx, a: Answers) -> list[Option]:
    # typed in either language: an English reader may type 市本级, as the button shows it
    typed = ("opt.city_level", "opt.city_level_typed")
    also = tuple(translate(loc, key) for loc in ctx.config.locale.available for key in typed)
    own = Option(a["city"], ctx.t("opt.city_level"), also)
    children = _cached(
        ctx,
        "children:" + a["city"],
        lambda: [Option(u.code, u.name) for u in child_units(ctx.session, a["city"])],
    )
    return [own, *children]


def _kind_options(group: str) -> Callable[[Ctx, Answers], list[Option]]:
    def options(ctx: Ctx, _a: Answers) -> list[Option]:
        return _units(ctx, *UNIT_GROUPS[group])

    return options


def units(ctx: Ctx, refresh: bool = False) -> dict[str, UnitInfo]:
    """Every unit by code, loaded once per process (units are only added at start, by the
    unit directory): summaries and submit steps name and place a unit without a query."""
    if refresh or "units" not in ctx.cache:
        directory = unit_directory(ctx.session)
        ctx.cache["units"] = {u.code: u for u in directory}
        ctx.cache["units_by_id"] = {u.id: u for u in directory}
        ctx.cache["unit_names"] = {u.code: u.full_name for u in directory}
    found: dict[str, UnitInfo] = ctx.cache["units"]
    return found


def unit_info(ctx: Ctx, code: str) -> UnitInfo | None:
    """The unit with this code; a code not seen yet reloads the directory once (a unit added
    by another process since this one loaded it)."""
    found = units(ctx).get(code)
    return found if found is not None else units(ctx, refresh=True).get(code)


def unit_info_by_id(ctx: Ctx, unit_id: int) -> UnitInfo | None:
    found: UnitInfo | None = ctx.cache["units_by_id"].get(unit_id) if "units" in ctx.cache else None
    if found is None:
        units(ctx, refresh=True)
        found = ctx.cache["units_by_id"].get(unit_id)
    return found


def unit_names(ctx: Ctx) -> dict[str, str]:
    """Every unit's full name ('赣州市 瑞金市') by code (see units)."""
    units(ctx)
    names: dict[str, str] = ctx.cache["unit_names"]
    return names


def show_unit(value: Any, ctx: Ctx) -> str:
    return unit_names(ctx).get(str(value), str(value))


def _picking(group: str) -> Callable[[Answers, Ctx], bool]:
    return lambda a, _ctx: "preset_unit" not in a and a.get("unit_group") == group


def unit_fields() -> tuple[Field, ...]:
    """The unit is stored as `unit` (a unit code); a recommendation link presets it."""
    return (
        Field(
            "unit_group",
            "ask.unit_group",
            "label.unit_group",
            options=_group_options,
            when=lambda a, _c: "preset_unit" not in a,
        ),
        Field(
            "city",
            "ask.city",
            "label.city",
            options=_city_options,
            when=_picking("city"),
            show=show_unit,
            resets=("unit_county",),
        ),
        Field(
            "unit_county",
            "ask.county",
            "label.unit",
            options=_county_options,
            when=lambda a, c: _picking("city")(a, c) and "city" in a,
            show=show_unit,
        ),
        Field(
            "unit_university",
            "ask.university",
            "label.unit",
            options=_kind_options("university"),
            when=_picking("university"),
            show=show_unit,
        ),
        Field(
            "unit_provincial",
            "ask.provincial",
            "label.unit",
            options=_kind_options("provincial"),
            when=_picking("provincial"),
            show=show_unit,
        ),
    )


def chosen_unit(answers: Answers) -> str:
    for key in ("preset_unit", "unit_county", "unit_university", "unit_provincial"):
        if answers.get(key):
            return str(answers[key])
    raise KeyError("unit")


def unit_answers(ctx: Ctx, unit_id: int, preset: bool) -> Answers:
    """The picker's answers that lead to the unit (to edit a stored registration)."""
    unit = unit_info_by_id(ctx, unit_id)
    if unit is None:
        return {}
    if preset:
        return {"preset_unit": unit.code, "preset_org": True}
    if unit.kind in ("city", "county"):
        return {
            "unit_group": "city",
            "city": unit.parent_code or unit.code,
            "unit_county": unit.code,
        }
    if unit.kind == "provincial_unit":
        return {"unit_group": "provincial", "unit_provincial": unit.code}
    return {"unit_group": "university", "unit_university": unit.code}
