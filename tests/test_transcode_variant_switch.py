"""A variant switch on a real FFmpeg: the request still waiting for the variant the player left must not
start that variant's encoder again (the two requests would restart the encoder back and forth)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest
from yaffw.media import ffmpeg, hls, timeline
from yaffw.media.source import Plan, Source
from yaffw.queue import JobPayload
from yaffw_transcode.session import NotReady, TranscodeSession

from tests.transcode_support import ffmpeg_pids_with, make_long_hevc

pytestmark = pytest.mark.timeout(120)


async def test_a_request_for_the_variant_left_behind_does_not_restart_it(sample_media, tmp_path: Path) -> None:
    path = make_long_hevc(sample_media.root.parent / f"{sample_media.root.name}-long-hevc.mkv")
    end = timeline.stream_end(path)
    sid = f"switch-{tmp_path.name}"
    job = JobPayload(sid=sid, item_id="i1", source_path=str(path), start_segment=0, segment_seconds=6,
                     video={"codec": "h264", "height": 360, "bitrate": 1_000_000},
                     audio={"codec": "aac", "channels": 2, "bitrate": 96_000})  # fmt: skip
    source = Source(item_id="i1", path=str(path), header_hash="h", duration=end, bitrate=None,
                    video={"codec": "hevc", "height": 360, "width": 640}, audio={"codec": "aac"})  # fmt: skip
    variants = [hls.Variant("360p", 640, 360, 1_000_000, 1_600_000, "avc1.64001e,mp4a.40.2"),
                hls.Variant("240p", 426, 240, 500_000, 850_000, "avc1.64001e,mp4a.40.2")]  # fmt: skip
    plan = Plan(variants, hls.fixed_boundaries(end, 6), [], end)
    session = TranscodeSession(job, "{}", source, plan, tmp_path / sid, ffmpeg.hwaccel("none"))
    most = 0

    async def count() -> None:
        nonlocal most
        while True:
            most = max(most, len(ffmpeg_pids_with(sid)))
            await asyncio.sleep(0.05)

    counter = asyncio.create_task(count())
    try:
        # The player asks for segment 5 of 360p, then switches to 240p before it is made.
        left = asyncio.create_task(session.segment("360p", 5, wait=8))
        while session.encoder is None:
            await asyncio.sleep(0.01)
        switched = await session.segment("240p", 5, wait=60)
        assert switched.exists()
        with contextlib.suppress(NotReady):
            await left  # served if 360p was made before the switch, else not ready: either way, no restart
        assert session._runs == 2, session._runs
        assert session.encoder is not None and session.encoder.variant == "240p"
        assert most <= 1, most
    finally:
        counter.cancel()
        await session.close()
    assert not ffmpeg_pids_with(sid)
