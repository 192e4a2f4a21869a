"""Memory benchmark: one bot worker's RSS while it serves conversations with a festival's
full database behind it, and the peaks of a board publish and a full /export reports, apart.

    .venv/bin/python benchmarks/memory.py --pg URL [--streamers 100000] [--people 50]
                                          [--reporters 50] [--no-export] [--no-board]
                                          [--links] [--max-upload-mb MB]

A scratch database (on the PostgreSQL server of URL; SQLite without --pg) is migrated with the
project's Alembic migrations and filled in SQL (INSERT ... SELECT over generated ids, nothing
goes through Python row by row): N approved streamers spread over the recommending units of
config.yaml, each with a Douyin account, every tenth also a JD one, a Telegram identity, a
made-up phone number; a report for every live day on the Douyin account (29 days) and ten on
the JD one: 100,000 streamers -> 3,000,000 reports; the maintained totals rebuilt.

Then `python -m bot` runs as its own process (Telegram channel, long polling the fake Bot API
of tests/fake_telegram.py; the scheduler off, as on a worker beside `python scheduler.py`),
and its VmRSS / VmHWM (/proc/PID/status) are sampled every 0.1 s:

1. sign-up (clock 2020-10-15 20:00): P new people register as streamers at once;
2. the live month (clock 2020-11-16 20:00, a new worker): R of the stored streamers file
   today's report at once; then a committee member sends /export reports (every report) and
   waits for the answer: the file, or above telegram.max_upload_mb (--max-upload-mb) a
   download link (--links: the worker gets a public address; the link is fetched) or a note;
3. the weekly board (`python -m bot jobs run weekly_board`, clock 2020-11-16 10:00, a
   Monday): its own process, whose peak is its own VmHWM, read until it exits (see
   board_job: not wait4); the worker then delivers the board's messages (one per streamer)
   for a while, sampled too.

Each phase's peak is measured apart (VmHWM is reset through /proc/PID/clear_refs before it).

Longer than 300 lines on purpose: a benchmark script: one scenario, its set-up and its report,
run as a script.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# benchmarks/telegram.py would shadow the library: drop this folder from the path
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from benchmarks.common import scratch_database  # noqa: E402
from bot.app import prepare_database  # noqa: E402
from bot.config import FestivalConfig, load_config  # noqa: E402
from bot.core.clock import FixedClock  # noqa: E402
from bot.settings import data_dir_for  # noqa: E402
from models.db import make_engine  # noqa: E402
from models.totals import recompute_all  # noqa: E402
from tests.fake_telegram import FakeTelegram, Sent  # noqa: E402
from tests.flows import report_lines, streamer_lines  # noqa: E402

NOW = "2020-10-16 12:00:00+00"
ADMIN_ID = 900_001  # the committee member's Telegram user id (added to a copy of config.yaml)
FIRST_USER = 1_000_000  # stored streamer i is Telegram user FIRST_USER + i
SIGN_UP = "2020-10-15T20:00"
LIVE = "2020-11-16T20:00"
BOARD = "2020-11-16T10:00"  # a Monday, the weekly board's hour


def json_text(values: list[str]) -> str:
    return json.dumps(list(values), ensure_ascii=False).replace("'", "''")


# ----- the data ---------------------------------------------------------------------------
def fill(engine: Engine, config: FestivalConfig, streamers: int) -> int:
    """People, identities, approved streamers, accounts, reports; returns the reports."""
    pg = engine.dialect.name == "postgresql"
    # ids 1..N from one statement: generate_series on PostgreSQL, a recursive CTE on SQLite
    ids = (
        "SELECT generate_series(1, :n) AS i"
        if pg
        else "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < :n) "
        "SELECT i FROM s"
    )
    as_json = "::json" if pg else ""
    categories = json_text([c.label for c in config.products.categories[:1]])  # stored labels
    declarations = json_text(config.eligibility.declarations)
    days = (config.calendar.live_end - config.calendar.live_start).days + 1
    start = config.calendar.live_start.isoformat()
    # a pseudo-random number 0..m-1 from an id, the same on both engines
    mix = "((({x}) * 2654435761) % 1000003 % {m})"

    def rnd(x: str, m: int) -> str:
        return mix.format(x=x, m=m)

    statements = [
        f"INSERT INTO people (id, display_name, locale, privacy_accepted_at, last_channel, "
        f"created_at) SELECT i, 'p' || i, 'zh_CN', '{NOW}', 'telegram', '{NOW}' FROM ({ids}) g",
        f"INSERT INTO identities (id, person_id, channel, user_id, chat_id, created_at) "
        f"SELECT i, i, 'telegram', CAST({FIRST_USER} + i AS VARCHAR), "
        f"CAST({FIRST_USER} + i AS VARCHAR), '{NOW}' FROM ({ids}) g",
        # the units of config.yaml's divisions and extras, each streamer on one of them
        f"INSERT INTO streamers (id, person_id, unit_id, recommendation, phone, followers, "
        f"likes_received, tips_income, monthly_live_days, monthly_live_hours, "
        f"cumulative_viewers, peak_concurrent, cumulative_orders, cumulative_sales_fen, "
        f"categories, declarations, status, submitted_at, reviewed_at, created_at, updated_at) "
        f"SELECT i, i, u.id, CASE WHEN i % 3 = 0 THEN 'self' ELSE 'org' END, "
        # made-up numbers in a block no real subscriber has in the tests either
        f"'1380' || SUBSTR(CAST(10000000 + i AS VARCHAR), 2, 7), "
        f"1000 + {rnd('i', 500000)}, {rnd('i + 7', 2000000)}, 0, 20, 45.5, "
        f"{rnd('i + 11', 1000000)}, {rnd('i + 13', 5000)}, {rnd('i + 17', 10000)}, "
        f"{rnd('i + 19', 1000000)} * 100, '{categories}'{as_json}, '{declarations}'{as_json}, "
        f"'approved', '{NOW}', '{NOW}', '{NOW}', '{NOW}' "
        f"FROM ({ids}) g JOIN (SELECT id, ROW_NUMBER() OVER (ORDER BY id) - 1 AS k, "
        f"COUNT(*) OVER () AS n FROM units) u ON u.k = {rnd('i', 1000003)} % u.n",
        # everyone who has written to the bot has a conversation state (idle)
        f"INSERT INTO dialog_states (id, identity_id, data, version, updated_at) "
        f"SELECT i, i, '{{}}'{as_json}, 0, '{NOW}' FROM ({ids}) g",
        f"INSERT INTO live_accounts (id, streamer_id, platform, account_name) "
        f"SELECT i, i, 'douyin', '江西好物' || i FROM ({ids}) g",
        f"INSERT INTO live_accounts (id, streamer_id, platform, account_name) "
        f"SELECT :n + i / 10, i, 'jd', '赣品优选' || i FROM ({ids}) g WHERE i % 10 = 0",
    ]
    day_expr = "CAST(:start AS DATE) + d" if pg else "DATE(:start, '+' || d || ' days')"
    day_ids = (
        "generate_series(0, :days - 1) AS d"
        if pg
        else "(WITH RECURSIVE t(d) AS (SELECT 0 UNION ALL SELECT d + 1 FROM t WHERE d < "
        ":days - 1) SELECT d FROM t)"
    )
    report = (
        "INSERT INTO daily_reports (account_id, streamer_id, report_date, gmv_fen, "
        "duration_minutes, viewers, likes, orders, rejected, revision, held, flags, "
        f"created_at, updated_at) SELECT {{account}}, i, {day_expr}, "
        f"{rnd('i * 31 + d', 2000000)}, 30 + {rnd('i + d', 300)}, {rnd('i * 7 + d', 20000)}, "
        f"{rnd('i * 5 + d', 50000)}, {rnd('i * 3 + d', 400)}, {rnd('i + 3 * d', 100)} = 0, "
        f"1, false, '[]'{as_json}, '{NOW}', '{NOW}' FROM ({ids}) g CROSS JOIN {day_ids} {{where}}"
    )
    statements += [
        report.format(account="i", where=""),
        report.format(account=":n + i / 10", where="WHERE i % 10 = 0 AND d < 10"),
    ]
    params = {"n": streamers, "days": days, "start": start}
    with engine.begin() as conn:
        for sql in statements:
            conn.execute(text(sql), params)
        if pg:
            tables = ("people", "identities", "dialog_states", "streamers", "live_accounts")
            for table in (*tables, "daily_reports"):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
    with Session(engine) as s, s.begin():
        recompute_all(s, config, True)
    if pg:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM daily_reports")).scalar_one())


# ----- the worker's memory ----------------------------------------------------------------
def status(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM in MB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) / 1024
    return found


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def reset_peak(pid: int) -> None:
    """VmHWM starts again from the current RSS (Linux: 5 > /proc/PID/clear_refs)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


