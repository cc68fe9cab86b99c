"""Subtitles through the real api (issue 13): the files are scanned (sidecar and embedded streams),
then each text stream is fetched as a whole WebVTT (SubRip sidecar, embedded ASS, mov_text in MP4)
with a token alone; pictures are a 4xx; the HLS master lists the text streams as ``TYPE=SUBTITLES``
renditions on every variant; every entry of every subtitle playlist is fetched, lines up with the
video playlist and says ``X-TIMESTAMP-MAP``, whose MPEGTS value is what ffprobe reads in the video
segments; the caller's choice and preferences decide which one comes on. Real PostgreSQL, Redis,
FFmpeg, S3 (moto) and a real worker."""

from __future__ import annotations

import re
import time
from urllib.parse import urljoin

import httpx
import pytest

from tests import awkward_media
from tests._media_rows import make_user
from tests._subtitle_media import ASS, MOV_TEXT_LINE, MULTI, PGS, SRT, scanned_library
from tests.jellyfin_support import client_headers
from tests.transcode_support import WorkerProcess, ffprobe_json, get_segment, playlist_segments

pytestmark = pytest.mark.timeout(300)

CAPS = {"containers": ["mp4"], "video_codecs": ["h264"], "audio_codecs": ["aac"], "max_height": 270, "hls": True}


@pytest.fixture(scope="module")
async def library(pool, settings, sample_media) -> dict:
    """multi_track (with its sidecar) and an MP4 with mov_text, scanned; a viewer who sees them and
    one who does not."""
    folder = sample_media.root.parent / f"{sample_media.root.name}-subtitles"
    lib, items = await scanned_library(pool, settings, folder, f"subtitled-{time.time_ns()}")
    return {"items": items, "folder": folder, "lib": lib, "viewer": await make_user(pool, settings, libraries=(lib,)),
            "stranger": await make_user(pool, settings)}  # fmt: skip


def _multi(library: dict) -> str:
    return library["items"]["multi_track"]


def _cue(vtt: str, text: str) -> tuple[float, float]:
    """The times of the cue holding ``text``."""
    blocks = vtt.split("\n\n")
    for block in blocks:
        if text in block:
            m = re.search(r"(?:(\d+):)?(\d\d):(\d\d)\.(\d{3}) --> (?:(\d+):)?(\d\d):(\d\d)\.(\d{3})", block)
            assert m, block
            g = [int(x or 0) for x in m.groups()]
            return g[0] * 3600 + g[1] * 60 + g[2] + g[3] / 1000, g[4] * 3600 + g[5] * 60 + g[6] + g[7] / 1000
    raise AssertionError(f"{text!r} not in {vtt}")


async def test_whole_webvtt_for_each_text_kind(api_url, library, redis, keys) -> None:
    viewer, stranger = library["viewer"], library["stranger"]
    item = _multi(library)
    async with httpx.AsyncClient(base_url=api_url, timeout=60) as client:
        r = await client.get(f"/api/items/{item}/subtitles", headers=viewer["headers"])
        assert r.status_code == 200, r.text
        menu = {s["index"]: s for s in r.json()["subtitles"]}
        assert set(menu) == {ASS, PGS, SRT}
        assert (menu[ASS]["kind"], menu[ASS]["language"], menu[ASS]["forced"], menu[ASS]["label"]) == (
            "text", "fra", True, "French · Signs · Forced")  # fmt: skip
        assert (menu[PGS]["kind"], menu[PGS]["url"]) == ("image", None)
        assert (menu[SRT]["kind"], menu[SRT]["language"], menu[SRT]["external"]) == ("text", "eng", True)
        # The URLs carry their own token: no header needed (a <track src> sends none).
        srt = await client.get(menu[SRT]["url"])
        assert srt.status_code == 200 and srt.headers["content-type"].startswith("text/vtt"), srt.text
        assert srt.text.startswith("WEBVTT") and _cue(srt.text, awkward_media.SRT_LINE) == (2.0, 5.0)
        ass = await client.get(menu[ASS]["url"])
        assert ass.status_code == 200, ass.text
        start, end = _cue(ass.text, awkward_media.ASS_LINE)
        assert start == pytest.approx(1.0, abs=0.05) and end == pytest.approx(4.0, abs=0.05)
        assert "{\\b1}" not in ass.text  # ASS override tags are not shown as text
        # Converted once: the text is in Redis under the item, the stream and the file's size and mtime.
        assert [k async for k in redis.scan_iter(match=keys.subtitle_vtt(item, ASS, "*"))]
        assert (await client.get(menu[ASS]["url"])).text == ass.text

        pgs = await client.get(f"/api/items/{item}/subtitles/{PGS}.vtt", headers=viewer["headers"])
        assert pgs.status_code == 422 and pgs.json()["error"]["code"] == "image_subtitles", pgs.text
        for name, status in (("abc.vtt", 400), ("99.vtt", 404), (f"{SRT}.srt", 404), ("0.vtt", 404)):
            r = await client.get(f"/api/items/{item}/subtitles/{name}", headers=viewer["headers"])
            assert r.status_code == status and r.json()["error"]["message"], (name, r.status_code, r.text)
        hidden = await client.get(f"/api/items/{item}/subtitles/{SRT}.vtt", headers=stranger["headers"])
        assert hidden.status_code == 404
        assert (await client.get(f"/api/items/{item}/subtitles/{SRT}.vtt")).status_code == 401

        mov = library["items"]["mov_text"]
        r = await client.get(f"/api/items/{mov}/subtitles", headers=viewer["headers"])
        [entry] = r.json()["subtitles"]
        assert (entry["codec"], entry["kind"]) == ("mov_text", "text")
        vtt = (await client.get(entry["url"])).text
        assert _cue(vtt, MOV_TEXT_LINE) == pytest.approx((3.0, 5.5), abs=0.05)


