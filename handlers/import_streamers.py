"""附件2 rows: each checked as the streamer form would check it (the accounts against what is
stored: one registration per account, under one unit), then stored: a new registration
(组织推荐 of the sheet's unit, a claim code) or the stored one updated, or left as it is."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

from bot.core.forms import Answers, FieldError
from bot.core.parsers import ParseError
from handlers import claim, sheets, streamer
from handlers import fields as f
from handlers.import_sheet import SPLIT, Importer, code_note, raw_text
from handlers.schemas import row_values
from handlers.sheet_reader import Row
from models import LiveAccount, Streamer, erased_marks, erasure, repo
from models import review_rules as rules

_STREAMER_SKIPPED = {"platform", "account_name", "second_platform", "second_account"}


class StreamerRows:
    def __init__(self, imp: Importer) -> None:
        self.imp = imp
        self.fields = tuple(
            fld
            for fld in streamer.FIELDS
            if fld.name in {c.key for c in sheets.STREAMER_COLUMNS}
            and fld.name not in _STREAMER_SKIPPED
        )
        self.platform = streamer.FIELDS[[x.name for x in streamer.FIELDS].index("platform")]

    def validate(self) -> Callable[[], None]:
        imp, ctx = self.imp, self.imp.ctx
        seen: dict[tuple[str, str], int] = {}
        planned: list[tuple[Row, dict[str, Any], dict[str, str], Streamer | None]] = []
        owner_of = self.owners()
        for row in imp.sheet.rows:
            accounts = self.accounts(row)
            if accounts is None:
                continue
            existing, row_ctx, ok, gone = None, ctx, True, False
            for platform, name in accounts.items():
                key = (platform, name.lower())
                if key in seen:
                    imp.error(row, "account_name", "import.err.duplicate_in_sheet", other=seen[key])
                    ok = False
                seen.setdefault(key, row.number)
                owner = owner_of(platform, name)
                if owner is None:
                    gone = gone or self.erased_name(platform, name)
                    continue
                found = ctx.session.get_one(Streamer, owner)
                if found.person_id in self.erased_people:  # a name kept as published
                    gone = True
                elif found.unit_id != imp.unit.id:
                    imp.error(row, "account_name", "import.err.stored_elsewhere")
                    ok = False
                elif existing is None:
                    existing = found
            if gone:
                imp.skip_erased(row)
                continue
            if existing is not None:  # the chat's checks see the registration as its own
                row_ctx = dataclasses.replace(ctx, person_id=existing.person_id)
            answers: Answers = {}
            for n, (platform, name) in enumerate(accounts.items()):
                prefix = "" if n == 0 else "second_"
                answers[f"{prefix}platform"] = platform
                answers["account_name" if n == 0 else "second_account"] = name
            if len(accounts) == 1:
                answers["second_platform"] = None
            if not ok or not imp.parse_row(row, self.fields, answers, row_ctx):
                continue
            data = {
                **answers,
                "preset_unit": imp.unit.code,
                "preset_org": True,
                "declarations": "yes",
            }
            try:
                checked = streamer._to_model(row_ctx, data).model_dump()
            except FieldError as exc:
                imp.error(row, exc.field, exc.key, **exc.params)
                continue
            planned.append((row, checked, accounts, existing))

        def apply() -> None:
            codes = iter(claim.fresh_codes(ctx, sum(1 for p in planned if p[3] is None)))
            for row, checked, accounts, existing in planned:
                self.store(row, checked, accounts, existing, codes)

        return apply

    def owners(self) -> Callable[[str, str], int | None]:
        """repo.account_owner for the sheet's accounts, looked up at once (a thousand rows:
        one query, not a thousand), and their registrations loaded with them."""
        imp, session = self.imp, self.imp.ctx.session
        names = [
            n.strip()
            for row in imp.sheet.rows
            if not row.blank("account_name")
            for n in SPLIT.split(raw_text(row.value("account_name")))
            if n.strip()
        ]
        found = repo.account_owners(session, names)
        asked = {n.lower() for n in names}
        # kept referenced while the sheet is checked: session.get_one finds them loaded
        self.loaded: list[Streamer] = repo.streamers_by_id(session, set(found.values()))
        self.erased_people = erasure.erased_among(session, {s.person_id for s in self.loaded})
        platforms = [p.key for p in imp.ctx.config.platforms]
        self.erased_marks = {
            erased_marks.fingerprint(erased_marks.ACCOUNT, key)
            for key in erased_marks.marked(
                session, erased_marks.ACCOUNT, [(p, n) for n in names for p in platforms]
            )
        }
        self.asked_marks = {
            erased_marks.fingerprint(erased_marks.ACCOUNT, (p, n)) for n in names for p in platforms
        }

        def owner_of(platform: str, name: str) -> int | None:
            if name.lower() in asked:
                return found.get((platform, name.lower()))
            return repo.account_owner(session, platform, name)  # as the chat's parser read it

        return owner_of

    def erased_name(self, platform: str, name: str) -> bool:
        """An account whose registration was erased (its name is stored no more)."""
        digest = erased_marks.fingerprint(erased_marks.ACCOUNT, (platform, name))
        if digest in self.asked_marks:
            return digest in self.erased_marks
        session = self.imp.ctx.session  # a name as the chat's parser read it
        return bool(erased_marks.marked(session, erased_marks.ACCOUNT, [(platform, name)]))

    def accounts(self, row: Row) -> dict[str, str] | None:
        """The row's accounts (platform: name): 达人账号名 (two as "a、b"), on 直播平台 when the
        sheet has it (the notice's 附件2 has not: the first platform, 抖音)."""
        imp, ctx = self.imp, self.imp.ctx
        if row.blank("account_name"):
            imp.error(row, "account_name", "import.err.required")
            return None
        names = [n.strip() for n in SPLIT.split(raw_text(row.value("account_name"))) if n.strip()]
        if row.blank("platform"):
            platforms = [ctx.config.platforms[0].key]
        else:
            try:
                platforms = [
                    imp.choice(self.platform, p, {}, ctx)
                    for p in SPLIT.split(raw_text(row.value("platform")))
                    if p.strip()
                ]
            except ParseError as exc:
                imp.error(row, "platform", exc.key, **exc.params)
                return None
        if (
            len(names) > 2
            or (len(platforms) != len(names) and len(platforms) != 1)
            or len(names) == 0
        ):
            imp.error(row, "account_name", "import.err.accounts")
            return None
        if len(platforms) == 1 and len(names) == 2:
            imp.error(row, "platform", "import.err.accounts")
            return None
        found: dict[str, str] = {}
        for platform, name in zip(platforms, names, strict=True):
            try:
                found[platform] = f.text(40)(name, ctx, {})
            except ParseError as exc:
                imp.error(row, "account_name", exc.key, **exc.params)
                return None
        if len(found) != len(names):
            imp.error(row, "platform", "import.err.accounts")
            return None
        return found

    def store(
        self,
        row: Row,
        checked: dict[str, Any],
        accounts: dict[str, str],
        existing: Streamer | None,
        codes: Iterator[str],
    ) -> None:
        imp, ctx = self.imp, self.imp.ctx
        values = row_values(checked, Streamer)
        where = (imp.sheet.title, row.number)
        if existing is None:
            first = next(iter(accounts.values()))
            record = {
                **values,
                "person_id": imp.placeholder(first),
                "unit_id": imp.unit.id,
                "recommendation": "org",
                "status": rules.initial_status(True, False).value,
                "reject_reason": None,
                "submitted_at": imp.now,
                "reviewed_at": None,
                "reviewed_by": None,
                "created_at": imp.now,
                "updated_at": imp.now,
            }
            streamer_id = repo.insert_streamer(ctx.session, record, accounts)
            code = claim.issue(ctx, "streamer", streamer_id, imp.unit.id, imp.actor, next(codes))
            imp.audit("import", "streamer", streamer_id, None, {**values, "accounts": accounts})
            imp.out.created += 1
            imp.out.codes.append((first, code))
            imp.out.results[where] = ctx.t("import.result.created", code=code)
            return
        # a stored registration keeps how it came (自荐 endorsed by the unit stays 自荐)
        values = {k: v for k, v in values.items() if k not in ("recommendation", "declarations")}
        before = {k: getattr(existing, k) for k in values}
        stored = {a.platform: a.account_name for a in repo.accounts_of(ctx.session, existing.id)}
        open_code = claim.open_code(ctx, "streamer", existing.id)
        if before == values and all(stored.get(p) == n for p, n in accounts.items()):
            imp.out.unchanged += 1
            imp.out.results[where] = ctx.t("import.result.unchanged") + code_note(ctx, open_code)
            return
        for key, value in values.items():
            setattr(existing, key, value)
        for account in repo.accounts_of(ctx.session, existing.id):
            if account.platform in accounts:
                account.account_name = accounts[account.platform]
        for platform, name in accounts.items():
            if platform not in stored:
                ctx.session.add(
                    LiveAccount(streamer_id=existing.id, platform=platform, account_name=name)
                )
        existing.updated_at = imp.now
        imp.audit("import_edit", "streamer", existing.id, before, values)
        imp.out.updated += 1
        imp.out.results[where] = ctx.t("import.result.updated") + code_note(ctx, open_code)
