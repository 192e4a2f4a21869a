"""Unit tests of the form engine (bot/core/engine.py) with a small synthetic form.

The festival's own forms are tested in their files; here one made-up form exercises each
engine feature on its own: one field at a time, buttons, 返回, 跳过, 取消 into a draft, /help
and back, the editable summary, stale buttons, the version check, a restart at any step, and
input that is no answer. The form is registered in a Routes of its own and driven through the
real Core and database (SQLite, or PostgreSQL when TEST_DATABASE_URL is set); the production
routing table is not involved.

Prompts and labels are keys that no catalog has ("synth.ask.name"): translate() shows a missing
key as itself, so those texts are the engine's choice of key, not a catalog's wording. Catalog
texts (errors, button labels) are compared through translate() for the same reason.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, select

from bot.config import FestivalConfig
from bot.core.clock import FixedClock
from bot.core.context import Ctx
from bot.core.dispatcher import Core
from bot.core.forms import Answers, Field, FieldError, Form, Option
from bot.core.i18n import translate
from bot.core.messages import Incoming, Reply
from bot.core.parsers import parse_count, parse_text
from bot.core.routing import Routes
from models import AuditEntry, DialogState, Identity, repo

CHANNEL = "console"


def T(key: str, **params: object) -> str:
    return translate("zh_CN", key, **params)


# ----- the synthetic form -----------------------------------------------------------------
COLORS = (Option("red", "红色"), Option("green", "绿色"), Option("blue", "蓝色"))
TAKEN = "占用"  # a name on_confirm refuses, as a registration refuses a taken account


def _text(raw: str, _ctx: Ctx, _a: Answers) -> str:
    return parse_text(raw, max_len=20)


def _quantity(raw: str, _ctx: Ctx, _a: Answers) -> int:
    return parse_count(raw, min_value=1, max_value=99)


def _proof_optional(ctx: Ctx) -> bool:
    # the config decides, as it does for the daily report's screenshot
    return ctx.config.reports.evidence != "all"


def _store(ctx: Ctx, answers: Answers) -> list[Reply]:
    if answers["name"] == TAKEN:
        raise FieldError("name", "err.invalid_value")
    repo.audit(ctx.session, ctx.clock.now(), ctx.person_id, "synth", "synth", None, after=answers)
    return [Reply("synth.stored")]


FORM = Form(
    "synth",
    "synth.title",
    (
        Field("name", "synth.ask.name", "synth.label.name", parse=_text),
        Field("color", "synth.ask.color", "synth.label.color", options=lambda _c, _a: [*COLORS]),
        Field("nickname", "synth.ask.nickname", "synth.label.nickname", parse=_text, optional=True),
        Field(
            "proof", "synth.ask.proof", "synth.label.proof", parse=_text, optional=_proof_optional
        ),
        Field(
            "quantity",
            "synth.ask.quantity",
            "synth.label.quantity",
            parse=_quantity,
            show=lambda v, _c: f"{v} 件",
        ),
    ),
    on_confirm=_store,
)
FIELDS = [f.name for f in FORM.fields]
POSITIONS = [*FIELDS, "summary"]
PRESET = {"color": "blue"}  # a form started pre-filled (as a unit's recommendation link does)
# An answer set stored earlier, opened by /edit straight at its summary as /me opens a
# registration; "nickname" is missing, as a field added to the form since would be.
STORED = {"name": "老王", "color": "red", "proof": None, "quantity": 7}


def _edit(ctx: Ctx) -> list[Reply]:
    return ctx.forms.start(ctx, FORM, dict(STORED), editing=1)


def _cancel(ctx: Ctx) -> list[Reply]:
    return [Reply("synth.left" if ctx.extra.get("left_flow") else "synth.nothing")]


ROUTES = Routes(
    commands={
        "synth": lambda ctx: ctx.forms.start(ctx, FORM),
        "preset": lambda ctx: ctx.forms.start(ctx, FORM, dict(PRESET)),
        "edit": _edit,
        "help": lambda ctx: [Reply("synth.help")],
        "cancel": _cancel,
    },
    flows={},
    forms={FORM.name: FORM},
    fallback=lambda ctx: [Reply("synth.fallback")],
    interrupting=frozenset({"help"}),
)

# How each field is answered in the scripts below, what is stored, and how the summary shows it.
INPUT = {
    "name": ("say", "小明"),
    "color": ("press", "绿色"),
    "nickname": ("say", "阿明"),
    "proof": ("say", "截图已发"),
    "quantity": ("say", "3"),
}
ANSWERS: dict[str, Any] = {
    "name": "小明",
    "color": "green",
    "nickname": "阿明",
    "proof": "截图已发",
    "quantity": 3,
}
SHOWN = {
    "name": "小明",
    "color": "绿色",
    "nickname": "阿明",
    "proof": "截图已发",
    "quantity": "3 件",
}
OPTIONAL = {"nickname", "proof"}  # with the shipped config (no proof required)


# ----- driving the core -------------------------------------------------------------------
class User:
    """One person typing and pressing buttons, through Core.process_sync like a channel."""

    def __init__(self, core: Core, uid: str = "u") -> None:
        self.core = core
        self.uid = uid
        self.last: list[Reply] = []

    def send(self, inc: Incoming) -> list[str]:
        self.last = self.core.process_sync(inc)
        return [r.text for r in self.last]

    def say(self, text: str) -> list[str]:
        return self.send(Incoming.from_text(CHANNEL, self.uid, text))

    def press(self, label: str) -> list[str]:
        return self.press_data(self.data_of(label))

    def press_data(self, data: str) -> list[str]:
        return self.send(Incoming(CHANNEL, self.uid, self.uid, button=data))

    def sticker(self) -> list[str]:
        return self.send(Incoming(CHANNEL, self.uid, self.uid, unsupported="sticker"))

    def photo(self) -> list[str]:
        return self.send(Incoming(CHANNEL, self.uid, self.uid, photo="console:p1"))

    def data_of(self, label: str) -> str:
        found = [b.data for r in self.last for b in r.flat_buttons() if b.label == label]
        assert len(found) == 1, f"{label!r} not among {self.labels()}"
        return found[0]

    def labels(self) -> list[str]:
        return [b.label for r in self.last for b in r.flat_buttons()]

    def shown(self) -> tuple[str, list[str]]:
        """The last message's text and button labels: the question the person now sees."""
        reply = self.last[-1]
        return reply.text, [b.label for b in reply.flat_buttons()]

    def stored(self) -> tuple[str | None, dict[str, Any], int]:
        """The conversation state as the database has it (flow, data, version)."""
        with self.core.sessions() as s:
            row = s.execute(
                select(DialogState.flow, DialogState.data, DialogState.version)
                .join(Identity, Identity.id == DialogState.identity_id)
                .where(Identity.channel == CHANNEL, Identity.user_id == self.uid)
            ).one()
        return row.flow, row.data, row.version

    def form(self) -> dict[str, Any]:
        flow, data, _ = self.stored()
        assert flow == FORM.name
        form: dict[str, Any] = data["form"]
        return form

    def answers(self) -> dict[str, Any]:
        return dict(self.form()["answers"])

    def version(self) -> int:
        return self.stored()[2]


