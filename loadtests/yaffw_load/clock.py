"""A viewer's playback clock: where the player is, how much is buffered, when it stalled.

The player starts when the first media arrives, plays in real time while media is buffered, and
stalls when the playhead reaches the end of the buffer; the next arrival ends the stall. Viewers
fetch the next piece only while less than ``buffer_s`` seconds are buffered ahead, which paces
requests at the media's real-time rate, as a real player does.
"""

from __future__ import annotations

import time


class PlaybackClock:
    """Media time against wall time for one viewer (seconds, ``time.monotonic``)."""

    def __init__(self, start_media: float = 0.0) -> None:
        self.anchor_media = start_media  # media time playing at wall time ``anchor_wall``
        self.anchor_wall: float | None = None  # None until the first media arrived
        self.buffered_end = start_media

    def position(self, now: float | None = None) -> float:
        """The playhead now (it stops at the end of the buffer)."""
        if self.anchor_wall is None:
            return self.anchor_media
        now = time.monotonic() if now is None else now
        return min(self.anchor_media + (now - self.anchor_wall), self.buffered_end)

    def ahead(self, now: float | None = None) -> float:
        """Seconds of media buffered beyond the playhead."""
        return self.buffered_end - self.position(now)

    def arrived(self, media_seconds: float, now: float | None = None) -> float:
        """Media of ``media_seconds`` arrived; returns the stall it ended (seconds, 0 when none)."""
        now = time.monotonic() if now is None else now
        stall = 0.0
        if self.anchor_wall is None:
            self.anchor_wall = now
        else:
            ran_dry = self.anchor_wall + (self.buffered_end - self.anchor_media)
            if now > ran_dry:
                stall = now - ran_dry
                self.anchor_media, self.anchor_wall = self.buffered_end, now
        self.buffered_end += media_seconds
        return stall

    def seek(self, media_time: float) -> None:
        """Jump: the buffer is dropped and playback restarts when media arrives."""
        self.anchor_media = self.buffered_end = media_time
        self.anchor_wall = None
