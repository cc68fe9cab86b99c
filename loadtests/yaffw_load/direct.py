"""Direct-play viewers: the file itself, fetched in byte ranges at the pace of its bitrate."""

from __future__ import annotations

import math
from typing import Any

from locust import task

from yaffw_load import metrics, options
from yaffw_load.client import bitrate_of
from yaffw_load.viewer import Piece, Viewer

# A client that plays everything the sample libraries hold, as a desktop app does.
CAPABILITIES = {
    "containers": ["mp4", "mkv", "webm", "mov"], "video_codecs": ["h264", "hevc", "vp9", "av1"],
    "audio_codecs": ["aac", "ac3", "eac3", "opus", "mp3", "flac"], "hls": True,
}  # fmt: skip


def ranges(url: str, size: int, duration: float, chunk_s: float) -> list[Piece]:
    """The file as consecutive ranges of about ``chunk_s`` media seconds each."""
    count = max(1, math.ceil(duration / chunk_s))
    step = math.ceil(size / count)
    out = []
    for n in range(count):
        first = n * step
        if first >= size:
            break
        out.append(Piece(url, n * chunk_s, min(chunk_s, duration - n * chunk_s), first, min(size, first + step) - 1))
    return out


class DirectPlayViewer(Viewer):
    """Asks for a playback decision (direct play), then reads the file in ranges while watching."""

    group = "direct"
    piece_word = "chunk"

    def open(self, detail: dict[str, Any]) -> tuple[dict[str, Any], list[Piece]] | None:
        """Playback decision; the file's ranges."""
        answer = self.start_session(detail, CAPABILITIES)
        if not answer:
            return None
        if answer.get("method") != "direct_play":
            metrics.record(self.environment, "[direct] playback decision", 0,
                           RuntimeError(f"expected direct_play, got {answer.get('method')}"))  # fmt: skip
            return None
        duration = float(detail["duration_seconds"])
        if not bitrate_of(detail):
            return None
        return answer, ranges(answer["url"], int(detail["size"]), duration, options.get().chunk_s)

    def fetch(self, piece: Piece) -> bool:
        """One range; anything but a 206 of exactly that range is a failure."""
        want = piece.last_byte - piece.first_byte + 1
        with self.client.get(piece.url, name="[direct] /api/items/{id}/file (range)",
                             headers={"Range": f"bytes={piece.first_byte}-{piece.last_byte}"},
                             catch_response=True) as r:  # fmt: skip
            if r.status_code != 206 or len(r.content or b"") != want:
                r.failure(f"{r.status_code}, {len(r.content or b'')} of {want} bytes")
                return False
        return True

    @task
    def watch(self) -> None:
        """Pick, play, stop."""
        self.watch_one()
