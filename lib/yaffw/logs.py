"""Logging configuration; only entry points call :func:`configure`."""

from __future__ import annotations

import logging
import sys


def configure(level: str = "INFO", name: str | None = None) -> None:
    """One line per event on stderr: time, level, logger, message."""
    prefix = f"{name} " if name else ""
    logging.basicConfig(
        level=level,
        stream=sys.stderr,
        format=f"%(asctime)s %(levelname)s {prefix}%(name)s: %(message)s",
        force=True,
    )
    # Libraries that are chatty at INFO.
    for noisy in ("botocore", "urllib3", "werkzeug", "sanic.access", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
