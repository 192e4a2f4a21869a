"""The certificates the committee issues, as files: an award certificate (荣誉证书) per winner, a
participation certificate (参与证书) per approved streamer and a donation acknowledgement
(捐赠确认函) per enterprise, each as a PDF (A4 landscape, the CJK font embedded) and a PNG, and
one ZIP of them all for the committee. Pure rendering: callers build the values (from the award
lists and the donation ledger) and get files back; nothing here reads the database.

The values are handlers/certificate_documents.py, what the pages say and where
handlers/certificate_pages.py, how they are drawn handlers/certificate_drawing.py (with
certificate_pdf.py and certificate_png.py).
"""

from __future__ import annotations

import csv
import io
import multiprocessing
import os
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.config import FestivalConfig
from handlers.certificate_documents import (
    AwardCertificate,
    AwardKind,
    Category,
    Certificate,
    DonationAcknowledgement,
    Issuer,
    MissingGlyphs,
    ParticipationCertificate,
    category,
    certificate_number,
    file_stem,
    format_date,
    issuer_from_config,
    t,
)
from handlers.certificate_drawing import pdf_font, printable
from handlers.certificate_pages import layout, page_text
from handlers.certificate_pdf import write_pdf
from handlers.certificate_png import write_png

__all__ = [
    "AwardCertificate",
    "AwardKind",
    "Batch",
    "Category",
    "Certificate",
    "DonationAcknowledgement",
    "Failure",
    "Issuer",
    "MissingGlyphs",
    "ParticipationCertificate",
    "PngOptions",
    "RenderedCertificate",
    "category",
    "certificate_number",
    "format_date",
    "issuer_from_config",
    "layout",
    "page_text",
    "png_options",
    "render",
    "render_many",
    "zip_certificates",
]


@dataclass(frozen=True)
class PngOptions:
    dpi: int = 150  # A4 landscape at 150 dpi: 1754 x 1240 pixels
    compress_level: int = 1


def png_options(cfg: FestivalConfig) -> PngOptions:
    return PngOptions(cfg.certificates.png_dpi, cfg.certificates.png_compress_level)


@dataclass(frozen=True)
class RenderedCertificate:
    number: str
    category: Category
    holder: str  # as printed
    pdf: Path
    png: Path


@dataclass(frozen=True)
class Failure:
    number: str
    holder: str
    reason: str  # e.g. the characters the font lacks


@dataclass
class Batch:
    rendered: list[RenderedCertificate] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)


def render(cert: Certificate, outdir: Path, png: PngOptions = PngOptions()) -> RenderedCertificate:
    """Write outdir/<number>.pdf and outdir/<number>.png (replaced if there); raises
    MissingGlyphs when a name has characters the font cannot print."""
    page = layout(cert)
    stem = file_stem(cert.number)
    author = " ".join(cert.issuer.bodies)
    pdf = write_pdf(page, outdir / f"{stem}.pdf", author=author)
    picture = write_png(page, outdir / f"{stem}.png", png.dpi, png.compress_level)
    return RenderedCertificate(cert.number, category(cert), printable(cert.holder), pdf, picture)


def _render_one(job: tuple[Certificate, Path, PngOptions]) -> RenderedCertificate | Failure:
    cert, outdir, png = job
    try:
        return render(cert, outdir, png)
    except ValueError as exc:  # MissingGlyphs, a text too long for the page
        return Failure(cert.number, cert.holder, str(exc))


def _warm_up() -> None:
    pdf_font()  # parse the font once per worker, not once per certificate


def render_many(
    certs: Sequence[Certificate],
    outdir: Path,
    png: PngOptions = PngOptions(),
    processes: int = 1,
) -> Batch:
    """Render every certificate into outdir, over several processes when asked (spawned, not
    forked: the bot's threads and event loop are not copied). A certificate that cannot be
    rendered is reported in Batch.failed; the others are still written."""
    numbers = [c.number for c in certs]
    if len(set(map(file_stem, numbers))) != len(numbers):
        raise ValueError("certificate numbers must be unique (they name the files)")
    jobs = [(cert, outdir, png) for cert in certs]
    batch = Batch()
    if processes <= 1 or len(jobs) < 2:
        results = [_render_one(job) for job in jobs]
    else:
        context = multiprocessing.get_context("spawn")
        with context.Pool(processes, initializer=_warm_up) as pool:
            chunk = max(1, min(32, len(jobs) // (processes * 8)))
            results = pool.map(_render_one, jobs, chunksize=chunk)
    for result in results:
        if isinstance(result, Failure):
            batch.failed.append(result)
        else:
            batch.rendered.append(result)
    return batch


def _entry_name(doc: RenderedCertificate, suffix: str) -> str:
    holder = "".join(ch for ch in doc.holder if ch not in '\\/:*?"<>|' and ch.isprintable())
    holder = holder.strip(" .")[:40]
    name = f"{file_stem(doc.number)}_{holder}" if holder else file_stem(doc.number)
    return f"{t(f'cert.folder_{doc.category}')}/{name}{suffix}"


def zip_certificates(docs: Iterable[RenderedCertificate], path: Path) -> Path:
    """One ZIP of PDFs and PNGs in a folder per kind (获奖证书, 参与证书, 捐赠确认函) with a
    清单.csv (UTF-8 with BOM, so that Excel opens it); written beside and renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".zip-", suffix=".zip")
    index = io.StringIO()
    writer = csv.writer(index)
    writer.writerow(t("cert.index_header").split(","))
    seen: set[str] = set()
    try:
        with (
            os.fdopen(fd, "wb") as fh,
            # the files are compressed already (PDF streams, PNG): stored, not deflated again
            zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED) as archive,
        ):
            for doc in docs:
                pdf, png = _entry_name(doc, ".pdf"), _entry_name(doc, ".png")
                if pdf in seen:
                    raise ValueError(f"certificate {doc.number} is in the list twice")
                seen.add(pdf)
                archive.write(doc.pdf, pdf)
                archive.write(doc.png, png)
                folder = t(f"cert.folder_{doc.category}")
                writer.writerow([doc.number, folder, doc.holder, pdf, png])
            archive.writestr(
                t("cert.index_file"),
                "\ufeff" + index.getvalue(),
                compress_type=zipfile.ZIP_DEFLATED,
            )
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
