"""WeChat benchmark: N simulated followers at once (default 100), each pausing 0.5-1.5 s between
answers like a person on a phone (or, with --instant, answering as soon as the passive reply
is in), through the whole streamer registration in safe mode (AES).

    .venv/bin/python benchmarks/wechat.py [--followers 100] [--instant] [--pg URL]

The bot runs in a child process exactly as in production: `python -m bot` with the WeChat
variables set (uvicorn on 127.0.0.1 serving /wechat, the outbox, the embedded scheduler), a
real database; the fake WeChat API (tests/fake_wechat.py, for the customer-service fallback)
runs in this process. This process also plays WeChat's server: it builds each callback as
WeChat does (signed, encrypted), posts it over HTTP and decrypts the passive reply.

Prints messages/s, the reply latency (post to passive reply) p50/p99, passive-deadline
misses (replies that were not passive: the step overran the 4 s budget and went out as a
customer-service message; or that took over 5 s: WeChat would have resent) and the bot's CPU
per message, measured from outside: the bot process's CPU time (user + system, from /proc)
over the run, divided by the messages (compare benchmarks/telegram.py's CPU per update).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from benchmarks.common import cpu_seconds, pct, scratch_database  # noqa: E402
from tests.fake_wechat import (  # noqa: E402
    AES_KEY,
    APP_ID,
    APP_SECRET,
    TOKEN,
    FakeWeChat,
    Follower,
    WeChatServer,
    message_xml,
)
from tests.flows import streamer_lines  # noqa: E402

DEADLINE = 5.0  # WeChat resends after 5 s


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bot_env(url: str, port: int, fake: FakeWeChat) -> dict[str, str]:
    """`python -m bot` serving WeChat alone (safe mode) against the fake API."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WECOM_", "WECHAT_"))
    }
    return {
        **env,
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
        "DATABASE_URL": url,
        "BOT_CLOCK": "2020-10-15T20:00",  # sign-up: before the registration deadline
        "WECHAT_TOKEN": TOKEN,
        "WECHAT_APP_ID": APP_ID,
        "WECHAT_APP_SECRET": APP_SECRET,
        "WECHAT_AES_KEY": AES_KEY,
        "WECHAT_API_BASE_URL": fake.base_url,
        "WEB_HOST": "127.0.0.1",
        "WEB_PORT": str(port),
    }


# ----- WeChat and the followers (this process) ----------------------------------------------
async def follower(
    server: WeChatServer,
    n: int,
    latencies: list[float],
    misses: list[str],
    done: list[str],
    instant: bool,
) -> None:
    person = Follower(server, f"o_bench_{n:04d}")
    text: str | None = None
    rng = random.Random(n)
    await asyncio.sleep(rng.uniform(0, 1.5))  # people do not all start in the same instant
    lines = ["/start", *streamer_lines(f"bench_{n}")[1:], "确认提交"]
    for line in lines:
        if server.fake is not None:
            server.fake.interact(person.openid)  # WeChat's own record of the interaction
        before = len(server.fake.service_texts(person.openid)) if server.fake else 0
        started = time.perf_counter()
        response = await server.post(_text(person.openid, line, next(server.msg_ids)))
        took = time.perf_counter() - started
        latencies.append(took)
        text = server.reply_text(response) if response.status_code == 200 else None
        if response.status_code != 200:
            misses.append(f"{person.openid}: HTTP {response.status_code}")
        elif text is None:
            misses.append(f"{person.openid}: no passive reply for {line!r}")
            text = await late_reply(server, person.openid, before)
        elif took > DEADLINE:
            misses.append(f"{person.openid}: {took:.1f} s for {line!r}")
        if not instant:
            await asyncio.sleep(rng.uniform(0.5, 1.5))
    if text and "审核" in text:  # the last answer: submitted for review
        done.append(person.openid)


