"""Telegram benchmark: N simulated users registering at once through the fake Bot API server
(long polling, answering instantly, no rate limits in the fake), our bot (`python -m bot`, every
step committed before its reply) side by side with a plain PTB ConversationHandler +
PicklePersistence bot (benchmarks/plain_ptb_bot.py) in the same run.

    .venv/bin/python benchmarks/telegram.py [--users 50 200] [--pg URL] [--tree DIR]

`--tree DIR` runs our bot from another checkout (a `git worktree` of an older commit: its
directory is the bot's working directory and first on its PYTHONPATH), driven by this script and
this fake, so that only the bot differs between two runs.

Prints, per bot and user count: updates/s, reply latency p50/p99 (from the update being
available to the step's answer arriving at the fake) and the bot process's peak memory.
Each bot runs in its own process; the fake and the users run in this one.

Longer than 300 lines on purpose: one script, run by hand, that should stay readable top to
bottom (set-up, the simulated users, the fault mode, the report).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# This file's directory is sys.path[0] when run as a script, and it holds telegram.py:
# drop it, or `import telegram` would find the benchmark instead of the library.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from benchmarks.common import cpu_seconds, peak_mb, scratch_database  # noqa: E402
from benchmarks.plain_ptb_bot import QUESTIONS  # noqa: E402
from tests.fake_telegram import FakeTelegram, Sent  # noqa: E402
from tests.flows import streamer_lines  # noqa: E402


def ours_script(n: int) -> list[str]:
    return [*streamer_lines(f"acct_{n}"), "确认提交"]


def plain_script(n: int) -> list[str]:
    answers = {"account": f"acct_{n}", "phone": "13800138000", "hours": "45.5"}
    lines = ["/start", "主播报名"]
    for key, _question, buttons in QUESTIONS:
        lines.append(buttons[0] if buttons else answers.get(key, str(1000 + n)))
    return [*lines, "确认提交"]


@dataclass
class Result:
    bot: str
    users: int
    updates: int
    seconds: float
    latencies: list[float]
    peak_mb: float
    stored: int
    cpu_seconds: float
    calls: int
    step_latencies: list[tuple[int, float]]

    def by_step(self) -> str:
        """p50/p99 per step index (latencies are kept in script order per user)."""
        steps: dict[int, list[float]] = {}
        for index, latency in self.step_latencies:
            steps.setdefault(index, []).append(latency)
        lines = [f"  {self.bot} {self.users} users, per step: index p50 p99 (ms)"]
        for index, values in sorted(steps.items()):
            values.sort()
            p50 = values[len(values) // 2] * 1000
            p99 = values[min(len(values) - 1, int(len(values) * 0.99))] * 1000
            lines.append(f"  {index:3d} {p50:7.0f} {p99:7.0f}")
        return "\n".join(lines)

    def row(self) -> str:
        lat = sorted(self.latencies)
        p50 = lat[len(lat) // 2] * 1000
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000
        return (
            f"| {self.bot} | {self.users} | {self.updates} | {self.updates / self.seconds:,.0f} "
            f"| {p50:,.0f} ms | {p99:,.0f} ms | {self.peak_mb:,.0f} MB | {self.stored} "
            f"| {self.calls / self.updates:.2f} | {self.cpu_seconds / self.updates * 1000:.2f} ms |"
        )


async def drive(
    fake: FakeTelegram, users: int, script: Any
) -> tuple[int, float, list[tuple[int, float]]]:
    """All users at once; each answers as soon as the step's prompt (a message with
    buttons, or any message after the last answer) arrives."""
    loop = asyncio.get_running_loop()
    waiters: dict[int, tuple[asyncio.Future[Sent], bool]] = {}

    def on_sent(message: Sent) -> None:
        waiter = waiters.get(message.chat_id)
        if waiter and not waiter[0].done() and (message.buttons() or waiter[1]):
            waiter[0].set_result(message)

    fake.on_sent = on_sent
    latencies: list[tuple[int, float]] = []
    count = 0

    async def one(n: int) -> None:
        nonlocal count
        user = fake.user(100_000 + n, f"u{n}")
        lines = script(n)
        last: Sent | None = None
        for i, line in enumerate(lines):
            future: asyncio.Future[Sent] = loop.create_future()
            waiters[user.id] = (future, i == len(lines) - 1)
            button = next(
                (
                    b["callback_data"]
                    for b in (last.buttons() if last else [])
                    if b.get("text") in (line, f"✅ {line}")
                ),
                None,
            )
            started = time.perf_counter()
            if button is not None and last is not None:
                user.press_button(last, button)
            else:
                user.text(line)
            last = await asyncio.wait_for(future, 120)
            latencies.append((i, time.perf_counter() - started))
            count += 1

    started = time.perf_counter()
    await asyncio.gather(*(one(n) for n in range(users)))
    return count, time.perf_counter() - started, latencies


def thread_cpu(pid: int) -> dict[int, float]:
    """Each thread's CPU time so far (user + system), by thread id; the main thread's id is
    the process's."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):  # a thread that ended meanwhile
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            out[int(task.name)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out


def run_one(name: str, users: int, db_url: str | None, work: Path, tree: Path = ROOT) -> Result:
    with FakeTelegram() as fake:
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_API_BASE_URL": fake.base_url,
            "BOT_CLOCK": "2020-10-15T20:00",  # sign-up: before the deadline
        }
        env.pop("TELEGRAM_WEBHOOK_URL", None)
        if name == "ours":
            env["DATABASE_URL"] = db_url or f"sqlite:///{work / f'ours{users}.db'}"
            env["PYTHONPATH"] = os.pathsep.join(
                p for p in (str(tree), os.environ.get("PYTHONPATH")) if p
            )
            cmd = [sys.executable, "-m", "bot"]
            script = ours_script
        else:
            cmd = [
                sys.executable,
                str(ROOT / "benchmarks" / "plain_ptb_bot.py"),
                str(work / f"plain{users}.pickle"),
            ]
            script = plain_script
        log = (work / f"{name}{users}.log").open("wb")
        # BENCH_BOT_PREFIX runs the bot under a profiler, e.g. "py-spy record -o x.svg --"
        prefix = os.environ.get("BENCH_BOT_PREFIX", "").split()
        cwd = tree if name == "ours" else ROOT
        proc = subprocess.Popen([*prefix, *cmd], cwd=cwd, env=env, stdout=log, stderr=log)
        try:
            fake.wait(lambda: fake.stats.calls.get("getUpdates", 0) > 0, timeout=60)
            assert fake._loop is not None
            cpu_before = cpu_seconds(proc.pid)
            threads_before = thread_cpu(proc.pid)
            calls_before = sum(fake.stats.calls.values()) - fake.stats.calls["getUpdates"]
            count, seconds, latencies = asyncio.run_coroutine_threadsafe(
                drive(fake, users, script), fake._loop
            ).result()
            memory = peak_mb(proc.pid)
            cpu = cpu_seconds(proc.pid) - cpu_before
            threads = thread_cpu(proc.pid)
            calls = sum(fake.stats.calls.values()) - fake.stats.calls["getUpdates"] - calls_before
            print(f"  ({name}: {fake.stats.calls['getUpdates']} getUpdates calls)", file=sys.stderr)
            # The event loop (the main thread: the channel, the Bot API calls) apart from the
            # other threads (the steps, the stores): which side a difference in CPU is on.
            spent = {t: c - threads_before.get(t, 0.0) for t, c in threads.items()}
            loop_ms = spent.pop(proc.pid, 0.0) / max(count, 1) * 1000
            rest_ms = sum(spent.values()) / max(count, 1) * 1000
            print(
                f"  ({name}: CPU per update {loop_ms:.2f} ms in the event loop's thread, "
                f"{rest_ms:.2f} ms in the others)",
                file=sys.stderr,
            )
        finally:
            proc.terminate()
            proc.wait(30)
            log.close()
        stored = count_stored(name, env.get("DATABASE_URL"), work / f"plain{users}.pickle")
        return Result(
            name,
            users,
            count,
            seconds,
            [lat for _i, lat in latencies],
            memory,
            stored,
            cpu,
            calls,
            latencies,
        )