def answer(u: User, field: str) -> list[str]:
    kind, value = INPUT[field]
    return u.say(value) if kind == "say" else u.press(value)


def fill(u: User, position: str) -> None:
    """Start the form and answer every field before `position`."""
    u.say("/synth")
    for field in FIELDS[: POSITIONS.index(position)]:
        answer(u, field)


def ask(
    field: str, *, back: bool = True, current: str | None = None, skip: bool | None = None
) -> tuple[str, list[str]]:
    """The question of `field` as the engine should show it: text and button labels."""
    text = f"synth.ask.{field}"
    if current is not None:
        text += "\n" + T("form.current", value=current)
    labels = [o.label for o in COLORS] if field == "color" else []
    if back:
        labels.append(T("btn.back"))
    if field in OPTIONAL if skip is None else skip:
        labels.append(T("btn.skip"))
    if current is not None:
        labels.append(T("btn.keep"))
    labels.append(T("btn.cancel"))
    return text, labels


def summary(shown: dict[str, str]) -> tuple[str, list[str]]:
    lines = ["synth.title", ""]
    lines += [f"synth.label.{n}: {shown.get(n, T('form.empty_value'))}" for n in FIELDS]
    lines += ["", T("form.summary_hint")]
    labels = [T("btn.confirm"), T("btn.cancel")]
    labels += [T("btn.edit_field", label=f"synth.label.{n}") for n in FIELDS]
    return "\n".join(lines), labels


def edit_label(field: str) -> str:
    return T("btn.edit_field", label=f"synth.label.{field}")


def shown_at(position: str) -> tuple[str, list[str]]:
    """What `fill(u, position)` leaves on the screen."""
    if position == "summary":
        return summary(SHOWN)
    return ask(position, back=position != "name")


def answered_before(position: str) -> dict[str, Any]:
    return {f: ANSWERS[f] for f in FIELDS[: POSITIONS.index(position)]}


def stored_answers(core: Core) -> list[dict[str, Any] | None]:
    """What on_confirm stored: one entry per confirmed form."""
    with core.sessions() as s:
        return list(
            s.scalars(
                select(AuditEntry.after).where(AuditEntry.action == "synth").order_by(AuditEntry.id)
            )
        )


@pytest.fixture
def new_core(
    db: Engine, config: FestivalConfig, clock: FixedClock
) -> Iterator[Callable[..., Core]]:
    """Makes Cores over the one test database: a new one is a restarted (or second) process."""
    made: list[Core] = []

    def make(cfg: FestivalConfig | None = None) -> Core:
        core = Core(cfg or config, db, clock, ROUTES)
        made.append(core)
        return core

    yield make
    for core in made:
        core.executor.shutdown()


@pytest.fixture
def u(new_core: Callable[..., Core]) -> User:
    return User(new_core())


@pytest.fixture
def strict(config: FestivalConfig) -> FestivalConfig:
    """The config with the proof required: the conditionally optional field is required."""
    reports = config.reports.model_copy(update={"evidence": "all"})
    return config.model_copy(update={"reports": reports})