async def test_choice_and_preferences_decide_the_default(api_url, library) -> None:
    viewer = library["viewer"]
    item = _multi(library)
    h = viewer["headers"]
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as client:

        async def selected(**params) -> int | None:
            r = await client.get(f"/api/items/{item}/subtitles", params=params, headers=h)
            assert r.status_code == 200, r.text
            return r.json()["selected"]

        # No choice, no preference: forced subtitles in the audio's language only.
        assert await selected() is None  # English audio; the forced track is French
        assert await selected(audio_index=2) == ASS  # French audio: its forced subtitles
        r = await client.patch("/api/users/me/subtitle-preferences", json={"languages": ["en"], "mode": "always"},
                               headers=h)  # fmt: skip
        assert r.status_code == 200 and r.json() == {"languages": ["eng"], "mode": "always"}, r.text
        assert await selected() == SRT  # English text before the English picture track
        for bad in ({"mode": "sometimes"}, {"languages": ["english!"]}, {"languages": "en"}, {"colour": 1}):
            r = await client.patch("/api/users/me/subtitle-preferences", json=bad, headers=h)
            assert r.status_code == 400 and r.json()["error"]["message"], (bad, r.text)
        # A choice for the item wins, including "off" (-1 in the database).
        r = await client.put(f"/api/items/{item}/subtitle-choice", json={"stream_index": PGS}, headers=h)
        assert r.status_code == 200, r.text
        assert await selected() == PGS
        r = await client.put(f"/api/items/{item}/subtitle-choice", json={"stream_index": None}, headers=h)
        assert r.status_code == 200
        assert await selected() is None and await selected(audio_index=2) is None
        for bad, status in (({"stream_index": 1}, 404), ({"stream_index": "3"}, 400), ({}, 400)):
            r = await client.put(f"/api/items/{item}/subtitle-choice", json=bad, headers=h)
            assert r.status_code == status, (bad, r.text)
        r = await client.put(f"/api/items/{item}/subtitle-choice", json={"stream_index": SRT},
                             headers=library["stranger"]["headers"])  # fmt: skip
        assert r.status_code == 404
        await client.put(f"/api/items/{item}/subtitle-choice", json={"stream_index": SRT}, headers=h)
        assert await selected() == SRT


@pytest.fixture(scope="module")
def worker(settings, _scratch):
    w = WorkerProcess(settings, _scratch / f"subtitles-worker-{time.time_ns()}.log")
    try:
        yield w.wait_ready()
    finally:
        w.stop()


