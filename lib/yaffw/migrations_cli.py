"""``yaffw migrate``: apply pending SQL migrations to DATABASE_URL."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from yaffw.logs import configure
from yaffw.migrations import migrate
from yaffw.settings import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``migrate`` to the CLI."""
    p = sub.add_parser("migrate", help="apply pending database migrations")
    p.add_argument("--dir", type=Path, default=None, help="migrations folder (default: the repository's)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Apply migrations; prints what was applied."""
    settings = Settings.from_env()
    configure(settings.log_level)
    settings.require("database_url")
    applied = asyncio.run(migrate(settings.database_url or "", args.dir))
    print("applied: " + (", ".join(applied) if applied else "nothing (up to date)"))
    return 0
