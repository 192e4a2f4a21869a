"""The form engine: asks one field at a time, validates, re-asks with a reason, goes back,
skips, cancels, shows a summary where any field can be edited, and confirms.

Form state (in State.data["form"]):
  answers  the values so far            cursor  [field] or [group, index, subfield]
  stack    cursors visited (for 返回)    mode    ask | edit | item | more | summary | draft

Longer than 300 lines on purpose: it is one state machine over that state, and its
transitions read best side by side.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from bot.core.answers import typed_action
from bot.core.context import Ctx
from bot.core.forms import Answers, Field, FieldError, Form, Option
from bot.core.i18n import fmt_list
from bot.core.messages import Button, Reply
from bot.core.parsers import ParseError, normalize, parse_yes_no

Cursor = list[Any]
_SPLIT = re.compile(r"[,，、;；\s]+")


class FormEngine:
    def __init__(self, forms: dict[str, Form]) -> None:
        self.forms = forms

    # ----- entry points -------------------------------------------------------------------
    def start(
        self, ctx: Ctx, form: Form, answers: Answers | None = None, editing: int | None = None
    ) -> list[Reply]:
        """Begin `form`; with `answers` and `editing` (the id of a stored registration being
        edited) go straight to the summary; `answers` alone pre-fills a new form."""
        draft = ctx.state.data.get("drafts", {}).get(form.name)
        ctx.state.flow = form.name
        ctx.state.data["form"] = {"editing": editing}
        if editing is not None:
            self._set(ctx, answers=dict(answers or {}), cursor=[], stack=[], mode="summary")
            return [self._summary(ctx, form)]
        if draft:
            merged = {**draft, **(answers or {})}
            self._set(ctx, answers=merged, cursor=[], stack=[], mode="draft", preset=answers or {})
            return [
                Reply(
                    ctx.t("form.draft_found", title=self.name_of(ctx, form)),
                    ((ctx.button("btn.resume", "d:resume"), ctx.button("btn.restart", "d:new")),),
                    numbered=True,
                )
            ]
        return self._begin(ctx, form, dict(answers or {}))

    def handle(self, ctx: Ctx, action: str | None) -> list[Reply]:
        """One input inside the active form: a button action, or the incoming text/photo."""
        form = self.forms[ctx.state.flow or ""]
        st = ctx.state.data["form"]
        before = {
            "mode": st["mode"],
            "cursor": list(st["cursor"]),
            "numbered": bool(ctx.state.data.get("_numbered")),
        }
        replies = self._handle(ctx, form, action)
        now = ctx.state.data.get("form")
        if ctx.state.flow == form.name and now is not None:
            if (now["mode"], now["cursor"]) != (before["mode"], before["cursor"]):
                # the question changed: an answer typed before this one was shown answers
                # that one (see early)
                ctx.state.data["_asked_before"] = before
        return replies

    def _handle(self, ctx: Ctx, form: Form, action: str | None) -> list[Reply]:
        st = ctx.state.data["form"]
        if action == "nav:cancel":
            return self.cancel(ctx)
        mode = st["mode"]
        if mode == "draft":
            if action == "d:resume":  # continue at the first question not yet answered
                return self._ask_next(ctx, form, after=None, mode="ask", resume=True)
            if action == "d:new":
                ctx.state.data["drafts"].pop(form.name, None)
                return self._begin(ctx, form, st.get("preset", {}))
            return [ctx.reply("err.use_buttons"), *self.reprompt(ctx)]
        if mode == "summary":
            return self._on_summary(ctx, form, action)
        if mode == "more":
            return self._on_more(ctx, form, action)
        if mode == "confirm":
            return self._on_confirm_value(ctx, form, action)
        return self._on_field(ctx, form, action)

    def name_of(self, ctx: Ctx, form: Form) -> str:
        """What people call the form (主播报名): `form.name.<form>` in the catalog, else its
        summary's title without its brackets (the draft prompt quoted 「【...】」)."""
        key = f"form.name.{form.name}"
        named = ctx.t(key)
        return named if named != key else ctx.t(form.title).strip("【】「」")

    def reprompt(self, ctx: Ctx) -> list[Reply]:
        """The current question again (after /help, a stale button, a restart)."""
        form = self.forms[ctx.state.flow or ""]
        st = ctx.state.data["form"]
        if st["mode"] == "draft":  # asked again with the preset it was first asked with
            return self.start(ctx, form, st.get("preset") or None)
        if st["mode"] == "summary":
            return [self._summary(ctx, form)]
        if st["mode"] == "more":
            return [self._more_prompt(ctx, form)]
        if st["mode"] == "confirm":
            return [self._confirm_prompt(ctx, form)]
        return [self._prompt(ctx, form, st["cursor"])]

    def cancel(self, ctx: Ctx) -> list[Reply]:
        """Leave the form; what was typed is kept as a draft unless it was an edit."""
        st = ctx.state.data.get("form", {})
        name = ctx.state.flow or ""
        if st.get("answers") and not st.get("editing"):
            ctx.state.data.setdefault("drafts", {})[name] = st["answers"]
        ctx.state.clear()
        return [ctx.reply("form.cancelled")]

    # ----- an answer typed before the open question was shown ------------------------------
    def early(self, ctx: Ctx) -> list[Reply]:
        """Typed before the question now open was handed to the platform (a doubled or late
        question, a resend): it answers the question asked before. The same value again
        changes nothing and says nothing; a different valid value corrects that answer and
        says so, naming the field; anything else is not taken, and the person is told why.
        Never an answer to the question they had not seen."""
        form = self.forms[ctx.state.flow or ""]
        st = ctx.state.data["form"]
        prev = ctx.state.data.get("_asked_before")
        cursor = prev["cursor"] if prev else None
        if prev is not None and prev["mode"] == "outside":
            if typed_action(ctx.incoming.text, prev["labels"], prev["numbered"]) is not None:
                ctx.keep_state = True  # the choice that opened the form, typed again
                return []
            return self._not_taken(ctx, None)
        if prev is None or prev["mode"] not in ("ask", "edit", "item") or not cursor:
            return self._not_taken(ctx, None)
        if len(cursor) == 3 and (
            cursor[2] is None or cursor[1] >= len(st["answers"].get(cursor[0]) or [])
        ):
            return self._not_taken(ctx, None)
        field = self._field_at(form, cursor)
        scope = self._scope(st["answers"], cursor)
        action = _typed_option(ctx, field, scope, prev["numbered"]) or _typed_nav(ctx)
        if action == "nav:skip" and field.skippable(ctx):
            value: Any = None
        elif action is not None and action.startswith("nav:"):
            return self._not_taken(ctx, None)  # 返回 or 取消 typed before the question showed
        else:
            try:
                value = self._early_value(ctx, field, action, scope)
            except ParseError:
                return self._not_taken(ctx, field)
        if st["mode"] == "confirm" and st["cursor"] == cursor:
            # the value being confirmed, typed again (a doubled question): a repeat; another
            # one would skip the confirmation, so it is not taken
            if value == st.get("pending", {}).get("value"):
                ctx.keep_state = True
                return []
            return self._not_taken(ctx, field)
        if value == self._get(st["answers"], cursor):
            ctx.keep_state = True  # a repeat: the question open now stays as it was shown
            return []
        for name in field.resets:
            scope.pop(name, None)
        self._put(st["answers"], cursor, value)
        note = ctx.reply(
            "form.corrected", field=ctx.t(field.label), value=self._show(ctx, field, scope)
        )
        note = dataclasses.replace(note, news=True)
        if st["mode"] in ("ask", "edit", "item") and st["cursor"]:
            still = {f.name for f in form.applicable(st["answers"], ctx)}
            if st["cursor"][0] not in still:  # the correction made the open question moot
                return [note, *self._ask_next(ctx, form, after=cursor, mode=st["mode"])]
        return [note, *self.reprompt(ctx)]

    def answered_again(self, ctx: Ctx) -> list[Reply] | None:
        """The first answer after a question that may have been shown twice: if it is that
        question's stored answer again, it answers the copy (noted, nothing changes, the open
        question asked again); None: an answer to the open question as usual."""
        st = ctx.state.data["form"]
        prev = ctx.state.data.get("_asked_before")
        if not prev or prev["mode"] not in ("ask", "edit", "item") or len(prev["cursor"]) != 1:
            return None
        form = self.forms[ctx.state.flow or ""]
        field = self._field_at(form, prev["cursor"])
        action = _typed_option(ctx, field, st["answers"], prev["numbered"]) or _typed_nav(ctx)
        try:
            if action == "nav:skip":
                value: Any = None
            elif action is not None and action.startswith("nav:"):
                return None
            else:
                value = self._early_value(ctx, field, action, st["answers"])
        except ParseError:
            return None
        if value != self._get(st["answers"], prev["cursor"]):
            return None
        ctx.keep_state = True
        shown = self._show(ctx, field, st["answers"])
        return [
            ctx.reply("form.repeat_noted", field=ctx.t(field.label), value=shown),
            *self.reprompt(ctx),
        ]

    def _early_value(self, ctx: Ctx, field: Field, action: str | None, scope: Answers) -> Any:
        if field.multi:
            assert field.options is not None
            return self._typed_choices(field.options(ctx, scope), ctx.incoming.text)
        return self._read(ctx, field, action, scope)

    def _not_taken(self, ctx: Ctx, field: Field | None) -> list[Reply]:
        ctx.keep_state = True
        label = ctx.t(field.label) if field is not None else ""
        key = "form.early_not_taken" if field is not None else "form.early_not_taken_any"
        return [ctx.reply(key, field=label), *self.reprompt(ctx)]

    # ----- field input --------------------------------------------------------------------
    def _on_field(self, ctx: Ctx, form: Form, action: str | None) -> list[Reply]:
        st = ctx.state.data["form"]
        cursor: Cursor = st["cursor"]
        field = self._field_at(form, cursor)
        if action is None:
            # 返回 / 跳过 typed where that button is not shown (the first field, a required
            # field) still mean back and skip: never an answer such as a name "返回"
            action = _typed_nav(ctx)
        if action == "nav:back":
            return self._back(ctx, form)
        current = self._get(st["answers"], cursor)
        if action == "nav:keep" and current is not None:
            return self._advance(ctx, form)
        if action == "nav:skip":
            # checked now, not when the button was shown: the config may have changed since
            if not field.skippable(ctx):
                return [ctx.reply("err.cannot_skip"), self._prompt(ctx, form, cursor)]
            self._put(st["answers"], cursor, None)
            return self._advance(ctx, form)
        try:
            if field.multi:
                return self._on_multi(ctx, form, field, action)
            value = self._read(ctx, field, action, self._scope(st["answers"], cursor))
            if field.check is not None:
                field.check(value, ctx, self._scope(st["answers"], cursor))
        except ParseError as err:
            return [Reply(ctx.t(err.key, **err.params)), self._prompt(ctx, form, cursor)]
        unusual = field.confirm_above(ctx) if field.confirm_above else None
        if unusual is not None and isinstance(value, int | float) and value > unusual:
            if value != current:  # possible but unusual: asked to confirm first
                st["pending"] = {"value": value, "mode": st["mode"]}
                st["mode"] = "confirm"
                return [self._confirm_prompt(ctx, form)]
        if value != current:
            for name in field.resets:
                self._scope(st["answers"], cursor).pop(name, None)
        self._put(st["answers"], cursor, value)
        return self._advance(ctx, form)

    def _read(self, ctx: Ctx, field: Field, action: str | None, scope: Answers) -> Any:
        inc = ctx.incoming
        if field.options is not None:
            options = field.options(ctx, scope)
            if action and action.startswith("o:"):
                return _pick(options, action[2:])
            if inc.text:
                try:
                    return _match_label(options, inc.text)
                except ParseError:
                    if field.parse is None:  # only the buttons are valid answers
                        raise
                    return field.parse(inc.text, ctx, scope)
            raise ParseError("err.use_buttons")
        if action:
            raise ParseError("err.stale_choice")
        if field.accepts_photo or field.accepts_file:
            if inc.photo and field.accepts_photo:
                return inc.photo
            if inc.document and field.accepts_file:
                return inc.document
            raise ParseError("err.need_file" if field.accepts_file else "err.need_photo")
        raw = inc.contact if (inc.contact and field.accepts_contact) else inc.text
        if raw is None or inc.photo or inc.unsupported:
            raise ParseError("err.need_text")
        assert field.parse is not None, f"field {field.name} has no parser"
        return field.parse(raw, ctx, scope)

    def _on_multi(self, ctx: Ctx, form: Form, field: Field, action: str | None) -> list[Reply]:
        st = ctx.state.data["form"]
        cursor = st["cursor"]
        assert field.options is not None
        options = field.options(ctx, st["answers"])
        chosen: list[str] = list(self._get(st["answers"], cursor) or [])
        if action == "nav:done":
            if not chosen and not field.skippable(ctx):
                raise ParseError("err.choose_one")
            self._put(st["answers"], cursor, chosen)
            return self._advance(ctx, form)
        if action and action.startswith("o:"):
            value = _pick(options, action[2:])
            chosen = [v for v in chosen if v != value] if value in chosen else [*chosen, value]
            self._put(st["answers"], cursor, chosen)
            return [self._prompt(ctx, form, cursor)]
        if ctx.incoming.text:
            self._put(st["answers"], cursor, self._typed_choices(options, ctx.incoming.text))
            return self._advance(ctx, form)
        raise ParseError("err.use_buttons")

    @staticmethod
    def _typed_choices(options: list[Option], text: str | None) -> list[str]:
        """Several choices typed at once: numbers or labels, separated by commas or spaces."""
        picked: list[str] = []
        for part in filter(None, _SPLIT.split(normalize(text or ""))):
            if part.isdigit() and 1 <= int(part) <= len(options):
                picked.append(options[int(part) - 1].value)
            else:
                picked.append(_match_label(options, part))
        if not picked:
            raise ParseError("err.use_buttons")
        return list(dict.fromkeys(picked))

    # ----- moving -------------------------------------------------------------------------
    def _begin(self, ctx: Ctx, form: Form, answers: Answers) -> list[Reply]:
        self._set(ctx, answers=answers, cursor=[], stack=[], mode="ask")
        return self._ask_next(ctx, form, after=None, mode="ask")

    def _advance(self, ctx: Ctx, form: Form) -> list[Reply]:
        st = ctx.state.data["form"]
        st["stack"].append(st["cursor"])
        del st["stack"][:-60]  # a long form edited many times must not grow without bound
        return self._ask_next(ctx, form, after=st["cursor"], mode=st["mode"])

    def _ask_next(
        self, ctx: Ctx, form: Form, after: Cursor | None, mode: str, resume: bool = False
    ) -> list[Reply]:
        st = ctx.state.data["form"]
        st["mode"] = mode
        answers = st["answers"]
        nxt = self._next_cursor(ctx, form, answers, after, "edit" if resume else mode)
        if nxt is None:
            st.pop("after_group", None)
            st["mode"], st["cursor"] = "summary", []
            return [self._summary(ctx, form)]
        if nxt[-1] is None:  # end of a group item: add another one?
            # after the group, go on as before it: from the summary ("edit") only what is
            # unanswered, not every later field again
            st.setdefault("after_group", "edit" if mode == "edit" else "ask")
            st["mode"], st["cursor"] = "more", nxt
            return [self._more_prompt(ctx, form)]
        if resume:
            st["stack"] = self._path_to(ctx, form, answers, nxt[0])
        st["cursor"] = nxt
        return [self._prompt(ctx, form, nxt)]

    def _path_to(self, ctx: Ctx, form: Form, answers: Answers, name: str) -> list[Cursor]:
        """The questions answered before `name`, as 返回 would go through them: a draft
        continued later keeps only its answers, so its way back is rebuilt from them (a group
        goes back to its "add another?" question)."""
        path: list[Cursor] = []
        for f in form.applicable(answers, ctx):
            if f.name == name:
                break
            if f.name not in answers:
                continue
            if f.group is None:
                path.append([f.name])
            elif answers[f.name]:
                path.append([f.name, len(answers[f.name]) - 1, None])
        return path[-60:]

    def _next_cursor(
        self, ctx: Ctx, form: Form, answers: Answers, after: Cursor | None, mode: str
    ) -> Cursor | None:
        fields = form.applicable(answers, ctx)
        if after and len(after) == 3 and after[2] is not None:
            group_field = form.field(after[0])
            assert group_field.group is not None
            item = answers[after[0]][after[1]]
            subs = group_field.group.applicable(item, ctx)
            names = [f.name for f in subs]
            i = names.index(after[2]) + 1 if after[2] in names else len(names)
            if i < len(names):
                return [after[0], after[1], names[i]]
            if mode == "item":
                return None
            if len(answers[after[0]]) >= self._max_items(ctx, group_field):
                after = [after[0]]
            else:
                return [after[0], after[1], None]
        if mode == "edit":  # from the summary: only what is still unanswered
            for f in fields:
                if f.name not in answers:
                    return self._enter(ctx, f, answers)
            return None
        names = [f.name for f in fields]
        start = names.index(after[0]) + 1 if after and after[0] in names else 0
        if after and after[0] not in names:
            start = 0
            while start < len(names) and names[start] in answers:
                start += 1
        for f in fields[start:]:
            return self._enter(ctx, f, answers)
        return None

    def _enter(self, ctx: Ctx, field: Field, answers: Answers) -> Cursor:
        if field.group is None:
            return [field.name]
        items = answers.setdefault(field.name, [])
        if not items:
            items.append({})
        return [field.name, len(items) - 1, field.group.fields[0].name]

    def _back(self, ctx: Ctx, form: Form) -> list[Reply]:
        st = ctx.state.data["form"]
        if not st["stack"]:  # the current question again (a summary has no cursor)
            return [ctx.reply("form.at_start"), *self.reprompt(ctx)]
        prev = st["stack"].pop()
        if not prev:  # the step was opened from the summary
            st["mode"], st["cursor"] = "summary", []
            return [self._summary(ctx, form)]
        if len(prev) == 3 and prev[2] is None:
            st["mode"], st["cursor"] = "more", prev
            return [self._more_prompt(ctx, form)]
        if st["mode"] in ("summary", "more"):
            st["mode"] = "ask"
        st["cursor"] = prev
        return [self._prompt(ctx, form, prev)]

    def _max_items(self, ctx: Ctx, field: Field) -> int:
        return field.max_items(ctx) if field.max_items else 50

    # ----- groups: "add another?" ---------------------------------------------------------
    def _more_prompt(self, ctx: Ctx, form: Form) -> Reply:
        st = ctx.state.data["form"]
        name = st["cursor"][0]
        item = ctx.t(form.field(name).group.item_label)  # type: ignore[union-attr]
        count = len(st["answers"][name])
        return Reply(
            ctx.t("form.more", n=count, item=item),
            (
                (ctx.button("btn.add_item", "g:add", item=item), ctx.button("btn.done", "g:done")),
                (ctx.button("btn.back", "nav:back"), ctx.button("btn.cancel", "nav:cancel")),
            ),
            numbered=True,
            question=self._question(ctx, "more", st["cursor"]),
        )

    def _on_more(self, ctx: Ctx, form: Form, action: str | None) -> list[Reply]:
        st = ctx.state.data["form"]
        name = st["cursor"][0]
        if action == "nav:back":
            return self._back(ctx, form)
        if action == "g:add":
            st["stack"].append(st["cursor"])
            items = st["answers"][name]
            items.append({})
            group = form.field(name).group
            assert group is not None
            st["mode"], st["cursor"] = "ask", [name, len(items) - 1, group.fields[0].name]
            return [self._prompt(ctx, form, st["cursor"])]
        if action == "g:done":
            st["stack"].append(st["cursor"])
            return self._ask_next(ctx, form, after=[name], mode=st.pop("after_group", "ask"))
        return [ctx.reply("err.use_buttons"), self._more_prompt(ctx, form)]

    # ----- an unusual value, confirmed ----------------------------------------------------
    def _confirm_prompt(self, ctx: Ctx, form: Form) -> Reply:
        st = ctx.state.data["form"]
        field = self._field_at(form, st["cursor"])
        value = st["pending"]["value"]
        shown = field.show(value, ctx) if field.show else str(value)
        return Reply(
            ctx.t("form.confirm_value", field=ctx.t(field.label), value=shown),
            ((ctx.button("btn.value_yes", "cv:yes"), ctx.button("btn.value_no", "cv:no")),),
            numbered=True,
            question=self._question(ctx, "confirm", st["cursor"]),
        )

    def _on_confirm_value(self, ctx: Ctx, form: Form, action: str | None) -> list[Reply]:
        """Yes: the unusual value is taken; no: the question again; anything typed: a new
        answer to it (confirmed again if it is unusual too)."""
        st = ctx.state.data["form"]
        pending = st.pop("pending", None) or {}
        st["mode"] = pending.get("mode", "ask")
        if action is None and ctx.incoming.text:
            yes = parse_yes_no(ctx.incoming.text)
            action = None if yes is None else ("cv:yes" if yes else "cv:no")
        cursor = st["cursor"]
        if action == "cv:yes" and "value" in pending:
            field = self._field_at(form, cursor)
            if pending["value"] != self._get(st["answers"], cursor):
                for name in field.resets:
                    self._scope(st["answers"], cursor).pop(name, None)
            self._put(st["answers"], cursor, pending["value"])
            return self._advance(ctx, form)
        if action in ("cv:no", "nav:back") or action is not None:
            return [self._prompt(ctx, form, cursor)]
        return self._on_field(ctx, form, None)

    # ----- the summary --------------------------------------------------------------------
    def _summary(self, ctx: Ctx, form: Form) -> Reply:
        st = ctx.state.data["form"]
        answers = form.prune(st["answers"], ctx)
        st["answers"] = answers
        lines = [ctx.t(form.title), ""]
        rows: list[tuple[Button, ...]] = []
        edit_buttons: list[Button] = []
        for f in form.applicable(answers, ctx):
            if f.group is not None:
                item_label = ctx.t(f.group.item_label)
                for i, item in enumerate(answers.get(f.name, []), start=1):
                    lines.append(f"{item_label} {i}:")
                    for sub in f.group.applicable(item, ctx):
                        lines.append(f"  · {ctx.t(sub.label)}: {self._show(ctx, sub, item)}")
                    edit_buttons.append(
                        ctx.button("btn.edit_item", f"s:gi:{f.name}:{i - 1}", item=item_label, n=i)
                    )
                    if len(answers[f.name]) > 1:
                        edit_buttons.append(
                            ctx.button(
                                "btn.del_item", f"s:gd:{f.name}:{i - 1}", item=item_label, n=i
                            )
                        )
                if len(answers.get(f.name, [])) < self._max_items(ctx, f):
                    edit_buttons.append(
                        ctx.button("btn.add_item", f"s:ga:{f.name}", item=item_label)
                    )
                continue
            lines.append(f"{ctx.t(f.label)}: {self._show(ctx, f, answers)}")
            edit_buttons.append(ctx.button("btn.edit_field", f"s:e:{f.name}", label=ctx.t(f.label)))
        lines += ["", ctx.t("form.summary_hint")]
        rows.append((ctx.button("btn.confirm", "s:ok"), ctx.button("btn.cancel", "nav:cancel")))
        rows += [tuple(edit_buttons[i : i + 2]) for i in range(0, len(edit_buttons), 2)]
        question = self._question(ctx, "summary", [])
        return Reply("\n".join(lines), tuple(rows), numbered=True, question=question)

    def shown(self, ctx: Ctx, field: Field, answers: Answers) -> str:
        """The answer of `field` in `answers` as the summary shows it (also /history)."""
        return self._show(ctx, field, answers)

    def _show(self, ctx: Ctx, field: Field, answers: Answers) -> str:
        value = answers.get(field.name)
        if value is None or value == []:
            return ctx.t("form.empty_value")
        if field.show is not None:
            return field.show(value, ctx)
        if field.options is not None:
            labels = {o.value: o.label for o in field.options(ctx, answers)}
            values = value if isinstance(value, list) else [value]
            return fmt_list((labels.get(v, str(v)) for v in values), ctx.locale)
        return str(value)

    def _on_summary(self, ctx: Ctx, form: Form, action: str | None) -> list[Reply]:
        st = ctx.state.data["form"]
        answers = st["answers"]
        if action == "s:ok":
            return self._confirm(ctx, form)
        if action == "nav:back":
            return self._back(ctx, form)
        parts = (action or "").split(":")
        # any field the summary lists is editable, also one the answers lack (a field added
        # to the form after a registration opened for editing was stored)
        editable = {f.name for f in form.applicable(answers, ctx) if f.group is None}
        if parts[:2] == ["s", "e"] and len(parts) == 3 and parts[2] in editable:
            st["stack"].append([])
            st["mode"], st["cursor"] = "edit", [parts[2]]
            return [self._prompt(ctx, form, [parts[2]])]
        if parts[:2] in (["s", "gi"], ["s", "gd"], ["s", "ga"]) and parts[2] in answers:
            group = form.field(parts[2]).group
            assert group is not None
            items = answers[parts[2]]
            if parts[1] == "ga":
                items.append({})
                index = len(items) - 1
            else:
                index = int(parts[3])
                if not 0 <= index < len(items):
                    return [ctx.reply("err.stale_choice"), self._summary(ctx, form)]
            if parts[1] == "gd":
                if len(items) > 1:
                    items.pop(index)
                return [self._summary(ctx, form)]
            st["stack"].append([])
            st["mode"], st["cursor"] = "item", [parts[2], index, group.fields[0].name]
            return [self._prompt(ctx, form, st["cursor"])]
        return [ctx.reply("err.use_buttons"), self._summary(ctx, form)]

    def _confirm(self, ctx: Ctx, form: Form) -> list[Reply]:
        st = ctx.state.data["form"]
        answers = form.prune(st["answers"], ctx)
        missing = [f for f in form.applicable(answers, ctx) if f.name not in answers]
        try:
            if missing:
                raise FieldError(missing[0].name, "err.missing_field")
            replies = form.on_confirm(ctx, answers)
        except FieldError as err:
            st["stack"].append([])
            st["mode"], st["cursor"] = "edit", [err.field]
            return [Reply(ctx.t(err.key, **err.params)), self._prompt(ctx, form, [err.field])]
        ctx.state.data.get("drafts", {}).pop(form.name, None)
        ctx.state.clear()
        # what the form's confirmation says (submitted, saved) is news, a question it asks
        # next (another form's first one) is not
        return [r if r.question is not None else dataclasses.replace(r, news=True) for r in replies]

    # ----- prompts ------------------------------------------------------------------------
    def _prompt(self, ctx: Ctx, form: Form, cursor: Cursor) -> Reply:
        st = ctx.state.data["form"]
        field = self._field_at(form, cursor)
        scope = self._scope(st["answers"], cursor)
        params = field.prompt_params(ctx, scope) if field.prompt_params else {}
        text = ctx.t(field.prompt, **params)
        if len(cursor) == 3:
            group_label = ctx.t(form.field(cursor[0]).group.item_label)  # type: ignore[union-attr]
            text = f"[{group_label} {cursor[1] + 1}] {text}"
        current = self._get(st["answers"], cursor)
        rows: list[tuple[Button, ...]] = []
        numbered = False
        if field.options is not None:
            numbered = True
            options = field.options(ctx, scope)
            chosen = set(current or []) if field.multi else set()
            buttons = [
                Button(("✅ " if o.value in chosen else "") + o.label, ctx.stamp(f"o:{i}"))
                for i, o in enumerate(options)
            ]
            width = 3 if len(buttons) > 8 else 2
            rows += [tuple(buttons[i : i + width]) for i in range(0, len(buttons), width)]
            if field.multi:
                rows.append((ctx.button("btn.done", "nav:done"),))
        if current not in (None, []) and not field.multi:
            text += "\n" + ctx.t("form.current", value=self._show(ctx, field, scope))
        nav: list[Button] = []
        if st["stack"]:
            nav.append(ctx.button("btn.back", "nav:back"))
        if field.skippable(ctx):
            nav.append(ctx.button("btn.skip", "nav:skip"))
        if current not in (None, []) and not field.multi:
            nav.append(ctx.button("btn.keep", "nav:keep"))
        nav.append(ctx.button("btn.cancel", "nav:cancel"))
        rows.append(tuple(nav))
        return Reply(
            text,
            tuple(rows),
            numbered=numbered,
            request_contact=field.accepts_contact,
            question=self._question(ctx, st["mode"], cursor),
        )

    @staticmethod
    def _question(ctx: Ctx, mode: str, cursor: Cursor) -> str:
        """Which question a prompt asks: the same one asked again keeps its name."""
        return f"{ctx.state.flow}/{ctx.state.data.get('_form_epoch', 0)}/{mode}/{cursor}"

    # ----- state helpers ------------------------------------------------------------------
    @staticmethod
    def _set(ctx: Ctx, **values: Any) -> None:
        editing = ctx.state.data.get("form", {}).get("editing", False)
        ctx.state.data["form"] = {"editing": editing, **values}
        # the form's questions of this run are not those of an earlier run, and a question
        # of an earlier run is never answered by early text
        ctx.state.data["_form_epoch"] = ctx.state.version
        # what was asked before the form (a menu, the privacy notice): a choice of it typed
        # again before the form's first question showed is a repeat, not an answer
        ctx.state.data["_asked_before"] = {
            "mode": "outside",
            "cursor": [],
            # labels only (stored with every step of the form: kept small)
            "labels": [[label, data] for label, data in ctx.state.data.get("_buttons") or []],
            "numbered": bool(ctx.state.data.get("_numbered")),
        }

    @staticmethod
    def _field_at(form: Form, cursor: Cursor) -> Field:
        field = form.field(cursor[0])
        if len(cursor) == 3:
            assert field.group is not None
            return field.group.field(cursor[2])
        return field

    @staticmethod
    def _scope(answers: Answers, cursor: Cursor) -> Answers:
        """The dict a field's value lives in: the form's answers or one group item."""
        if len(cursor) == 3:
            item: Answers = answers[cursor[0]][cursor[1]]
            return item
        return answers

    def _get(self, answers: Answers, cursor: Cursor) -> Any:
        if not cursor:
            return None
        return self._scope(answers, cursor).get(cursor[-1])

    def _put(self, answers: Answers, cursor: Cursor, value: Any) -> None:
        self._scope(answers, cursor)[cursor[-1]] = value