# ----- the happy path ---------------------------------------------------------------------
def test_happy_path_asks_one_field_at_a_time_and_stores_exactly_the_answers(u: User) -> None:
    assert u.say("/synth") == ["synth.ask.name"]
    assert u.shown() == ask("name", back=False)
    assert u.form() == {
        "editing": None,
        "answers": {},
        "cursor": ["name"],
        "stack": [],
        "mode": "ask",
    }

    assert u.say("  小明 ") == ["synth.ask.color"]  # the parser's normal form is stored
    assert u.shown() == ask("color")
    assert u.last[-1].numbered  # choices: a bare number picks one
    assert (u.answers(), u.form()["cursor"]) == ({"name": "小明"}, ["color"])

    assert u.press("绿色") == ["synth.ask.nickname"]
    assert u.shown() == ask("nickname")
    assert u.answers() == {"name": "小明", "color": "green"}  # the option's value, not label

    assert u.say("阿明") == ["synth.ask.proof"]
    assert u.shown() == ask("proof")
    assert u.say("截图已发") == ["synth.ask.quantity"]
    assert u.shown() == ask("quantity")
    assert u.say("3") == [summary(SHOWN)[0]]
    assert u.shown() == summary(SHOWN)
    assert u.form()["mode"] == "summary"
    assert u.answers() == ANSWERS
    assert stored_answers(u.core) == []  # nothing is stored before 确认

    assert u.press(T("btn.confirm")) == ["synth.stored"]
    assert stored_answers(u.core) == [ANSWERS]
    flow, data, _ = u.stored()
    assert flow is None
    assert "form" not in data and "drafts" not in data
    assert u.say("/synth") == ["synth.ask.name"]  # a new form, no draft offered
    assert u.form()["answers"] == {}


def test_typed_labels_and_numbers_answer_a_choice_skip_and_confirm(u: User) -> None:
    fill(u, "color")
    assert u.say("蓝色") == ["synth.ask.nickname"]  # the label typed (console, WeChat)
    assert u.say(T("btn.skip")) == ["synth.ask.proof"]  # 跳过 typed: its button is shown
    assert u.say(T("btn.back")) == ["synth.ask.nickname"]
    assert u.say(T("btn.skip")) == ["synth.ask.proof"]
    assert u.say(T("btn.skip")) == ["synth.ask.quantity"]
    shown = {"name": "小明", "color": "蓝色", "quantity": "12 件"}  # skipped ones: （未填）
    assert u.say("十二") == [summary(shown)[0]]
    assert u.shown() == summary(shown)
    expected = {"name": "小明", "color": "blue", "nickname": None, "proof": None, "quantity": 12}
    assert u.answers() == expected
    assert u.say("1") == ["synth.stored"]  # the first numbered button: 确认提交
    assert stored_answers(u.core) == [expected]


def test_a_color_picked_by_its_number(u: User) -> None:
    fill(u, "color")
    assert u.say("2") == ["synth.ask.nickname"]
    assert u.answers()["color"] == "green"


def test_emoji_in_a_text_answer_are_stored_exactly(u: User) -> None:
    fill(u, "name")
    u.say("小明🍎🇨🇳")
    assert u.answers() == {"name": "小明🍎🇨🇳"}
    for field in FIELDS[1:]:
        answer(u, field)
    u.press(T("btn.confirm"))
    assert stored_answers(u.core) == [{**ANSWERS, "name": "小明🍎🇨🇳"}]


# ----- invalid input ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("field", "typed", "error"),
    [
        ("name", "长" * 21, T("err.too_long", max=20)),
        ("name", "", T("err.empty")),
        ("name", "   ", T("err.empty")),
        ("name", "\u200b\u200b", T("err.bad_text")),
        ("color", "紫色", T("err.use_buttons")),
        ("color", "9", T("err.use_buttons")),  # no ninth button
        ("nickname", "长" * 21, T("err.too_long", max=20)),
        ("proof", "", T("err.empty")),
        ("quantity", "很多", T("err.not_a_number")),
        ("quantity", "0", T("err.too_small", min=1)),
        ("quantity", "100", T("err.too_large", max=99)),
        ("quantity", "1.5", T("err.not_integer")),
        ("quantity", "-3", T("err.negative")),
    ],
)
def test_invalid_input_reasks_the_same_field_with_what_is_expected(
    u: User, field: str, typed: str, error: str
) -> None:
    fill(u, field)
    before = u.form()
    assert u.say(typed) == [error, shown_at(field)[0]]
    assert u.shown() == shown_at(field)
    assert u.form() == before  # the same field, nothing stored, nothing moved
    # and the next good answer goes where it belongs
    for rest in FIELDS[FIELDS.index(field) :]:
        answer(u, rest)
    u.press(T("btn.confirm"))
    assert stored_answers(u.core) == [ANSWERS]


def test_invalid_input_when_editing_stays_in_the_edit(u: User) -> None:
    fill(u, "summary")
    u.press(edit_label("quantity"))
    assert u.say("很多") == [
        T("err.not_a_number"),
        f"synth.ask.quantity\n{T('form.current', value='3 件')}",
    ]
    assert u.form()["mode"] == "edit"
    assert u.say("5") == [summary({**SHOWN, "quantity": "5 件"})[0]]
    assert u.answers() == {**ANSWERS, "quantity": 5}


