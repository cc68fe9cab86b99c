"""Extra api replicas for tests that need two processes (revocation, SSE fan-out) or different
settings (a low login limit). Each is the real ``functions/api/main.py`` on a free port.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from yaffw.local_services import free_port
from yaffw.settings import Settings

from tests.conftest import ROOT, wait_ready
from tests.processes import stop_process


@contextmanager
def api_process(settings: Settings, log: Path) -> Iterator[str]:
    """Run one api replica with ``settings``; yields its URL and stops it afterwards."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YAFFW_", "S3_"))}
    env.update(settings.replace(port=port, host="127.0.0.1").to_env())
    env["PYTHONUNBUFFERED"] = "1"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, str(ROOT / "functions/api/main.py")], env=env, stdout=out,
                                stderr=subprocess.STDOUT)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, proc)
    except AssertionError:
        proc.kill()
        raise AssertionError(log.read_text()[-4000:]) from None
    try:
        yield url
    finally:
        stop_process(proc)
