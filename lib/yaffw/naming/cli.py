"""``yaffw identify PATH…``: how the scan reads each path (kind, series, season, episodes, air date,
film name and year, extra kind, part, version), without touching the files or the database."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from typing import Any

from yaffw.naming.identify import KINDS, Guess, guess_root, identify

_LABELS = (
    ("series", "series"), ("series_year", "series year"), ("season", "season"), ("air_date", "air date"),
    ("year", "year"), ("extra_kind", "extra kind"), ("owner_path", "belongs to"), ("owner_name", "named after"),
    ("part", "part"), ("version", "version"), ("series_path", "series folder"), ("season_path", "season folder"),
)  # fmt: skip


def explain(guess: Guess) -> list[str]:
    """The guess as ``label: value`` lines, for people."""
    lines = [f"kind: {guess.type}"]
    if guess.type == "episode":
        if guess.episode is not None:
            end = f"-{guess.episode_end}" if guess.episode_end is not None else ""
            lines.append(f"episodes: {guess.episode}{end}")
        lines.append(f"title: {guess.name}" if guess.name else "title: (from the file's tags, or 'Episode N')")
    else:
        lines.append(f"name: {guess.name}")
    for field, label in _LABELS:
        value = getattr(guess, field)
        if value is not None:
            lines.append(f"{label}: {value}")
    return lines


def run(args: argparse.Namespace) -> int:
    """Print each path's guess (as text, or JSON lines with ``--json``)."""
    for path in args.paths:
        root = args.root if args.root is not None else str(guess_root(path))
        guess = identify(path, root=root, kind=args.kind)
        if args.json:
            doc: dict[str, Any] = {"path": path, "root": root, **dataclasses.asdict(guess)}
            print(json.dumps(doc, ensure_ascii=False))
        else:
            print(path)
            for line in explain(guess):
                print(f"  {line}")
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's arguments (shared with ``python -m yaffw_scan.identify``)."""
    parser.add_argument("paths", nargs="+", metavar="PATH", help="media file paths (need not exist)")
    parser.add_argument("--kind", choices=KINDS, default="mixed", help="the library's kind (default mixed)")
    parser.add_argument("--root", help="the library folder the paths lie under (default: guessed from each path)")
    parser.add_argument("--json", action="store_true", help="one JSON object per path")
    parser.set_defaults(run=run)


def register(sub: Any) -> None:
    """Add ``identify`` to the ``yaffw`` command."""
    parser = sub.add_parser("identify", help="explain how the scan reads file names", description=__doc__)
    add_arguments(parser)


def main(argv: list[str] | None = None, prog: str = "yaffw identify") -> int:
    """Run as a program of its own."""
    parser = argparse.ArgumentParser(prog=prog, description=__doc__)
    add_arguments(parser)
    args = parser.parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