# ----- 返回 -------------------------------------------------------------------------------
@pytest.mark.parametrize("position", FIELDS[1:])
def test_back_from_each_field_shows_the_previous_one_with_its_answer(
    u: User, position: str
) -> None:
    fill(u, position)
    before = u.answers()
    previous = FIELDS[FIELDS.index(position) - 1]
    assert u.press(T("btn.back")) == [ask(previous, current=SHOWN[previous])[0]]
    # the first field has nothing before it: no 返回 there
    assert u.shown() == ask(previous, back=previous != "name", current=SHOWN[previous])
    assert u.answers() == before  # going back forgets nothing
    assert u.form()["cursor"] == [previous]
    # 保持不变 moves on unchanged; answering again from there completes the form as before
    assert u.press(T("btn.keep")) == [shown_at(position)[0]]
    assert u.answers() == before
    for rest in FIELDS[FIELDS.index(position) :]:
        answer(u, rest)
    u.press(T("btn.confirm"))
    assert stored_answers(u.core) == [ANSWERS]


def test_back_twice_and_change_an_earlier_answer(u: User) -> None:
    fill(u, "proof")
    u.press(T("btn.back"))  # nickname
    u.press(T("btn.back"))  # color
    assert u.shown() == ask("color", current="绿色")
    assert u.press("红色") == [ask("nickname", current="阿明")[0]]  # the next field, as before
    assert u.answers() == {**answered_before("proof"), "color": "red"}
    u.press(T("btn.keep"))
    for rest in FIELDS[FIELDS.index("proof") :]:
        answer(u, rest)
    u.press(T("btn.confirm"))
    assert stored_answers(u.core) == [{**ANSWERS, "color": "red"}]


@pytest.mark.parametrize("how", ["typed", "unversioned button"])
def test_back_at_the_first_field_says_so_and_stores_nothing(u: User, how: str) -> None:
    u.say("/synth")
    if how == "typed":  # no 返回 button on the first field: the word is typed
        replies = u.say(T("btn.back"))
    else:
        replies = u.press_data("*:nav:back")
    assert replies == [T("form.at_start"), "synth.ask.name"]
    assert u.shown() == ask("name", back=False)
    assert u.form()["answers"] == {}  # 返回 is not a name
    assert u.form()["cursor"] == ["name"]


def test_back_from_the_first_field_after_going_back_to_it(u: User) -> None:
    fill(u, "color")
    u.press(T("btn.back"))
    assert u.say(T("btn.back")) == [T("form.at_start"), ask("name", current="小明")[0]]
    assert u.answers() == {"name": "小明"}


def test_back_while_editing_returns_to_the_summary_unchanged(u: User) -> None:
    fill(u, "summary")
    u.press(edit_label("color"))
    assert u.shown() == ask("color", current="绿色")
    assert u.press(T("btn.back")) == [summary(SHOWN)[0]]
    assert u.answers() == ANSWERS
    assert u.form()["mode"] == "summary"


def test_the_summary_has_no_back_button_and_typed_back_changes_nothing(u: User) -> None:
    """The summary offers 改… for every field instead of 返回."""
    fill(u, "summary")
    assert T("btn.back") not in u.labels()
    before = u.form()
    assert u.say(T("btn.back")) == [T("err.use_buttons"), summary(SHOWN)[0]]
    assert u.form() == before


# ----- 跳过 -------------------------------------------------------------------------------
@pytest.mark.parametrize("field", sorted(OPTIONAL))
def test_skip_an_optional_field_stores_none(u: User, field: str) -> None:
    fill(u, field)
    assert T("btn.skip") in u.labels()
    u.press(T("btn.skip"))
    assert u.answers() == {**answered_before(field), field: None}
    for rest in FIELDS[FIELDS.index(field) + 1 :]:
        answer(u, rest)
    assert u.shown() == summary({k: v for k, v in SHOWN.items() if k != field})
    u.press(T("btn.confirm"))
    assert stored_answers(u.core) == [{**ANSWERS, field: None}]


@pytest.mark.parametrize("field", ["name", "color", "quantity"])
@pytest.mark.parametrize("how", ["typed", "unversioned button"])
def test_skip_on_a_required_field_is_refused(u: User, field: str, how: str) -> None:
    fill(u, field)
    assert T("btn.skip") not in u.labels()
    before = u.form()
    if how == "typed":
        replies = u.say(T("btn.skip"))
    else:
        replies = u.press_data("*:nav:skip")
    assert replies == [T("err.cannot_skip"), shown_at(field)[0]]
    assert u.form() == before  # "跳过" is not stored as the answer, the field is still asked


def test_the_config_decides_whether_the_proof_may_be_skipped(
    new_core: Callable[..., Core], strict: FestivalConfig
) -> None:
    u = User(new_core(strict))
    fill(u, "proof")
    assert u.shown() == ask("proof", skip=False)
    assert u.say(T("btn.skip")) == [T("err.cannot_skip"), "synth.ask.proof"]
    assert "proof" not in u.answers()
    assert u.say("截图已发") == ["synth.ask.quantity"]

    lenient = User(new_core(), "v")
    fill(lenient, "proof")
    assert lenient.shown() == ask("proof", skip=True)
    assert lenient.press(T("btn.skip")) == ["synth.ask.quantity"]
    assert lenient.answers()["proof"] is None


def test_a_skip_button_shown_before_the_proof_became_required_is_refused(
    u: User, new_core: Callable[..., Core], strict: FestivalConfig
) -> None:
    """The field's optionality is decided when the answer comes, not when it was asked."""
    fill(u, "proof")
    skip = u.data_of(T("btn.skip"))
    u.core = new_core(strict)  # restarted with a config that requires the proof
    assert u.press_data(skip) == [T("err.cannot_skip"), "synth.ask.proof"]
    assert "proof" not in u.answers()


