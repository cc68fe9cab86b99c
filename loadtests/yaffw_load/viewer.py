"""What direct-play and HLS viewers share: open a session, play pieces at real-time pace, report
progress, seek now and then, stop."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any

from locust import constant

from yaffw_load import metrics, options
from yaffw_load.client import YaffwUser
from yaffw_load.clock import PlaybackClock


@dataclass(frozen=True)
class Piece:
    """Something a player fetches: a segment, or a byte range of the file."""

    url: str
    start: float  # media seconds
    seconds: float
    first_byte: int = 0  # direct play only
    last_byte: int = 0


def _pause(user: Any) -> float:
    return constant(options.get().pause_between_s)(user)


class Viewer(YaffwUser):
    """Picks something, presses play, watches (up to ``watch_max_s``), stops, pauses, repeats."""

    abstract = True
    wait_time = _pause
    piece_word = "piece"
    _last_position = 0.0

    def open(self, detail: dict[str, Any]) -> tuple[dict[str, Any], list[Piece]] | None:
        """Start playback of ``detail``: the playback answer and the pieces to fetch (None: failed)."""
        raise NotImplementedError

    def fetch(self, piece: Piece) -> bool:
        """Fetch one piece; False when it failed for good (the failure is already recorded)."""
        raise NotImplementedError

    def start_session(self, detail: dict[str, Any], capabilities: dict[str, Any]) -> dict[str, Any] | None:
        """``POST /api/items/{id}/playback``."""
        return self.call("POST", f"/api/items/{detail['id']}/playback", "/api/items/{id}/playback", expect=(201,),
                         json={"capabilities": capabilities, "client": f"locust-{self.group}"})  # fmt: skip

    def report(self, sid: str, position: float) -> None:
        """A progress report, as players send every ~10 s."""
        self.call("POST", f"/api/sessions/{sid}/progress", "/api/sessions/{sid}/progress",
                  json={"position_seconds": round(position, 3), "paused": False})  # fmt: skip

    def watch_one(self) -> None:
        """One item from pressing play to stop."""
        detail = self.pick_playable()
        if detail is None:
            time.sleep(5)
            return
        self._last_position = 0.0
        pressed = time.monotonic()
        opened = self.open(detail)
        if opened is None:
            return
        answer, pieces = opened
        sid = answer["session_id"]
        try:
            self._play(sid, pieces, pressed)
        finally:
            self.stop(sid, self._last_position)

    def stop(self, sid: str, position: float) -> None:
        """The player stops: ``DELETE /api/sessions/{sid}`` with the last position."""
        self.call("DELETE", f"/api/sessions/{sid}", "/api/sessions/{sid} (stop)",
                  json={"position_seconds": round(position, 3)})  # fmt: skip

    def _play(self, sid: str, pieces: list[Piece], pressed: float) -> None:
        opts = options.get()
        clock = PlaybackClock(pieces[0].start)
        started, last_report = time.monotonic(), time.monotonic()
        waiting_since, what = pressed, "first"  # time the player started waiting for media
        i = 0
        while i < len(pieces) and time.monotonic() - started < opts.watch_max_s:
            while clock.anchor_wall is not None and clock.ahead() > opts.buffer_s:
                due = last_report + opts.progress_every_s - time.monotonic()
                if due <= 0:
                    self.report(sid, clock.position())
                    last_report = time.monotonic()
                    continue
                time.sleep(max(0.05, min(clock.ahead() - opts.buffer_s, due)))
            if not self.fetch(pieces[i]):
                return
            now = time.monotonic()
            stall = clock.arrived(pieces[i].seconds, now)
            self._last_position = clock.position(now)
            if what == "first":
                metrics.record(self.environment, f"[{self.group}] time to first {self.piece_word}",
                               (now - waiting_since) * 1000)  # fmt: skip
            elif what == "seek":
                metrics.record(self.environment, f"[{self.group}] seek to {self.piece_word}",
                               (now - waiting_since) * 1000)  # fmt: skip
            elif stall > 0:
                metrics.record(self.environment, f"[{self.group}] stall", stall * 1000)
            what = ""
            if now - last_report >= opts.progress_every_s:
                self.report(sid, clock.position(now))
                last_report = now
            i += 1
            if i < len(pieces) and len(pieces) > 2 and random.random() < opts.seek_chance:
                i = random.choice([j for j in range(len(pieces)) if j != i])
                clock.seek(pieces[i].start)
                waiting_since, what = time.monotonic(), "seek"
        # Watch what is buffered (bounded by the watch limit), still reporting progress.
        while clock.ahead() > 0.5 and time.monotonic() - started < opts.watch_max_s:
            time.sleep(min(clock.ahead(), opts.progress_every_s))
            self._last_position = clock.position()
            self.report(sid, self._last_position)
