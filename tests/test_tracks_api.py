"""Audio choice over the real api (issue 13), PostgreSQL and Redis: the caller's preferred audio
languages (``/api/users/me/audio-preferences``), the default track they give, the choice remembered per
user and item (``/api`` and Jellyfin's ``PlaybackInfo``) and the player page selecting it.
The film is ``two_lang_h264`` (tests/awkward_media.py): stream 1 English (default), 2 French;
``multi_track`` adds an ASS (3) and a PGS (4) subtitle.
"""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from yaffw import sessions

from tests import awkward_media
from tests._media_rows import insert_item, make_library, make_user
from tests.jellyfin_support import client_headers
from tests.test_jellyfin_device_profile import CHROME
from tests.test_playback_decision import CHROMIUM

pytestmark = pytest.mark.timeout(120)
PREFS = "/api/users/me/audio-preferences"


@pytest.fixture(scope="module")
async def film(pool, sample_media) -> dict:
    folder = sample_media.root.parent / f"{sample_media.root.name}-awkward"
    two = next(a for a in awkward_media.FILES if a.name == "two_lang_h264")
    path = awkward_media.make(folder, two)
    multi = awkward_media.make(folder, next(a for a in awkward_media.FILES if a.name == "multi_track"))
    lib = await make_library(pool, folder, name=f"tracks-api-{time.time_ns()}")
    return {"item": await insert_item(pool, lib, path, name="Two Languages"), "lib": lib,
            "multi": await insert_item(pool, lib, multi, name="Multi Track")}  # fmt: skip


async def _user(api_url: str, pool, settings, film: dict, languages: list[str] | None = None) -> dict:
    user = await make_user(pool, settings, libraries=(film["lib"],))
    if languages is not None:
        r = httpx.patch(f"{api_url}{PREFS}", json={"languages": languages}, headers=user["headers"])
        assert r.status_code == 200, r.text
    return user


def _play(api_url: str, user: dict, item_id: str, **body) -> dict:
    r = httpx.post(f"{api_url}/api/items/{item_id}/playback", json={"capabilities": CHROMIUM, **body},
                   headers=user["headers"], timeout=30)  # fmt: skip
    assert r.status_code == 201, r.text
    answer = r.json()
    stop = httpx.request("DELETE", api_url + answer["stop_url"], headers=user["headers"])
    assert stop.status_code == 200, stop.text
    return answer


def _selected(api_url: str, user: dict, item_id: str) -> str:
    page = httpx.get(f"{api_url}/items/{item_id}/play", cookies={"yaffw_token": user["token"]},
                     headers={"Accept": "text/html"}).text  # fmt: skip
    return re.search(r'<option value="(\d+)"[^>]*selected', page).group(1)


async def test_preferences_are_the_callers_and_checked(api_url, pool, settings, film) -> None:
    user = await _user(api_url, pool, settings, film)
    other = await _user(api_url, pool, settings, film)
    url = api_url + PREFS
    assert httpx.get(url, headers=user["headers"]).json() == {"languages": []}
    r = httpx.patch(url, json={"languages": ["fr", "EN", "fra"]}, headers=user["headers"])
    assert r.status_code == 200 and r.json() == {"languages": ["fra", "eng"]}
    assert httpx.get(url, headers=user["headers"]).json() == {"languages": ["fra", "eng"]}
    assert httpx.get(url, headers=other["headers"]).json() == {"languages": []}
    assert await pool.fetchval("SELECT audio_languages FROM users WHERE id = $1", user["id"]) == ["fra", "eng"]
    for bad in ({"languages": "fr"}, {"languages": [1]}, {"languages": ["<b>"]},
                {"languages": ["en"] * 17}, {"languages": None}, {"mode": "x"}):  # fmt: skip
        r = httpx.patch(url, json=bad, headers=user["headers"])
        assert r.status_code == 400 and r.json()["error"]["message"], (bad, r.text)
    r = httpx.patch(url, content=b"{nope", headers={**user["headers"], "content-type": "application/json"})
    assert r.status_code == 400
    assert httpx.get(url).status_code == 401 and httpx.patch(url, json={"languages": []}).status_code == 401
    assert httpx.get(url, headers=user["headers"]).json() == {"languages": ["fra", "eng"]}