# ----- 取消 and the draft -----------------------------------------------------------------
@pytest.mark.parametrize("position", POSITIONS)
@pytest.mark.parametrize("how", ["button", "typed", "/cancel"])
def test_cancel_at_any_point_leaves_the_form_and_keeps_a_draft(
    u: User, position: str, how: str
) -> None:
    fill(u, position)
    question_button = u.last[-1].flat_buttons()[0].data
    if how == "button":
        assert u.press(T("btn.cancel")) == [T("form.cancelled")]
    elif how == "typed":
        assert u.say(T("btn.cancel")) == [T("form.cancelled")]
    else:
        assert u.say("/cancel") == ["synth.left"]
    flow, data, _ = u.stored()
    assert flow is None
    assert "form" not in data  # the form in progress is gone
    done = answered_before(position)
    # what was answered is kept as a draft (README: "cancels into a draft"), nothing stored
    assert data.get("drafts", {}) == ({"synth": done} if done else {})
    assert stored_answers(u.core) == []
    # a button of the cancelled form is stale: it answers nothing, the draft stays as it was
    assert u.press_data(question_button) == [T("err.stale_button")]
    assert u.stored()[0] is None
    assert u.stored()[1].get("drafts", {}) == data.get("drafts", {})


@pytest.mark.parametrize("position", POSITIONS[1:])
def test_a_draft_resumes_at_the_first_unanswered_field(u: User, position: str) -> None:
    fill(u, position)
    u.press(T("btn.cancel"))
    assert u.say("/synth") == [T("form.draft_found", title="synth.title")]
    assert u.labels() == [T("btn.resume"), T("btn.restart")]
    assert u.press(T("btn.resume")) == [shown_at(position)[0]]
    assert u.answers() == answered_before(position)
    for rest in FIELDS[POSITIONS.index(position) :]:
        answer(u, rest)
    assert u.press(T("btn.confirm")) == ["synth.stored"]
    assert stored_answers(u.core) == [ANSWERS]
    assert "drafts" not in u.stored()[1]  # confirming drops the draft


def test_restart_drops_the_draft(u: User) -> None:
    fill(u, "nickname")
    u.press(T("btn.cancel"))
    u.say("/synth")
    assert u.press(T("btn.restart")) == ["synth.ask.name"]
    assert u.shown() == ask("name", back=False)  # no 当前 value: the draft is gone
    assert u.answers() == {}
    assert not u.stored()[1].get("drafts")


def test_cancel_at_the_draft_question_keeps_the_draft(u: User) -> None:
    fill(u, "nickname")
    u.press(T("btn.cancel"))
    u.say("/synth")
    assert u.say("/cancel") == ["synth.left"]
    assert u.stored()[1]["drafts"] == {"synth": answered_before("nickname")}
    assert u.say("whatever") == ["synth.fallback"]


def test_the_draft_question_wants_a_button(u: User) -> None:
    fill(u, "nickname")
    u.press(T("btn.cancel"))
    u.say("/synth")
    assert u.say("小红") == [T("err.use_buttons"), T("form.draft_found", title="synth.title")]
    assert u.sticker() == [T("err.use_buttons"), T("form.draft_found", title="synth.title")]
    assert u.press(T("btn.resume")) == ["synth.ask.nickname"]


def test_a_preset_survives_the_draft_question_being_asked_again(u: User) -> None:
    """A form started pre-filled over an older draft keeps the preset after /help."""
    fill(u, "color")
    u.press(T("btn.cancel"))  # draft: the name
    assert u.say("/preset") == [T("form.draft_found", title="synth.title")]
    assert u.say("/help") == ["synth.help", T("form.draft_found", title="synth.title")]
    # the preset answered the color: resuming asks the nickname
    assert u.press(T("btn.resume")) == ["synth.ask.nickname"]
    assert u.answers() == {"name": "小明", "color": "blue"}


def test_a_preset_survives_restarting_after_the_draft_question_is_asked_again(u: User) -> None:
    fill(u, "color")
    u.press(T("btn.cancel"))
    u.say("/preset")
    u.sticker()  # "use the buttons", and the question again
    assert u.press(T("btn.restart")) == ["synth.ask.name"]
    assert u.answers() == PRESET


def test_a_command_leaves_the_form_into_a_draft(u: User) -> None:
    fill(u, "proof")
    assert u.say("/synth") == [T("form.draft_found", title="synth.title")]
    assert u.stored()[1]["drafts"] == {"synth": answered_before("proof")}


# ----- /help in the middle ----------------------------------------------------------------
@pytest.mark.parametrize("position", [*POSITIONS, "edit", "draft"])
def test_help_mid_form_then_the_same_question_again(u: User, position: str) -> None:
    if position == "edit":
        fill(u, "summary")
        u.press(edit_label("nickname"))
    elif position == "draft":
        fill(u, "proof")
        u.press(T("btn.cancel"))
        u.say("/synth")
    else:
        fill(u, position)
    question = u.shown()
    before = u.stored()
    replies = u.say("/help")
    assert replies == ["synth.help", question[0]]
    assert u.shown() == question
    after = u.stored()
    assert (after[0], after[1].get("form"), after[1].get("drafts")) == (
        before[0],
        before[1].get("form"),
        before[1].get("drafts"),
    )
    assert after[2] == before[2] + 1
    # the question shown again takes its answer as if /help had not been asked
    if position == "edit":
        assert u.say("阿明二") == [summary({**SHOWN, "nickname": "阿明二"})[0]]
        expected = {**ANSWERS, "nickname": "阿明二"}
    else:
        if position == "draft":
            u.press(T("btn.resume"))
            position = "proof"
        for rest in FIELDS[POSITIONS.index(position) :]:
            answer(u, rest)
        expected = ANSWERS
    assert u.press(T("btn.confirm")) == ["synth.stored"]
    assert stored_answers(u.core) == [expected]


def test_unknown_command_mid_form_reasks(u: User) -> None:
    fill(u, "quantity")
    before = u.form()
    assert u.say("/nosuch") == [T("err.unknown_command", command="nosuch"), "synth.ask.quantity"]
    assert u.form() == before


# ----- the summary: edit any field --------------------------------------------------------
EDITS = {
    # field: (how, new input, stored value, shown value)
    "name": ("say", "小红", "小红", "小红"),
    "color": ("press", "红色", "red", "红色"),
    "nickname": ("press", T("btn.skip"), None, T("form.empty_value")),
    "proof": ("say", "补发截图", "补发截图", "补发截图"),
    "quantity": ("say", "二十", 20, "20 件"),
}


@pytest.mark.parametrize("field", FIELDS)
def test_edit_any_field_from_the_summary_and_return_to_it(u: User, field: str) -> None:
    fill(u, "summary")
    assert u.labels() == summary(SHOWN)[1]
    assert u.press(edit_label(field)) == [ask(field, current=SHOWN[field])[0]]
    assert u.shown() == ask(field, current=SHOWN[field])
    assert u.form()["mode"] == "edit"
    how, typed, value, shown = EDITS[field]
    replies = u.say(typed) if how == "say" else u.press(typed)
    new_shown = {**SHOWN, field: shown}
    assert replies == [summary(new_shown)[0]]  # straight back: no other field asked again
    assert u.shown() == summary(new_shown)
    assert u.answers() == {**ANSWERS, field: value}
    assert u.press(T("btn.confirm")) == ["synth.stored"]
    assert stored_answers(u.core) == [{**ANSWERS, field: value}]


@pytest.mark.parametrize("field", FIELDS)
def test_keep_while_editing_returns_to_the_summary_unchanged(u: User, field: str) -> None:
    fill(u, "summary")
    u.press(edit_label(field))
    assert u.press(T("btn.keep")) == [summary(SHOWN)[0]]
    assert u.answers() == ANSWERS


def test_edit_several_fields_one_after_another(u: User) -> None:
    fill(u, "summary")
    u.press(edit_label("name"))
    u.say("小红")
    u.press(edit_label("quantity"))
    u.say("8")
    u.press(edit_label("name"))
    assert u.shown() == ask("name", current="小红")
    u.say("小兰")
    assert u.shown() == summary({**SHOWN, "name": "小兰", "quantity": "8 件"})
    u.press(T("btn.confirm"))
    assert stored_answers(u.core) == [{**ANSWERS, "name": "小兰", "quantity": 8}]


def test_a_refusal_at_confirm_asks_that_field_again_then_the_summary(u: User) -> None:
    u.say("/synth")
    u.say(TAKEN)
    for rest in FIELDS[1:]:
        answer(u, rest)
    assert u.press(T("btn.confirm")) == [
        T("err.invalid_value"),
        f"synth.ask.name\n{T('form.current', value=TAKEN)}",
    ]
    assert stored_answers(u.core) == []
    assert u.say("小明") == [summary(SHOWN)[0]]
    assert u.press(T("btn.confirm")) == ["synth.stored"]
    assert stored_answers(u.core) == [ANSWERS]


def test_the_summary_wants_a_button(u: User) -> None:
    fill(u, "summary")
    before = u.form()
    assert u.say("好的") == [T("err.use_buttons"), summary(SHOWN)[0]]
    assert u.form() == before
    assert u.press_data("*:s:e:nosuch") == [T("err.use_buttons"), summary(SHOWN)[0]]
    assert u.form() == before


# ----- a stored answer set opened for editing (as /me does) -------------------------------
def test_editing_opens_at_the_summary_and_every_field_is_editable(u: User) -> None:
    stored = {"name": "老王", "color": "红色", "proof": T("form.empty_value"), "quantity": "7 件"}
    assert u.say("/edit") == [summary(stored)[0]]
    assert u.labels() == summary(stored)[1]
    # the field the stored answers lack is shown unfilled and can be filled from its button
    assert u.press(edit_label("nickname")) == ["synth.ask.nickname"]
    assert u.say("王哥") == [summary({**stored, "nickname": "王哥"})[0]]
    u.press(T("btn.confirm"))
    assert stored_answers(u.core) == [{**STORED, "nickname": "王哥"}]


def test_confirming_an_edit_with_a_missing_field_asks_it(u: User) -> None:
    u.say("/edit")
    assert u.press(T("btn.confirm")) == [T("err.missing_field"), "synth.ask.nickname"]
    assert stored_answers(u.core) == []
    u.say("王哥")
    assert u.press(T("btn.confirm")) == ["synth.stored"]
    assert stored_answers(u.core) == [{**STORED, "nickname": "王哥"}]


