#!/usr/bin/env bash
# Installs what yaffw needs on Debian 12 (apt packages when missing, a virtualenv in .venv).
# Usage: scripts/setup.sh [--test]   (--test adds the test tools: chromium, nginx, test extras)
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(ffmpeg postgresql redis-server python3-venv python3-pip)
if [[ "${1:-}" == "--test" ]]; then
  packages+=(chromium nginx-light)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -q
  "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

python=${PYTHON:-python3}
[[ -x .venv/bin/python ]] || "$python" -m venv .venv
extra=""
[[ "${1:-}" == "--test" ]] && extra="[test]"
.venv/bin/pip install -q --disable-pip-version-check -e ".${extra}"