@pytest.mark.parametrize("method", ["direct_stream", "transcode"])
async def test_hls_subtitle_renditions_line_up_with_the_video(method, api_url, library, worker, tmp_path) -> None:
    """Copied video (keyframe boundaries) and a transcode (short first segments, then S)."""
    viewer = library["viewer"]
    item = _multi(library)
    video_seconds = awkward_media.video_seconds(awkward_media.make(library["folder"], MULTI))
    caps = CAPS if method == "direct_stream" else {**CAPS, "max_height": 180}
    async with httpx.AsyncClient(timeout=60) as client:
        r = await client.post(f"{api_url}/api/items/{item}/playback", json={"capabilities": caps},
                              headers=viewer["headers"])  # fmt: skip
        assert r.status_code == 201, r.text
        answer = r.json()
        assert answer["method"] == method, answer
        try:
            master_url = urljoin(api_url, answer["url"])
            master = (await client.get(master_url)).text
            media = [line for line in master.splitlines() if line.startswith("#EXT-X-MEDIA:TYPE=SUBTITLES")]
            # The two text streams; the picture one is burned in, never a rendition.
            assert len(media) == 2, master
            assert any('LANGUAGE="fr"' in m and "FORCED=YES" in m and 'NAME="French · Signs · Forced"' in m
                       for m in media), media  # fmt: skip
            assert any('LANGUAGE="en"' in m and "FORCED=NO" in m for m in media), media
            inf = [line for line in master.splitlines() if line.startswith("#EXT-X-STREAM-INF")]
            assert inf and all(line.endswith(',SUBTITLES="subs"') for line in inf), master
            variant_url = urljoin(master_url, next(line for line in master.splitlines() if line and line[0] != "#"))
            video_entries = playlist_segments((await client.get(variant_url)).text)
            assert len(video_entries) >= 2
            # The video segments' timestamps: segment n starts at PTS starts[n] * 90000 (MPEGTS:0).
            starts = [sum(length for length, _ in video_entries[:n]) for n in range(len(video_entries))]
            for n in (0, 1):
                seg, _ = await get_segment(client, urljoin(variant_url, video_entries[n][1]), tmp_path / f"{n}.ts")
                info = ffprobe_json(seg, "-show_entries", "stream=codec_type,start_pts")
                pts = next(int(s["start_pts"]) for s in info["streams"] if s["codec_type"] == "video")
                # Within three frames at 24 fps: the first frame starts a little late (B-frame delay).
                assert abs(pts - starts[n] * 90000) <= 3 * 90000 / 24, (n, pts, starts[n])
            found: dict[str, list[int]] = {}
            times: dict[str, tuple[float, float]] = {}
            for line in media:
                uri = re.search(r'URI="([^"]+)"', line).group(1)
                playlist_url = urljoin(master_url, uri)
                playlist = await client.get(playlist_url)
                assert playlist.status_code == 200, playlist.text
                entries = playlist_segments(playlist.text)
                assert [length for length, _ in entries] == [length for length, _ in video_entries]
                total = sum(length for length, _ in entries)
                assert abs(total - video_seconds) <= 0.01 * video_seconds, (total, video_seconds)
                for n, (_, seg_uri) in enumerate(entries):
                    seg = await client.get(urljoin(playlist_url, seg_uri))
                    assert seg.status_code == 200 and seg.headers["content-type"].startswith("text/vtt"), seg.text
                    assert seg.text.startswith("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n"), seg.text
                    for text in (awkward_media.ASS_LINE, awkward_media.SRT_LINE, awkward_media.SRT_ACROSS):
                        if text in seg.text:
                            found.setdefault(text, []).append(n)
                            times[text] = _cue(seg.text, text)  # absolute times, the same in each segment
            # A cue is in exactly the segments it overlaps.
            ends = [*starts[1:], 1e9]
            for text, (start, end) in times.items():
                assert found[text] == [n for n in range(len(starts)) if start < ends[n] and end > starts[n]], (
                    text, found[text], starts)  # fmt: skip
            assert set(found) == {awkward_media.ASS_LINE, awkward_media.SRT_LINE, awkward_media.SRT_ACROSS}
            assert len(found[awkward_media.SRT_ACROSS]) >= 2, starts  # 5.5 s to 7 s, across the cut near 6 s
            pgs = await client.get(urljoin(master_url, f"subtitles/{PGS}/index.m3u8"), headers=viewer["headers"])
            assert pgs.status_code == 422, pgs.text  # pictures are burned in, never a text rendition
        finally:
            await client.delete(f"{api_url}/api/sessions/{answer['session_id']}", headers=viewer["headers"])


PROFILE = {
    "DirectPlayProfiles": [{"Container": "mp4", "Type": "Video", "VideoCodec": "h264", "AudioCodec": "aac"}],
    "TranscodingProfiles": [{"Container": "ts", "Type": "Video", "Protocol": "hls", "VideoCodec": "h264",
                             "AudioCodec": "aac"}],
}  # fmt: skip