async def late_reply(server: WeChatServer, openid: str, before: int) -> str | None:
    """The reply that came as a customer-service message instead (a person reads it before
    answering on), or None after 30 s."""
    if server.fake is None:
        return None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        texts = server.fake.service_texts(openid)
        if len(texts) > before:
            return "\n".join(texts[before:])
        await asyncio.sleep(0.05)
    return None


def _text(openid: str, content: str, msg_id: int) -> str:
    return message_xml(openid, "text", int(time.time()), Content=content, MsgId=str(msg_id))


async def drive(
    port: int, followers: int, instant: bool, fake: FakeWeChat, pid: int
) -> dict[str, float]:
    # connections idle for 2 s are not reused: uvicorn closes them after 5 s, and a post on
    # one it is closing fails (WeChat's own client would retry it)
    limits = httpx.Limits(
        max_connections=followers, max_keepalive_connections=followers, keepalive_expiry=2
    )
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=30
    ) as http:
        for _ in range(600):  # wait for the bot (migrations, units) and uvicorn
            try:
                if (await http.get("/healthz")).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
        server = WeChatServer(http, safe=True, fake=fake)
        latencies: list[float] = []
        misses: list[str] = []
        done: list[str] = []
        cpu_before = cpu_seconds(pid)
        started = time.perf_counter()
        await asyncio.gather(
            *(follower(server, n, latencies, misses, done, instant) for n in range(followers))
        )
        wall = time.perf_counter() - started
        cpu = cpu_seconds(pid) - cpu_before
    for miss in misses[:10]:
        print("  miss:", miss)
    return {
        "followers": followers,
        "messages": len(latencies),
        "seconds": wall,
        "messages_per_s": len(latencies) / wall,
        "p50_ms": pct(latencies, 0.50),
        "p99_ms": pct(latencies, 0.99),
        "max_ms": max(latencies) * 1000,
        "deadline_misses": len(misses),
        "registered": len(done),
        "cpu_ms": cpu / len(latencies) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--followers", type=int, default=100)
    parser.add_argument("--instant", action="store_true", help="no pauses between answers")
    parser.add_argument("--pg", help="PostgreSQL server URL (a scratch database is created)")
    args = parser.parse_args()
    stack = contextlib.ExitStack()
    if args.pg:
        url = stack.enter_context(scratch_database(args.pg, "wechat_bench"))
    else:
        work = Path(tempfile.mkdtemp(prefix="wxbench"))
        url = f"sqlite:///{work}/wechat_bench.db"
    port = free_port()
    with stack, FakeWeChat(quota=1000) as fake:
        log = tempfile.NamedTemporaryFile("wb", prefix="wxbench_", suffix=".log", delete=False)
        # BENCH_BOT_PREFIX runs the bot under a profiler, e.g. "py-spy record -o x.svg --"
        prefix = os.environ.get("BENCH_BOT_PREFIX", "").split()
        child = subprocess.Popen(
            [*prefix, sys.executable, "-m", "bot"],
            cwd=ROOT,
            env=bot_env(url, port, fake),
            stdout=log,
            stderr=log,
        )
        try:
            result = asyncio.run(drive(port, args.followers, args.instant, fake, child.pid))
        finally:
            child.terminate()
            child.wait(timeout=30)
            log.close()
    db = "PostgreSQL" if args.pg else "SQLite"
    mode = "instant answers" if args.instant else "0.5-1.5 s pauses"
    print(
        f"{db} ({mode}): {result['followers']} followers, {result['messages']} messages in "
        f"{result['seconds']:.1f} s = {result['messages_per_s']:.1f} messages/s; reply latency "
        f"p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
        f"max {result['max_ms']:.0f} ms; passive-deadline misses: {result['deadline_misses']}; "
        f"registrations submitted: {result['registered']}/{result['followers']}; "
        f"bot CPU per message: {result['cpu_ms']:.2f} ms (log: {log.name})"
    )


if __name__ == "__main__":
    main()
