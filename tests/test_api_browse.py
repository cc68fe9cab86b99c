"""Browsing over HTTP: filters, search, sort, paging, detail, user data, images, resume, latest;
library access (another user's library is 404) and garbage input (4xx, never 500).
"""
# ruff: noqa: F811  (pytest fixtures imported from tests.api_fixtures are redefined as arguments)

from __future__ import annotations

import asyncpg
import httpx
import pytest
from yaffw import storage
from yaffw.settings import Settings

from tests.api_fixtures import data, http  # noqa: F401
from tests.api_seed import Seed, bearer, image_key


async def get(http: httpx.AsyncClient, url: str, headers: dict[str, str]) -> dict:
    r = await http.get(url, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def test_browse_search_sort_page(http: httpx.AsyncClient, api_url: str, data: Seed, settings: Settings) -> None:
    alice = bearer(settings, data, "alice")
    movies = data.libraries["Movies"]
    seen: list[str] = []
    for offset in range(0, 60, 20):
        page = await get(http, f"{api_url}/api/items?library_id={movies}&offset={offset}&limit=20", alice)
        assert page["total"] == 49
        seen += [i["id"] for i in page["items"]]
    assert len(seen) == 49 == len(set(seen))
    newest = await get(http, f"{api_url}/api/items?library_id={movies}&sort=date_added&limit=1", alice)
    assert newest["items"][0]["name"] == "Hevc Sample"
    oldest = await get(http, f"{api_url}/api/items?library_id={movies}&sort=year&order=asc&limit=1", alice)
    assert oldest["items"][0]["name"] == "Filler 000"
    found = await get(http, f"{api_url}/api/items?q=buck", alice)
    assert [i["name"] for i in found["items"]] == ["Big Buck Test"] and found["total"] == 1
    found = await get(http, f"{api_url}/api/items?q=%C3%BCn%C3%AFcode", alice)  # "ünïcode"
    assert found["items"][0]["id"] == data.items["amelie"]
    episodes = await get(http, f"{api_url}/api/items?type=episode&sort=name", alice)
    assert episodes["total"] == 3
    detail = await get(http, f"{api_url}/api/items/{data.items['s1e2']}", alice)
    assert detail["series_id"] == data.items["show"] and detail["season_name"] == "Season 1"
    assert detail["library_name"] == "Shows" and detail["streams"] == []
    big = await get(http, f"{api_url}/api/items/{data.items['big']}", alice)
    assert [(s["type"], s["codec"]) for s in big["streams"]] == [("video", "h264"), ("audio", "aac")]


async def test_other_users_library_is_404(http: httpx.AsyncClient, api_url: str, data: Seed,
                                          settings: Settings) -> None:  # fmt: skip
    alice, bob = bearer(settings, data, "alice"), bearer(settings, data, "bob")
    secret, private = data.items["secret"], data.libraries["Private"]
    for path in (
        f"/api/items/{secret}",
        f"/api/items/{secret}/images/primary",
        f"/api/items?library_id={private}",
        f"/api/items?parent_id={secret}",
        f"/api/libraries/{private}",
        f"/api/latest?library_id={private}",
    ):
        r = await http.get(api_url + path, headers=alice)
        assert r.status_code == 404, (path, r.text)
        assert r.json()["error"]["code"] == "not_found"
    r = await http.put(f"{api_url}/api/items/{secret}/userdata", json={"played": True}, headers=alice)
    assert r.status_code == 404
    assert (await get(http, f"{api_url}/api/items?q=secret", alice))["total"] == 0
    assert (await get(http, f"{api_url}/api/items?q=buck", bob))["total"] == 0
    assert (await http.get(f"{api_url}/api/items/{data.items['big']}", headers=bob)).status_code == 404
    assert (await get(http, f"{api_url}/api/libraries", bob)) == {"items": [], "total": 0}
    admin = await get(http, f"{api_url}/api/libraries", bearer(settings, data, "root"))
    assert admin["total"] == 3 and all(lib["paths"] for lib in admin["items"])


async def test_userdata_resume_latest(http: httpx.AsyncClient, api_url: str, data: Seed, settings: Settings) -> None:
    alice = bearer(settings, data, "alice")
    url = f"{api_url}/api/items/{data.items['hevc']}/userdata"  # 60 s
    r = await http.put(url, json={"position_seconds": 20}, headers=alice)
    assert r.status_code == 200 and r.json()["position_seconds"] == 20
    resume = await get(http, f"{api_url}/api/resume", alice)
    assert [i["id"] for i in resume["items"]] == [data.items["hevc"]]
    assert resume["items"][0]["user_data"]["position_seconds"] == 20
    r = await http.put(url, json={"position_seconds": 55}, headers=alice)
    assert r.json()["played"] is True and r.json()["play_count"] == 1
    assert (await get(http, f"{api_url}/api/resume", alice))["total"] == 0
    r = await http.put(url, json={"favorite": True}, headers=alice)
    assert r.json() | {"last_played_at": None} == {"played": True, "position_seconds": 0, "favorite": True,
                                                    "play_count": 1, "last_played_at": None}  # fmt: skip
    detail = await get(http, f"{api_url}/api/items/{data.items['hevc']}", alice)
    assert detail["user_data"]["favorite"] is True
    # Bob's view of the same item is his own (he cannot see it at all).
    latest = await get(http, f"{api_url}/api/latest?limit=3", alice)
    assert latest["items"][0]["id"] == data.items["show"] and latest["items"][0]["added_count"] == 3
    for bad in ({"played": "yes"}, {"position_seconds": -5}, {"position_seconds": "1"}, {"rating": 5}, [], "x"):
        r = await http.put(url, json=bad, headers=alice)
        assert r.status_code == 400, (bad, r.text)


async def test_images_from_s3_redirect(http: httpx.AsyncClient, api_url: str, data: Seed, settings: Settings,
                                       pool: asyncpg.Pool) -> None:  # fmt: skip
    store = storage.S3Store(settings)
    store.ensure_bucket()
    key = image_key(data.items["big"])
    jpeg = b"\xff\xd8\xff\xe0" + b"poster-bytes" * 100
    store.put(key, jpeg, "image/jpeg")
    await pool.execute("INSERT INTO images (item_id, kind, object_key, width, height) VALUES ($1, 'primary', $2, 2, 3)",
                       data.items["big"], key)  # fmt: skip
    alice = bearer(settings, data, "alice")
    listed = await get(http, f"{api_url}/api/items?q=buck", alice)
    assert set(listed["items"][0]["images"]) == {"primary"}
    r = await http.get(f"{api_url}/api/items/{data.items['big']}/images/primary", headers=alice)
    assert r.status_code == 302
    location = r.headers["location"]
    assert location.startswith(f"{settings.s3_endpoint_url}/") and "Signature" in location
    fetched = await http.get(location)
    assert fetched.status_code == 200 and fetched.content == jpeg
    for path in ("images/backdrop", "images/../../etc/passwd", "images/%2e%2e"):
        r = await http.get(f"{api_url}/api/items/{data.items['big']}/{path}", headers=alice)
        assert r.status_code == 404, path
    bob = bearer(settings, data, "bob")
    assert (await http.get(f"{api_url}/api/items/{data.items['big']}/images/primary", headers=bob)).status_code == 404


GARBAGE_QUERIES = [
    "limit=0", "limit=-1", "limit=1000000", "limit=1e3", "offset=-1", "offset=99999999999999999999",
    "sort=path", "sort=name;DROP", "order=sideways", "type=folder", "library_id=1", "library_id=%27%3B--",
    "parent_id=../../etc", "q=%00", "q=" + "x" * 300, "q=%27%3B%20DROP%20TABLE%20users%3B--",
    "q=%25%25%25", "q=%5C", "q=%F0%9F%8E%AC",
]  # fmt: skip


@pytest.mark.parametrize("query", GARBAGE_QUERIES)
async def test_garbage_queries_are_clean_4xx(http: httpx.AsyncClient, api_url: str, data: Seed,
                                             settings: Settings, query: str) -> None:  # fmt: skip
    r = await http.get(f"{api_url}/api/items?{query}", headers=bearer(settings, data, "alice"))
    assert r.status_code in (200, 400), (query, r.status_code, r.text)
    if r.status_code == 400:
        assert set(r.json()["error"]) == {"code", "message"}
    else:
        assert r.json()["total"] == 0  # the SQL metacharacters matched nothing, literally


@pytest.mark.parametrize("item_id", ["x", "..%2F..%2Fetc%2Fpasswd", "%00", "1' OR '1'='1", "0" * 200,
                                     "00000000-0000-0000-0000-000000000000", "%F0%9F%8E%AC"])  # fmt: skip
async def test_garbage_ids_are_404(http: httpx.AsyncClient, api_url: str, data: Seed, settings: Settings,
                                   item_id: str) -> None:  # fmt: skip
    alice = bearer(settings, data, "alice")
    for method, path in (("GET", ""), ("GET", "/images/primary"), ("PUT", "/userdata")):
        r = await http.request(method, f"{api_url}/api/items/{item_id}{path}", headers=alice, json={"played": True})
        assert r.status_code == 404, (method, path, r.status_code, r.text)
    for bad in ("resume?limit=0", "resume?limit=x", "latest?limit=1000", "latest?library_id=nope"):
        assert (await http.get(f"{api_url}/api/{bad}", headers=alice)).status_code == 400, bad
