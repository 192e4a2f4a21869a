"""A document (an export) onto Telegram: streamed from the disk when it fits the Bot API's
upload limit (telegram.max_upload_mb), never uploaded when it does not: then a signed
download link where the bot has a public address (PUBLIC_BASE_URL), else a note saying why.
Against the fake Bot API, which refuses an upload above its limit as Telegram does (413)."""

from __future__ import annotations

import hashlib
import re
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.config import FestivalConfig
from bot.core.clock import FixedClock
from bot.core.dispatcher import Core
from handlers.routes import ROUTES
from tests import flows
from tests.catalog import label, said
from tests.fake_telegram import TELEGRAM_ADMIN, BotThread, FakeTelegram, Sent, config_for_tests

pytestmark = [
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBUserWarning"),
    pytest.mark.fake("telegram"),
]

TINY_MB = 0.001  # about 1 KB: every workbook is bigger
TINY_BYTES = int(TINY_MB * 1024 * 1024)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_core(
    db: Engine, config: FestivalConfig, clock: FixedClock, files: Path, **limits: object
) -> Core:
    return Core(config_for_tests(config, **limits), db, clock, ROUTES, files)


@pytest.fixture
def small_limit(
    db: Engine, config: FestivalConfig, clock: FixedClock, tmp_path: Path, fake: FakeTelegram
) -> Iterator[Core]:
    """A bot whose uploads may be 1 KB at most, as the fake Telegram's."""
    fake.max_upload_bytes = TINY_BYTES
    core = make_core(db, config, clock, tmp_path, max_upload_mb=TINY_MB)
    yield core
    core.executor.shutdown()


def exported(fake: FakeTelegram) -> list[Sent]:
    """The committee member asks for the streamers' sheet (one streamer registered)."""
    fake.user(1021, "alice").run([*flows.streamer_lines("alice_export"), "确认提交"])
    return fake.user(TELEGRAM_ADMIN, "admin").say("/export streamers")


def the_file(files: Path) -> Path:
    [path] = (files / "exports").glob("streamers-*.xlsx")
    return path


def test_a_file_within_the_limit_is_streamed_whole(
    db: Engine, config: FestivalConfig, clock: FixedClock, tmp_path: Path, fake: FakeTelegram
) -> None:
    core = make_core(db, config, clock, tmp_path)
    try:
        with BotThread(core, fake):
            fake.wait(lambda: fake.stats.calls.get("getUpdates", 0) > 0)
            out = exported(fake)
    finally:
        core.executor.shutdown()
    [document] = [m for m in out if m.kind == "document"]
    assert said(document.text, "export.done", kind=label("export.kind.streamers"))
    path = the_file(tmp_path)
    assert document.file_name == path.name
    assert document.media["size"] == path.stat().st_size
    assert document.media["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_file_above_the_limit_is_not_uploaded_without_a_public_address(
    small_limit: Core, fake: FakeTelegram, tmp_path: Path
) -> None:
    with BotThread(small_limit, fake):
        fake.wait(lambda: fake.stats.calls.get("getUpdates", 0) > 0)
        out = exported(fake)
    assert fake.stats.calls.get("sendDocument", 0) == 0  # not even tried
    assert [m.kind for m in out] == ["text"]
    path = the_file(tmp_path)
    size = f"{path.stat().st_size / 2**20:,.1f}"
    assert said(out[0].text, "export.done", kind=label("export.kind.streamers"))
    assert said(out[0].text, "tg.document_too_big", name=path.name, size=size, limit="0.001")


def test_a_file_above_the_limit_goes_as_a_signed_link_the_bot_serves(
    small_limit: Core, fake: FakeTelegram, tmp_path: Path
) -> None:
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    with BotThread(small_limit, fake, public_base_url=public, web_port=port):
        fake.wait(lambda: fake.stats.calls.get("getUpdates", 0) > 0)
        out = exported(fake)
        assert fake.stats.calls.get("sendDocument", 0) == 0
        path = the_file(tmp_path)
        hours = f"{small_limit.config.excel.keep_exports_hours:g}"
        assert said(out[0].text, "tg.document_link", name=path.name, hours=hours)
        [url] = re.findall(rf"{re.escape(public)}/exports/\S+", out[0].text)
        assert said(out[0].text, "tg.document_link", name=path.name, hours=hours, url=url)
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.read() == path.read_bytes()
        # a link changed by one character, or taken to the certificates' folder, opens nothing
        token = url.rsplit("/", 1)[1]
        for bad in (url[:-1] + ("A" if url[-1] != "A" else "B"), f"{public}/files/{token}"):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(bad, timeout=10)
            assert refused.value.code == 404
