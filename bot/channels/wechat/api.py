"""wechatpy's synchronous clients, made fit for several processes and an event loop.

* The access token lives in the database (models/wechat.py), refreshed under a row lock: WeChat
  retires the previous token on each refresh, so two processes refreshing on their own would
  keep breaking each other's calls.
* The token request goes to our configured base URL (wechatpy hard-codes api.weixin.qq.com /
  qyapi.weixin.qq.com for it) and has a timeout (wechatpy's has none).
* A call refused for an invalid or expired token (40001/40014/42001) renews the token once and
  is retried once; wechatpy's own retry is switched off (it recurses without a bound).
* Every call runs in a small thread pool of its own, never on the event loop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import requests
from sqlalchemy.orm import Session, sessionmaker
from wechatpy import WeChatClient
from wechatpy.enterprise import WeChatClient as WeComClient
from wechatpy.exceptions import WeChatClientException

from models.wechat import current_token, refresh_token

log = logging.getLogger(__name__)
T = TypeVar("T")

TOKEN_ERRORS = {40001, 40014, 42001}
CACHE_SECONDS = 60.0


class TokenKeeper:
    """One account's shared access token."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        account: str,
        fetch: Callable[[], tuple[str, int]],
        margin_seconds: int,
    ) -> None:
        self.sessions = sessions
        self.account = account
        self.fetch = fetch
        self.margin = dt.timedelta(seconds=margin_seconds)
        self._local = threading.local()  # the token this thread's last call used
        # read from the database at most once a minute per process (the margin covers it)
        self._cached: tuple[str, float] | None = None

    def get(self) -> str:
        cached = self._cached
        if cached is not None and time.monotonic() - cached[1] < CACHE_SECONDS:
            token = cached[0]
        else:
            with self.sessions() as session:
                found = current_token(session, self.account, self._now(), self.margin)
            token = found if found is not None else self.renew(None)
            self._cached = (token, time.monotonic())
        self._local.token = token
        return token

    def renew(self, stale: str | None) -> str:
        with self.sessions() as session, session.begin():
            token = refresh_token(
                session, self.account, self._now(), self.margin, self.fetch, stale
            )
        self._local.token = token
        self._cached = (token, time.monotonic())
        return token

    def _now(self) -> dt.datetime:
        """Real time, never the rehearsal clock: WeChat's token expires in real seconds,
        and a clock running 60 times faster would refresh it (a daily-limited call) every
        minute."""
        return dt.datetime.now(dt.UTC)

    def last_used(self) -> str | None:
        return getattr(self._local, "token", None)


def _fetch(http: requests.Session, url: str, params: dict[str, str], timeout: float) -> Any:
    res = http.get(url, params=params, timeout=timeout)
    res.raise_for_status()
    data = res.json()
    if data.get("errcode"):
        raise WeChatClientException(data["errcode"], data.get("errmsg", ""))
    return data["access_token"], int(data.get("expires_in", 7200))


class _SharedToken:
    """wechatpy asks its client for the token; ours come from the database-backed keeper that
    all processes share (a refresh retires the previous token)."""

    keeper: TokenKeeper | None

    @property
    def access_token(self) -> str:
        assert self.keeper is not None
        return self.keeper.get()

    def fetch_access_token(self) -> None:
        assert self.keeper is not None
        self.keeper.renew(self.keeper.last_used())


class OfficialAccountClient(_SharedToken, WeChatClient):
    """wechatpy's Official Account client on our base URL and our shared token."""

    def __init__(self, app_id: str, secret: str, base_url: str, timeout: float) -> None:
        super().__init__(app_id, secret, timeout=timeout, auto_retry=False)
        self.API_BASE_URL = base_url
        self.keeper: TokenKeeper | None = None

    def token_from_server(self) -> tuple[str, int]:
        params = {"grant_type": "client_credential", "appid": self.appid, "secret": self.secret}
        result: tuple[str, int] = _fetch(
            self._http, f"{self.API_BASE_URL}token", params, self.timeout
        )
        return result


class WeComAppClient(_SharedToken, WeComClient):
    """wechatpy's WeCom client (appchat, media) on our base URL and our shared token."""

    def __init__(self, corp_id: str, secret: str, base_url: str, timeout: float) -> None:
        super().__init__(corp_id, secret, timeout=timeout, auto_retry=False)
        self.API_BASE_URL = base_url
        self.keeper: TokenKeeper | None = None

    def token_from_server(self) -> tuple[str, int]:
        params = {"corpid": self.corp_id, "corpsecret": self.secret}
        result: tuple[str, int] = _fetch(
            self._http, f"{self.API_BASE_URL}gettoken", params, self.timeout
        )
        return result


Client = OfficialAccountClient | WeComAppClient


class Api:
    """Runs a client's calls in threads, renewing the shared token once when refused."""

    def __init__(
        self,
        client: Client,
        sessions: sessionmaker[Session],
        account: str,
        margin_seconds: int,
        threads: int = 8,
    ) -> None:
        self.client = client
        client.keeper = TokenKeeper(sessions, account, client.token_from_server, margin_seconds)
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="wechat-http")

    def call_sync(self, fn: Callable[[Client], T]) -> T:
        try:
            return fn(self.client)
        except WeChatClientException as exc:
            if exc.errcode not in TOKEN_ERRORS:
                raise
            log.info("access token refused (%s); renewing once", exc.errcode)
            keeper = self.client.keeper
            assert keeper is not None
            keeper.renew(keeper.last_used())
            return fn(self.client)

    async def call(self, fn: Callable[[Client], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, self.call_sync, fn)

    def close(self) -> None:
        self.pool.shutdown(wait=False)