def _typed_option(ctx: Ctx, field: Field, scope: Answers, numbered: bool) -> str | None:
    """A choice of `field` typed by its number, as its prompt numbered them (options first);
    labels are matched by the field's own reading (_read). The buttons shown are not kept
    per question: the options are asked of the field again."""
    text = normalize(ctx.incoming.text or "")
    if not numbered or not text.isdigit() or field.options is None or field.multi:
        return None
    n = int(text)
    return f"o:{n - 1}" if 1 <= n <= len(field.options(ctx, scope)) else None


def _typed_nav(ctx: Ctx) -> str | None:
    text = ctx.incoming.text
    if not text:
        return None
    typed = normalize(text).casefold()
    for label, action in (("btn.back", "nav:back"), ("btn.skip", "nav:skip")):
        if typed == normalize(ctx.t(label)).casefold():
            return action
    return None


def _pick(options: list[Option], index: str) -> str:
    if index.isdigit() and int(index) < len(options):
        return options[int(index)].value
    raise ParseError("err.stale_choice")


def _match_label(options: list[Option], text: str) -> str:
    wanted = normalize(text).casefold()
    for o in options:
        names = (o.label, o.value, *o.also)
        if any(normalize(name).casefold() == wanted for name in names):
            return o.value
    raise ParseError("err.use_buttons")
