"""Questions follow the streamer's platforms (config `platforms[].asks`): a 京东直播-only
streamer is not asked 音浪 or dou+; a Douyin streamer, or one with a Douyin second account, is."""

from __future__ import annotations

from sqlalchemy import select

from bot.core.dispatcher import Core
from handlers import streamer as streamer_form
from models import Streamer
from tests.chat import Chat, form_answers
from tests.flows import STREAMER_HEAD

JD_LINES = [
    *STREAMER_HEAD[:-1],
    "京东直播",
    "京东小店主",
    "跳过",  # no second platform
    "138 0013 8000",
    "1.2万",
    "3.5万",
    # no 音浪 question
    "20",
    "45.5",
    "10万",
    "5000",
    "800",
    "12.5万",
    "跳过",  # average order value
    # no dou+ question
    "3.5%",
    "1,3",
    "以上全部属实",
]


def test_config_names_only_questions_of_the_form(core: Core) -> None:
    names = {f.name for f in streamer_form.FIELDS}
    assert core.config.platform_questions() <= names
    assert core.config.platform_questions() == {"tips_income", "dou_plus_spend_fen"}


def test_a_jd_only_streamer_is_not_asked_tips_or_dou_plus(chat: Chat, core: Core) -> None:
    out = chat.run("jd1", JD_LINES)
    assert "【主播报名信息确认】" in out, out[-600:]
    answers = form_answers(core, "jd1")
    assert "tips_income" not in answers and "dou_plus_spend_fen" not in answers
    assert answers["monthly_live_days"] == 20
    chat.say("jd1", "确认提交")
    with core.sessions() as s:
        st = s.scalars(select(Streamer)).one()
        assert st.tips_income is None and st.dou_plus_spend_fen is None
        assert st.monthly_live_days == 20 and st.followers == 12000


def test_a_douyin_second_account_brings_the_questions_back(chat: Chat, core: Core) -> None:
    lines = [*STREAMER_HEAD[:-1], "京东直播", "京东小店主", "抖音", "抖音同名号", "138 0013 8000"]
    chat.run("jd2", lines)
    chat.say("jd2", "1.2万")
    chat.say("jd2", "3.5万")
    assert (chat.last[-1].question or "").endswith("['tips_income']")
