"""The README's walk-through through the real entry point: `python -m bot` driven by a pipe,
with its own SQLite file (this is the run command's path, minus the venv set-up)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.flows import streamer_lines

ROOT = Path(__file__).resolve().parent.parent

ENTERPRISE = [
    "/enterprise",
    "1",
    "萍乡市",
    "市本级",
    "萍乡小满农业有限公司",
    "农产品",
    "莲花血鸭、小满米",
    "王小满",
    "+86 139-1234-5678",
    "是",
    "抖音小店",
    "【抖音商城】小满农业 https://v.douyin.com/AbCd1/ 复制此链接",
    "莲花血鸭",
    "扶贫目录",
    "1200",
    "3.5万",
    "5000",
    "跳过",
    "添加产品",
    "小满米",
    "农副产品",
    "800单",
    "2万元",
    "1万",
    "/photo rice",
    "完成",
    "同意",  # the donation rule
    "确认提交",
]


def test_done_when_walkthrough(tmp_path: Path) -> None:
    script = [
        *streamer_lines("小明的果园", followers="800"),
    ]
    cut = script.index("800")
    lines = [
        *script[: cut + 1],
        "1800",
        *script[cut + 1 :],
        "确认提交",
        *ENTERPRISE,
        "/as admin",
        "/pending",
        "/approve streamer 1",
        "/approve enterprise 1",
    ]
    # the live month: a second run on the same database, as the README says
    live = [
        "/as me",
        "/report",
        "今天 11-02",
        "5000元",
        "2小时30分",
        "1200",
        "3k",
        "45",
        "跳过",
        "确认提交",
        "/report",
        "今天 11-02",
        "6200",
        "3h",
        "1500",
        "4千",
        "60",
        "/photo shot2",
        "确认提交",
        "/reports",
    ]
    db = tmp_path / "walk.db"

    def run(clock: str, script: list[str]) -> str:
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{db}",
            "BOT_CLOCK": clock,
            "CONSOLE_USER": "me",
        }
        env.pop("TELEGRAM_BOT_TOKEN", None)
        proc = subprocess.run(
            [sys.executable, "-m", "bot"],
            input="\n".join(script) + "\n",
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=120,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    # sign-up before the registration deadline (2020-10-19), reports in the live month
    out = run("2020-10-15T20:00", lines) + run("2020-11-02T20:00", live)
    assert "报名需要粉丝量 1,000 以上，你填写的是 800" in out
    assert "报名已提交！账号：小明的果园" in out
    assert "企业报名已提交！萍乡小满农业有限公司，共 2 个产品" in out
    assert "📨 → me [me]:" in out and "已通过审核" in out
    assert "战报已保存：2020-11-02 成交额 5,000 元" in out
    assert "已更正 2020-11-02 的战报" in out and "成交额 6,200 元" in out
    assert "（已更正 1 次）" in out
    with sqlite3.connect(db) as conn:
        count = lambda table: conn.execute(f"select count(*) from {table}").fetchone()[0]  # noqa: E731
        assert count("streamers") == 1
        assert count("live_accounts") == 1
        assert count("enterprises") == 1
        assert count("products") == 2
        assert count("daily_reports") == 1
        row = conn.execute(
            "select gmv_fen, duration_minutes, revision from daily_reports"
        ).fetchone()
        assert row == (620000, 180, 2)
        before = conn.execute("select before from audit_log where action = 'correct'").fetchone()[0]
        assert '"gmv_fen": 500000' in before


def test_the_end_of_input_ends_the_chat_without_a_traceback(tmp_path: Path) -> None:
    """Input that ends at once stops the bot while the scheduler's first look for due jobs
    is under way: it stops quietly (it logged the wake job's CancelledError)."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'eof.db'}"}
    env.pop("TELEGRAM_BOT_TOKEN", None)
    proc = subprocess.run(
        [sys.executable, "-m", "bot"],
        input="",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "CancelledError" not in proc.stderr, proc.stderr