def test_cancelling_an_edit_keeps_no_draft(u: User) -> None:
    u.say("/edit")
    u.press(edit_label("name"))
    u.say("老李")
    assert u.press(T("btn.cancel")) == [T("form.cancelled")]
    flow, data, _ = u.stored()
    assert (flow, data.get("drafts")) == (None, None)
    assert stored_answers(u.core) == []


def test_back_on_an_edit_summary_opened_directly_changes_nothing(u: User) -> None:
    """Nothing was asked before a summary opened for editing: 返回 has nowhere to go."""
    u.say("/edit")
    before = u.form()
    stored = {"name": "老王", "color": "红色", "proof": T("form.empty_value"), "quantity": "7 件"}
    assert u.press_data("*:nav:back") == [T("form.at_start"), summary(stored)[0]]
    assert u.form() == before


# ----- stale buttons ----------------------------------------------------------------------
def test_a_button_of_an_older_step_does_not_answer_the_current_field(u: User) -> None:
    fill(u, "color")
    red = u.data_of("红色")
    u.press("绿色")  # now at the nickname
    before = u.form()
    assert u.press_data(red) == [T("err.stale_button"), "synth.ask.nickname"]
    assert u.form() == before
    assert u.answers() == {"name": "小明", "color": "green"}


def test_an_old_choice_pressed_while_editing_that_field_is_stale(u: User) -> None:
    fill(u, "color")
    red = u.data_of("红色")
    u.press("绿色")
    for rest in FIELDS[2:]:
        answer(u, rest)
    u.press(edit_label("color"))  # the same field again, with new buttons
    before = u.form()
    assert u.press_data(red) == [T("err.stale_button"), ask("color", current="绿色")[0]]
    assert u.form() == before
    assert u.press("蓝色") == [summary({**SHOWN, "color": "蓝色"})[0]]  # the new ones work


def test_an_old_confirm_or_edit_button_is_stale(u: User) -> None:
    fill(u, "summary")
    confirm = u.data_of(T("btn.confirm"))
    edit_name = u.data_of(edit_label("name"))
    u.press(edit_label("quantity"))
    before = u.form()
    assert u.press_data(confirm) == [T("err.stale_button"), ask("quantity", current="3 件")[0]]
    assert u.press_data(edit_name) == [T("err.stale_button"), ask("quantity", current="3 件")[0]]
    assert u.form() == before
    assert stored_answers(u.core) == []


def test_a_button_of_a_finished_form_is_stale(u: User) -> None:
    fill(u, "summary")
    edit_name = u.data_of(edit_label("name"))
    u.press(T("btn.confirm"))
    assert u.press_data(edit_name) == [T("err.stale_button")]
    assert u.stored()[0] is None
    assert stored_answers(u.core) == [ANSWERS]


def test_an_unversioned_choice_is_no_answer_to_a_text_field(u: User) -> None:
    fill(u, "nickname")
    before = u.form()
    assert u.press_data("*:o:0") == [T("err.stale_choice"), "synth.ask.nickname"]
    assert u.form() == before


def test_a_choice_out_of_range_is_refused(u: User) -> None:
    fill(u, "color")
    before = u.form()
    assert u.press_data("*:o:7") == [T("err.stale_choice"), "synth.ask.color"]
    assert u.form() == before


# ----- double taps and two processes: the version check -----------------------------------
def test_a_double_tap_in_one_process_advances_once(u: User) -> None:
    fill(u, "color")
    green = u.data_of("绿色")
    version = u.version()

    async def double_tap() -> list[list[Reply]]:
        tap = Incoming(CHANNEL, u.uid, u.uid, button=green)
        return await asyncio.gather(u.core.process(tap), u.core.process(tap))

    results = [[r.text for r in replies] for replies in asyncio.run(double_tap())]
    assert sorted(results) == sorted(
        [["synth.ask.nickname"], [T("err.stale_button"), "synth.ask.nickname"]]
    )
    assert u.answers() == {"name": "小明", "color": "green"}
    assert u.form()["cursor"] == ["nickname"]
    assert u.version() == version + 2  # the refusal is a step of its own


def _race(cores: list[Core], inc: Incoming) -> list[list[str]]:
    """The same update handled by two processes at once: both load the same state version and
    handle it before either stores (a barrier holds each after its first routing)."""
    barrier = threading.Barrier(len(cores), timeout=20)
    results: list[list[str]] = [[] for _ in cores]
    errors: list[BaseException] = []

    for core in cores:
        route = core._route
        held = threading.local()

        def route_then_wait(ctx: Ctx, route: Any = route, held: Any = held) -> list[Reply]:
            replies: list[Reply] = route(ctx)
            if not getattr(held, "done", False):  # only the first attempt; retries run freely
                held.done = True
                barrier.wait()
            return replies

        core._route = route_then_wait  # type: ignore[method-assign]

    def run(i: int) -> None:
        try:
            results[i] = [r.text for r in cores[i].process_sync(inc)]
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    # daemon: a thread stuck by a regression fails the test without holding pytest open
    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(cores))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert not any(t.is_alive() for t in threads), "a step did not finish"
    return results