@dataclass
class Phase:
    name: str
    seconds: float = 0.0
    rss_start: float = 0.0
    rss_max: float = 0.0  # of the samples
    hwm: float = 0.0  # the kernel's peak over the phase
    rss_end: float = 0.0
    cpu: float = 0.0  # the worker's CPU seconds in the phase (the machine may be shared)
    note: str = ""

    def row(self) -> str:
        return (
            f"| {self.name} | {self.seconds:,.1f} s (CPU {self.cpu:,.1f} s) "
            f"| {self.rss_start:,.0f} MB "
            f"| {self.rss_max:,.0f} MB | {self.hwm:,.0f} MB | {self.rss_end:,.0f} MB "
            f"| {self.note} |"
        )


@dataclass
class Sampler:
    pid: int
    phases: list[Phase] = field(default_factory=list)
    samples: list[tuple[float, float]] = field(default_factory=list)  # (time, RSS MB)
    _current: Phase | None = None
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            phase = self._current
            try:
                rss = status(self.pid)["VmRSS"]
            except (OSError, KeyError):
                return
            if phase is not None:
                phase.rss_max = max(phase.rss_max, rss)
                self.samples.append((time.time(), rss))

    def measure(self, name: str, work: Callable[[], str | None]) -> Phase:
        reset_peak(self.pid)
        phase = Phase(name, rss_start=status(self.pid)["VmRSS"])
        phase.rss_max = phase.rss_start
        self._current = phase
        t0, c0 = time.perf_counter(), cpu_seconds(self.pid)
        phase.note = work() or ""
        phase.seconds = time.perf_counter() - t0
        phase.cpu = cpu_seconds(self.pid) - c0
        now = status(self.pid)
        phase.hwm, phase.rss_end = now["VmHWM"], now["VmRSS"]
        self._current = None
        self.phases.append(phase)
        print(phase.row(), flush=True)
        return phase

    def stop(self) -> None:
        self._stop.set()


