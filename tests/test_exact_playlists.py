"""Exact playlists (issue 13): every entry every variant lists is fetchable and is as long as it
claims, for files whose container and streams disagree (tests/awkward_media.py).

Through the real api and a real worker, like a player: the master playlist, each variant's media
playlist, every segment (a 503 is retried as players do; a 404 fails). Each segment is ffprobed:
its span matches its ``#EXTINF`` within a frame or an audio packet, and the sums match the
playlist's claim and the source's video duration (measured from its packets, not yaffw's code)
within 1%.
"""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest
from yaffw.media import hls, timeline

from tests import awkward_media
from tests._media_rows import insert_item, make_library, make_user
from tests.transcode_support import WorkerProcess, get_segment, playlist_segments

pytestmark = pytest.mark.timeout(300)

# A client that plays H.264 + AAC in MP4 only, 270 lines at most: HEVC files are transcoded (two
# variants: 270p and 240p), H.264 Matroska files are direct streams (video copied).
CAPS = {"containers": ["mp4"], "video_codecs": ["h264"], "audio_codecs": ["aac"], "max_height": 270, "hls": True}
# One segment's span may differ from its #EXTINF by about a frame and an audio packet at each cut.
SEGMENT_SLACK = 0.1


@pytest.fixture(scope="module")
async def library(pool, settings, sample_media) -> dict:
    """The awkward files in one library, and a viewer allowed to see it."""
    folder = sample_media.root.parent / f"{sample_media.root.name}-awkward"
    paths = {a.name: awkward_media.make(folder, a) for a in awkward_media.FILES}
    lib = await make_library(pool, folder, name=f"awkward-{time.time_ns()}")
    items = {name: await insert_item(pool, lib, path, name=name) for name, path in paths.items()}
    return {"items": items, "paths": paths, "viewer": await make_user(pool, settings, libraries=(lib,))}


@pytest.fixture(scope="module")
def worker(settings, _scratch) -> WorkerProcess:
    w = WorkerProcess(settings, _scratch / f"exact-playlists-worker-{time.time_ns()}.log")
    try:
        yield w.wait_ready()
    finally:
        w.stop()


def test_a_short_tail_joins_the_segment_before() -> None:
    assert hls.fixed_boundaries(60.024, 6) == [6.0 * n for n in range(10)]
    assert hls.durations(hls.fixed_boundaries(60.024, 6), 60.024)[-1] == pytest.approx(6.024)
    assert hls.fixed_boundaries(60.6, 6) == [6.0 * n for n in range(11)]  # half a second or more stays
    assert hls.fixed_boundaries(0.3, 6) == [0.0]


def test_awkward_files_are_awkward(library) -> None:
    """The files really are what they claim to be: containers and streams disagree."""
    paths = library["paths"]
    tail = paths["tail_hevc"]
    assert awkward_media.container_seconds(tail) - awkward_media.video_seconds(tail) > 0.02
    long_audio = paths["long_audio_hevc"]
    assert awkward_media.container_seconds(long_audio) - awkward_media.video_seconds(long_audio) > 2.5
    assert abs(awkward_media.video_seconds(paths["ntsc_hevc"]) - 9.009) < 0.05
    # yaffw's timeline agrees with ffprobe's packets, whatever the container says.
    for path in paths.values():
        assert timeline.stream_end(path) == pytest.approx(awkward_media.video_seconds(path), abs=0.002), path


@pytest.mark.parametrize("awkward", awkward_media.FILES, ids=[a.name for a in awkward_media.FILES])
async def test_every_listed_segment_exists_and_lasts_what_it_claims(awkward, api_url, library, worker,
                                                                     tmp_path: Path) -> None:  # fmt: skip
    viewer = library["viewer"]
    item_id, path = library["items"][awkward.name], library["paths"][awkward.name]
    video = awkward_media.video_seconds(path)
    body: dict = {"capabilities": CAPS}
    if awkward.audio_index is not None:
        body["audio_index"] = awkward.audio_index
    async with httpx.AsyncClient(timeout=60) as client:
        r = await client.post(f"{api_url}/api/items/{item_id}/playback", json=body, headers=viewer["headers"])
        assert r.status_code == 201, r.text
        answer = r.json()
        expected_method = "transcode" if "hevc" in awkward.name else "direct_stream"
        assert answer["method"] == expected_method, answer
        try:
            master_url = urljoin(api_url, answer["url"])
            master = await client.get(master_url)
            assert master.status_code == 200, master.text
            variants = [line for line in master.text.splitlines() if line and not line.startswith("#")]
            assert variants, master.text
            report = []
            for variant in variants:
                index_url = urljoin(master_url, variant)
                index = await client.get(index_url)
                assert index.status_code == 200, index.text
                entries = playlist_segments(index.text)
                claimed = sum(length for length, _ in entries)
                probed = []
                for n, (length, uri) in enumerate(entries):
                    seg, _ = await get_segment(client, urljoin(index_url, uri), tmp_path / f"{n}.ts")
                    video_part, span = awkward_media.segment_seconds(seg)
                    probed.append(video_part)
                    assert abs(video_part - length) <= SEGMENT_SLACK, (variant, n, video_part, length, entries)
                    assert abs(span - length) <= SEGMENT_SLACK, (variant, n, span, length, entries)
                total = sum(probed)
                report.append(f"{variant.split('?')[0]}: {len(entries)} entries, claims {claimed:.3f}s, "
                              f"segments {total:.3f}s")  # fmt: skip
                assert abs(total - claimed) <= 0.01 * claimed, (variant, total, claimed, probed)
                assert abs(claimed - video) <= 0.01 * video, (variant, claimed, video)
                # The last entry is never a sliver the encoder cannot make.
                assert entries[-1][0] >= 0.5, entries
            print(f"{awkward.name}: video {video:.3f}s, container {awkward_media.container_seconds(path):.3f}s; "
                  + "; ".join(report))  # fmt: skip
        finally:
            await client.delete(f"{api_url}/api/sessions/{answer['session_id']}", headers=viewer["headers"])
    assert worker.proc.poll() is None, worker.log()
