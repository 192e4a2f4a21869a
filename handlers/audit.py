"""/audit (committee): before the award list is frozen, the reports of the top N streamers of
the final board (audit.top_n; default the streamer award places) are checked one by one, with
the progress ("27/38 位主播已完成"). Per report a checklist: the evidence matches the figures,
the platform's backend screenshot is there, and the GMV that screenshot shows, typed by the
reviewer (the report form's money parser). One answer per report:

- the backend GMV typed: passed, when it agrees with the report within the reconciliation
  threshold (audit.reconcile_*); a bigger difference is shown and waits for 「仍然通过」 or a
  rejection;
- 「相符，无后台截图」: passed without a backend figure;
- 「驳回」 and a reason: the ordinary report rejection (handlers/report_review.py `reject`:
  totals refreshed, the streamer told), then the final board is published again
  (handlers/awards.py `republish_final`): ranks move, and whoever enters the top N is audited.

`/awards final` is refused while a streamer in scope has reports waiting (models/award_lists.py
`open_items`). Every decision is a row of report_audits and an audit_log entry.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from bot.core.context import Ctx
from bot.core.i18n import fmt_int, fmt_minutes, fmt_yuan
from bot.core.messages import Reply
from bot.core.parsers import ParseError, parse_money_fen
from handlers import awards as awarding
from handlers.board_jobs import final_board_at
from handlers.reasons import REASON_MAX, typed_reason
from handlers.report_review import reject
from models import DailyReport, LiveAccount, Streamer, audits
from models import award_lists as lists
from models.board import final_board
from models.reconcile_rules import Threshold
from models.streamer_names import account_names

FLOW = "audit"


def audit(ctx: Ctx) -> list[Reply]:
    """/audit: the progress and the first report waiting (its evidence, then its card)."""
    ctx.state.flow = FLOW
    ctx.state.data = {"skipped": []}
    return _next(ctx, [])


def _scope(ctx: Ctx) -> list[int] | None:
    """The streamers in scope, kept in the flow's state while the final board is the same
    (ranking a board of 100,000 takes a few tenths of a second: not at every report)."""
    board = final_board(ctx.session)
    if board is None:
        return None
    data = ctx.state.data
    if data.get("board") != board.id or "scope" not in data:
        data["board"], data["scope"] = board.id, lists.audit_scope(ctx.session, ctx.config) or []
    return [int(s) for s in data["scope"]]


def _next(ctx: Ctx, before: list[Reply]) -> list[Reply]:
    """The next report waiting (skipped ones last time round), or where the audit stands."""
    scope = _scope(ctx)
    if scope is None:
        ctx.state.clear()
        at = final_board_at(ctx.config).strftime("%Y-%m-%d %H:%M")
        return [*before, ctx.reply("audit.no_final_board", at=at)]
    if not scope:
        ctx.state.clear()
        return [*before, ctx.reply("audit.nothing_in_scope")]
    cal = ctx.config.calendar
    progress = audits.progress(ctx.session, scope, cal.live_start, cal.live_end)
    skipped = set(ctx.state.data.get("skipped", []))
    for streamer_id in progress.open_streamers:
        for report_id in progress.waiting[streamer_id]:
            if report_id in skipped:
                continue
            report = ctx.session.get(DailyReport, report_id)
            if report is None:
                continue
            data = ctx.state.data
            data.update(
                report=report.id, revision=report.revision, rank=scope.index(streamer_id) + 1
            )
            data.pop("backend", None)
            data.pop("reject", None)
            return [*before, *_evidence(ctx, report), _card(ctx, report, progress)]
    ctx.state.clear()
    if progress.waiting:
        key = "audit.only_skipped"
    else:
        key = "audit.all_done"
    return [
        *before,
        ctx.reply(key, done=progress.done, total=progress.total, reports=progress.reports_left),
    ]


def _evidence(ctx: Ctx, report: DailyReport) -> list[Reply]:
    if not report.evidence_file_id:
        return []
    return [
        Reply(
            ctx.t("audit.evidence_of", day=report.report_date),
            image_path=report.evidence_file_id,
        )
    ]


def _card(ctx: Ctx, report: DailyReport, progress: audits.Progress | None = None) -> Reply:
    if progress is None:
        scope = _scope(ctx) or []
        cal = ctx.config.calendar
        progress = audits.progress(ctx.session, scope, cal.live_start, cal.live_end)
    account = ctx.session.get(LiveAccount, report.account_id)
    name = account_names(ctx.session, [report.streamer_id]).get(report.streamer_id, "?")
    data = ctx.state.data
    lines = [
        ctx.t(
            "audit.progress",
            done=progress.done,
            total=progress.total,
            reports=progress.reports_left,
        ),
        ctx.t(
            "audit.card",
            rank=data.get("rank", "?"),
            account=name,
            id=report.streamer_id,
            day=report.report_date,
            platform=ctx.config.platform_label(account.platform, ctx.locale) if account else "",
            gmv=fmt_yuan(report.gmv_fen),
            duration=fmt_minutes(report.duration_minutes, ctx.locale),
            viewers=fmt_int(report.viewers),
            likes=fmt_int(report.likes),
            orders=fmt_int(report.orders),
        ),
        ctx.t("audit.has_evidence" if report.evidence_file_id else "audit.no_evidence"),
    ]
    left = len(progress.waiting.get(report.streamer_id, []))
    if left > 1:
        lines.insert(2, ctx.t("audit.streamer_left", n=left))
    backend = data.get("backend")
    if backend is None:
        lines.append(ctx.t("audit.checklist"))
        first = ctx.button("btn.audit_pass_no_backend", "au:nb")
    else:
        diff = int(backend) - report.gmv_fen
        lines.append(
            ctx.t(
                "audit.backend_differs",
                backend=fmt_yuan(int(backend)),
                gmv=fmt_yuan(report.gmv_fen),
                diff=fmt_yuan(abs(diff)),
            )
        )
        first = ctx.button("btn.audit_pass_anyway", "au:ok")
    return Reply(
        "\n".join(lines),
        (
            (first, ctx.button("btn.audit_reject", "au:no")),
            (ctx.button("btn.skip_item", "au:skip"), ctx.button("btn.end_review", "au:end")),
        ),
    )


def _reason_prompt(ctx: Ctx) -> list[Reply]:
    return [
        Reply(ctx.t("review.ask_reason", max=REASON_MAX), ((ctx.button("btn.back", "au:back"),),))
    ]


def audit_flow(ctx: Ctx) -> list[Reply]:
    """A button of the current card, the backend GMV typed, or the reason of a rejection."""
    data = ctx.state.data
    report = ctx.session.get(DailyReport, int(data.get("report") or 0))
    if report is None or report.revision != data.get("revision") or report.rejected:
        # corrected, or rejected by someone else meanwhile: the next report
        return _next(ctx, [ctx.reply("audit.changed")] if report is not None else [])
    done = audits.audit_of(ctx.session, report.id)
    if done is not None and done.report_revision == report.revision:
        return _next(ctx, [ctx.reply("audit.changed")])  # another reviewer audited it
    if ctx.extra.get("reprompt"):
        return _reason_prompt(ctx) if data.get("reject") else [_card(ctx, report)]
    action = ctx.action
    if data.get("reject"):
        if action == "au:back":
            data.pop("reject")
            return [_card(ctx, report)]
        reason = typed_reason(ctx)
        if isinstance(reason, Reply):  # no reason yet: said why, asked again
            return [reason, *_reason_prompt(ctx)]
        data.pop("reject")
        return _reject(ctx, report, reason)
    if action == "au:nb":
        return _next(ctx, [_pass(ctx, report, None)])
    if action == "au:ok" and data.get("backend") is not None:
        return _next(ctx, [_pass(ctx, report, int(data["backend"]))])
    if action == "au:no":
        data["reject"] = True
        return _reason_prompt(ctx)
    if action == "au:skip":
        data.setdefault("skipped", []).append(report.id)
        return _next(ctx, [])
    if action == "au:end":
        ctx.state.clear()
        return [ctx.reply("audit.ended")]
    if action is None and ctx.incoming.text is not None:
        return _typed_backend(ctx, report, ctx.incoming.text)
    return [ctx.reply("audit.use_buttons"), _card(ctx, report)]


def threshold(ctx: Ctx) -> Threshold:
    a = ctx.config.audit
    return Threshold.of(a.reconcile_percent, a.reconcile_yuan)


def _typed_backend(ctx: Ctx, report: DailyReport, text: str) -> list[Reply]:
    """The backend GMV typed: passed when it agrees with the report within the threshold,
    else the difference shown, waiting for 「仍然通过」 or a rejection."""
    try:
        fen = parse_money_fen(text, max_yuan=ctx.config.reports.max_gmv_yuan)
    except ParseError as err:
        return [ctx.reply(err.key, **err.params), _card(ctx, report)]
    if not threshold(ctx).exceeded(report.gmv_fen, fen):
        return _next(ctx, [_pass(ctx, report, fen)])
    ctx.state.data["backend"] = fen
    return [_card(ctx, report)]


def _pass(ctx: Ctx, report: DailyReport, backend_fen: int | None) -> Reply:
    audits.record(
        ctx.session,
        report,
        audits.PASSED,
        evidence_matches=bool(report.evidence_file_id),
        backend_present=backend_fen is not None,
        backend_gmv_fen=backend_fen,
        reason=None,
        actor=ctx.person_id,
        now=ctx.clock.now(),
    )
    key = "audit.passed" if backend_fen is not None else "audit.passed_no_backend"
    return ctx.reply(key, day=report.report_date, backend=fmt_yuan(backend_fen or 0))


def _boards_dir(ctx: Ctx) -> Path:
    if ctx.files_dir is not None:
        return ctx.files_dir / "boards"
    return Path(tempfile.gettempdir()) / f"festival-boards-{os.getuid()}"


def _reject(ctx: Ctx, report: DailyReport, reason: str) -> list[Reply]:
    """The report rejection path, the audit's row, then the final board published again."""
    owner = ctx.session.get(Streamer, report.streamer_id)
    revision, backend = report.revision, ctx.state.data.get("backend")
    before = lists.audit_scope(ctx.session, ctx.config) or []
    day = None
    if owner is not None:
        day = reject(ctx, owner.id, owner.person_id, report.id, revision, reason)
    if day is None:
        return _next(ctx, [ctx.reply("audit.changed")])
    ctx.session.refresh(report)
    audits.record(
        ctx.session,
        report,
        audits.REJECTED,
        evidence_matches=False,
        backend_present=backend is not None,
        backend_gmv_fen=None if backend is None else int(backend),
        reason=reason,
        actor=ctx.person_id,
        now=ctx.clock.now(),
    )
    was = final_board(ctx.session)
    board, frozen = awarding.republish_final(
        ctx.session, ctx.config, ctx.clock, ctx.outbox, _boards_dir(ctx), ctx.person_id
    )
    if was is not None and board.id == was.id:  # nothing on the board moved
        replies = [ctx.reply("audit.rejected_board_unchanged", day=day, period=board.period)]
    else:
        replies = [ctx.reply("audit.rejected", day=day, period=board.period)]
    after = lists.audit_scope(ctx.session, ctx.config) or []
    entered = [s for s in after if s not in before]
    if entered:
        names = account_names(ctx.session, entered)
        shown = " · ".join(names.get(s, f"#{s}") for s in entered)
        replies.append(ctx.reply("audit.entered", n=len(after), names=shown))
    if frozen is not None and frozen.open_items:
        replies.append(ctx.reply("audit.list_held"))
    elif frozen is not None and frozen.new is not None:
        replies.append(ctx.reply("audit.list_refrozen", version=frozen.new.version))
    return _next(ctx, replies)
