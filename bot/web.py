"""The bot's one web app (Starlette on uvicorn): /healthz, and each channel's HTTP endpoint
(Telegram's webhook; WeChat's callback later). Channels contribute routes; nothing here knows
a channel library."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route


async def healthz(request: Request) -> Response:
    return JSONResponse({"ok": True})


def create_app(routes: Sequence[BaseRoute] = ()) -> Starlette:
    return Starlette(routes=[Route("/healthz", healthz), *routes])


async def serve(app: Starlette, host: str, port: int) -> None:
    """Runs uvicorn inside the current event loop (beside the bot's other tasks)."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    await server.serve()
