"""`yaffw up` on a machine without running servers: private PostgreSQL and Redis, every function
ready, and SIGTERM leaves no process behind."""

from __future__ import annotations

import re
import signal
import time
from pathlib import Path

import httpx
import psutil
import pytest
from yaffw import sample

pytestmark = pytest.mark.e2e


def _tree(pid: int) -> list[psutil.Process]:
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def _private_servers(markers: list[str]) -> list[psutil.Process]:
    """PostgreSQL and Redis started for this stack (they run in sessions of their own)."""
    found = []
    for p in psutil.process_iter(["cmdline", "cwd"]):
        try:
            cmd = " ".join(p.info["cmdline"] or [])
            if any(m in cmd or (p.info["cwd"] or "").startswith(m) for m in markers):
                found.append(p)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def test_up_without_servers_serves_readyz_and_stops_cleanly(
    start_stack, sample_media: sample.SampleLibrary, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    state = tmp_path / "state"
    stack = start_stack(
        {"YAFFW_ADMIN_PASSWORD": "correct horse", "YAFFW_LOG_LEVEL": "INFO"},
        ["--media", str(sample_media.root), "--state-dir", str(state), "--tick", "2"],
        timeout=180,
    )
    assert {"api-1", "api-2", "scan", "lease-reaper", "transcode-1"} <= set(stack.ports)
    for name, port in stack.ports.items():
        r = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
        assert r.status_code == 200, (name, r.text)
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
        assert httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).status_code == 200

    text = stack.log.read_text()
    pg_data = re.search(r"private PostgreSQL on port \d+ \(data in (.+)\)", text)
    redis_port = re.search(r"private Redis on port (\d+)", text)
    assert pg_data and redis_port
    processes = _tree(stack.proc.pid) + _private_servers([pg_data.group(1), f"127.0.0.1:{redis_port.group(1)}"])
    assert any("postgres" in " ".join(p.cmdline()) for p in processes)
    assert any("redis-server" in " ".join(p.cmdline()) for p in processes)
    assert len(processes) >= 10  # up + 2 api + scan + reaper + worker + dispatch + tick + pg + redis
    stack.proc.send_signal(signal.SIGTERM)
    assert stack.proc.wait(60) == 0
    deadline = time.monotonic() + 15
    alive = processes
    while alive and time.monotonic() < deadline:
        alive = [p for p in processes if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        time.sleep(0.2)
    assert not alive, [(p.pid, p.cmdline()) for p in alive]