async def test_default_track_follows_the_preferred_language(api_url, pool, settings, film) -> None:
    item = film["item"]
    plain = await _user(api_url, pool, settings, film)
    answer = _play(api_url, plain, item)
    assert answer["audio_index"] == 1  # the file's default (English)
    tracks = {t["index"]: t for t in answer["audio_tracks"]}
    assert (tracks[2]["language"], tracks[2]["layout"], tracks[2]["codec"]) == ("fra", "Stereo", "aac")
    assert _selected(api_url, plain, item) == "1"

    french = await _user(api_url, pool, settings, film, ["ita", "fr"])
    answer = _play(api_url, french, item)
    assert answer["audio_index"] == 2 and "audio track 2 is not the file's default" in answer["reason"]
    assert _selected(api_url, french, item) == "2"
    # Nothing was remembered: the language rule gave it.
    assert await pool.fetchval("SELECT count(*) FROM user_item_data WHERE user_id = $1", french["id"]) == 0


async def test_choice_is_remembered_per_user_and_item(api_url, pool, settings, film) -> None:
    item = film["item"]
    user = await _user(api_url, pool, settings, film, ["fra"])
    assert _play(api_url, user, item, audio_index=1)["audio_index"] == 1
    row = await pool.fetchrow("SELECT audio_stream_index, played, position_seconds FROM user_item_data"
                              " WHERE user_id = $1 AND item_id = $2", user["id"], item)  # fmt: skip
    assert (row["audio_stream_index"], row["played"]) == (1, False)
    # Next time: the remembered English track, over the preferred French.
    assert _play(api_url, user, item)["audio_index"] == 1
    assert _selected(api_url, user, item) == "1"
    # A new choice replaces it; someone else's default is untouched.
    assert _play(api_url, user, item, audio_index=2)["audio_index"] == 2
    assert _play(api_url, user, item)["audio_index"] == 2
    other = await _user(api_url, pool, settings, film)
    assert _play(api_url, other, item)["audio_index"] == 1
    r = httpx.post(f"{api_url}/api/items/{item}/playback", json={"audio_index": 0}, headers=user["headers"])
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_audio_index"
    assert _play(api_url, user, item)["audio_index"] == 2  # a refused choice is not remembered


async def test_jellyfin_playback_info_uses_and_remembers_the_choice(api_url, pool, settings, film) -> None:
    item = film["item"].replace("-", "")
    user = await _user(api_url, pool, settings, film, ["fra"])
    jf = client_headers("tracks-jf", user["token"])

    def info(**body) -> dict:
        r = httpx.post(f"{api_url}/Items/{item}/PlaybackInfo", params={"UserId": user["id"]},
                       json={"DeviceProfile": CHROME, **body}, headers=jf, timeout=30)  # fmt: skip
        assert r.status_code == 200, r.text
        answer = r.json()
        stop = httpx.request("DELETE", f"{api_url}/api/sessions/{answer['PlaySessionId']}", headers=user["headers"])
        assert stop.status_code == 200, stop.text
        return answer

    def audio_of(answer: dict) -> int:
        source = answer["MediaSources"][0]
        if source.get("TranscodingUrl"):
            assert parse_qs(urlsplit(source["TranscodingUrl"]).query)["AudioStreamIndex"] == [
                str(source["DefaultAudioStreamIndex"])]  # fmt: skip
        return int(source["DefaultAudioStreamIndex"])

    assert audio_of(info()) == 2  # the preferred language, as on /api
    assert audio_of(info(AudioStreamIndex=1)) == 1
    assert await pool.fetchval("SELECT audio_stream_index FROM user_item_data WHERE user_id = $1",
                               user["id"]) == 1  # fmt: skip
    # Remembered: the next PlaybackInfo without AudioStreamIndex plays English, not the preferred French.
    assert audio_of(info()) == 1
    assert audio_of(info(AudioStreamIndex=2)) == 2 and audio_of(info()) == 2