async def test_jellyfin_delivers_text_subtitles_externally(api_url, library) -> None:
    """PlaybackInfo: each text subtitle is ``DeliveryMethod: External`` with a ``DeliveryUrl`` that a
    player fetches as is (its ``ApiKey`` is scoped to the file); pictures are ``Encode``. The Jellyfin
    master playlist lists the text streams as renditions too, fetchable with the URIs it gives."""
    viewer = library["viewer"]
    item = _multi(library)
    hex_id = item.replace("-", "")
    jf = client_headers("subtitles-jf", viewer["token"])
    async with httpx.AsyncClient(base_url=api_url, timeout=60) as client:
        r = await client.put(
            f"/api/items/{item}/subtitle-choice", json={"stream_index": SRT}, headers=viewer["headers"]
        )
        assert r.status_code == 200, r.text
        r = await client.post(f"/Items/{hex_id}/PlaybackInfo", params={"UserId": viewer["id"]},
                              json={"DeviceProfile": PROFILE}, headers=jf)  # fmt: skip
        assert r.status_code == 200, r.text
        answer = r.json()
        try:
            source = answer["MediaSources"][0]
            assert source["DefaultSubtitleStreamIndex"] == SRT  # the remembered choice
            subs = {s["Index"]: s for s in source["MediaStreams"] if s["Type"] == "Subtitle"}
            assert {i: s["DeliveryMethod"] for i, s in subs.items()} == {ASS: "External", PGS: "Encode",
                                                                         SRT: "External"}  # fmt: skip
            url = subs[SRT]["DeliveryUrl"]
            assert url.startswith(f"/Videos/{hex_id}/{hex_id}/Subtitles/{SRT}/0/Stream.vtt?ApiKey="), url
            vtt = await client.get(url)
            assert vtt.status_code == 200 and vtt.headers["content-type"].startswith("text/vtt"), vtt.text
            assert _cue(vtt.text, awkward_media.SRT_LINE) == (2.0, 5.0)
            bare = url.split("?")[0]
            assert (await client.get(bare)).status_code == 401
            assert (await client.get(bare.replace("/0/Stream.vtt", "/Stream.vtt"), headers=jf)).status_code == 200
            r = await client.get(bare.replace(".vtt", ".srt"), headers=jf)
            assert r.status_code == 400 and r.json(), r.text
            r = await client.get(f"/Videos/{hex_id}/{hex_id}/Subtitles/{PGS}/0/Stream.vtt", headers=jf)
            assert r.status_code == 422, r.text

            master = await client.get(source["TranscodingUrl"])
            assert master.status_code == 200, master.text
            uris = re.findall(r'#EXT-X-MEDIA:TYPE=SUBTITLES,[^\n]*URI="([^"]+)"', master.text)
            assert len(uris) == 2 and all(",SUBTITLES=\"subs\"" in line for line in master.text.splitlines()
                                          if line.startswith("#EXT-X-STREAM-INF")), master.text  # fmt: skip
            playlist_url = urljoin(str(master.url), uris[1])
            playlist = await client.get(playlist_url)  # no header: the URI carries its token
            assert playlist.status_code == 200, playlist.text
            first = playlist_segments(playlist.text)[0][1]
            seg = await client.get(urljoin(playlist_url, first))
            assert seg.status_code == 200 and "X-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000" in seg.text, seg.text
        finally:
            await client.delete(f"/api/sessions/{answer['PlaySessionId']}", headers=viewer["headers"])


async def test_jellyfin_user_configuration_sets_the_subtitle_preferences(api_url, pool, settings, library) -> None:
    user = await make_user(pool, settings, libraries=(library["lib"],))
    jf = client_headers("subtitles-jf-config", user["token"])
    item = _multi(library)
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as client:
        config = {"SubtitleLanguagePreference": "fre", "SubtitleMode": "Always", "AudioLanguagePreference": ""}
        r = await client.post("/Users/Configuration", params={"userId": user["id"]}, json=config, headers=jf)
        assert r.status_code == 204, r.text
        prefs = await client.get("/api/users/me/subtitle-preferences", headers=user["headers"])
        assert prefs.json() == {"languages": ["fra"], "mode": "always"}
        me = (await client.get("/Users/Me", headers=jf)).json()["Configuration"]
        assert (me["SubtitleLanguagePreference"], me["SubtitleMode"]) == ("fra", "Always")
        r = await client.get(f"/api/items/{item}/subtitles", headers=user["headers"])
        assert r.json()["selected"] == ASS  # French wanted always: the only French track
        for bad in ({"SubtitleMode": "Sometimes"}, {"SubtitleLanguagePreference": "<x>", "SubtitleMode": "None"}):
            r = await client.post("/Users/Configuration", json=bad, headers=jf)
            assert r.status_code == 400 and r.json(), (bad, r.text)
        # Nothing of a refused configuration was kept.
        assert (await client.get("/api/users/me/subtitle-preferences", headers=user["headers"])).json()["mode"] == (
            "always"
        )
        r = await client.post("/Users/Configuration", json={"SubtitleMode": "None"}, headers=jf)
        assert r.status_code == 204
        assert (await client.get(f"/api/items/{item}/subtitles", headers=user["headers"])).json()["selected"] is None
