"""Stopping the real processes tests start."""

from __future__ import annotations

import subprocess


def stop_process(proc: subprocess.Popen, grace: float = 20) -> int:
    """SIGTERM ``proc``, SIGKILL it if it has not exited after ``grace`` seconds; returns its status."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode
