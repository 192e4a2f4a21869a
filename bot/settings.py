"""Secrets and addresses from the environment (never from config.yaml)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    database_url: str = f"sqlite:///{PROJECT_ROOT / 'data' / 'festival.db'}"

    @field_validator("database_url")
    @classmethod
    def _driver(cls, url: str) -> str:
        """postgres:// and postgresql:// (as hosting providers print them) use the psycopg 3
        driver this project installs; SQLAlchemy would look for psycopg2."""
        for prefix in ("postgres://", "postgresql://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url

    bot_config: Path = PROJECT_ROOT / "config.yaml"
    telegram_bot_token: SecretStr | None = None
    # PTB's form, e.g. http://127.0.0.1:8081/bot (a local Bot API server, or the tests' fake).
    telegram_api_base_url: str | None = None
    # File downloads; derived from the API address when unset (.../bot -> .../file/bot).
    telegram_file_base_url: str | None = None
    # Set: Telegram posts updates to this public URL (webhook); unset: long polling.
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    # The bot's @username for the t.me links on the QR posters; unset: learnt from getMe when
    # the Telegram channel starts (and by `python -m bot posters` when the token is set).
    telegram_bot_username: str | None = None
    # WeChat Official Account (公众号): the callback is served when WECHAT_TOKEN and
    # WECHAT_APP_ID are set; WECHAT_AES_KEY (the EncodingAESKey) selects safe mode.
    wechat_token: SecretStr | None = None
    wechat_app_id: str | None = None
    wechat_app_secret: SecretStr | None = None
    wechat_aes_key: SecretStr | None = None
    # wechatpy's form; also used for the access-token request, which wechatpy hard-codes.
    wechat_api_base_url: str = "https://api.weixin.qq.com/cgi-bin/"
    # Where a QR code's picture is fetched (showqrcode?ticket=...): another host than the API.
    wechat_qrcode_base_url: str = "https://mp.weixin.qq.com/cgi-bin/"
    # WeCom (企业微信): the app that posts to app group chats (appchat); robots need only keys.
    wecom_corp_id: str | None = None
    wecom_secret: SecretStr | None = None
    wecom_agent_id: str | None = None
    wecom_api_base_url: str = "https://qyapi.weixin.qq.com/cgi-bin/"
    # The bot's public address (https://bot.example.org): WeChat followers get signed,
    # expiring download links to their certificates' PDFs under it (an Official Account cannot
    # send files). FILE_LINK_SECRET signs them (default: derived from WECHAT_TOKEN).
    public_base_url: str | None = None
    file_link_secret: SecretStr | None = None
    # This process among several WeChat workers (the messages it holds for a late step are
    # stored under it): stable across restarts, so a worker restarted after a crash takes
    # its own over at once. Default: the host name and WEB_PORT.
    wechat_worker_id: str | None = None
    web_host: str = "127.0.0.1"
    web_port: int = 8080
    # Rehearsal mode: start the clock at this local time (ISO format), e.g. 2020-11-02T20:00.
    bot_clock: str | None = None
    # Rehearsal mode: the real instant (ISO, UTC unless an offset is given) at which the clock
    # showed BOT_CLOCK. Default: when this process started. Several workers (and scheduler.py)
    # given the same BOT_CLOCK and BOT_CLOCK_AT keep one time.
    bot_clock_at: dt.datetime | None = None
    # Rehearsal mode: how many times faster than real time the clock runs (60: an hour a minute).
    bot_clock_speed: float = Field(default=1.0, gt=0, le=100_000)
    # embedded: `python -m bot` runs the scheduler too; off: `python scheduler.py` runs it alone.
    bot_scheduler: Literal["embedded", "off"] = "embedded"
    # single: this process is the only bot worker. shared: one of several on one PostgreSQL
    # (per-person turns, the leader's scheduler, outbox and polling coordinated through it).
    bot_workers: Literal["single", "shared"] = "single"
    console_user: str = "me"


def data_dir_for(database_url: str) -> Path:
    """Where the bot keeps its files (pictures it draws, pictures people send): beside the
    default SQLite database (./data), never inside the repository's code."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).resolve().parent
    return PROJECT_ROOT / "data"