# ----- simulated people -------------------------------------------------------------------
async def converse(
    fake: FakeTelegram, users: list[int], script: Callable[[int], list[str]]
) -> list[float]:
    """Every user at once through their script; each answers as soon as the step's prompt
    (a message with buttons, or any message after the last line) arrives. Returns each
    step's reply latency."""
    loop = asyncio.get_running_loop()
    waiters: dict[int, tuple[asyncio.Future[Sent], bool]] = {}

    def on_sent(message: Sent) -> None:
        waiter = waiters.get(message.chat_id)
        if waiter and not waiter[0].done() and (message.buttons() or waiter[1]):
            waiter[0].set_result(message)

    fake.on_sent = on_sent
    latencies: list[float] = []

    async def one(user_id: int) -> None:
        user = fake.user(user_id, f"u{user_id}")
        lines = script(user_id)
        last: Sent | None = None
        for i, line in enumerate(lines):
            future: asyncio.Future[Sent] = loop.create_future()
            waiters[user_id] = (future, i == len(lines) - 1)
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
            last = await asyncio.wait_for(future, 300)
            latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(one(u) for u in users))
    fake.on_sent = None
    return latencies


def run_in(fake: FakeTelegram, coro: object) -> object:
    assert fake._loop is not None
    return asyncio.run_coroutine_threadsafe(coro, fake._loop).result()  # type: ignore[arg-type]


def conversations(fake: FakeTelegram, users: list[int], script: Callable[[int], list[str]]) -> str:
    lat = sorted(run_in(fake, converse(fake, users, script)))  # type: ignore[arg-type]
    p50, p99 = lat[len(lat) // 2], lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    return (
        f"{len(users)} people, {len(lat)} steps, "
        f"reply p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms"
    )


