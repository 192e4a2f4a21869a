"""Pictures copied into our storage: once per content, private, never filling the disk."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.channels import files


def test_a_picture_is_stored_once_and_privately(tmp_path: Path) -> None:
    first = files.store(tmp_path, "telegram", b"\xff\xd8 jpeg", ".jpg")
    again = files.store(tmp_path, "telegram", b"\xff\xd8 jpeg", ".jpg")
    assert first == again and first.read_bytes() == b"\xff\xd8 jpeg"
    assert first.stat().st_mode & 0o077 == 0
    assert files.is_stored(str(first)) and not files.is_stored("AgACAgIAAxkBAAI")


def test_below_the_free_disk_floor_nothing_is_written(tmp_path: Path) -> None:
    free = shutil.disk_usage(tmp_path).free
    with pytest.raises(files.NoSpace):
        files.store(tmp_path, "wechat", b"picture", ".jpg", min_free_bytes=free + 1)
    assert list((tmp_path / files.UPLOADS).iterdir()) == []  # not even a partial file
    # a picture stored before is still found (it takes no new space)
    kept = files.store(tmp_path, "wechat", b"older", ".jpg")
    assert files.store(tmp_path, "wechat", b"older", ".jpg", min_free_bytes=free + 1) == kept


def test_too_large_is_refused(tmp_path: Path) -> None:
    with pytest.raises(files.TooLarge):
        files.store(tmp_path, "telegram", b"x" * (files.MAX_BYTES + 1))