def test_two_processes_with_the_same_version_only_one_advances(
    u: User, new_core: Callable[..., Core]
) -> None:
    fill(u, "color")
    green = u.data_of("绿色")
    version = u.version()
    results = _race([new_core(), new_core()], Incoming(CHANNEL, u.uid, u.uid, button=green))
    assert sorted(results) == sorted(
        [["synth.ask.nickname"], [T("err.stale_button"), "synth.ask.nickname"]]
    )
    assert u.answers() == {"name": "小明", "color": "green"}
    assert u.form()["stack"] == [["name"], ["color"]]  # advanced once, not twice
    assert u.version() == version + 2


def test_two_processes_confirming_at_once_store_once(
    u: User, new_core: Callable[..., Core]
) -> None:
    fill(u, "summary")
    confirm = u.data_of(T("btn.confirm"))
    results = _race([new_core(), new_core()], Incoming(CHANNEL, u.uid, u.uid, button=confirm))
    assert sorted(results) == sorted([["synth.stored"], [T("err.stale_button")]])
    assert stored_answers(u.core) == [ANSWERS]  # the loser's insert was rolled back


def test_two_processes_typing_at_once_both_count_in_order(
    u: User, new_core: Callable[..., Core]
) -> None:
    """Typed text carries no version: the loser is retried on the newer state, so two
    messages sent at once are two answers, never one answer lost or written twice."""
    fill(u, "nickname")
    results = _race([new_core(), new_core()], Incoming.from_text(CHANNEL, u.uid, "阿明"))
    assert sorted(results) == sorted([["synth.ask.proof"], ["synth.ask.quantity"]])
    assert u.answers() == {**answered_before("nickname"), "nickname": "阿明", "proof": "阿明"}


# ----- a restart at every step ------------------------------------------------------------
SCRIPT: list[tuple[str, str]] = [
    ("say", "/synth"),
    ("say", "小明"),
    ("press", "绿色"),
    ("press", T("btn.back")),
    ("say", "长" * 21),  # refused
    ("press", T("btn.keep")),
    ("press", T("btn.skip")),
    ("say", "/help"),
    ("say", "截图已发"),
    ("sticker", ""),
    ("say", "3"),
    ("press", edit_label("name")),
    ("say", "小红"),
    ("press", T("btn.cancel")),  # into a draft
    ("say", "/synth"),
    ("press", T("btn.resume")),  # everything answered: the summary
    ("press", edit_label("color")),
    ("press", "蓝色"),
    ("press", T("btn.confirm")),
]
SCRIPT_STORED = {
    "name": "小红",
    "color": "blue",
    "nickname": None,
    "proof": "截图已发",
    "quantity": 3,
}


def _play(u: User, step: tuple[str, str]) -> list[str]:
    kind, value = step
    if kind == "say":
        return u.say(value)
    if kind == "press":
        return u.press(value)
    return u.sticker()


def test_state_survives_a_restart_at_every_step(new_core: Callable[..., Core]) -> None:
    """One person talks to a single process; another to a new process at every step (a
    restart, the buttons pressed being those the previous process sent). Both see the same
    conversation and store the same answers."""
    steady = User(new_core(), "steady")
    restarted = User(new_core(), "restarted")
    for step in SCRIPT:
        restarted.core = new_core()
        seen = _play(restarted, step)
        assert seen == _play(steady, step), step
        assert [(b.label, b.data) for r in restarted.last for b in r.flat_buttons()] == [
            (b.label, b.data) for r in steady.last for b in r.flat_buttons()
        ]
        assert restarted.stored()[1:] == steady.stored()[1:]
    assert stored_answers(steady.core) == [SCRIPT_STORED, SCRIPT_STORED]


@pytest.mark.parametrize("position", [*POSITIONS, "edit"])
def test_a_restart_asks_the_same_question_again(
    u: User, new_core: Callable[..., Core], position: str
) -> None:
    if position == "edit":
        fill(u, "summary")
        u.press(edit_label("proof"))
    else:
        fill(u, position)
    question = u.shown()
    u.core = new_core()
    assert u.say("/help")[1:] == [question[0]]
    assert u.shown() == question


# ----- input that is no answer ------------------------------------------------------------
# An emoji is a fine answer to a free text field (see the emoji test): it is tried where it
# is no answer, the choice, the number and the summary.
UNSUPPORTED = [
    (kind, position)
    for kind in ("10k chars", "emoji", "empty", "sticker", "photo")
    for position in POSITIONS
    if kind != "emoji" or position in ("color", "quantity", "summary")
]


def _expected_refusal(kind: str, position: str) -> str:
    if kind == "10k chars":
        return T("err.message_too_long", max=2000)
    if position in ("color", "summary"):
        return T("err.use_buttons")  # only the buttons answer
    if kind == "emoji":
        return T("err.not_a_number")  # the only text field refusing 🍎 is the quantity
    if kind == "empty":
        return T("err.empty")
    return T("err.need_text")


@pytest.mark.parametrize(("kind", "position"), UNSUPPORTED)
def test_input_that_is_no_answer_gets_a_clear_reply_and_changes_nothing(
    u: User, kind: str, position: str
) -> None:
    fill(u, position)
    question = u.shown()
    before = u.form()
    if kind == "10k chars":
        replies = u.say("长" * 10_000)
    elif kind == "emoji":
        replies = u.say("🍎")
    elif kind == "empty":
        replies = u.say("")
    elif kind == "sticker":
        replies = u.sticker()
    else:
        replies = u.photo()
    assert replies == [_expected_refusal(kind, position), question[0]]
    assert u.shown() == question
    assert u.form() == before
    assert stored_answers(u.core) == []
