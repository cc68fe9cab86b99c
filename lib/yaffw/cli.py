"""The ``yaffw`` command. Each subcommand lives in the module named in ``COMMANDS``, which defines
``register(subparsers)``; the parser it adds sets ``run=callable(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from yaffw.errors import ConfigError

COMMANDS = [
    "yaffw.runner",  # up
    "yaffw.migrations_cli",  # migrate
    "yaffw.dispatcher",  # dispatch
    "yaffw.ticker",  # tick
    "yaffw.function_cli",  # function <name>
    "yaffw.jellyfin.cli",  # migrate-jellyfin
    "yaffw.naming.cli",  # identify
]


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser."""
    parser = argparse.ArgumentParser(prog="yaffw", description="yaffw media server")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in COMMANDS:
        importlib.import_module(module).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; configuration errors print one line and exit 2."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except ConfigError as exc:
        print(f"yaffw: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
