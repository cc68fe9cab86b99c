"""A session's scratch holds a bounded window of watched segments (the RAM disk must not fill up
with a whole film)."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

from yaffw.media import ffmpeg, hls
from yaffw.media.source import Plan, Source
from yaffw.queue import JobPayload
from yaffw_transcode.session import KEEP_BEHIND_SECONDS, TranscodeSession

SEGMENT = 6


def _session(scratch: Path, minutes: int = 120) -> TranscodeSession:
    duration = minutes * 60.0
    job = JobPayload(sid="s1", item_id="i1", source_path="/media/film.mkv", start_segment=0, segment_seconds=SEGMENT,
                     video={"codec": "h264", "height": 720, "bitrate": 3_000_000}, audio="copy")  # fmt: skip
    source = Source(item_id="i1", path="/media/film.mkv", header_hash="h", duration=duration, bitrate=None,
                    video={"codec": "hevc", "height": 1080, "width": 1920}, audio=None)  # fmt: skip
    variant = hls.Variant("720p", 1280, 720, 3_000_000, 3_200_000, "avc1.64001f")
    plan = Plan([variant], hls.fixed_boundaries(duration, SEGMENT), [], duration)
    return TranscodeSession(job, "{}", source, plan, scratch, ffmpeg.hwaccel("none"))


def _make(session: TranscodeSession, variant: str, numbers: range) -> None:
    for n in numbers:
        path = session.path(variant, n)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\x47" * 188)
        session.made.setdefault(variant, set()).add(n)


def test_watching_a_long_film_keeps_only_a_window_of_segments(tmp_path: Path) -> None:
    session = _session(tmp_path)
    keep = math.ceil(KEEP_BEHIND_SECONDS / SEGMENT)
    _make(session, "720p", range(0, 400))
    _make(session, "480p", range(0, 10))  # an earlier quality the player left
    served = asyncio.run(session.segment("720p", 300, wait=0))
    assert served == session.path("720p", 300) and served.exists()
    on_disk = sorted(int(p.stem) for p in (tmp_path / "720p").glob("*.ts"))
    assert on_disk == list(range(300 - keep, 400))  # recent past kept for seeks back, future untouched
    assert session.made["720p"] == set(on_disk)
    assert not list((tmp_path / "480p").glob("*.ts")) and session.made["480p"] == set()


def test_nothing_is_evicted_near_the_start(tmp_path: Path) -> None:
    session = _session(tmp_path)
    _make(session, "720p", range(0, 20))
    assert session.evict_behind(19) == 0
    assert len(list((tmp_path / "720p").glob("*.ts"))) == 20