async def test_jellyfin_audio_language_preference(api_url, pool, settings, film) -> None:
    """``UserConfiguration.AudioLanguagePreference`` is the first preferred audio language."""
    user = await _user(api_url, pool, settings, film, ["deu", "eng"])
    other = await _user(api_url, pool, settings, film)
    jf = client_headers("tracks-jf-config", user["token"])
    config = {"AudioLanguagePreference": "fre", "PlayDefaultAudioTrack": True, "SubtitleMode": "Default"}
    r = httpx.post(f"{api_url}/Users/Configuration", params={"userId": user["id"]}, json=config, headers=jf)
    assert r.status_code == 204, r.text
    me = httpx.get(f"{api_url}/Users/Me", headers=jf).json()
    assert me["Configuration"]["AudioLanguagePreference"] == "fra"
    assert httpx.get(api_url + PREFS, headers=user["headers"]).json() == {"languages": ["fra", "deu", "eng"]}
    assert _play(api_url, user, film["item"])["audio_index"] == 2
    r = httpx.post(f"{api_url}/Users/{other['id']}/Configuration", json=config, headers=jf)
    assert r.status_code == 403
    r = httpx.post(f"{api_url}/Users/Configuration", json={"AudioLanguagePreference": "<x>"}, headers=jf)
    assert r.status_code == 400 and r.json()
    r = httpx.post(f"{api_url}/Users/{user['id']}/Configuration", json={"AudioLanguagePreference": ""}, headers=jf)
    assert r.status_code == 204
    assert httpx.get(f"{api_url}/Users/Me", headers=jf).json()["Configuration"]["AudioLanguagePreference"] == ""
    assert _play(api_url, user, film["item"])["audio_index"] == 1


async def test_image_subtitle_burn_is_asked_for_on_both_surfaces(api_url, pool, settings, film, redis, keys) -> None:
    """``subtitle_index`` on /api, ``SubtitleStreamIndex`` on PlaybackInfo and on a Jellyfin master
    playlist opened without PlaybackInfo (with ``SubtitleMethod=Encode``): a PGS track is burned in by
    a transcode (the job says so), a text one changes nothing, an unknown one is 400."""
    user = await _user(api_url, pool, settings, film)
    item, hex_id = film["multi"], film["multi"].replace("-", "")
    answer = _play(api_url, user, item, subtitle_index=4)
    assert (answer["method"], answer["burn_subtitle"]) == ("transcode", 4)
    assert "subtitle 4 (hdmv_pgs_subtitle) is burned in" in answer["reason"]
    text_sub = _play(api_url, user, item, subtitle_index=3)
    assert text_sub["burn_subtitle"] is None and text_sub["method"] == _play(api_url, user, item)["method"]
    for bad in (0, 1, 99):
        r = httpx.post(f"{api_url}/api/items/{item}/playback", json={"subtitle_index": bad}, headers=user["headers"])
        assert r.status_code == 400 and r.json()["error"]["code"] == "bad_subtitle_index", r.text

    jf = client_headers("tracks-jf-subs", user["token"])
    r = httpx.post(f"{api_url}/Items/{hex_id}/PlaybackInfo", params={"UserId": user["id"]},
                   json={"DeviceProfile": CHROME, "SubtitleStreamIndex": 4}, headers=jf, timeout=30)  # fmt: skip
    assert r.status_code == 200, r.text
    source, sid = r.json()["MediaSources"][0], r.json()["PlaySessionId"]
    query = parse_qs(urlsplit(source["TranscodingUrl"]).query)
    assert (query["SubtitleStreamIndex"], query["SubtitleMethod"]) == (["4"], ["Encode"])
    assert "SubtitleCodecNotSupported" in query["TranscodeReasons"][0]
    assert (await sessions.get(redis, keys, sid)).job.burn_subtitle == 4
    httpx.request("DELETE", f"{api_url}/api/sessions/{sid}", headers=user["headers"])
    # A profile that shows PGS itself (SubtitleProfiles Method Embed) is not burned for.
    embed = {**CHROME, "SubtitleProfiles": [{"Format": "pgssub", "Method": "Embed"}]}
    r = httpx.post(f"{api_url}/Items/{hex_id}/PlaybackInfo", params={"UserId": user["id"]},
                   json={"DeviceProfile": embed, "SubtitleStreamIndex": 4}, headers=jf, timeout=30)  # fmt: skip
    session = await sessions.get(redis, keys, r.json()["PlaySessionId"])
    assert session.job is None or session.job.burn_subtitle is None
    httpx.request("DELETE", f"{api_url}/api/sessions/{session.sid}", headers=user["headers"])

    for params, burned in (({"SubtitleStreamIndex": 4, "SubtitleMethod": "Encode"}, 4),
                           ({"SubtitleStreamIndex": 4}, None), ({"SubtitleStreamIndex": 3, "SubtitleMethod": "Encode"},
                                                                None)):  # fmt: skip
        r = httpx.get(f"{api_url}/videos/{hex_id}/master.m3u8", params=params, headers=jf, timeout=30)
        assert r.status_code == 200, r.text
        sid = re.search(r"PlaySessionId=([0-9a-f]+)", r.text).group(1)
        assert (await sessions.get(redis, keys, sid)).job.burn_subtitle == burned, params
        httpx.request("DELETE", f"{api_url}/api/sessions/{sid}", headers=user["headers"])


