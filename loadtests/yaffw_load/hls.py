"""HLS viewers: a client that needs a transcode, playing through the api's HLS proxy like hls.js."""

from __future__ import annotations

import time
from typing import Any

from locust import task

from yaffw_load import metrics, options, playlists
from yaffw_load.client import video_stream
from yaffw_load.viewer import Piece, Viewer

# A segment the proxy could not make in time is retried, as hls.js does, for at most this long.
RETRY_FOR_S = 60.0
TS_SYNC = 0x47


def transcode_capabilities(detail: dict[str, Any]) -> dict[str, Any]:
    """What a small H.264-only device states: it forces a transcode of every video.

    Other codecs are transcoded anyway; for an H.264 source ``max_height`` stays below the source's,
    so it is scaled rather than played directly.
    """
    video = video_stream(detail) or {}
    height, cap = video.get("height") or 720, options.get().hls_height
    if video.get("codec") == "h264":
        cap = min(cap, height - 2)
    return {"containers": ["mp4"], "video_codecs": ["h264"], "audio_codecs": ["aac"], "max_audio_channels": 2,
            "max_height": max(144, cap), "hls": True}  # fmt: skip


class HlsViewer(Viewer):
    """Plays with a capability set that needs a transcode: master and media playlist, then segments."""

    group = "hls"
    piece_word = "segment"

    def open(self, detail: dict[str, Any]) -> tuple[dict[str, Any], list[Piece]] | None:
        """Playback decision, master playlist, the chosen variant's media playlist."""
        answer = self.start_session(detail, transcode_capabilities(detail))
        if not answer:
            return None
        if answer.get("method") not in ("transcode", "direct_stream"):
            metrics.record(self.environment, "[hls] playback decision", 0,
                           RuntimeError(f"expected an HLS method, got {answer.get('method')}"))  # fmt: skip
            return None
        master = self._get_text(answer["url"], "/api/sessions/{sid}/master.m3u8")
        try:
            ladder = playlists.variants(master or "", answer["url"]) if master else None
            if not ladder:
                return None
            variant = ladder[0] if options.get().hls_variant == "top" else ladder[-1]
            media = self._get_text(variant.uri, "/api/sessions/{sid}/{variant}/index.m3u8")
            if media is None:
                return None
            pieces = [Piece(s.uri, s.start, s.seconds) for s in playlists.segments(media, variant.uri)]
        except ValueError as exc:
            metrics.record(self.environment, "[hls] playlist", 0, exc)
            return None
        return answer, pieces

    def _get_text(self, url: str, name: str) -> str | None:
        # Players cannot add headers to media requests: the URL carries a session-scoped token.
        with self.client.get(url, name=f"[hls] {name}", catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"{r.status_code}: {(r.text or '')[:200]}")
                return None
            return r.text

    def fetch(self, piece: Piece) -> bool:
        """One segment; a 503 + Retry-After is waited out and retried, as hls.js does."""
        deadline = time.monotonic() + RETRY_FOR_S
        while True:
            with self.client.get(piece.url, name="[hls] /api/sessions/{sid}/{variant}/{n}.ts",
                                 catch_response=True) as r:  # fmt: skip
                if r.status_code == 200 and r.content and r.content[0] == TS_SYNC:
                    return True
                if r.status_code == 503 and time.monotonic() < deadline:
                    wait = float(r.headers.get("retry-after") or 1)
                    r.success()  # designed behaviour; counted below and felt as a stall
                    metrics.record(self.environment, "[hls] segment retry", wait * 1000)
                    time.sleep(wait)
                    continue
                if r.status_code == 200:
                    r.failure(f"not an MPEG-TS segment ({len(r.content or b'')} bytes)")
                else:
                    r.failure(f"{r.status_code}: {(r.text or '')[:200]}")
                return False

    @task
    def watch(self) -> None:
        """Pick, play, stop."""
        self.watch_one()
