"""Signed, expiring links to certificates' PDFs for WeChat followers (an Official Account
cannot send files): the link works, a changed or expired one does not, and nothing outside
the certificates folder can be named."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.channels.file_links import FileLinks
from bot.core.dispatcher import Core
from tests.fake_wechat import FakeWeChat, wechat_bot
from tests.test_certificate_issue import records  # noqa: F401  (the fixture)


def test_links_hold_only_while_signed_and_fresh(tmp_path: Path) -> None:
    root = tmp_path / "certificates"
    root.mkdir()
    (root / "a.pdf").write_bytes(b"%PDF-1.4 a")
    (tmp_path / "secret.txt").write_text("not for followers")
    clock = [1_000_000.0]
    links = FileLinks("https://bot.example.org/", b"k", root, hours=2, now=lambda: clock[0])
    url = links.link(root / "a.pdf")
    assert url is not None and url.startswith("https://bot.example.org/files/")
    token = url.rsplit("/", 1)[1]
    assert links.resolve(token) == (root / "a.pdf").resolve()
    encoded, expires, signature = token.split(".")
    assert links.resolve(f"{encoded}.{int(expires) + 3600}.{signature}") is None  # longer
    assert links.resolve(f"{encoded}.{expires}.{signature[:-1]}x") is None
    assert links.link(tmp_path / "secret.txt") is None  # outside the folder: no link
    other = FileLinks("https://bot.example.org", b"other key", root, hours=2)
    assert other.resolve(token) is None
    clock[0] += 2 * 3600 + 1
    assert links.resolve(token) is None  # expired


@pytest.mark.fake("wechat")
def test_a_follower_gets_a_working_link_to_their_pdf(
    files_core: Core,
    fake: FakeWeChat,
    db: Engine,
    records: dict[str, int],  # noqa: F811
) -> None:
    """A streamer on WeChat asks for their certificates: the pictures come as pictures, the
    PDFs as links that the bot's web app serves."""
    from sqlalchemy.orm import Session

    from tests import festival_data as data

    with Session(db) as s, s.begin():  # a follower who is an approved streamer
        data.streamer(s, "微信主播", user="o_cert", channel="wechat")

    async def scenario() -> tuple[int, bytes, int]:
        async with wechat_bot(files_core, fake, False, public_base_url="http://bot.test") as bot:
            text = await bot.follower("o_cert").say("/certificate")
            urls = re.findall(r"http://bot\.test/files/\S+", text)
            assert len(urls) == 1  # the participation certificate's PDF
            http = bot.server.http
            good = await http.get(urls[0])
            bad = await http.get(urls[0][:-2] + "xx")
            return good.status_code, good.content, bad.status_code

    status, pdf, tampered = asyncio.run(scenario())
    assert (status, pdf[:4], tampered) == (200, b"%PDF", 404)