async def test_remembered_or_preferred_image_subtitle_is_burned_from_the_start(api_url, pool, settings, film) -> None:
    """Without ``subtitle_index`` the caller's default subtitle plays: a picture one remembered for
    the item (or picked by their preferences) is burned in from the first segment; -1 is off."""
    user = await _user(api_url, pool, settings, film)
    item = film["multi"]
    plain = _play(api_url, user, item)
    assert (plain["burn_subtitle"], plain["subtitle_index"]) == (None, None)
    r = httpx.put(f"{api_url}/api/items/{item}/subtitle-choice", json={"stream_index": 4}, headers=user["headers"])
    assert r.status_code == 200, r.text
    remembered = _play(api_url, user, item)
    assert (remembered["method"], remembered["burn_subtitle"], remembered["subtitle_index"]) == ("transcode", 4, 4)
    off = _play(api_url, user, item, subtitle_index=-1)
    assert (off["method"], off["burn_subtitle"], off["subtitle_index"]) == (plain["method"], None, None)
    # Chosen off for the item, then English subtitles always: the only English one is the PGS track.
    httpx.put(f"{api_url}/api/items/{item}/subtitle-choice", json={"stream_index": None}, headers=user["headers"])
    assert _play(api_url, user, item)["burn_subtitle"] is None
    await pool.execute("UPDATE user_item_data SET subtitle_stream_index = NULL WHERE user_id = $1", user["id"])
    r = httpx.patch(f"{api_url}/api/users/me/subtitle-preferences", json={"languages": ["en"], "mode": "always"},
                    headers=user["headers"])  # fmt: skip
    assert r.status_code == 200, r.text
    assert _play(api_url, user, item)["burn_subtitle"] == 4
    # French preferred: the French ASS (text) is shown, nothing is burned.
    r = httpx.patch(f"{api_url}/api/users/me/subtitle-preferences", json={"languages": ["fr"]},
                    headers=user["headers"])  # fmt: skip
    french = _play(api_url, user, item)
    assert (french["subtitle_index"], french["burn_subtitle"]) == (3, None)
