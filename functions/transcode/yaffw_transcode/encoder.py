"""One FFmpeg run: makes segments ``start, start+1, ...`` of one variant into its own directory.

FFmpeg's segment muxer prints each segment's file name on stdout once the file is complete; the
encoder hands it to ``on_segment`` (which moves it into the session's segment store). Each run has
its own directory, so a run never overwrites a segment another run made while it is being served.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import logging
import os
import signal
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

STOP_GRACE = 3.0
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL FFmpeg if the worker dies (even by SIGKILL), so no encoder
    outlives its worker and keeps a CPU busy for nobody."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass


class Encoder:
    """A running (or finished) FFmpeg process for one session and variant."""

    def __init__(self, argv: list[str], variant: str, start: int, run_dir: Path,
                 on_segment: Callable[[Encoder, int, Path], None], on_exit: Callable[[Encoder], None]):  # fmt: skip
        self.argv = argv
        self.variant = variant
        self.start = start
        self.head = start  # the segment it is making now
        self.run_dir = run_dir
        self.returncode: int | None = None
        self.stopped = False
        self.paused = False
        self.stderr_tail = ""
        # The first-segment cache entry this run's first segments go to (runs from segment 0 only).
        self.cache_key: str | None = None
        self._on_segment = on_segment
        self._on_exit = on_exit
        self._proc: asyncio.subprocess.Process | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._waiter: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        """True until FFmpeg exits."""
        return self._proc is not None and self.returncode is None

    @property
    def pid(self) -> int | None:
        """FFmpeg's process id."""
        return self._proc.pid if self._proc else None

    @property
    def failed(self) -> bool:
        """True when FFmpeg exited with an error that we did not cause."""
        return self.returncode not in (None, 0) and not self.stopped

    async def launch(self) -> None:
        """Start FFmpeg. :raises OSError: if it cannot be started."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        # Its own process group: stop() signals FFmpeg and anything it may have spawned.
        self._proc = await asyncio.create_subprocess_exec(
            *self.argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, start_new_session=True, preexec_fn=_die_with_parent,
        )  # fmt: skip
        log.info("encoder %s/%d started (pid %d)", self.variant, self.start, self._proc.pid)
        self._tasks = [asyncio.create_task(self._read_list()), asyncio.create_task(self._read_stderr())]
        self._waiter = asyncio.create_task(self._wait())

    async def _read_list(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        async for line in self._proc.stdout:
            name = line.decode(errors="replace").strip()
            stem = name.removesuffix(".ts")
            if not stem.isdigit():
                continue
            n = int(stem)
            self.head = n + 1
            if not self.stopped:
                self._on_segment(self, n, self.run_dir / name)

    async def _read_stderr(self) -> None:
        assert self._proc is not None and self._proc.stderr is not None
        async for line in self._proc.stderr:
            self.stderr_tail = (self.stderr_tail + line.decode(errors="replace"))[-2000:]

    async def _wait(self) -> None:
        assert self._proc is not None
        rc = await self._proc.wait()
        # Let the readers drain stdout, so the last segment is reported before the exit.
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.returncode = rc
        if self.failed:
            log.warning("encoder %s/%d failed (exit %d): %s", self.variant, self.start, rc, self.stderr_tail[-500:])
        self._on_exit(self)

    def _signal(self, sig: int) -> None:
        if self._proc is not None and self.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._proc.pid, sig)

    def pause(self) -> None:
        """Suspend FFmpeg (the player is far behind); :meth:`resume` continues it."""
        if not self.paused and self.running:
            self._signal(signal.SIGSTOP)
            self.paused = True

    def resume(self) -> None:
        """Continue a paused FFmpeg."""
        if self.paused:
            self._signal(signal.SIGCONT)
            self.paused = False

    async def stop(self) -> None:
        """Stop FFmpeg (SIGTERM, then SIGKILL after a grace period) and wait for it."""
        self.stopped = True
        if self._proc is None or self.returncode is not None:
            return
        self._signal(signal.SIGCONT)
        self.paused = False
        self._signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self._proc.wait(), STOP_GRACE)
        except TimeoutError:
            self._signal(signal.SIGKILL)
            await self._proc.wait()
