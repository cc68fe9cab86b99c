#!/usr/bin/env bash
# One command: set up (Debian 12) and run the whole test suite, lint and type check included.
# Uses PostgreSQL/Redis at DATABASE_URL/REDIS_URL (default 127.0.0.1) when they answer,
# otherwise the tests start private ones. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy  # strict on lib/yaffw (files and options in pyproject.toml)
exec .venv/bin/pytest "$@"
