"""PTB's HTTP transport on aiohttp instead of httpx.

The Bot API calls themselves are what a Telegram bot spends its CPU on: with PTB's default
httpx transport each call cost ~2 ms of CPU here (httpx + httpcore + anyio layers, and a
rescan of the connection pool per request), more than our whole durable step. aiohttp's
client does the same work for a fraction of that (see benchmarks/telegram.py and the README).
PTB supports custom transports through BaseRequest; errors are mapped to PTB's own
(TimedOut, NetworkError), so retries and the rest of PTB behave exactly as with httpx.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData


def _pick(value: Any, default: float | None) -> float | None:
    return default if isinstance(value, DefaultValue) else value


class AiohttpRequest(BaseRequest):
    def __init__(
        self,
        connections: int = 8,
        read_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 30.0,
        media_timeout: float | None = 20.0,
    ) -> None:
        self._connections = connections
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_timeout = media_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connections),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        data: Any = None
        read = _pick(read_timeout, self._read_timeout)
        if request_data is not None:
            files = request_data.multipart_data
            if files:
                form = aiohttp.FormData()
                for name, value in request_data.json_parameters.items():
                    form.add_field(name, value)
                for name, part in files.items():
                    filename, content = part[0], part[1]
                    mimetype = part[2] if len(part) > 2 else None
                    form.add_field(name, content, filename=filename, content_type=mimetype)
                data = form
                read = _pick(write_timeout, self._media_timeout) or read
            else:
                data = request_data.json_parameters  # sent form-encoded, as PTB does
        pool = _pick(pool_timeout, self._pool_timeout)
        connect = _pick(connect_timeout, self._connect_timeout)
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=None if pool is None or connect is None else pool + connect,
            sock_connect=connect,
            sock_read=read,
        )
        try:
            async with self._session.request(method, url, data=data, timeout=timeout) as resp:
                return resp.status, await resp.read()
        except TimeoutError as exc:
            raise TimedOut from exc
        except asyncio.TimeoutError as exc:  # noqa: UP041 (aiohttp may raise either name)
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc
