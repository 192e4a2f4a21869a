"""The bot's one web app (Starlette on uvicorn): /healthz, and each channel's HTTP endpoint
(Telegram's webhook; WeChat's callback later). Channels contribute routes; nothing here knows
a channel library."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route


async def healthz(request: Request) -> Response:
    return JSONResponse({"ok": True})


def create_app(routes: Sequence[BaseRoute] = ()) -> Starlette:
    return Starlette(routes=[Route("/healthz", healthz), *routes])


def server(app: Starlette, host: str, port: int, grace_seconds: float = 10) -> Any:
    """uvicorn in the current event loop (beside the bot's other tasks). Stop it with
    `server.should_exit = True`: it stops accepting, lets the requests in flight finish (at
    most grace_seconds) and returns; cancelling it instead would cut those requests off."""
    import uvicorn

    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=int(grace_seconds),
    )
    return uvicorn.Server(config)


async def serve(app: Starlette, host: str, port: int) -> None:
    await server(app, host, port).serve()
