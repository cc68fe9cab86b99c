"""``yaffw migrate-jellyfin --data-dir DIR [--dry-run] [--path-map OLD=NEW ...]``."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from yaffw.errors import BadInput
from yaffw.jellyfin.migrate import run as run_migration
from yaffw.jellyfin.pathmap import PathMap
from yaffw.jellyfin.progress import Progress
from yaffw.jellyfin.source import SourceError
from yaffw.logs import configure
from yaffw.settings import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``migrate-jellyfin`` to the CLI."""
    p = sub.add_parser(
        "migrate-jellyfin",
        help="migrate users, libraries and watch state from a Jellyfin server's data directory",
        description="Reads Jellyfin's library.db/jellyfin.db read-only (10.8 to 10.11) and loads users, "
        "libraries, item matches and per-user play state into DATABASE_URL. Stop Jellyfin and scan the "
        "media in yaffw first; run again after a scan to match more items. See docs/jellyfin-migration.md.",
    )
    p.add_argument(
        "--data-dir",
        type=Path,
        required=True,
        help="Jellyfin's data folder (e.g. /var/lib/jellyfin or Docker's /config, or its data/)",
    )
    p.add_argument("--dry-run", action="store_true", help="read and count everything, write nothing")
    p.add_argument(
        "--path-map",
        action="append",
        default=[],
        metavar="OLD=NEW",
        help="where a Jellyfin media path prefix is for yaffw (repeatable)",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the migration and print its report; a bad source or argument prints one line, exit 2."""
    settings = Settings.from_env()
    configure(settings.log_level)
    settings.require("database_url")
    try:
        path_map = PathMap.parse(args.path_map)
        report = asyncio.run(
            run_migration(
                settings.database_url or "",
                args.data_dir,
                path_map,
                dry_run=args.dry_run,
                progress=None if args.no_progress else (lambda label, total: Progress(label, total)),
            )
        )
    except (SourceError, BadInput) as exc:
        print(f"yaffw migrate-jellyfin: {exc.message}", file=sys.stderr)
        return 2
    print(json.dumps(report.as_dict(), indent=2) if args.json else report.render())
    return 0
