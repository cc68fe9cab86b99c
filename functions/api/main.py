"""Entry point of the api function: ``python functions/api/main.py`` (PORT, DATABASE_URL, ...)."""

from __future__ import annotations

import logging

from yaffw.logs import configure
from yaffw.settings import Settings
from yaffw_api.app import create_app


def main() -> None:
    """Serve the api on ``YAFFW_HOST:PORT`` in this process (one replica = one process)."""
    settings = Settings.from_env()
    configure(settings.log_level)
    app = create_app(settings)
    logging.getLogger(__name__).info("api listening on %s:%d", settings.host, settings.port)
    # SIGTERM/SIGINT are yaffw_api.drain's: not ready first, then Sanic's graceful stop.
    app.run(host=settings.host, port=settings.port, single_process=True, access_log=False, motd=False,
            register_sys_signals=False)  # fmt: skip


if __name__ == "__main__":
    main()
