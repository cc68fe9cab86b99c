"""Jellyfin's marks and display preferences (issue 12): played and favourite marks through
/UserPlayedItems, /UserFavoriteItems and /UserItems/{id}/UserData (and the legacy /Users/{id}/…
aliases) write the same rows as yaffw's own /api, a series' mark reaches its episodes, other users'
and invisible items are 404, and /DisplayPreferences round-trips per user and client.
"""
# ruff: noqa: F811  (pytest fixtures imported from tests.api_fixtures are redefined as arguments)

from __future__ import annotations

import httpx
from yaffw.settings import Settings

from tests.api_fixtures import data, http  # noqa: F401
from tests.api_seed import Seed, bearer, token
from tests.jellyfin_support import client_headers, validate


def _hex(uuid_text: str) -> str:
    return uuid_text.replace("-", "")


def _jf(settings: Settings, seed: Seed, name: str) -> dict[str, str]:
    return client_headers("pytest-userdata", token(settings, seed, name))


async def _api_user_data(http: httpx.AsyncClient, url: str, headers: dict[str, str], item: str) -> dict:
    r = await http.get(f"{url}/api/items/{item}", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["user_data"]


async def test_played_marks_agree_with_api(http: httpx.AsyncClient, api_url: str, data: Seed,
                                           settings: Settings) -> None:  # fmt: skip
    jf, api = _jf(settings, data, "alice"), bearer(settings, data, "alice")
    big = data.items["big"]
    r = await http.post(f"{api_url}/UserPlayedItems/{_hex(big)}", headers=jf)
    assert r.status_code == 200, r.text
    body = validate(r)
    assert body["Played"] is True and body["PlayCount"] == 1 and body["ItemId"] == _hex(big)
    assert body["PlaybackPositionTicks"] == 0 and "LastPlayedDate" in body
    assert (await _api_user_data(http, api_url, api, big))["played"] is True

    # The other way round: /api's change is what Jellyfin reads.
    for change in ({"played": False}, {"position_seconds": 12}):
        r = await http.put(f"{api_url}/api/items/{big}/userdata", json=change, headers=api)
        assert r.status_code == 200
    r = await http.get(f"{api_url}/UserItems/{_hex(big)}/UserData", headers=jf)
    body = validate(r)
    assert body["Played"] is False and body["PlaybackPositionTicks"] == 12 * 10_000_000
    assert abs(body["PlayedPercentage"] - 40.0) < 1e-6  # 12 of 30 s

    r = await http.post(f"{api_url}/UserPlayedItems/{_hex(big)}", headers=jf)
    r = await http.delete(f"{api_url}/userplayeditems/{big}", headers=jf)  # any case, dashes accepted
    body = validate(r)
    assert body["Played"] is False and body["PlayCount"] == 2 and body["PlaybackPositionTicks"] == 0
    assert (await _api_user_data(http, api_url, api, big))["played"] is False


async def test_favourites_and_legacy_aliases(http: httpx.AsyncClient, api_url: str, data: Seed,
                                             settings: Settings) -> None:  # fmt: skip
    jf, api = _jf(settings, data, "alice"), bearer(settings, data, "alice")
    alice, zebra = _hex(data.users["alice"]), data.items["zebra"]
    r = await http.post(f"{api_url}/UserFavoriteItems/{_hex(zebra)}", headers=jf)
    assert validate(r)["IsFavorite"] is True
    assert (await _api_user_data(http, api_url, api, zebra))["favorite"] is True
    r = await http.delete(f"{api_url}/Users/{alice}/FavoriteItems/{_hex(zebra)}", headers=jf)
    assert validate(r, path=f"/UserFavoriteItems/{_hex(zebra)}")["IsFavorite"] is False
    assert (await _api_user_data(http, api_url, api, zebra))["favorite"] is False

    r = await http.post(f"{api_url}/emby/Users/{alice}/PlayedItems/{_hex(zebra)}", headers=jf)
    assert validate(r, path=f"/UserPlayedItems/{_hex(zebra)}")["Played"] is True
    r = await http.delete(f"{api_url}/Users/{alice}/PlayedItems/{_hex(zebra)}", headers=jf)
    assert validate(r, path=f"/UserPlayedItems/{_hex(zebra)}")["Played"] is False
    r = await http.post(f"{api_url}/Users/{alice}/FavoriteItems/{_hex(zebra)}", headers=jf)
    assert validate(r, path=f"/UserFavoriteItems/{_hex(zebra)}")["IsFavorite"] is True

    # UserData: GET and POST, 10.11 path and legacy one.
    update = {"PlaybackPositionTicks": 300_000_000, "IsFavorite": False, "Rating": 5, "Key": "ignored"}
    r = await http.post(f"{api_url}/UserItems/{_hex(zebra)}/UserData?userId={alice}", json=update, headers=jf)
    body = validate(r)
    assert body["PlaybackPositionTicks"] == 300_000_000 and body["IsFavorite"] is False
    stored = await _api_user_data(http, api_url, api, zebra)
    assert stored["position_seconds"] == 30.0 and stored["favorite"] is False
    r = await http.post(f"{api_url}/Users/{alice}/Items/{_hex(zebra)}/UserData", json={"Played": True}, headers=jf)
    assert validate(r, path=f"/UserItems/{_hex(zebra)}/UserData")["Played"] is True
    r = await http.get(f"{api_url}/Users/{alice}/Items/{_hex(zebra)}/UserData", headers=jf)
    assert validate(r, path=f"/UserItems/{_hex(zebra)}/UserData")["Played"] is True
    # Likes are not kept: the data comes back unchanged.
    r = await http.post(f"{api_url}/UserItems/{_hex(zebra)}/Rating?likes=true", headers=jf)
    assert validate(r)["Played"] is True
    r = await http.delete(f"{api_url}/UserItems/{_hex(zebra)}/Rating", headers=jf)
    assert validate(r)["ItemId"] == _hex(zebra)


async def test_series_mark_reaches_episodes(http: httpx.AsyncClient, api_url: str, data: Seed,
                                            settings: Settings) -> None:  # fmt: skip
    jf, api = _jf(settings, data, "alice"), bearer(settings, data, "alice")
    episodes = [data.items[k] for k in ("s1e1", "s1e2", "s2e1")]
    await http.put(f"{api_url}/api/items/{episodes[0]}/userdata", json={"position_seconds": 10}, headers=api)
    r = await http.post(f"{api_url}/UserPlayedItems/{_hex(data.items['show'])}", headers=jf)
    body = validate(r)
    assert body["Played"] is True and body["UnplayedItemCount"] == 0
    for episode in episodes:
        state = await _api_user_data(http, api_url, api, episode)
        assert state["played"] is True and state["play_count"] == 1 and state["position_seconds"] == 0
    # A season through /api: the same domain rule.
    r = await http.put(f"{api_url}/api/items/{data.items['s1']}/userdata", json={"played": False}, headers=api)
    assert r.status_code == 200
    r = await http.get(f"{api_url}/UserItems/{_hex(data.items['show'])}/UserData", headers=jf)
    assert validate(r)["UnplayedItemCount"] == 2
    assert (await _api_user_data(http, api_url, api, episodes[2]))["played"] is True
    r = await http.delete(f"{api_url}/UserPlayedItems/{_hex(data.items['show'])}", headers=jf)
    assert validate(r)["UnplayedItemCount"] == 3


async def test_other_users_and_bad_input(http: httpx.AsyncClient, api_url: str, data: Seed,
                                         settings: Settings) -> None:  # fmt: skip
    alice, bob = _jf(settings, data, "alice"), _jf(settings, data, "bob")
    big, secret = _hex(data.items["big"]), _hex(data.items["secret"])
    for headers, item in ((bob, big), (alice, secret)):  # bob sees no library; Private is admins' only
        for method, path in (("POST", f"/UserPlayedItems/{item}"), ("DELETE", f"/UserFavoriteItems/{item}"),
                             ("GET", f"/UserItems/{item}/UserData")):  # fmt: skip
            r = await http.request(method, api_url + path, headers=headers)
            assert r.status_code == 404, (method, path, r.text)
    r = await http.post(f"{api_url}/UserPlayedItems/not-an-id", headers=alice)
    assert r.status_code == 404
    validate(await http.post(f"{api_url}/UserPlayedItems/{secret}", headers=alice))  # 404 is documented
    r = await http.post(f"{api_url}/UserPlayedItems/{big}?userId={_hex(data.users['bob'])}", headers=alice)
    assert r.status_code == 403
    r = await http.post(f"{api_url}/Users/{_hex(data.users['bob'])}/PlayedItems/{big}", headers=alice)
    assert r.status_code == 403
    assert (await http.post(f"{api_url}/UserPlayedItems/{big}")).status_code == 401
    for body in ({"Played": "yes"}, {"PlaybackPositionTicks": -5}, {"IsFavorite": 1}):
        r = await http.post(f"{api_url}/UserItems/{big}/UserData", json=body, headers=alice)
        assert r.status_code == 400, body
    r = await http.post(f"{api_url}/UserItems/{big}/UserData", content=b"[1]", headers=alice)
    assert r.status_code == 400
    api = bearer(settings, data, "alice")
    assert (await _api_user_data(http, api_url, api, data.items["big"]))["played"] is False  # nothing changed


async def test_display_preferences_round_trip(http: httpx.AsyncClient, api_url: str, data: Seed,
                                              settings: Settings) -> None:  # fmt: skip
    alice, root = _jf(settings, data, "alice"), _jf(settings, data, "root")
    url = f"{api_url}/DisplayPreferences/usersettings"
    r = await http.get(url, params={"client": "emby", "userId": _hex(data.users["alice"])}, headers=alice)
    defaults = validate(r)
    # Jellyfin's id for "usersettings" (MD5 of its UTF-16 text, as a .NET GUID).
    assert defaults["Id"] == "3ce5b65d-e116-d731-65d1-efc4a30ec35c"
    assert defaults["SortBy"] == "SortName" and defaults["SortOrder"] == "Ascending"
    assert defaults["ScrollDirection"] == "Horizontal" and defaults["ShowBackdrop"] is True
    assert defaults["Client"] == "emby" and defaults["CustomPrefs"]["skipForwardLength"] == "30000"

    prefs = {**defaults, "SortBy": "DateCreated", "SortOrder": "descending", "RememberSorting": True,
             "CustomPrefs": {"homesection0": "resume", "landing-abc": "suggestions", "tvhome": None},
             "Unknown": 1}  # fmt: skip
    r = await http.post(url, params={"client": "emby"}, json=prefs, headers=alice)
    assert r.status_code == 204, r.text
    validate(r)
    body = validate(await http.get(url, params={"client": "emby"}, headers=alice))
    assert body["SortBy"] == "DateCreated" and body["SortOrder"] == "Descending" and body["RememberSorting"]
    assert body["CustomPrefs"]["homesection0"] == "resume" and body["CustomPrefs"]["skipBackLength"] == "10000"
    # Per client and per user: others still see the defaults.
    other_client = validate(await http.get(url, params={"client": "Jellyfin Web"}, headers=alice))
    assert other_client["SortBy"] == "SortName"
    assert validate(await http.get(url, params={"client": "emby"}, headers=root))["SortBy"] == "SortName"
    # A GUID id is its own Id.
    item = _hex(data.items["big"])
    r = await http.get(f"{api_url}/DisplayPreferences/{item}", params={"client": "emby"}, headers=alice)
    assert validate(r)["Id"] == data.items["big"]


async def test_display_preferences_refuse_garbage(http: httpx.AsyncClient, api_url: str, data: Seed,
                                                  settings: Settings) -> None:  # fmt: skip
    alice = _jf(settings, data, "alice")
    url = f"{api_url}/DisplayPreferences/usersettings"
    assert (await http.get(url, params={"client": "emby"})).status_code == 401
    assert (await http.get(url, headers=alice)).status_code == 400  # client is required
    r = await http.get(url, params={"client": "emby", "userId": _hex(data.users["bob"])}, headers=alice)
    assert r.status_code == 403
    for body in ([1], {"SortOrder": "Sideways"}, {"ShowBackdrop": "yes"}, {"PrimaryImageHeight": 2**31},
                 {"CustomPrefs": {"a": 1}}, {"CustomPrefs": {str(n): "x" for n in range(300)}},
                 {"SortBy": "x" * 1000}, {"CustomPrefs": {"a": "\u0000"}}):  # fmt: skip
        r = await http.post(url, params={"client": "emby"}, json=body, headers=alice)
        assert r.status_code == 400, body
    r = await http.post(url, params={"client": "emby"}, content=b"{" * 70_000, headers=alice)
    assert r.status_code == 400
    r = await http.post(url, params={"client": "emby"}, content=b"not json", headers=alice)
    assert r.status_code == 400
    assert validate(await http.get(url, params={"client": "emby"}, headers=alice))["SortBy"] == "SortName"
