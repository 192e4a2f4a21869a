"""The award list picture draws its text in glyph runs, as the 龙虎榜 does: an emoji in a
winner's name (and the ambassador's ⭐) is drawn with the emoji font, never a tofu box; a
name too long for its column is cut with …, keeping its head."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from handlers import award_image
from handlers import glyph_runs as gr

LONG = "赣南脐橙原产地直播间🍊官方旗舰店·每天晚上八点准时开播欢迎来看"


def test_emoji_in_names_are_drawn_with_the_emoji_font(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn: list[str] = []
    real = gr.draw

    def record(canvas, xy, text, size, fill):  # type: ignore[no-untyped-def]
        drawn.append(text)
        real(canvas, xy, text, size, fill)

    monkeypatch.setattr(gr, "draw", record)
    sections = [
        award_image.Section("优秀主播奖 · 特等奖", [("1", "🍊小明的果园⭐", "萍乡市", "98.5")]),
        award_image.Section("优秀主播奖 · 一等奖", [("2", LONG, "赣州市 瑞金市", "91.0")]),
    ]
    path = award_image.render(
        "🏅 点亮原产地·江西青年直播节 获奖名单（第 1 版）",
        ("名次", "获奖者", "单位", "得分"),
        sections,
        tmp_path / "awards.png",
    )
    assert Image.open(path).size[0] == award_image.WIDTH
    assert "🍊小明的果园⭐" in drawn and drawn[0].startswith("🏅")
    for text in drawn:  # every character drawn has a font that maps it
        assert gr.drawn_text(text) == text, text
        for run in gr.runs(text):
            assert all(ord(ch) in run.face.cmap for ch in run.text), (text, run)
    emoji = [r.text for t in drawn for r in gr.runs(t) if r.face.name == "emoji"]
    assert {"🍊", "⭐", "🏅"} <= set("".join(emoji))
    (cut,) = (t for t in drawn if t.endswith("…"))
    assert LONG.startswith(cut[:-1]) and len(cut) < len(LONG)