def count_stored(name: str, db_url: str | None, pickle_path: Path) -> int:
    """Registrations stored once the bot has stopped (the plain bot flushes on shutdown)."""
    if name == "ours":
        engine = create_engine(db_url or "")
        with engine.connect() as conn:
            return int(conn.execute(text("select count(*) from streamers")).scalar_one())
    import pickle

    with pickle_path.open("rb") as f:
        data = pickle.load(f)
    return len(data.get("bot_data", {}).get("registrations", []))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--pg", help="PostgreSQL server URL for our bot (a scratch database)")
    parser.add_argument("--bots", nargs="+", default=["ours", "plain"], choices=["ours", "plain"])
    parser.add_argument("--by-step", action="store_true", help="also print reply p50/p99 per step")
    parser.add_argument(
        "--tree",
        type=Path,
        default=ROOT,
        help="run our bot from this checkout (e.g. a worktree of an older commit)",
    )
    parser.add_argument(
        "--faults",
        type=float,
        help="instead: a fault run, this share of Bot API calls answering 502 (half of them "
        "after executing the call), comparing what each bot stored with what users answered",
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tgbench"))
    if args.faults:
        print(
            "| bot | users | 502 rate | 502s injected | finished | stuck | stored right "
            "| stored wrong | duplicated | messages repeated |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|")
        for users in args.users:
            for name in ("ours", "plain"):
                print(fault_run(name, users, args.faults, work), flush=True)
        return
    print(
        "| bot | users | updates | updates/s | reply p50 | reply p99 | peak memory "
        "| registrations stored | API calls per update | bot CPU per update |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for users in args.users:
        for name in args.bots:
            with contextlib.ExitStack() as stack:
                db_url = None
                if name == "ours" and args.pg:
                    db_url = stack.enter_context(scratch_database(args.pg, "tgbench"))
                result = run_one(name, users, db_url, work, args.tree.resolve())
                print(result.row(), flush=True)
                if args.by_step:
                    print(result.by_step(), file=sys.stderr)
    print(f"(logs in {work})")


# ----- fault runs: what is stored when Bot API calls fail ------------------------------------
def plain_fault_script(n: int) -> tuple[list[str], dict[str, object]]:
    expected: dict[str, object] = {}
    lines = ["/start", "主播报名"]
    for k, (key, _question, buttons) in enumerate(QUESTIONS):
        value = buttons[0] if buttons else str((k + 1) * 1000 + n)
        if key == "account":
            value = f"acct_{n}"
        lines.append(value)
        expected[key] = value
    return [*lines, "确认提交"], expected


async def drive_faults(
    fake: FakeTelegram, users: int, scripts: list[list[str]], patience: float
) -> list[bool]:
    """Like drive(), but a user who gets no prompt within `patience` seconds is stuck and
    stops (a real one would give up or start over); returns who finished."""
    loop = asyncio.get_running_loop()
    waiters: dict[int, tuple[asyncio.Future[Sent], bool]] = {}

    previous: dict[int, str] = {}

    def on_sent(message: Sent) -> None:
        # A message repeated by a retried call (executed, but its answer was lost) is seen
        # and ignored, as a person would: it is not the next question.
        repeated = previous.get(message.chat_id) == message.text
        previous[message.chat_id] = message.text
        waiter = waiters.get(message.chat_id)
        if waiter and not waiter[0].done() and not repeated and (message.buttons() or waiter[1]):
            waiter[0].set_result(message)

    fake.on_sent = on_sent

    async def one(n: int) -> bool:
        user = fake.user(100_000 + n, f"u{n}")
        last: Sent | None = None
        for i, line in enumerate(scripts[n]):
            future: asyncio.Future[Sent] = loop.create_future()
            waiters[user.id] = (future, i == len(scripts[n]) - 1)
            buttons = last.buttons() if last else []
            data = next((b["callback_data"] for b in buttons if b.get("text") == line), None)
            if data is not None and last is not None:
                user.press_button(last, data)
            else:
                user.text(line)
            try:
                last = await asyncio.wait_for(future, patience)
            except TimeoutError:
                return False
        return True

    return list(await asyncio.gather(*(one(n) for n in range(users))))


def fault_run(name: str, users: int, rate: float, work: Path) -> str:
    from tests.fake_telegram import Fault
    from tests.test_telegram_faults import varied_streamer

    if name == "ours":
        pairs = [varied_streamer(n) for n in range(users)]
    else:
        pairs = [plain_fault_script(n) for n in range(users)]
    scripts = [lines for lines, _ in pairs]
    with FakeTelegram() as fake:
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_API_BASE_URL": fake.base_url,
            "BOT_CLOCK": "2020-10-15T20:00",  # sign-up: before the deadline
        }
        db = work / f"fault_ours{users}.db"
        pickle_path = work / f"fault_plain{users}.pickle"
        if name == "ours":
            env["DATABASE_URL"] = f"sqlite:///{db}"
            cmd = [sys.executable, "-m", "bot"]
        else:
            cmd = [sys.executable, str(ROOT / "benchmarks" / "plain_ptb_bot.py"), str(pickle_path)]
        log = (work / f"fault_{name}{users}.log").open("wb")
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=log)
        try:
            fake.wait(lambda: fake.stats.calls.get("getUpdates", 0) > 0, timeout=60)
            fake.faults += [Fault("502_before", rate=rate / 2), Fault("502_after", rate=rate / 2)]
            assert fake._loop is not None
            finished = asyncio.run_coroutine_threadsafe(
                drive_faults(fake, users, scripts, patience=15), fake._loop
            ).result()
            # let the bot finish what it has received (no call for 3 s) before stopping it
            while time.monotonic() - fake.last_call < 3:
                time.sleep(0.5)
        finally:
            proc.terminate()
            proc.wait(30)
            log.close()
        repeats = sum(
            1
            for n in range(users)
            for a, b in itertools.pairwise(fake.messages_to(100_000 + n))
            if a.text == b.text
        )
        injected = sum(fake.stats.faults.values())
    stored = stored_registrations(name, db, pickle_path)
    right = wrong = 0
    duplicated = sum(max(0, len(rows) - 1) for rows in stored.values())
    for n, (_lines, expected) in enumerate(pairs):
        rows = stored.get(100_000 + n, [])
        if rows:
            if all(_matches(row, expected) for row in rows):
                right += 1
            else:
                wrong += 1
    return (
        f"| {name} | {users} | {rate:.0%} | {injected} | {sum(finished)} | "
        f"{users - sum(finished)} | {right} | {wrong} | {duplicated} | {repeats} |"
    )


def _matches(row: dict[str, object], expected: dict[str, object]) -> bool:
    return all(str(row.get(k)) == str(v) for k, v in expected.items())


def stored_registrations(
    name: str, db: Path, pickle_path: Path
) -> dict[int, list[dict[str, object]]]:
    out: dict[int, list[dict[str, object]]] = {}
    if name == "ours":
        engine = create_engine(f"sqlite:///{db}")
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "select i.user_id, a.account_name as account, s.phone, s.followers, "
                    "s.likes_received, s.monthly_live_days, s.monthly_live_hours, "
                    "s.cumulative_viewers, s.peak_concurrent, s.cumulative_orders "
                    "from streamers s join identities i on i.person_id = s.person_id "
                    "join live_accounts a on a.streamer_id = s.id where i.channel = 'telegram'"
                )
            ).mappings()
            for row in rows:
                out.setdefault(int(row["user_id"]), []).append(dict(row))
        return out
    import pickle

    with pickle_path.open("rb") as f:
        data = pickle.load(f)
    for row in data.get("bot_data", {}).get("registrations", []):
        out.setdefault(int(row["user"]), []).append(row)
    return out


if __name__ == "__main__":
    main()
