#!/usr/bin/env bash
# One command: set up (Debian 12) and start the whole stack on a generated sample library.
# Extra arguments go to `yaffw up` (e.g. --media /srv/media --port 8096).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/yaffw up "$@"
