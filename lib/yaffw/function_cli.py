"""``yaffw function NAME``: serve a CloudEvent function (scan, lease-reaper) with health routes."""

from __future__ import annotations

import argparse

from yaffw.function_app import functions_dir, serve
from yaffw.logs import configure
from yaffw.settings import Settings

CLOUDEVENT_FUNCTIONS = ("scan", "lease-reaper")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``function`` to the CLI."""
    p = sub.add_parser("function", help="serve a CloudEvent function on PORT")
    p.add_argument("name", choices=CLOUDEVENT_FUNCTIONS)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Serve until killed."""
    settings = Settings.from_env()
    configure(settings.log_level, name=args.name)
    settings.require("database_url", "redis_url")
    assert (functions_dir() / args.name / "main.py").exists()
    serve(args.name, settings)
    return 0
