"""Certificates benchmark: the documents of a provincial festival, each as a PDF and a PNG
(default 2,000 participation certificates, 38 streamer + 30 unit + 100 enterprise award
certificates and 300 donation acknowledgements = 2,468), then the committee's ZIP of them all.

    .venv/bin/python benchmarks/certificates.py [--processes 2] [--participation 2000]
        [--streamer-awards 38] [--unit-awards 30] [--enterprise-awards 100] [--donations 300]
        [--keep DIR]

The values are made up (names of varied length, some long enough to be shrunk or wrapped);
the rendering is the committee's: handlers.certificates.render_many and zip_certificates with
the shipped config's template. Times are wall-clock for the whole set, the pool's start-up
included, and the CPU time of all processes (what the wall time would be on one idle core);
the issue's target is under 120 s on 2 cores.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import FestivalConfig, load_config
from handlers.certificates import (
    AwardCertificate,
    Certificate,
    DonationAcknowledgement,
    Issuer,
    ParticipationCertificate,
    certificate_number,
    issuer_from_config,
    png_options,
    render_many,
    zip_certificates,
)

ROOT = Path(__file__).resolve().parent.parent
SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜"
WORDS = "赣南脐橙井冈山蜜柚南丰蜜桔庐山云雾茶鄱阳湖大闸蟹万年贡米崇义竹笋遂川狗牯脑"
PLACES = ["南昌市", "九江市", "赣州市", "吉安市", "上饶市", "萍乡市", "抚州市", "宜春市"]
STREAMER_AWARDS = [("特等奖", 1), ("一等奖", 2), ("二等奖", 5), ("三等奖", 10), ("优秀奖", 20)]


def _name(rnd: random.Random, shortest: int, longest: int) -> str:
    return "".join(rnd.choice(WORDS) for _ in range(rnd.randint(shortest, longest)))


def build(
    cfg: FestivalConfig, issuer: Issuer, counts: dict[str, int], seed: int = 2020
) -> list[Certificate]:
    rnd = random.Random(seed)
    certs: list[Certificate] = []
    serial = {"award": 0, "participation": 0, "donation": 0}

    def number(kind: str) -> str:
        serial[kind] += 1
        return certificate_number(cfg, kind, serial[kind])  # type: ignore[arg-type]

    def unit() -> str:
        return rnd.choice(PLACES) + rnd.choice(["", "青山湖区", "瑞金市", "井冈山市"]) + "团委"

    for _ in range(counts["participation"]):
        account = rnd.choice(SURNAMES) + _name(rnd, 2, 12) + rnd.choice(["", "的果园", "优选🍊"])
        certs.append(ParticipationCertificate(number("participation"), issuer, account, unit()))
    labels = [label for label, n in STREAMER_AWARDS for _ in range(n)]
    for i in range(counts["streamer_awards"]):
        label = "优秀主播奖·" + labels[i % len(labels)]
        title = "江西青年电商扶贫大使" if i < 3 else None
        account = rnd.choice(SURNAMES) + _name(rnd, 2, 10)
        certs.append(AwardCertificate(number("award"), issuer, account, label, "streamer", title))
    for _ in range(counts["unit_awards"]):
        certs.append(AwardCertificate(number("award"), issuer, unit(), "优秀组织奖", "unit"))
    for i in range(counts["enterprise_awards"]):
        label = "爱心企业突出贡献奖" if i % 10 == 0 else "爱心企业贡献奖"
        name = "江西" + _name(rnd, 4, 40) + "有限公司"
        certs.append(AwardCertificate(number("award"), issuer, name, label, "enterprise"))
    for i in range(counts["donations"]):
        received = rnd.randint(100, 2_000_000) * 100 + rnd.choice([0, 0, 50, 7])
        directed = received // 8 if i % 3 == 0 else 0
        certs.append(
            DonationAcknowledgement(
                number("donation"),
                issuer,
                "江西" + _name(rnd, 4, 30) + "有限公司",
                received,
                directed,
                "希望小学图书室" if directed else None,
                f"JX{cfg.festival.year}-{i:06d}" if i % 2 else None,
            )
        )
    return certs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--participation", type=int, default=2000)
    parser.add_argument("--streamer-awards", type=int, default=38)
    parser.add_argument("--unit-awards", type=int, default=30)
    parser.add_argument("--enterprise-awards", type=int, default=100)
    parser.add_argument("--donations", type=int, default=300)
    parser.add_argument("--keep", type=Path, help="write here instead of a temporary folder")
    args = parser.parse_args()
    cfg = load_config(ROOT / "config.yaml")
    issuer = issuer_from_config(cfg, dt.date(cfg.festival.year, 12, 10))
    counts = {
        "participation": args.participation,
        "streamer_awards": args.streamer_awards,
        "unit_awards": args.unit_awards,
        "enterprise_awards": args.enterprise_awards,
        "donations": args.donations,
    }
    certs = build(cfg, issuer, counts)
    with tempfile.TemporaryDirectory() as scratch:
        outdir = args.keep or Path(scratch)
        print(f"{len(certs):,} certificates, {args.processes} processes", flush=True)
        t0 = time.perf_counter()
        batch = render_many(certs, outdir, png_options(cfg), processes=args.processes)
        rendered = time.perf_counter() - t0
        zipped = zip_certificates(batch.rendered, outdir / "certificates.zip")
        total = time.perf_counter() - t0
        pdf_bytes = sum(doc.pdf.stat().st_size for doc in batch.rendered)
        png_bytes = sum(doc.png.stat().st_size for doc in batch.rendered)
        n = len(batch.rendered)
        print(f"  rendered: {n:,} (PDF + PNG), failed: {len(batch.failed)}")
        print(f"  render: {rendered:.1f} s ({rendered / max(n, 1) * 1000:.1f} ms per certificate)")
        print(f"  zip: {total - rendered:.1f} s ({zipped.stat().st_size / 1e6:.1f} MB)")
        print(f"  total: {total:.1f} s")
        # CPU of this process and the pool's workers (reaped by now): the work itself, which
        # a machine shared with other jobs cannot shorten or lengthen
        cpu = sum(
            u.ru_utime + u.ru_stime
            for u in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
        )
        print(
            f"  CPU in all processes: {cpu:.1f} s ({cpu / max(n, 1) * 1000:.1f} ms per certificate)"
        )
        each = max(n, 1) * 1000
        print(f"  average PDF {pdf_bytes / each:.0f} kB, PNG {png_bytes / each:.0f} kB")
        for failure in batch.failed[:5]:
            print(f"  failed: {failure}")


if __name__ == "__main__":
    main()