def export_reports(fake: FakeTelegram, sampler: Sampler, exports: Path) -> str:
    """The committee member's /export reports; waits for the answer (a big file takes
    minutes): the file itself, or, above telegram.max_upload_mb, a download link (fetched
    here, as the committee member's browser would) or the note saying why it was not sent.
    The peak is split at the moment the file was last written: building it (the step) and
    sending it (the channel's upload, or serving the link's download) after."""
    known = set(exports.glob("reports-*.xlsx")) if exports.is_dir() else set()
    start = time.time()
    admin = fake.user(ADMIN_ID, "committee")
    before = len(fake.messages_to(ADMIN_ID))
    admin.text("/export reports")
    fake.wait(lambda: len(fake.messages_to(ADMIN_ID)) > before, timeout=3 * 3600)
    answer = fake.messages_to(ADMIN_ID)[before]
    written = [p for p in exports.glob("reports-*.xlsx") if p not in known]
    size = sum(p.stat().st_size for p in written)
    link = re.search(r"https?://\S+/exports/\S+", answer.text or "")
    if answer.kind == "document":
        uploaded = answer.media.get("size") if isinstance(answer.media, dict) else None
        note = f"file {size / 2**20:,.1f} MB uploaded ({uploaded:,} bytes arrived)"
    elif link:
        got = 0
        with urllib.request.urlopen(link.group(0), timeout=600) as response:
            while chunk := response.read(1 << 20):
                got += len(chunk)
        note = f"file {size / 2**20:,.1f} MB above the upload limit: a link, {got:,} bytes fetched"
    else:
        note = f"file {size / 2**20:,.1f} MB above the upload limit, no public address: a note"
    if written:
        done = max(p.stat().st_mtime for p in written)
        during = [rss for t, rss in sampler.samples if start <= t <= done]
        after = [rss for t, rss in sampler.samples if t > done]
        note += f", written in {done - start:,.0f} s"
        if during:
            note += f", RSS max {max(during):,.0f} MB while writing"
        if after:
            note += f", {max(after):,.0f} MB while sending"
        for p in written:  # a big file, and it holds (made-up) phone numbers: not kept
            p.unlink()
    return note


# ----- processes --------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bot_env(
    fake: FakeTelegram, db_url: str, config_path: Path, clock: str, links: bool = False
) -> dict[str, str]:
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "DATABASE_URL": db_url,
        "BOT_CONFIG": str(config_path),
        "BOT_CLOCK": clock,
        "BOT_SCHEDULER": "off",  # the board publish is measured in its own process
    }
    for name in ("TELEGRAM_WEBHOOK_URL", "PUBLIC_BASE_URL", "WEB_PORT"):
        env.pop(name, None)
    if links:  # a public address: an export above the upload limit goes as a download link
        port = free_port()
        env.update(WEB_PORT=str(port), PUBLIC_BASE_URL=f"http://127.0.0.1:{port}")
    return env


def start_worker(fake: FakeTelegram, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot"], cwd=ROOT, env=env, stdout=out, stderr=out
        )
    calls = fake.stats.calls.get("getUpdates", 0)
    fake.wait(lambda: fake.stats.calls.get("getUpdates", 0) > calls, timeout=120)
    return proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def board_job(env: dict[str, str], log: Path) -> tuple[float, float, str]:
    """`python -m bot jobs run weekly_board` as its own process: (seconds, peak MB, output).
    Its peak is its own VmHWM (/proc/PID/status), read every 0.1 s until it exits. Not
    wait4's ru_maxrss: Linux counts in it the peak of the process that started it (the child
    is spawned with vfork, and exec keeps the old memory's high-water mark), so it reported
    this benchmark's own peak (its fake Telegram had just parsed a 205 MB upload) as the
    job's: measured, a 61 MB child of a parent that had peaked at 1 GB gives 1,035 MB."""
    t0 = time.perf_counter()
    peak = 0.0
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "jobs", "run", "weekly_board"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=out,
        )
        assert proc.stdout is not None
        printed: list[str] = []
        reader = threading.Thread(target=lambda: printed.append(proc.stdout.read().decode()))
        reader.start()
        while proc.poll() is None:
            try:
                peak = max(peak, status(proc.pid)["VmHWM"])
            except (OSError, KeyError):
                pass  # exiting
            time.sleep(0.1)
        reader.join()
    output = "".join(printed).strip()
    if proc.returncode:
        raise RuntimeError(f"weekly_board failed ({proc.returncode}): {output}")
    return time.perf_counter() - t0, peak, output


def test_config(folder: Path, max_upload_mb: float | None = None) -> Path:
    """config.yaml with one more committee admin: the benchmark's Telegram user (and another
    upload limit, when given)."""
    source = (ROOT / "config.yaml").read_text(encoding="utf-8")
    anchor = "    - {channel: console, user_id: admin, name: 组委会管理员}\n"
    assert anchor in source, "config.yaml's committee.admins changed: update the benchmark"
    extra = f'    - {{channel: telegram, user_id: "{ADMIN_ID}", name: 组委会测试}}\n'
    source = source.replace(anchor, anchor + extra)
    if max_upload_mb is not None:
        limit = re.compile(r"^(  max_upload_mb:) *[0-9.]+", re.MULTILINE)
        assert limit.search(source), "config.yaml's telegram.max_upload_mb moved"
        source = limit.sub(rf"\g<1> {max_upload_mb}", source)
    path = folder / "config.yaml"
    path.write_text(source, encoding="utf-8")
    return path


