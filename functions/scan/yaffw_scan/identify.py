"""Path → guess, for the scan. The rules live in the shared library (:mod:`yaffw.naming`), so the
``yaffw identify`` command reads names exactly as the scan does; this module re-exports them.

Run on one path from the command line (as ``yaffw identify`` does)::

    python -m yaffw_scan.identify "/media/shows/Show/Season 01/Show S01E02.mkv" --kind shows --json
"""

from __future__ import annotations

import sys

from yaffw.naming import KINDS, NAMING_VERSION, Guess, clean, identify, season_number, sort_name, split_year
from yaffw.naming.cli import main as _main

__all__ = ["KINDS", "NAMING_VERSION", "Guess", "clean", "identify", "main", "season_number", "sort_name", "split_year"]


def main(argv: list[str] | None = None) -> int:
    """Print the guess for each path."""
    return _main(argv, prog="python -m yaffw_scan.identify")


if __name__ == "__main__":
    sys.exit(main())
