"""WeChat benchmark: N simulated followers at once (default 100), each pausing 0.5-1.5 s between
answers like a person on a phone, through the whole streamer registration in safe mode (AES).

    .venv/bin/python benchmarks/wechat.py [--followers 100] [--pg URL]

The bot runs in a child process exactly as in production: uvicorn on 127.0.0.1 serving the web
app with /wechat, the WeChat runtime (outbox delivery, the fake WeChat API on 127.0.0.1 for the
customer-service fallback), a real database. This process plays WeChat's server: it builds each
callback as WeChat does (signed, encrypted), posts it over HTTP and decrypts the passive reply.

Prints messages/s, the reply latency (post to passive reply) p50/p99, and passive-deadline
misses: replies that were not passive (the step overran the 4 s budget and went out as a
customer-service message) or that took over 5 s (WeChat would have resent).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from tests.fake_wechat import FakeWeChat, Follower, WeChatServer, message_xml  # noqa: E402
from tests.flows import streamer_lines  # noqa: E402

DEADLINE = 5.0  # WeChat resends after 5 s


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ----- the bot (child process) --------------------------------------------------------------------
async def serve(url: str, port: int) -> None:
    from bot.app import prepare_database
    from bot.channels.wechat.run import build
    from bot.config import load_config
    from bot.core.clock import Clock, parse_start
    from bot.core.dispatcher import Core
    from bot.web import create_app
    from bot.web import serve as serve_web
    from handlers.routes import ROUTES
    from models.db import make_engine
    from tests.fake_wechat import settings_for

    config = load_config(ROOT / "config.yaml")
    # sign-up: before the registration deadline
    clock = Clock(config.calendar.tz, parse_start("2020-10-15T20:00", config.calendar.tz))
    engine = make_engine(url)
    prepare_database(engine, config, clock)
    core = Core(config, engine, clock, ROUTES)
    with FakeWeChat(quota=1000) as fake:
        runtime = build(core, settings_for(fake, safe=True, wecom=False))
        app = create_app(runtime.channel.routes())
        delivery = asyncio.ensure_future(runtime.deliver_forever(0.2))
        try:
            await serve_web(app, "127.0.0.1", port)
        finally:
            delivery.cancel()
            stats = runtime.channel.stats
            print(f"server: {stats}", file=sys.stderr, flush=True)


# ----- WeChat and the followers (this process) ----------------------------------------------
async def follower(
    server: WeChatServer, n: int, latencies: list[float], misses: list[str], done: list[str]
) -> None:
    person = Follower(server, f"o_bench_{n:04d}")
    text: str | None = None
    rng = random.Random(n)
    await asyncio.sleep(rng.uniform(0, 1.5))  # people do not all start in the same instant
    lines = ["/start", *streamer_lines(f"bench_{n}")[1:], "确认提交"]
    for line in lines:
        started = time.perf_counter()
        response = await server.post(_text(person.openid, line, next(server.msg_ids)))
        took = time.perf_counter() - started
        latencies.append(took)
        text = server.reply_text(response) if response.status_code == 200 else None
        if response.status_code != 200:
            misses.append(f"{person.openid}: HTTP {response.status_code}")
        elif text is None:
            misses.append(f"{person.openid}: no passive reply for {line!r}")
        elif took > DEADLINE:
            misses.append(f"{person.openid}: {took:.1f} s for {line!r}")
        await asyncio.sleep(rng.uniform(0.5, 1.5))
    if text and "审核" in text:  # the last answer: submitted for review
        done.append(person.openid)


def _text(openid: str, content: str, msg_id: int) -> str:
    return message_xml(openid, "text", int(time.time()), Content=content, MsgId=str(msg_id))


async def drive(port: int, followers: int) -> dict[str, float]:
    limits = httpx.Limits(max_connections=followers, max_keepalive_connections=followers)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=30
    ) as http:
        for _ in range(200):  # wait for uvicorn
            try:
                if (await http.get("/healthz")).status_code == 200:
                    break
            except httpx.TransportError:
                await asyncio.sleep(0.1)
        server = WeChatServer(http, safe=True)
        latencies: list[float] = []
        misses: list[str] = []
        done: list[str] = []
        started = time.perf_counter()
        await asyncio.gather(
            *(follower(server, n, latencies, misses, done) for n in range(followers))
        )
        wall = time.perf_counter() - started
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
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--followers", type=int, default=100)
    parser.add_argument("--pg", help="PostgreSQL server URL (a scratch database is created)")
    parser.add_argument("--serve", nargs=2, metavar=("URL", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve[0], int(args.serve[1])))
        return
    scratch: str | None = None
    if args.pg:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        scratch = f"wechat_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{scratch}"'))
        url = make_url(args.pg).set(database=scratch).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{tempfile.mkdtemp()}/wechat_bench.db"
    port = free_port()
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", url, str(port)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        result = asyncio.run(drive(port, args.followers))
    finally:
        child.terminate()
        child.wait(timeout=30)
        if scratch:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
    db = "PostgreSQL" if args.pg else "SQLite"
    print(
        f"{db}: {result['followers']} followers, {result['messages']} messages in "
        f"{result['seconds']:.1f} s = {result['messages_per_s']:.1f} messages/s; reply latency "
        f"p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
        f"max {result['max_ms']:.0f} ms; passive-deadline misses: {result['deadline_misses']}; "
        f"registrations submitted: {result['registered']}/{result['followers']}"
    )


if __name__ == "__main__":
    main()
