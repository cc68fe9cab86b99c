"""Placeholder worker: answers health checks until the transcode issue fills it in."""

from __future__ import annotations

from sanic import Sanic
from sanic.response import json
from yaffw.logs import configure
from yaffw.settings import Settings


def main() -> None:
    """Serve health checks on PORT."""
    settings = Settings.from_env()
    configure(settings.log_level)
    app = Sanic("yaffw-transcode", configure_logging=False)

    @app.get("/healthz")
    async def healthz(request):  # type: ignore[no-untyped-def]
        return json({"status": "ok"})

    @app.get("/readyz")
    async def readyz(request):  # type: ignore[no-untyped-def]
        return json({"status": "ok"})

    app.run(host=settings.host, port=settings.port, single_process=True, access_log=False, motd=False)
