"""Child processes of `yaffw up`: start, wait until ready, restart on crash, stop leaving nothing.

Each child runs in its own process group, so stopping it also stops what it started (FFmpeg under a
transcode worker), and asks the kernel to SIGTERM it if `yaffw up` itself dies (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # runs in the child between fork and exec
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Child:
    """One supervised process. ``url`` (if any) must answer ``/readyz`` 200 to count as ready."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    url: str | None = None
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    started_at: float = field(default=0.0)

    def start(self) -> None:
        """Launch (output appended to its log file)."""
        out = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.argv, env=self.env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=_die_with_parent,
        )  # fmt: skip
        out.close()
        self.started_at = time.monotonic()
        log.info("started %s (pid %d)", self.name, self.process.pid)

    def alive(self) -> bool:
        """True while the process runs."""
        return self.process is not None and self.process.poll() is None

    def ready(self) -> bool:
        """Alive and, if it serves HTTP, answering /readyz with 200."""
        if not self.alive():
            return False
        if self.url is None:
            return True
        try:
            return httpx.get(self.url + "/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def signal_group(self, sig: int) -> None:
        """Send ``sig`` to the child's whole process group."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)


class Supervisor:
    """Starts children in order, watches them, and stops them all."""

    def __init__(self, children: list[Child], max_restarts: int = 5):
        self.children = children
        self.max_restarts = max_restarts

    def start_all(self) -> None:
        """Start every child."""
        for child in self.children:
            child.start()

    def wait_ready(self, timeout: float = 120) -> None:
        """Block until every child is ready. :raises RuntimeError: naming the child that is not."""
        deadline = time.monotonic() + timeout
        pending = list(self.children)
        while pending:
            for child in list(pending):
                if child.process is not None and child.process.poll() is not None:
                    tail = child.log_path.read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"{child.name} exited with {child.process.returncode}:\n{tail}")
                if child.ready():
                    pending.remove(child)
            if pending and time.monotonic() > deadline:
                raise RuntimeError("not ready in time: " + ", ".join(c.name for c in pending))
            if pending:
                time.sleep(0.2)

    def watch_once(self) -> None:
        """Restart children that died (with a limit, so a crash loop ends `yaffw up`)."""
        for child in self.children:
            if child.process is not None and child.process.poll() is not None:
                if child.restarts >= self.max_restarts:
                    raise RuntimeError(f"{child.name} keeps crashing; see {child.log_path}")
                log.warning("%s exited with %s; restarting", child.name, child.process.returncode)
                child.restarts += 1
                child.start()

    def stop_all(self, grace: float = 20) -> None:
        """SIGTERM every process group, wait ``grace`` seconds, then SIGKILL what is left."""
        for child in reversed(self.children):
            child.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for child in self.children:
            if child.process is None:
                continue
            try:
                child.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in %.0fs; killing", child.name, grace)
            # Kill the group even after a clean exit: grandchildren may outlive their parent.
            child.signal_group(signal.SIGKILL)
            if child.process.poll() is None:
                child.process.wait()
