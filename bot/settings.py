"""Secrets and addresses from the environment (never from config.yaml)."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    database_url: str = f"sqlite:///{PROJECT_ROOT / 'data' / 'festival.db'}"
    bot_config: Path = PROJECT_ROOT / "config.yaml"
    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str | None = None
    # Rehearsal mode: start the clock at this local time (ISO format), e.g. 2020-11-02T20:00.
    bot_clock: str | None = None
    console_user: str = "me"
