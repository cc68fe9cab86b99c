"""Subtitles of a film in parts (issues 13 and 16): each part's stream, embedded or its own sidecar, is
converted and the cues are joined on the film's timeline, as the transcode joins the parts. Three
4-second parts made by FFmpeg, the first and third with an embedded SubRip stream and an English sidecar
(``… - part1.en.srt``), the middle one with neither, scanned into one film and asked for through the
real api as a whole WebVTT; the timeline's cues are checked, then the HLS subtitle segment that covers
part 3's cue. Real PostgreSQL, Redis, FFmpeg and S3 (moto)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest
from yaffw.media import subtitles as subs

from tests._media_rows import make_user
from tests._scan_helpers import scan_new_library
from tests.pgs_sup import Rect, sup_bytes
from tests.transcode_support import playlist_segments

pytestmark = pytest.mark.timeout(180)

PART_SECONDS = 4
CAPS = {"containers": ["mp4"], "video_codecs": ["h264"], "audio_codecs": ["aac"], "max_height": 90, "hls": True}


def _part(path: Path, line: str | None) -> None:
    """A 4 s part; with ``line``, an embedded SubRip stream showing it from 1.0 to 2.5 s."""
    subtitle: list[str] = []
    if line:
        srt = path.with_suffix(".srt.in")
        srt.write_text(f"1\n00:00:01,000 --> 00:00:02,500\n{line}\n\n", encoding="utf-8")
        subtitle = ["-f", "srt", "-i", str(srt), "-map", "0:v", "-map", "1:a", "-map", "2:s", "-c:s", "srt"]
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
         f"color=c=blue:size=160x90:rate=24:d={PART_SECONDS}", "-f", "lavfi", "-i",
         f"sine=f=440:d={PART_SECONDS}", *subtitle, "-c:v", "libx264", "-preset", "ultrafast",
         "-pix_fmt", "yuv420p", "-g", "24", "-c:a", "aac", "-t", str(PART_SECONDS), str(path)],
        check=True, timeout=120,
    )  # fmt: skip
    if line:
        srt.unlink()


@pytest.fixture(scope="module")
async def film(pool, settings, tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("parts-subtitles")
    folder = root / "Three Acts (2019)"
    folder.mkdir()
    for n, line in ((1, "first act line"), (2, None), (3, "third act line")):
        _part(folder / f"Three Acts (2019) - part{n}.mkv", line)
        if line:  # the sidecar says it half a second later, and a French one nobody else has
            (folder / f"Three Acts (2019) - part{n}.en.srt").write_text(
                f"1\n00:00:01,500 --> 00:00:03,000\n{line} (sidecar)\n\n", encoding="utf-8"
            )
    # Part 2 has an English sidecar too, but a picture one: it cannot join a text document.
    (folder / "Three Acts (2019) - part2.en.sup").write_bytes(sup_bytes(Rect(160, 90, 10, 10, 40, 20, 1.0, 2.0)))
    (folder / "Three Acts (2019) - part3.fr.srt").write_text(
        "1\n00:00:00,000 --> 00:00:01,000\nfrench\n\n", encoding="utf-8"
    )
    library, result = await scan_new_library(pool, settings, "parts-subs", root)
    assert (result.added, result.failed) == (3, 0)
    row = await pool.fetchrow("SELECT id FROM media_items WHERE library_id = $1 AND type = 'movie'", library)
    index, sidecar = [r["stream_index"] for r in await pool.fetch(
        "SELECT stream_index FROM media_streams WHERE item_id = $1 AND type = 'subtitle' ORDER BY is_external",
        row["id"])]  # fmt: skip
    # Each part's length as the scan recorded it: what the transcode's concat list gives it.
    lengths = await pool.fetch(
        "SELECT coalesce(file_duration_seconds, duration_seconds) AS s FROM media_items"
        " WHERE id = $1 OR film_id = $1 ORDER BY coalesce(part_number, 1)",
        row["id"],
    )  # fmt: skip
    viewer = await make_user(pool, settings, libraries=(library,))
    return {"id": str(row["id"]), "index": index, "sidecar": sidecar, "folder": folder,
            "lengths": [r["s"] for r in lengths], "viewer": viewer}  # fmt: skip


def _cues(vtt: str) -> list[tuple[float, float, str]]:
    return [(round(c.start, 3), round(c.end, 3), c.text) for c in subs.parse(vtt)]


def _near(got: list[tuple[float, float, str]], want: list[tuple[float, float, str]]) -> bool:
    return len(got) == len(want) and all(
        g[2] == w[2] and abs(g[0] - w[0]) < 0.05 and abs(g[1] - w[1]) < 0.05 for g, w in zip(got, want, strict=True)
    )


async def test_a_film_in_parts_gets_every_parts_cues_on_its_timeline(api_url, film) -> None:
    item, index, viewer = film["id"], film["index"], film["viewer"]
    async with httpx.AsyncClient(base_url=api_url, timeout=60, headers=viewer["headers"]) as client:
        listed = (await client.get(f"/api/items/{item}/subtitles")).json()["subtitles"]
        assert sorted(s["index"] for s in listed) == sorted([index, film["sidecar"]])
        r = await client.get(f"/api/items/{item}/subtitles/{index}.vtt")
        assert r.status_code == 200, r.text
        # Part 2 has no such stream but still takes its time: part 3's cue is 1 s after the lengths of
        # parts 1 and 2 (each about 4 s). Each part's times count from its first packet, AAC's priming
        # ~23 ms before its video, as the concat demuxer of the transcode counts them.
        lengths = film["lengths"]
        assert len(lengths) == 3 and all(abs(n - PART_SECONDS) < 0.1 for n in lengths), lengths
        third = lengths[0] + lengths[1]
        want = [(1.0, 2.5, "first act line"), (third + 1.0, third + 2.5, "third act line")]
        assert _near(_cues(r.text), want), r.text

        # The HLS subtitle rendition of a session slices the same cues: the segment holding part 3's
        # cue has it at the film's time.
        play = await client.post(f"/api/items/{item}/playback", json={"capabilities": CAPS})
        assert play.status_code == 201, play.text
        master_url = urljoin(api_url, play.json()["url"])
        master = (await client.get(master_url)).text
        uri = re.search(r'TYPE=SUBTITLES[^\n]*URI="([^"]+)"', master)
        assert uri, master
        playlist_url = urljoin(master_url, uri.group(1))
        entries = playlist_segments((await client.get(playlist_url)).text)
        assert abs(sum(d for d, _ in entries) - 3 * PART_SECONDS) < 0.1, entries
        start, found = 0.0, None
        for duration, name in entries:
            if start <= third + 1.0 < start + duration:
                found = (await client.get(urljoin(playlist_url, name))).text
            start += duration
        assert found is not None and "X-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000" in found
        assert _near([c for c in _cues(found) if c[2] == "third act line"], want[1:]), found
        closed = await client.delete(f"/api/sessions/{play.json()['session_id']}")
        assert closed.status_code in (200, 204), closed.text


async def test_each_parts_own_sidecar_joins_on_the_films_timeline(api_url, film) -> None:
    item, sidecar, viewer, lengths = film["id"], film["sidecar"], film["viewer"], film["lengths"]
    third = lengths[0] + lengths[1]
    async with httpx.AsyncClient(base_url=api_url, timeout=60, headers=viewer["headers"]) as client:
        r = await client.get(f"/api/items/{item}/subtitles/{sidecar}.vtt")
        assert r.status_code == 200, r.text
        # Part 1's and part 3's English sidecars; not part 3's French one, nor part 2's picture one.
        want = [(1.5, 3.0, "first act line (sidecar)"), (third + 1.5, third + 3.0, "third act line (sidecar)")]
        assert _near(_cues(r.text), want), r.text
        # An edited sidecar of a later part is converted again (the cache key covers every part).
        edited = film["folder"] / "Three Acts (2019) - part3.en.srt"
        edited.write_text("1\n00:00:00,500 --> 00:00:01,000\nedited\n\n", encoding="utf-8")
        r = await client.get(f"/api/items/{item}/subtitles/{sidecar}.vtt")
        assert r.status_code == 200, r.text
        assert _near(_cues(r.text), [want[0], (third + 0.5, third + 1.0, "edited")]), r.text


def test_convert_parts_shifts_each_parts_cues_and_clips_them_to_its_end(tmp_path) -> None:
    srt = tmp_path / "a.srt"
    srt.write_text("1\n00:00:00,500 --> 00:00:03,000\nlong line\n\n2\n00:00:05,000 --> 00:00:06,000\nlate\n\n",
                   encoding="utf-8")  # fmt: skip
    made = tmp_path / "a.mkv"
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "color=size=64x64:rate=10:d=6", "-i", str(srt), "-map", "0", "-map", "1", "-c:v", "libx264",
                    "-preset", "ultrafast", "-c:s", "srt", str(made)], check=True, timeout=60)  # fmt: skip
    # As if the file were the parts' first and third, each 2 s long: cues past a part's end are
    # dropped, and one running over it ends with it.
    got = _cues(subs.convert_parts([(str(made), 2.0), (None, 2.0), (str(made), 2.0)], 1))
    assert got == [(0.5, 2.0, "long line"), (4.5, 6.0, "long line")]
