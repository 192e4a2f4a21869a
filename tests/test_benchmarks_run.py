"""The benchmark scripts still run (a change of an internal signature once broke one unseen).
Tiny sizes, their own SQLite databases: this checks that they work, never how fast."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

RUNS = {
    "engine": (["--users", "3", "--pg", ""], "steps/s"),
    "excel": (
        ["--streamers", "20", "--days", "2", "--enterprises", "3", "--rows", "10"],
        "import 10 rows",
    ),
    "fraud": (["--honest", "80", "--cheats", "16"], "| inflated_gmv | 2 |"),
    "late_replies": (["--followers", "4", "--delay", "0.02", "--pairs", "1"], "| 16 | 10% |"),
    "leaderboard": (["--streamers", "50", "--days", "2"], "refresh_day per report"),
    "broadcast": (["--recipients", "20"], "'sent': 20"),
    "awards": (
        ["--streamers", "60", "--days", "2", "--enterprises", "10", "--products", "30"],
        "award lists (all three kinds), best of 3:",
    ),
    "wechat": (["--followers", "2"], "registrations submitted: 2/2"),
    "faults": (
        "--people 2 --scale 0.02 --only telegram/502 wechat/lost3".split(),
        "| wechat | lost3 | 2 |",
    ),
    "memory": (
        "--streamers 30 --people 2 --reporters 2 --idle 0.2 --deliver-seconds 0.5"
        " --links --max-upload-mb 0.001".split(),  # the export above the limit: its link
        "above the upload limit: a link",
    ),
    "erasure": (["--people", "5", "--days", "2"], "retention job for 4 people"),
    "telegram": (["--users", "3"], "| ours | 3 | 75 |"),
    "certificates": (
        "--processes 1 --participation 3 --streamer-awards 2 --unit-awards 1"
        " --enterprise-awards 1 --donations 2".split(),
        "rendered: 9 (PDF + PNG), failed: 0",
    ),
}


@pytest.mark.parametrize("name", sorted(RUNS))
def test_the_benchmark_runs(name: str) -> None:
    args, expected = RUNS[name]
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / f"{name}.py"), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert expected in done.stdout, done.stdout[-2000:]


@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="several workers need PostgreSQL"
)
def test_the_workers_benchmark_runs() -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "workers.py"),
            *("--pg", os.environ["TEST_DATABASE_URL"], "--workers", "2", "--users", "3"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    # 75 updates; 3 stored right, 0 wrong, 0 lost, 0 doubled, 0 unhandled
    assert "| 2 | 3 | - | 75 |" in done.stdout, done.stdout[-2000:]
    assert "| 3 | 0 | 0 | 0 | 0 |" in done.stdout, done.stdout[-2000:]
