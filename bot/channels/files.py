"""Pictures people send (report evidence, product pictures) are copied into our own storage
when they arrive, so that any channel can show them later and nothing depends on a platform
keeping them: WeChat deletes temporary media after 3 days, and a Telegram file id means
nothing on WeChat or in an export.

Files are named by their content's digest (the same picture sent twice is stored once) under
`<data dir>/uploads/`, readable by the bot's user only. With several bot processes on several
machines the data directory must be shared storage.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

UPLOADS = "uploads"
MAX_BYTES = 20 * 1024 * 1024  # Telegram's own download limit for bots; WeChat's is lower


class TooLarge(ValueError):
    pass


class NoSpace(OSError):
    """Copying would leave less free disk than the floor (config `uploads.min_free_mb`)."""


def store(
    files_dir: Path, channel: str, data: bytes, suffix: str = ".jpg", min_free_bytes: int = 0
) -> Path:
    """Writes the picture once (atomically: a crash never leaves half a file) and returns
    its path. Refused (NoSpace) when it would leave less than `min_free_bytes` free: the
    database lives on the same disk, and a full disk stops every conversation, while a picture
    not copied is only kept as the platform's id (the callers' fallback)."""
    if len(data) > MAX_BYTES:
        raise TooLarge(f"{len(data)} bytes")
    folder = files_dir / UPLOADS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{channel}-{hashlib.sha256(data).hexdigest()[:32]}{suffix}"
    if path.exists():
        return path
    free = shutil.disk_usage(folder).free
    if free - len(data) < min_free_bytes:
        raise NoSpace(f"{free} bytes free, the floor is {min_free_bytes}")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def is_stored(ref: str | None) -> bool:
    """A reference to a picture in our storage (not a platform's id of it)."""
    return bool(ref) and Path(str(ref)).is_file()
