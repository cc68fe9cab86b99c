"""A progress bar on stderr: redrawn in place on a terminal, a line per 10 % otherwise (so logs and
CI output stay readable). Written here rather than taken from tqdm: 40 lines, no dependency, and
the non-terminal behaviour is what we want.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

_WIDTH = 30
_MIN_INTERVAL_S = 0.2


class Progress:
    """Counts towards ``total`` for one phase."""

    def __init__(self, label: str, total: int, stream: TextIO | None = None, enabled: bool = True):
        self.label, self.total, self.done = label, max(total, 0), 0
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = self.stream.isatty()
        self.started = self._last = time.monotonic()
        self._tenth = -1

    def advance(self, n: int) -> None:
        """``n`` more rows handled."""
        self.done += n
        if not self.enabled:
            return
        now = time.monotonic()
        if self.tty and now - self._last >= _MIN_INTERVAL_S:
            self._last = now
            self._draw(end="\r")
        elif not self.tty and self.total:
            tenth = min(10, self.done * 10 // self.total)
            if tenth > self._tenth and tenth < 10:
                self._tenth = tenth
                self._draw(end="\n")

    def finish(self) -> None:
        """Draw the final state and end the line."""
        self.done = max(self.done, self.total)
        if self.enabled:
            self._draw(end="\n")

    def _draw(self, end: str) -> None:
        done = min(self.done, self.total) if self.total else self.done
        fraction = done / self.total if self.total else 1.0
        filled = int(_WIDTH * min(fraction, 1.0))
        elapsed = time.monotonic() - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        bar = "#" * filled + "-" * (_WIDTH - filled)
        self.stream.write(f"{self.label:<10} [{bar}] {done}/{self.total} {rate:,.0f}/s{end}")
        self.stream.flush()
