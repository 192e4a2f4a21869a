"""The core's one entry point: an Incoming in, the replies out, the step stored.

Each step is one transaction in one worker thread (one hop off the event loop): load who is
writing and their state, route, run the handler, store the state with a version check, commit.
Replies are returned only after the commit, so a reply that fails to send never leaves the
stored state behind what the user saw.

Longer than 300 lines on purpose: it is one step's path (entry, transaction, who is writing,
then the routing rules in the order they apply), which reads best top to bottom in one place.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.config import FestivalConfig
from bot.core.answers import ShownQuestions, typed_action
from bot.core.clock import Clock
from bot.core.context import BACKGROUND, Ctx, State
from bot.core.engine import FormEngine
from bot.core.i18n import translate
from bot.core.messages import Incoming, Reply
from bot.core.ordering import PersonOrder
from bot.core.outbox import Outbox
from bot.core.routing import Record, Routes
from models import dialog

log = logging.getLogger(__name__)

T = TypeVar("T")


class StaleStep(Exception):
    """Another writer stored this identity's state first (second process, double tap)."""


class Core:
    """The conversation core. Channels call `process` (or, holding a person's turn across more
    than the step, `order.turn` around `step`) and send the replies it returns; what a channel
    must record in the step's own commit (its inbound record, the replies it will send) it does
    in the `record` hook. Nothing else crosses between a channel and the core."""

    def __init__(
        self,
        config: FestivalConfig,
        engine: Engine,
        clock: Clock,
        routes: Routes,
        files_dir: Path | None = None,
    ) -> None:
        self.config = config
        self.files_dir = files_dir  # the data directory (pictures); None: no files kept
        self.db = engine
        self.sessions: sessionmaker[Session] = sessionmaker(engine, expire_on_commit=False)
        self.clock = clock
        self.routes = routes
        self.forms = FormEngine(routes.forms)
        # SQLite has one writer: one worker thread avoids lock waits. PostgreSQL takes more.
        workers = 1 if engine.dialect.name == "sqlite" else 8
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="step")
        self.order = PersonOrder()
        # one of several workers on one PostgreSQL (BOT_WORKERS=shared): `order` is then a
        # shared_order.SharedOrder and the channels take a person's stored updates in order
        self.shared = False
        # when each chat's latest question was handed to its platform (channels record it)
        self.shown = ShownQuestions()
        self.cache: dict[str, Any] = {}
        # handed to every step as ctx.services (see Ctx), filled in by the app's wiring
        self.services: dict[str, Any] = {BACKGROUND: self.later}
        # work a step hands on (a big export): one thread, so it never holds the steps'
        self.background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="background")
        self._admins = {(a.channel, a.user_id) for a in config.committee.admins}

    async def process(self, inc: Incoming, record: Record | None = None) -> list[Reply]:
        """Handle one update in its person's turn: one person's updates strictly in order,
        different people concurrently."""
        async with self.order.turn((inc.channel, inc.user_id)):
            # self.step's one line, not a call of it: one coroutine less on every step
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self.executor, self.process_sync, inc, record)

    async def step(self, inc: Incoming, record: Record | None = None) -> list[Reply]:
        """The step off the event loop, for a caller that holds the person's turn itself."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, self.process_sync, inc, record)

    async def offload(self, fn: Callable[..., T], *args: Any) -> T:
        """A channel's own database work (storing updates, marking chats), on the steps'
        thread(s): SQLite has one writer, and a write queued beside the steps never waits on
        its lock."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    def later(self, work: Callable[[], None]) -> None:
        """Runs `work` on the background thread (ctx.services[BACKGROUND]); a failure is
        logged (the work tells the person itself)."""

        def run() -> None:
            try:
                work()
            except Exception:
                log.exception("background work failed")

        self.background.submit(run)

    def folder_refused(self, what: str, folder: Path) -> None:
        """A folder refused a write (a full or read-only disk): the person's step went on
        without the file; the committee admins are told, once a day per folder."""
        from models.recipients import admins  # the core's one query of people to tell

        day = self.clock.now().astimezone(self.config.calendar.tz).date()
        note = translate(self.config.locale.default, "core.folder_refused", folder=str(folder))
        with self.sessions() as session, session.begin():
            Outbox(session, self.clock).to_people(
                [(a, f"folder-refused:{what}:{day}:{a}", Reply(note)) for a in admins(session)]
            )

    def process_sync(self, inc: Incoming, record: Record | None = None) -> list[Reply]:
        """The step in one transaction. `record(session, replies)` runs in that transaction
        just before its commit (the channel records that the update was handled, and what it
        will send: both are stored, or neither). It runs exactly once for every step that
        returns: when the state cannot be stored (others kept writing it), in a transaction
        of its own with the "busy" reply. A step that raises has stored nothing."""
        for attempt in range(3):
            try:
                after: list[Callable[[], None]] = []
                with self.sessions() as session, session.begin():
                    replies = self._step(session, inc, after)
                    if record is not None:
                        record(session, replies)
                for hook in after:  # committed: what may only run outside a transaction
                    try:
                        hook()
                    except Exception:
                        log.exception("after-commit work of a step failed")
                return replies
            except StaleStep:
                log.info("stale step for %s:%s (attempt %d)", inc.channel, inc.user_id, attempt)
            except IntegrityError:
                # two first messages of a new user raced to create the identity: retry
                if attempt == 2:
                    raise
        replies = [Reply(translate(None, "err.busy"))]
        if record is not None:
            with self.sessions() as session, session.begin():
                record(session, replies)
        return replies

    # ----- one step -----------------------------------------------------------------------
    def _step(
        self, session: Session, inc: Incoming, after: list[Callable[[], None]] | None = None
    ) -> list[Reply]:
        ident = self._identity(session, inc)
        ctx = Ctx(
            session=session,
            config=self.config,
            clock=self.clock,
            outbox=Outbox(session, self.clock),
            forms=self.forms,
            incoming=inc,
            person_id=ident["person_id"],
            identity_id=ident["identity_id"],
            locale=ident["locale"] or self.config.locale.default,
            privacy_accepted=ident["privacy_accepted_at"] is not None,
            state=State(ident["flow"], dict(ident["data"] or {}), ident["version"]),
            is_admin=ident["is_admin"],
            cache=self.cache,
            files_dir=self.files_dir,
            services=self.services,
            after_commit=after if after is not None else [],
        )
        replies = self._route(ctx)
        buttons = [b for r in replies for b in r.flat_buttons()]
        ctx.state.data["_buttons"] = [[b.label, b.data] for b in buttons]
        ctx.state.data["_numbered"] = any(r.numbered for r in replies)
        if ctx.keep_state:
            return replies
        stored = dialog.store(
            session.connection(),
            ctx.identity_id,
            ctx.state.version,
            ctx.state.flow,
            ctx.state.data,
            self.clock.now(),
        )
        if not stored:
            raise StaleStep()
        return replies

    def _identity(self, session: Session, inc: Incoming) -> dict[str, Any]:
        """Who is writing, their state; a first message creates the person."""
        conn = session.connection()
        row = dialog.load(conn, inc.channel, inc.user_id)
        if row is None:
            now = self.clock.now()
            person_id = dialog.create(
                conn,
                channel=inc.channel,
                user_id=inc.user_id,
                chat_id=inc.chat_id if inc.chat_kind == "private" else inc.user_id,
                display_name=inc.display_name,
                locale=_locale_hint(inc, self.config),
                now=now,
            )
            for admin in self.config.committee.admins:
                if admin.channel == inc.channel and admin.user_id == inc.user_id:
                    dialog.grant_admin(session, person_id, admin.name, now)
            row = dialog.load(conn, inc.channel, inc.user_id)
            assert row is not None
        elif row["last_channel"] != inc.channel or row["unreachable_at"] is not None:
            # writing again means the person reads this channel (and unblocked the bot)
            dialog.seen_on(conn, row["person_id"], inc.channel)
        row["is_admin"] = bool(row["has_admin_role"]) or (inc.channel, inc.user_id) in self._admins
        return row

    # ----- routing ------------------------------------------------------------------------
    def _route(self, ctx: Ctx) -> list[Reply]:
        inc = ctx.incoming
        if inc.chat_kind != "private":
            if inc.command in self.routes.group_commands:
                refusal = self._refusal(ctx, inc.command)
                return [refusal] if refusal else self.routes.commands[inc.command](ctx)
            return [ctx.reply("group.private_only")] if inc.command else []
        if len(inc.text or "") + len(inc.args) > self.config.conversation.message_max_len:
            return [
                ctx.reply("err.message_too_long", max=self.config.conversation.message_max_len),
                *self.reprompt(ctx),
            ]
        typed_in_form = inc.text and inc.command is None and ctx.state.flow in self.routes.forms
        if typed_in_form and inc.early:
            # typed before the open question was shown: it answers the one before
            return self.forms.early(ctx)
        if typed_in_form and inc.after_double and (again := self.forms.answered_again(ctx)):
            return again
        action = ctx.action = self._action(ctx)
        if action == "stale":
            return [ctx.reply("err.stale_button"), *self.reprompt(ctx)]
        command = inc.command
        if action and action.startswith("cmd:"):
            # a button that runs a command, possibly with arguments ("cmd:revoke AB12CD34")
            command, _, args = action[4:].partition(" ")
            ctx.incoming = dataclasses.replace(inc, command=command, args=args, button=None)
        flow = ctx.state.flow
        if self.routes.gate is not None and (
            flow is None or (command is not None and flow not in self.routes.forms)
        ):
            # a question the person must answer before anything else (routes.gate); never
            # in the middle of a form, whose answers it would lose
            gated = self.routes.gate(ctx)
            if gated is not None:
                return gated
        if command is not None:
            return self._command(ctx, command)
        flow = ctx.state.flow
        if flow is not None and (refusal := self._refusal(ctx, flow, flows=True)):
            # the role was taken away in the middle of the flow
            ctx.state.clear()
            return [refusal, *self.routes.fallback(ctx)]
        if flow in self.routes.forms:
            return self.forms.handle(ctx, action)
        if flow in self.routes.flows:
            return self.routes.flows[flow](ctx)
        if action:  # a button of a flow that has ended
            return [ctx.reply("err.stale_button"), *self.routes.fallback(ctx)]
        return self.routes.fallback(ctx)

    def _command(self, ctx: Ctx, command: str) -> list[Reply]:
        handler = self.routes.commands.get(command)
        if handler is None:
            return [ctx.reply("err.unknown_command", command=command), *self.reprompt(ctx)]
        if refusal := self._refusal(ctx, command):
            return [refusal, *self.reprompt(ctx)]
        if command in self.routes.interrupting:  # answered, then the question again
            return [*handler(ctx), *self.reprompt(ctx)]
        kept: list[Reply] = []
        if ctx.state.flow is not None:
            # a new command leaves the current flow; a form's answers stay as a draft
            left = ctx.extra["left_flow"] = ctx.state.flow
            if left in self.routes.forms:
                self.forms.cancel(ctx)
                if command != "cancel" and ctx.state.data.get("drafts", {}).get(left):
                    # said, so that the person knows the answers are not lost
                    title = self.forms.name_of(ctx, self.routes.forms[left])
                    kept = [ctx.reply("form.left_draft", title=title)]
            ctx.state.clear()
        replies = handler(ctx)
        if kept and ctx.state.flow == ctx.extra["left_flow"]:
            kept = []  # the command opened the same form again: its draft prompt says it
        return [*kept, *replies]

    def _refusal(self, ctx: Ctx, name: str, flows: bool = False) -> Reply | None:
        """A polite refusal when this person's role does not allow `name`, else None."""
        table = self.routes.flow_permissions if flows else self.routes.permissions
        needed = table.get(name)
        if needed is None or ctx.is_admin:
            return None
        if needed == "reviewer" and ctx.scope.is_reviewer:
            return None
        return ctx.reply("err.not_allowed" if needed == "admin" else "err.reviewers_only")

    def reprompt(self, ctx: Ctx) -> list[Reply]:
        """The question the user is on, again (after /help, an error, a stale button)."""
        flow = ctx.state.flow
        if flow in self.routes.forms:
            return self.forms.reprompt(ctx)
        if flow in self.routes.flows:
            ctx.extra["reprompt"] = True
            return self.routes.flows[flow](ctx)
        return []

    def _action(self, ctx: Ctx) -> str | None:
        """A pressed button, or typed text that names one of the buttons last shown."""
        inc = ctx.incoming
        if inc.button:
            version, _, action = inc.button.partition(":")
            if version == "*":
                return action
            if not version.isdigit() or int(version) != ctx.state.version:
                return "stale"
            return action
        shown: list[list[str]] = ctx.state.data.get("_buttons") or []
        return typed_action(inc.text, shown, bool(ctx.state.data.get("_numbered")))


def _locale_hint(inc: Incoming, config: FestivalConfig) -> str | None:
    lang = (inc.language or "").lower()
    if lang.startswith("en") and "en" in config.locale.available:
        return "en"
    return None
