"""Several bot workers on one PostgreSQL (BOT_WORKERS=shared): the Telegram benchmark's
simulated people (each answers the moment the next question arrives, the whole streamer
registration) over a webhook that the fake Bot API spreads over N `python -m bot` processes
round-robin (Telegram's max_connections in flight), then a check of what was stored.

    .venv/bin/python benchmarks/workers.py --pg postgresql://postgres@127.0.0.1/test \\
        [--workers 1 2 4] [--users 200] [--kill] [--runs 1]

Per worker count: updates/s, reply p50/p99 (from the update being available to the step's
answer arriving at the fake), the CPU each worker and PostgreSQL used, and the checks: every
person's registration holds exactly the values typed for each question (a shifted answer
shows as a wrong value), every update handled exactly once, nothing left unhandled. `--kill`
sends kill -9 to the leader (the first worker) half way through: its updates stored and not
handled, or handled and not answered, are taken over by the next leader's orphan sweep
(`workers.orphan_after_seconds`, 20 s shipped: those people wait that long).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# This file's directory holds telegram.py: drop it, or `import telegram` finds the benchmark.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from benchmarks.common import scratch_database  # noqa: E402
from benchmarks.telegram import cpu_seconds, drive, ours_script  # noqa: E402
from tests.fake_telegram import FakeTelegram  # noqa: E402
from tests.worker_procs import Worker  # noqa: E402

IN_FLIGHT = 40  # Telegram's default max_connections for a webhook


def expected(n: int) -> tuple[str, int]:
    return f"acct_{n}", 12_000  # ours_script: streamer_lines(f"acct_{n}") with 1.2万 followers


def postgres_cpu() -> float:
    """CPU seconds of the local PostgreSQL server: every postgres process's own, and the
    children's that ended (a backend's time goes to the postmaster's when it exits). Other
    clients of the same server count too: run on a quiet machine."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip().startswith("postgres"):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                total += sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")
        except OSError:
            continue
    return total


def check(db_url: str, users: int) -> dict[str, int]:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "select i.user_id, a.account_name, s.followers from streamers s "
                "join identities i on i.person_id = s.person_id "
                "join live_accounts a on a.streamer_id = s.id where i.channel = 'telegram'"
            )
        ).all()
        unhandled = conn.execute(
            text("select count(*) from telegram_updates where processed_at is null")
        ).scalar_one()
        handled = conn.execute(
            text("select count(*) from telegram_updates where processed_at is not null")
        ).scalar_one()
    engine.dispose()
    by_user: dict[int, list[tuple[str, int]]] = {}
    for user, account, followers in rows:
        by_user.setdefault(int(user) - 100_000, []).append((account, int(followers)))
    right = sum(1 for n, got in by_user.items() if got == [expected(n)])
    return {
        "stored right": right,
        "stored wrong": sum(1 for n, got in by_user.items() if got[:1] != [expected(n)]),
        "doubled": sum(1 for got in by_user.values() if len(got) > 1),
        "lost": users - len(by_user),
        "unhandled": int(unhandled),
        "handled": int(handled),
    }


def run(pg: str, workers: int, users: int, kill: bool, work: Path) -> str:
    with scratch_database(pg, "workers") as url:
        scratch = make_url(url).database
        with FakeTelegram() as fake:
            procs = [Worker(url, fake, work / f"{scratch}-w{i}.log") for i in range(workers)]
            try:
                for proc in procs:
                    proc.wait_ready(120)
                time.sleep(1)  # the first one leads
                fake.deliver_to([p.url for p in procs], in_flight=IN_FLIGHT)
                cpu_before = [cpu_seconds(p.proc.pid) for p in procs]
                pg_before = postgres_cpu()
                assert fake._loop is not None
                killer = None
                if kill:
                    total = users * len(ours_script(0))

                    async def kill_half_way() -> None:
                        while fake.delivered < total // 2:
                            await asyncio.sleep(0.01)
                        procs[0].kill()

                    killer = asyncio.run_coroutine_threadsafe(kill_half_way(), fake._loop)
                count, seconds, latencies = asyncio.run_coroutine_threadsafe(
                    drive(fake, users, ours_script), fake._loop
                ).result()
                if killer is not None:
                    killer.result(5)
                cpu = [
                    cpu_seconds(p.proc.pid) - before if p.proc.poll() is None else float("nan")
                    for p, before in zip(procs, cpu_before, strict=True)
                ]
                pg_cpu = postgres_cpu() - pg_before
            finally:
                for proc in procs:
                    proc.stop()
        checks = check(url, users)
    lat = sorted(latency for _i, latency in latencies)
    p50 = statistics.median(lat)
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    per_update = " / ".join(
        "killed" if c != c else f"{c / count * 1000:.1f}" for c in cpu
    )  # NaN: killed
    return (
        f"| {workers} | {users} | {'kill -9 leader' if kill else '-'} | {count} "
        f"| {count / seconds:.0f} | {p50 * 1000:.0f} ms | {p99 * 1000:.0f} ms "
        f"| {per_update} ms | {pg_cpu / count * 1000:.1f} ms "
        f"| {checks['stored right']} | {checks['stored wrong']} | {checks['lost']} "
        f"| {checks['doubled']} | {checks['unhandled']} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", required=True, help="PostgreSQL server URL (scratch databases)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--kill", action="store_true", help="also: kill -9 the leader half way")
    parser.add_argument("--runs", type=int, default=1, help="rounds over the worker counts")
    args = parser.parse_args()
    args.pg = make_url(args.pg).set(drivername="postgresql+psycopg").render_as_string(False)
    work = Path(tempfile.mkdtemp(prefix="workers"))
    print(
        "| workers | users | fault | updates | updates/s | reply p50 | reply p99 "
        "| bot CPU per update (each worker) | PostgreSQL CPU per update | stored right "
        "| stored wrong | lost | doubled | unhandled |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for _round in range(args.runs):
        for workers in args.workers:
            print(run(args.pg, workers, args.users, False, work), flush=True)
            if args.kill and workers > 1:
                print(run(args.pg, workers, args.users, True, work), flush=True)
    print(f"(logs in {work}; {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
