"""Certificates from the festival's records: who gets which, numbers that stay with their
holders, the committee's ZIP, a person's own, the command line; the PDFs read back."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.config import FestivalConfig
from bot.core.clock import FixedClock
from bot.core.dispatcher import Core
from handlers.certificate_issue import write_all
from handlers.routes import ROUTES
from models import AwardEntry, AwardList, Certificate, ledger
from models.units import unit_by_code
from tests import festival_data as data
from tests.catalog import said
from tests.chat import Chat
from tests.test_certificates import pdf_text

AFTER = dt.datetime(2020, 12, 10, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.fixture
def records(db: Engine, clock: FixedClock) -> dict[str, int]:
    """Two approved streamers and one waiting; an enterprise with 123,456.70 元 received (of
    which 20,000 directed); a frozen award list: 特等奖 (the ambassador), an organisation and
    the enterprise's 贡献奖."""
    clock.set(AFTER)
    with Session(db, expire_on_commit=False) as s, s.begin():
        admin = data.admin(s, "boss")
        star = data.streamer(s, "赣南小橙")
        data.streamer(s, "井冈山小李")
        data.streamer(s, "还在审核", status="pending_review")
        firm, _ = data.enterprise(s, "绿源农业有限公司", ["脐橙"], user="firm")
        now = AFTER
        ledger.add_payment(s, firm.id, 10_000_000, dt.date(2020, 12, 1), admin.id, now)
        ledger.add_payment(s, firm.id, 2_345_670, dt.date(2020, 12, 5), admin.id, now)
        ledger.set_direction(s, firm.id, "井冈山希望小学图书室", 2_000_000, now)
        unit = unit_by_code(s, "360302")
        assert unit is not None
        frozen = AwardList(version=1, frozen_at=now, frozen_by=admin.id)
        s.add(frozen)
        s.flush()
        s.add_all(
            [
                AwardEntry(
                    list_id=frozen.id,
                    kind="streamer",
                    tier="grand",
                    subject_id=star.id,
                    place=1,
                    ambassador=True,
                    breakdown={},
                ),
                AwardEntry(
                    list_id=frozen.id,
                    kind="organisation",
                    tier="organisation",
                    subject_id=unit.id,
                    place=1,
                    breakdown={},
                ),
                AwardEntry(
                    list_id=frozen.id,
                    kind="enterprise",
                    tier="contribution",
                    subject_id=firm.id,
                    place=1,
                    breakdown={},
                ),
            ]
        )
        return {"star": star.id, "firm": firm.id, "unit": unit.id}


def _numbers(db: Engine) -> dict[tuple[str, str, int], str]:
    with Session(db) as s:
        return {
            (c.kind, c.subject_kind, c.subject_id): c.number for c in s.scalars(select(Certificate))
        }


def test_the_committee_gets_every_certificate_in_one_zip(
    files_core: Core, records: dict[str, int], db: Engine, tmp_path: Path
) -> None:
    chat = Chat(files_core)
    assert said(chat.say("boss", "/certificates"), "cert.issued", n=6)
    (reply,) = chat.last
    assert reply.document_path is not None
    with zipfile.ZipFile(reply.document_path) as archive:
        pdfs = [n for n in archive.namelist() if n.endswith(".pdf")]
    assert len(pdfs) == 6  # 2 participation (not the one under review), 3 awards, 1 thanks
    numbers = _numbers(db)
    assert len(numbers) == 6
    with Session(db) as s:
        rows = {c.number: c for c in s.scalars(select(Certificate))}
    texts = {n: pdf_text(Path(str(rows[n].pdf_path))) for n in rows}
    grand = texts[numbers[("award", "streamer", records["star"])]]
    assert "赣南小橙" in grand and "特等奖" in grand and "江西青年电商扶贫大使" in grand
    assert "表现突出" in grand  # the award's own wording (cert.award_streamer), not its name
    thanks = texts[numbers[("donation", "enterprise", records["firm"])]]
    assert "绿源农业有限公司" in thanks
    assert "123,456.70" in thanks and "壹拾贰万叁仟肆佰伍拾陆元柒角整" in thanks
    assert "井冈山希望小学图书室" in thanks
    organisation = texts[numbers[("award", "unit", records["unit"])]]
    assert "优秀组织奖" in organisation and "安源区" in organisation
    # issued again: the same numbers, nothing new
    chat.say("boss", "/certificates")
    assert _numbers(db) == numbers


def test_a_person_gets_their_own(files_core: Core, records: dict[str, int], db: Engine) -> None:
    chat = Chat(files_core)
    chat.say("赣南小橙", "/certificate")
    pictures = [r.image_path for r in chat.last if r.image_path]
    documents = [r.document_path for r in chat.last if r.document_path]
    assert len(pictures) == len(documents) == 2  # participation and 特等奖
    assert all(Path(str(p)).is_file() for p in pictures + documents)
    assert said(chat.say("还在审核", "/certificate"), "cert.none_yours")
    chat.say("firm", "/certificate")
    assert len([r for r in chat.last if r.document_path]) == 2  # 贡献奖 and 捐赠确认函


def test_too_many_for_a_chat_step_go_to_the_background(
    db: Engine, config: FestivalConfig, clock: FixedClock, records: dict[str, int], tmp_path: Path
) -> None:
    """(the background's own tests: tests/test_certificate_batches.py)"""
    few = config.certificates.model_copy(update={"chat_limit": 3})
    core = Core(config.model_copy(update={"certificates": few}), db, clock, ROUTES, tmp_path)
    try:
        assert said(Chat(core).say("boss", "/certificates"), "cert.run_started", n=6, max=3)
        assert said(Chat(core).say("赣南小橙", "/certificates"), "err.not_allowed")
    finally:
        core.executor.shutdown()


def test_the_command_line_writes_the_same_set(
    db: Engine, config: FestivalConfig, records: dict[str, int], tmp_path: Path
) -> None:
    with Session(db, expire_on_commit=False) as s, s.begin():
        rendered, failed, archive = write_all(s, config, tmp_path / "out", AFTER)
    assert (len(rendered), failed) == (6, [])
    assert archive is not None and archive.is_file()
    assert {r.number for r in rendered} == set(_numbers(db).values())
