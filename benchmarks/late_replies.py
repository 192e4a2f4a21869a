"""Late WeChat replies: how fast the outbox delivers replies that missed the passive budget
(customer-service messages) to distinct followers, against the fake WeChat API answering in
0.3 s (and with 10% of the sends answered 502, half of them after executing the send).

    .venv/bin/python benchmarks/late_replies.py [--followers 200] [--delay 0.3] [--pairs 3]

Each run enqueues one late reply per follower (all windows open) and delivers them with the
bot's WeChat runtime (its sender, API thread pool and outbox dispatcher), once one chat at a
time (concurrency 1: the outbox before it sent to several people at once) and once with the
default concurrency, alternating, so the two are compared within one run on a shared machine.
Prints msg/s and the latency from enqueue to the fake's receipt (p50/p99), and checks that
every follower got exactly one copy (a 502 after executing may show it twice: counted).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import prepare_database  # noqa: E402
from bot.channels.wechat.run import build  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.core.clock import Clock  # noqa: E402
from bot.core.delivery import CONCURRENCY  # noqa: E402
from bot.core.dispatcher import Core  # noqa: E402
from bot.core.messages import Reply  # noqa: E402
from bot.core.outbox import Outbox  # noqa: E402
from handlers.routes import ROUTES  # noqa: E402
from models.db import make_engine  # noqa: E402
from models.wechat import touch_follower  # noqa: E402
from tests.fake_wechat import FakeWeChat, settings_for  # noqa: E402


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def one_run(followers: int, delay: float, error_rate: float, concurrency: int) -> dict[str, float]:
    config = load_config(ROOT / "config.yaml")
    with tempfile.TemporaryDirectory() as tmp, FakeWeChat(quota=10**6) as fake:
        fake.delay, fake.error_rate = delay, error_rate
        engine = make_engine(f"sqlite:///{tmp}/bench.db")
        # a running clock: retries come due after their back-off
        start = dt.datetime.combine(config.calendar.live_start, dt.time(20), config.calendar.tz)
        clock = Clock(config.calendar.tz, start)
        prepare_database(engine, config, clock)
        core = Core(config, engine, clock, ROUTES)
        runtime = build(core, settings_for(fake, safe=True, wecom=False))
        runtime.dispatcher.concurrency = concurrency
        openids = [f"o_late{i}" for i in range(followers)]
        with core.sessions() as s, s.begin():
            outbox = Outbox(s, clock, batch=True)
            for openid in openids:
                fake.interact(openid)
                touch_follower(s, openid, clock.now())
                outbox.to_chat("wechat", openid, f"wechat:late:{openid}:0", Reply("下一个问题"))
            outbox.flush()
        received: dict[str, float] = {}
        sender = runtime.senders["wechat"]
        sender.delivered = lambda openid, _at: received.setdefault(openid, time.perf_counter())  # type: ignore[attr-defined]

        async def deliver() -> float:
            t0 = time.perf_counter()
            while len(received) < followers:
                await runtime.dispatcher.drain()
                if len(received) < followers:
                    await asyncio.sleep(0.05)  # retries come due after their back-off
            return t0

        started = time.perf_counter()
        t0 = asyncio.run(deliver())
        elapsed = time.perf_counter() - t0
        shown = [len(fake.service_texts(o)) for o in openids]
        core.executor.shutdown()
        runtime_api = getattr(sender, "api", None)
        if runtime_api is not None:
            runtime_api.close()
        engine.dispose()
        latencies = [received[o] - started for o in openids]
        return {
            "rate": followers / elapsed,
            "p50": pct(latencies, 0.5),
            "p99": pct(latencies, 0.99),
            "errors": fake.errors,
            "missing": sum(1 for n in shown if n == 0),
            "twice": sum(1 for n in shown if n > 1),
        }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--followers", type=int, default=200)
    parser.add_argument("--delay", type=float, default=0.3)
    parser.add_argument("--pairs", type=int, default=3)
    args = parser.parse_args()
    print(f"{args.followers} late replies to distinct followers, API {args.delay} s per call")
    print("| concurrency | 502 rate | 502s | msg/s | latency p50 | p99 | missing | shown twice |")
    print("|---|---|---|---|---|---|---|---|")
    for error_rate in (0.0, 0.1):
        for _ in range(args.pairs):
            for concurrency in (1, CONCURRENCY):
                r = one_run(args.followers, args.delay, error_rate, concurrency)
                print(
                    f"| {concurrency} | {error_rate:.0%} | {r['errors']:.0f} | {r['rate']:.1f} "
                    f"| {r['p50']:.2f} s | {r['p99']:.2f} s | {r['missing']:.0f} "
                    f"| {r['twice']:.0f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
