"""How replies look on WeChat, long texts, and the WeCom group configuration."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.channels.wechat.protocol import cdata
from bot.channels.wechat.render import as_text, chunks, pictures
from bot.config import GroupChat
from bot.core.messages import Button, Reply
from tests.catalog import said


def test_choices_are_numbered_across_the_step_and_pictures_go_apart() -> None:
    replies = [
        Reply("请选择：", ((Button("主播报名", "a"), Button("企业报名", "b")),), numbered=True),
        Reply("龙虎榜", image_path="/tmp/board.png"),
        Reply("你的手机号？", ((Button("跳过", "skip"),),), numbered=True, request_contact=True),
        Reply("导出完成", document_path="/tmp/export.xlsx"),
    ]
    text = as_text(replies)
    assert "[1] 主播报名  [2] 企业报名" in text and "[3] 跳过" in text
    assert "/tmp" not in text and "/contact" not in text  # no server paths, no console hints
    assert said(text, "wechat.no_documents")  # the document cannot be sent: said so
    assert pictures(replies) == ["/tmp/board.png"]


def test_long_texts_are_cut_between_lines_within_the_byte_limit() -> None:
    text = "\n".join(f"{i}. " + "榜" * 90 for i in range(40))
    pieces = chunks(text, 2000)
    assert len(pieces) > 1 and all(len(p.encode()) <= 2000 for p in pieces)
    assert "\n".join(pieces) == text
    one_line = "😀" * 1000  # 4 bytes each, no line break
    assert "".join(chunks(one_line, 2000)) == one_line


def test_cdata_cannot_be_closed_by_user_text() -> None:
    assert cdata("a]]>b") == "<![CDATA[a]]]]><![CDATA[>b]]>"
    assert cdata("x\x00\x08y") == "<![CDATA[xy]]>"  # characters XML forbids are dropped


def test_a_wecom_group_needs_its_kind_and_key_variable() -> None:
    with pytest.raises(ValidationError, match="kind"):
        GroupChat(channel="wecom", chat_id="board")
    with pytest.raises(ValidationError):
        GroupChat.model_validate(
            {"channel": "wecom", "chat_id": "b", "kind": "fax", "key_env": "X"}
        )
    assert GroupChat(channel="wecom", chat_id="board", kind="robot", key_env="K").kind == "robot"
