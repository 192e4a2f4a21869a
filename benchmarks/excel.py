"""Excel benchmark: the notice's sheets both ways, through the bot's own steps (the committee's
/export, and a .xlsx sent in chat), in a fresh database.

    .venv/bin/python benchmarks/excel.py [--streamers 2000] [--days 30] [--enterprises 500]
                                         [--rows 1000] [--pg URL]

Export: N streamers with D days of reports each and E enterprises with two products each
(/export streamers, enterprises, reports: each step writes its workbook). Import: a 附件2 sheet
of R valid rows sent by the committee (every row through the chat's parsers and rules, stored
with claim codes and audit entries, the sheet returned with a result column), then the same
sheet again (nothing changes). Targets: import of 1,000 rows < 5 s; the three exports of
2,000 streamers x 30 days and 500 enterprises < 10 s together.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from openpyxl import Workbook
from sqlalchemy import Engine, create_engine, insert, select, text
from sqlalchemy.engine import make_url

from bot.app import prepare_database
from bot.config import FestivalConfig, load_config
from bot.core.clock import FixedClock
from bot.core.dispatcher import Core
from bot.core.messages import Incoming, Reply
from handlers.routes import ROUTES
from models import DailyReport, Enterprise, LiveAccount, Person, Product, Streamer, Unit
from models.db import make_engine

ROOT = Path(__file__).resolve().parent.parent
NOW = dt.datetime(2020, 11, 30, 2, 0, tzinfo=dt.UTC)
NOTICE_STREAMERS = (
    "序号 达人账号名 联系电话 粉丝量 获赞量 直播音浪总收入 月均直播有效天 "
    "月均直播有效时长 累积观看人数 最高同时在线人数 直播累计销量(单） "
    "直播累计销售额（元） 平均客单价(元） dou+消耗 转化率 主要直播品类"
).split()


def load(engine: Engine, config: FestivalConfig, streamers: int, days: int, ents: int) -> None:
    rnd = random.Random(2020)
    with engine.connect() as conn:
        units = list(conn.scalars(select(Unit.id).where(Unit.kind == "county")))
    start = config.calendar.live_start
    with engine.begin() as conn:
        conn.execute(
            insert(Person),
            [
                {"id": i, "display_name": f"p{i}", "created_at": NOW}
                for i in range(1, streamers + ents + 1)
            ],
        )
        conn.execute(
            insert(Streamer),
            [
                {
                    "id": i,
                    "person_id": i,
                    "unit_id": units[i % len(units)],
                    "recommendation": "org",
                    "phone": f"138{i:08d}",
                    "followers": rnd.randint(1000, 10**6),
                    "likes_received": rnd.randint(0, 10**6),
                    "tips_income": 0,
                    "monthly_live_days": 20,
                    "monthly_live_hours": 45,
                    "cumulative_viewers": 100000,
                    "peak_concurrent": 5000,
                    "cumulative_orders": 800,
                    "cumulative_sales_fen": 12500000,
                    "categories": ["农产品"],
                    "declarations": [],
                    "status": "approved",
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for i in range(1, streamers + 1)
            ],
        )
        conn.execute(
            insert(LiveAccount),
            [
                {"id": i, "streamer_id": i, "platform": "douyin", "account_name": f"主播{i}"}
                for i in range(1, streamers + 1)
            ],
        )
        reports = [
            {
                "account_id": i,
                "streamer_id": i,
                "report_date": start + dt.timedelta(days=d),
                "gmv_fen": rnd.randint(0, 10**7),
                "duration_minutes": rnd.randint(30, 300),
                "viewers": rnd.randint(0, 10**5),
                "likes": rnd.randint(0, 10**5),
                "orders": rnd.randint(0, 500),
                "created_at": NOW,
                "updated_at": NOW,
            }
            for i in range(1, streamers + 1)
            for d in range(days)
        ]
        for k in range(0, len(reports), 10_000):
            conn.execute(insert(DailyReport), reports[k : k + 10_000])
        conn.execute(
            insert(Enterprise),
            [
                {
                    "id": e,
                    "person_id": streamers + e,
                    "unit_id": units[e % len(units)],
                    "name": f"企业{e}有限公司",
                    "industry": "农产品",
                    "main_products": "脐橙",
                    "contact_name": "王经理",
                    "phone": f"139{e:08d}",
                    "has_shop": False,
                    "status": "approved",
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for e in range(1, ents + 1)
            ],
        )
        conn.execute(
            insert(Product),
            [
                {
                    "enterprise_id": e,
                    "name": f"产品{e}-{k}",
                    "monthly_orders": 100,
                    "monthly_turnover_fen": 3500000,
                    "stock": 5000,
                    "status": "approved",
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for e in range(1, ents + 1)
                for k in (1, 2)
            ],
        )


def sheet(path: Path, rows: int) -> Path:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["2020江西青年直播节达人报名登记表"])
    ws.append(
        ["填报单位（盖章）：萍乡市 安源区"] + [None] * 7 + ["联系人及手机号：李联络 13800138001"]
    )
    ws.append(NOTICE_STREAMERS)
    for n in range(1, rows + 1):
        ws.append(
            [
                n,
                f"导入主播{n}",
                "138 0013 8000",
                "1.2万",
                35000,
                0,
                20,
                45.5,
                "10万",
                5000,
                800,
                125000,
                None,
                None,
                "3.5%",
                "农产品、粮油米面",
            ]
        )
    wb.save(path)
    return path


def step(core: Core, line: str) -> tuple[float, list[Reply]]:
    inc = Incoming.from_text("console", "admin", line)
    if line.startswith("/file "):
        path = line[6:]
        inc = Incoming("console", "admin", "admin", document=path, document_name=Path(path).name)
    t0, c0 = time.perf_counter(), time.process_time()
    replies = core.process_sync(inc)
    CPU.append(time.process_time() - c0)  # this process's CPU: the machine may be shared
    return time.perf_counter() - t0, replies


CPU: list[float] = []


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--streamers", type=int, default=2000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--enterprises", type=int, default=500)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--pg", default="", help="a PostgreSQL server URL (a database of its own)")
    args = parser.parse_args()
    config = load_config(ROOT / "config.yaml")
    clock = FixedClock(config.calendar.tz, dt.datetime(2020, 11, 30, 10, 0))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.pg:
            name = f"excel_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            url = make_url(args.pg).set(database=name).render_as_string(hide_password=False)
        else:
            url = f"sqlite:///{folder / 'bench.db'}"
        engine = make_engine(url)
        try:
            prepare_database(engine, config, clock)
            t0 = time.perf_counter()
            load(engine, config, args.streamers, args.days, args.enterprises)
            print(f"loaded in {time.perf_counter() - t0:.1f} s ({engine.dialect.name})")
            core = Core(config, engine, clock, ROUTES, folder / "data")
            total = 0.0
            for kind in ("streamers", "enterprises", "reports"):
                took, replies = step(core, f"/export {kind}")
                total += took
                size = Path(str(replies[0].document_path)).stat().st_size
                print(f"export {kind}: {took:.2f} s, CPU {CPU[-1]:.2f} s ({size // 1024} KB)")
            print(f"exports together: {total:.2f} s, CPU {sum(CPU):.2f} s (target < 10 s)")
            path = sheet(folder / "import.xlsx", args.rows)
            took, replies = step(core, f"/file {path}")
            assert "导入完成" in replies[0].text, replies[0].text[:500]
            print(f"import {args.rows} rows: {took:.2f} s, CPU {CPU[-1]:.2f} s (target < 5 s)")
            step(core, "不附扫描件")
            took, replies = step(core, f"/file {path}")
            print(f"the same sheet again: {took:.2f} s, CPU {CPU[-1]:.2f} s")
            core.executor.shutdown()
        finally:
            engine.dispose()
            if args.pg:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
