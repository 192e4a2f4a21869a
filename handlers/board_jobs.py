"""The 龙虎榜 jobs: the weekly board and the final one, each publishing every scope's board
once, drawing the main picture, and sending it to the groups and each streamer their rank (a
page of streamers at a time, committed page by page); `publish_all` does the same outside a
job (a republished final board, handlers/awards.py), and `final_board_at` says when the final
board comes. Plumbing is handlers/jobs.py; the boards themselves, models/board.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import Session

from bot.config import FestivalConfig
from bot.core.clock import Clock
from bot.core.i18n import translate
from bot.core.messages import Reply
from bot.core.outbox import Outbox
from handlers import board as board_view
from handlers import jobs
from handlers.jobs import JobCtx, JobFn, group_chats
from models import board as boards
from models import recipients
from models.scoring import ScoringRules


def publish_boards(jc: JobCtx, period: str) -> boards.Board:
    """Publish every scope's board for the period (once) and draw the main one (the city and
    university pictures are drawn when first asked for: /top 城市)."""
    return publish_all(jc.session, jc.config, jc.clock, jc.image_dir, period)


def publish_all(
    session: Session, config: FestivalConfig, clock: Clock, image_dir: Path, period: str
) -> boards.Board:
    """publish_boards outside a job (a republished final board, handlers/awards.py)."""
    rules, now = ScoringRules.of(config), clock.now()
    main = boards.publish(session, "all", period, rules, now)
    scopes = ["university", *(scope for scope, _name in boards.city_scopes(session))]
    for scope in scopes:
        boards.publish(session, scope, period, rules, now)
    if main.image_path is None or not Path(main.image_path).exists():
        # without a picture (the disk refused it) the board goes out as text
        outbox = Outbox(session, clock)
        main.image_path = board_view.picture(session, config, image_dir, main, outbox)
    return main


def final_board_at(config: FestivalConfig) -> dt.datetime:
    """When the final board is published: after the last day's reports can no longer come
    (reports of calendar.live_end are taken until reports.backfill_days later, all day),
    on the next day at schedule.final_board's time."""
    cal, sched = config.calendar, config.schedule
    day = cal.live_end + dt.timedelta(days=config.reports.backfill_days + 1)
    hour, minute = (sched.final_board.hour, sched.final_board.minute) if sched else (0, 0)
    return dt.datetime.combine(day, dt.time(hour, minute), cal.tz)


def _board_job(period: Callable[[JobCtx], str], private_key: str) -> JobFn:
    def run(jc: JobCtx) -> None:
        main = publish_boards(jc, period(jc))
        board_id, entries = main.id, main.entries
        group_locale = jc.config.locale.default
        for channel, chat_id in group_chats(jc.session, jc.config):
            jc.send_chat(
                channel, chat_id, board_view.board_reply(jc.session, jc.config, group_locale, main)
            )
        jc.checkpoint()  # the boards, the picture and the groups' messages
        # each streamer's message: a page of plain rows at a time (no ORM object per person),
        # committed page by page, so the run holds one page whatever the festival's size
        after = 0
        while page := recipients.ranked_page(jc.session, board_id, after, jobs.PAGE):
            for row in page:
                locale = row.locale or jc.config.locale.default
                text = translate(
                    locale,
                    private_key,
                    rank=row.rank,
                    n=entries,
                    change=board_view.change_text(locale, row.previous_rank, row.rank),
                    score=f"{row.score:.1f}",
                    festival=jc.config.festival.name_in(locale),
                )
                jc.send_person(row.person_id, "", Reply(text))
            after = page[-1].rank
            jc.checkpoint()

    run.__doc__ = "Publish the 龙虎榜: picture and text to the groups, each streamer their rank."
    return run


weekly_board = _board_job(lambda jc: jc.period, "board.private")
final_board = _board_job(lambda jc: "final", "board.private_final")
