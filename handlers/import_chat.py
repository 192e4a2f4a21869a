"""A filled-in notice sheet sent in chat (a Telegram document): the committee or a unit contact
sends the .xlsx, the bot imports it (handlers/imports.py) and answers with what it did and the
sheet back with a result column (errors, or each new registration's claim code); the unit's
stamped scan (盖章扫描件) may follow as a second file or a picture and is kept with the import.
An Official Account receives no files: on WeChat the bot says so (the command line imports).

```mermaid
flowchart LR
  doc[.xlsx sent] --> who{committee or unit contact?} -- no --> text[please type]
  who -- yes --> read{a 附件1/附件2 header?} -- no --> refused[not a notice sheet]
  read -- yes --> check{every row valid?}
  check -- no --> report[nothing imported: errors listed + the sheet with an error column]
  check -- yes --> stored[stored, audited; the sheet with claim codes]
  stored --> scan[stamped scan? a picture or a file, or any text]
```
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

from bot.core.context import Ctx
from bot.core.messages import Reply
from handlers import imports, sheet_reader, xlsx
from handlers.export import export_dir
from handlers.imports import Outcome
from handlers.sheet_reader import ReadBook
from models import SheetImport, repo
from models.imports import last_import_of
from models.units import Unit, unit_by_code

log = logging.getLogger(__name__)
SCAN_FLOW = "import_scan"


def usage(ctx: Ctx) -> list[Reply]:
    """/import: how to import (the sheet is sent as a file)."""
    return [ctx.reply("import.usage")]


def document(ctx: Ctx) -> list[Reply]:
    """A file sent outside any question: a sheet to import, from the committee or a contact."""
    inc = ctx.incoming
    if not ctx.scope.is_reviewer:
        return [ctx.reply("err.need_text")]
    if inc.unsupported == "file" or inc.document is None:  # WeChat: no files reach us
        return [ctx.reply("import.no_files_here")]
    name = inc.document_name or ""
    if not name.lower().endswith(".xlsx"):
        return [ctx.reply("import.not_xlsx")]
    path = Path(inc.document)
    if not path.is_file():
        return [ctx.reply("import.not_downloaded")]
    if path.stat().st_size > ctx.config.excel.max_import_mb * 1024 * 1024:
        return [ctx.reply("import.too_large", mb=ctx.config.excel.max_import_mb)]
    own = ctx.scope.own_units
    default = ctx.session.get(Unit, own[0]) if not ctx.scope.committee and len(own) == 1 else None
    try:
        book = sheet_reader.read(ctx, path)
    except sheet_reader.Unreadable as exc:
        return [ctx.reply(exc.key, **exc.params)]
    refusal = book_refusal(ctx, book)
    if refusal is not None:
        return [refusal]
    outcome, record = import_book(ctx, path, name, book, ctx.person_id, inc.channel, default)
    replies = [Reply(report(ctx, outcome, record))]
    try:
        annotated = annotate(ctx, path, book, outcome)
        key = "import.sheet_errors" if outcome.errors else "import.sheet_results"
        replies.append(Reply(ctx.t(key), document_path=str(annotated)))
    except OSError:  # the summary stands without the sheet
        log.exception("the import's result sheet could not be written")
    if record is not None:
        ctx.state.flow = SCAN_FLOW
        ctx.state.data["import_id"] = record.id
        replies.append(ctx.reply("import.scan_ask"))
    return replies


def book_refusal(ctx: Ctx, book: ReadBook) -> Reply | None:
    if not book.sheets:
        return ctx.reply("import.unknown_sheet")
    rows = sum(len(s.rows) for s in book.sheets)
    if rows > ctx.config.excel.max_import_rows:
        return ctx.reply("import.too_many_rows", n=rows, max=ctx.config.excel.max_import_rows)
    return None


def import_book(
    ctx: Ctx,
    path: Path,
    name: str,
    book: ReadBook,
    actor: int | None,
    channel: str,
    default: Unit | None,
    explicit: bool = False,
) -> tuple[Outcome, SheetImport | None]:
    """The import in the caller's transaction; its record when it changed something."""
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    record = SheetImport(
        kind="",
        unit_id=None,
        actor_person_id=actor,
        channel=channel[:20],
        file_name=name[:200],
        file_sha256=digest,
        file_path=str(path),
        rows=0,
        created=0,
        updated=0,
        unchanged=0,
        created_at=ctx.clock.now(),
    )
    ctx.session.add(record)
    ctx.session.flush()
    outcome = imports.run(ctx, book, actor, default, record.id, explicit)
    if outcome.errors or not outcome.changed:
        ctx.session.delete(record)  # nothing imported: no record (the same sheet twice)
        ctx.session.flush()
        if not outcome.errors:
            outcome.previous = last_import_of(ctx.session, digest)
        return outcome, None
    for unit_code, contact_name, phone in outcome.contact_changed:
        unit = unit_by_code(ctx.session, unit_code)
        assert unit is not None
        before = {"contact_name": unit.contact_name, "contact_phone": unit.contact_phone}
        unit.contact_name, unit.contact_phone = contact_name, phone
        after = {"contact_name": contact_name, "contact_phone": phone}
        repo.audit(
            ctx.session, ctx.clock.now(), actor, "unit_contact", "unit", unit.id, before, after
        )
    record.kind = "+".join(sorted(outcome.kinds))
    record.unit_id = next(iter(outcome.unit_ids)) if len(outcome.unit_ids) == 1 else None
    record.rows, record.created = outcome.rows, outcome.created
    record.updated, record.unchanged = outcome.updated, outcome.unchanged
    repo.audit(
        ctx.session,
        ctx.clock.now(),
        actor,
        "import_sheet",
        "sheet_import",
        record.id,
        after={
            "file": record.file_name,
            "sha256": digest,
            "kind": record.kind,
            "created": record.created,
            "updated": record.updated,
            "unchanged": record.unchanged,
        },
    )
    return outcome, record