# ----- the run ----------------------------------------------------------------------------
def run(db_url: str, args: argparse.Namespace, work: Path) -> None:
    config = load_config(ROOT / "config.yaml")
    engine = make_engine(db_url)
    clock = FixedClock(config.calendar.tz, dt.datetime(2020, 10, 1, 9, 0))
    t0 = time.perf_counter()
    prepare_database(engine, config, clock)  # the Alembic migrations, the units
    reports = fill(engine, config, args.streamers)
    engine.dispose()
    print(
        f"filled in {time.perf_counter() - t0:.0f} s: {args.streamers:,} approved streamers, "
        f"{reports:,} reports ({engine.dialect.name})",
        flush=True,
    )
    config_path = test_config(work, args.max_upload_mb)
    log = work / "bot.log"
    print("| phase | took | RSS at start | RSS max (samples) | peak (VmHWM) | RSS at end | |")
    print("|---|---|---|---|---|---|---|")
    with FakeTelegram() as fake:
        # 1. sign-up: new people register
        worker = start_worker(fake, bot_env(fake, db_url, config_path, SIGN_UP), log)
        sampler = Sampler(worker.pid)
        try:
            sampler.measure("sign-up worker, idle", lambda: time.sleep(args.idle) or None)
            people = [100_000 + n for n in range(args.people)]
            sampler.measure(
                "registration",
                lambda: conversations(
                    fake, people, lambda u: [*streamer_lines(f"new_{u}"), "确认提交"]
                ),
            )
        finally:
            sampler.stop()
            stop(worker)
        # 2. the live month: reports, then the committee's export
        env = bot_env(fake, db_url, config_path, LIVE, links=args.links)
        worker = start_worker(fake, env, log)
        sampler = Sampler(worker.pid)
        try:
            sampler.measure("live-month worker, idle", lambda: time.sleep(args.idle) or None)
            # single-account streamers (every tenth has two, and would be asked which)
            ids = [i for i in range(1, args.streamers + 1) if i % 10][: args.reporters]
            sampler.measure(
                "daily reports",
                lambda: conversations(
                    fake,
                    [FIRST_USER + i for i in ids],
                    lambda _u: [*report_lines(day="今天"), "确认提交"],
                ),
            )
            serving = max(p.hwm for p in sampler.phases)
            if not args.no_export:
                sampler.measure(
                    "/export reports (committee)",
                    lambda: export_reports(fake, sampler, data_dir_for(db_url) / "exports"),
                )
                sampler.measure("after the export, idle", lambda: time.sleep(args.idle) or None)
            if not args.no_board:
                job_env = {**env, "BOT_CLOCK": BOARD}
                took, peak, printed = board_job(job_env, log)
                print(
                    f"| weekly_board job (own process) | {took:,.1f} s | | | {peak:,.0f} MB "
                    f"| | {printed.splitlines()[-1] if printed else ''} |",
                    flush=True,
                )
                sent = len(fake.sent)
                sampler.measure(
                    "worker delivering the board's messages",
                    lambda: time.sleep(args.deliver_seconds) or None,
                )
                print(f"  ({len(fake.sent) - sent:,} messages delivered meanwhile)")
            print(f"serving peak (VmHWM of the conversation phases): {serving:,.0f} MB")
        finally:
            sampler.stop()
            stop(worker)
    print(f"(bot log: {log})")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", help="PostgreSQL server URL (a scratch database is created)")
    parser.add_argument("--streamers", type=int, default=100_000)
    parser.add_argument("--people", type=int, default=50, help="new people registering")
    parser.add_argument("--reporters", type=int, default=50, help="streamers filing a report")
    parser.add_argument("--no-export", action="store_true", help="skip /export reports")
    parser.add_argument("--no-board", action="store_true", help="skip the weekly board")
    parser.add_argument(
        "--links",
        action="store_true",
        help="give the worker a public address: an export above the upload limit is linked",
    )
    parser.add_argument(
        "--max-upload-mb", type=float, help="telegram.max_upload_mb (default: config.yaml's)"
    )
    parser.add_argument("--deliver-seconds", type=float, default=30)
    parser.add_argument("--idle", type=float, default=3, help="seconds of each idle phase")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="membench"))
    if not args.pg:
        run(f"sqlite:///{work / 'bench.db'}", args, work)
        return 0
    with scratch_database(args.pg, "bench_memory") as url:
        run(url, args, work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
