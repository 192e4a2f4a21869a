"""Signed, expiring download links to files the bot made, for channels that cannot send a
file: a WeChat Official Account sends text, pictures, voice and video to a follower, never a
document (certificates' PDFs: `PUBLIC_BASE_URL/files/<token>`); a Telegram bot uploads at most
50 MB (a full /export of a big festival: `PUBLIC_BASE_URL/exports/<token>`). The token names
the file (under one folder only), its expiry and an HMAC of both; the bot's web app serves
it, streamed from the disk."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class FileLinks:
    def __init__(
        self,
        base_url: str,
        secret: bytes,
        root: Path,
        hours: float,
        now: Callable[[], float] = time.time,
        prefix: str = "files",
    ) -> None:
        self.base_url = base_url.rstrip("/")
        # each folder's links are signed apart: a token of one never opens another's files
        scope = b"" if prefix == "files" else f":{prefix}".encode()
        self.secret = hashlib.sha256(b"festival-file-links" + scope + b":" + secret).digest()
        self.prefix = prefix
        self.root = root.resolve()
        self.hours = hours
        self.now = now

    def _sign(self, name: str, expires: int) -> str:
        mac = hmac.new(self.secret, f"{name}|{expires}".encode(), hashlib.sha256)
        return _b64(mac.digest()[:18])

    def link(self, path: str | Path) -> str | None:
        """A download link for a file under the root; None for any other file."""
        try:
            name = Path(path).resolve().relative_to(self.root).as_posix()
        except ValueError:
            return None
        expires = int(self.now() + self.hours * 3600)
        token = f"{_b64(name.encode())}.{expires}.{self._sign(name, expires)}"
        return f"{self.base_url}/{self.prefix}/{token}"

    def resolve(self, token: str) -> Path | None:
        """The file a token names, if its signature holds and it has not expired."""
        try:
            encoded, expires_text, signature = token.split(".")
            name = _unb64(encoded).decode()
            expires = int(expires_text)
        except (ValueError, UnicodeDecodeError):
            return None
        if not hmac.compare_digest(signature, self._sign(name, expires)):
            return None
        if expires < self.now():
            return None
        path = (self.root / name).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            return None
        return path

    async def serve(self, request: Request) -> Response:
        path = self.resolve(request.path_params["token"])
        if path is None:
            return PlainTextResponse("link expired or not valid", status_code=404)
        return FileResponse(path, filename=path.name)

    def route(self) -> Route:
        return Route(f"/{self.prefix}/{{token}}", self.serve)