def report(ctx: Ctx, outcome: Outcome, record: SheetImport | None) -> str:
    """The import's summary, or every error (as many as excel.errors_in_message)."""
    if outcome.errors:
        shown = ctx.config.excel.errors_in_message
        lines = [ctx.t("import.refused", n=len(outcome.errors))]
        lines += [error_line(ctx, e) for e in outcome.errors[:shown]]
        if len(outcome.errors) > shown:
            lines.append(ctx.t("import.more_errors", n=len(outcome.errors) - shown))
        return "\n".join(lines)
    # rows of people whose data was erased are never imported again: said after the counts
    erased = [ctx.t("import.erased_rows", n=outcome.erased)] if outcome.erased else []
    if record is None:
        previous = outcome.previous
        if previous is not None:
            said = ctx.t("import.unchanged_again", id=previous.id, n=outcome.unchanged)
        else:
            said = ctx.t("import.unchanged", n=outcome.unchanged)
        return "\n".join([said, *erased])
    lines = [
        ctx.t(
            "import.done",
            id=record.id,
            created=outcome.created,
            updated=outcome.updated,
            unchanged=outcome.unchanged,
        )
    ]
    for _code, name, phone in outcome.contact_changed:
        lines.append(ctx.t("import.contact_saved", name=name, phone=phone))
    lines += erased
    if outcome.codes:
        lines.append(ctx.t("import.claim_hint", n=len(outcome.codes)))
    if outcome.pictures_missing:
        products = "、".join(outcome.pictures_missing[:20])
        lines.append(ctx.t("import.pictures_missing", products=products))
    return "\n".join(lines)


def error_line(ctx: Ctx, e: imports.RowError) -> str:
    reason = ctx.t(e.key, **e.params)
    if e.row == 0:
        return ctx.t(
            "import.error_sheet", sheet=e.sheet, column=e.column, value=e.value, reason=reason
        )
    return ctx.t(
        "import.error_line", sheet=e.sheet, row=e.row, column=e.column, value=e.value, reason=reason
    )


def annotate(ctx: Ctx, path: Path, book: ReadBook, outcome: Outcome) -> Path:
    """The sheets as sent (their values), with a last column: each row's errors, or what was
    done (and the claim code of a new registration). Written like an export (0600, removed
    by the job)."""
    errors: dict[tuple[str, int], list[str]] = {}
    for e in outcome.errors:
        errors.setdefault((e.sheet, e.row), []).append(f"{e.column}: {ctx.t(e.key, **e.params)}")
    heading = ctx.t("import.col.errors" if outcome.errors else "import.col.result")
    out: list[xlsx.Sheet] = []
    for data in book.sheets:
        rows = data.values
        width = max((len(r) for r in rows), default=0)
        top = rows[: data.header_row - 1]  # the rows keep their numbers, as the report says
        sheet_errors = errors.get((data.title, 0), [])
        header = [("" if v is None else str(v)) for v in rows[data.header_row - 1]]
        header += [""] * (width - len(header))
        header.append("：".join([heading, "；".join(sheet_errors)]) if sheet_errors else heading)
        body = []
        for number, row in enumerate(rows[data.header_row :], start=data.header_row + 1):
            found = errors.get((data.title, number))
            result = "；".join(found) if found else outcome.results.get((data.title, number), "")
            body.append([*row, *([None] * (width - len(row))), result])
        out.append(xlsx.Sheet(data.title, top, header, body))
    target = export_dir(ctx) / f"import-{os.urandom(6).hex()}.xlsx"
    with os.fdopen(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as fh:
        xlsx.write(fh, out)
    return target


# ----- the stamped scan ---------------------------------------------------------------------
def scan_flow(ctx: Ctx) -> list[Reply]:
    """After an import: a picture or a file is the unit's stamped scan, kept with the record."""
    inc = ctx.incoming
    if inc.document_name and inc.document_name.lower().endswith(".xlsx"):
        ctx.state.clear()  # another sheet, not the scan: imported in its turn
        return document(ctx)
    ref = inc.photo or inc.document
    if ctx.extra.get("reprompt"):
        return [ctx.reply("import.scan_ask")]
    if ref is None:  # anything else: no scan this time
        ctx.state.clear()
        return [ctx.reply("import.scan_none")]
    record = ctx.session.get(SheetImport, ctx.state.data.get("import_id", 0))
    ctx.state.clear()
    if record is None:
        return [ctx.reply("import.scan_ask")]
    record.scan_path = ref[:300]
    repo.audit(
        ctx.session,
        ctx.clock.now(),
        ctx.person_id,
        "import_scan",
        "sheet_import",
        record.id,
        after={"scan": Path(ref).name},
    )
    return [ctx.reply("import.scan_saved", id=record.id)]
