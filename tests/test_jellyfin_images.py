"""Jellyfin's image endpoints (issue 12): GET and HEAD without login, Primary/Backdrop/Thumb in any
case, served no larger than maxWidth/maxHeight/fill* ask, resized copies made once and kept in the
image store, Jellyfin's cache headers, 400 for absurd sizes and 404 for what does not exist.
"""
# ruff: noqa: F811  (pytest fixtures imported from tests.api_fixtures are redefined as arguments)

from __future__ import annotations

import asyncio
import io

import asyncpg
import httpx
import pytest
from PIL import Image
from yaffw import storage
from yaffw.settings import Settings
from yaffw_api.jellyfin.images import CACHE_PREFIX, ImageQuery, target_size

from tests.api_fixtures import data, http  # noqa: F401
from tests.api_seed import Seed
from tests.browser import object_store_for
from tests.jellyfin_support import validate


def _picture(size: tuple[int, int], fmt: str, color: str = "teal") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, fmt)
    return out.getvalue()


def _size(data: bytes) -> tuple[str, tuple[int, int]]:
    with Image.open(io.BytesIO(data)) as image:
        return image.format or "", image.size


def _cached_keys(store: storage.ObjectStore, prefix: str) -> list[str]:
    if isinstance(store, storage.S3Store):
        listed = store.client.list_objects_v2(Bucket=store.bucket, Prefix=prefix)
        return [o["Key"] for o in listed.get("Contents", [])]
    assert isinstance(store, storage.DirStore)
    return [str(p.relative_to(store.root)) for p in (store.root / prefix).rglob("*") if p.is_file()]


@pytest.fixture
async def pictures(data: Seed, settings: Settings, clean_db: asyncpg.Pool) -> dict[str, bytes]:
    """A 600x900 JPEG poster for "big" (size unknown to the database) and a 1600x900 PNG backdrop
    (size recorded), each under a fresh key."""
    store = object_store_for(settings)
    poster, backdrop = _picture((600, 900), "JPEG"), _picture((1600, 900), "PNG", "orange")
    big = data.items["big"]
    rows = [("primary", f"items/{big}/poster-{id(poster)}.jpg", poster, "image/jpeg", None, None),
            ("backdrop", f"items/{big}/backdrop-{id(backdrop)}.png", backdrop, "image/png", 1600, 900)]  # fmt: skip
    for kind, key, body, ctype, width, height in rows:
        await asyncio.to_thread(store.put, key, body, ctype)
        await clean_db.execute(
            "INSERT INTO images (item_id, kind, object_key, content_type, width, height)"
            " VALUES ($1, $2, $3, $4, $5, $6)",
            big, kind, key, ctype, width, height,
        )  # fmt: skip
    return {"primary": poster, "backdrop": backdrop}


def test_target_size_rules() -> None:
    assert target_size(600, 900, ImageQuery()) == (600, 900)
    assert target_size(600, 900, ImageQuery(max_width=200)) == (200, 300)
    assert target_size(600, 900, ImageQuery(max_height=300, max_width=100)) == (100, 150)
    assert target_size(600, 900, ImageQuery(fill_width=100, fill_height=100)) == (100, 150)  # covers the box
    assert target_size(600, 900, ImageQuery(fill_width=2000, fill_height=2000)) == (600, 900)  # never grows
    assert target_size(600, 900, ImageQuery(width=1200)) == (600, 900)  # no upscaling
    assert target_size(600, 900, ImageQuery(width=300, height=100)) == (300, 100)  # as Jellyfin: exact box
    assert target_size(8000, 4000, ImageQuery()) == (4096, 2048)  # yaffw's bound


async def test_images_without_login(http: httpx.AsyncClient, api_url: str, data: Seed,
                                    pictures: dict[str, bytes]) -> None:  # fmt: skip
    item = data.items["big"].replace("-", "")
    url = f"{api_url}/Items/{item}/Images/Primary"
    head = await http.head(url)
    assert head.status_code == 200 and head.content == b""
    validate(head)
    assert head.headers["content-type"] == "image/jpeg"
    assert int(head.headers["content-length"]) == len(pictures["primary"])
    r = await http.get(url)
    validate(r)
    assert r.content == pictures["primary"]  # nothing asked: the original
    assert r.headers["cache-control"] == "public" and r.headers["etag"] and r.headers["last-modified"]
    tagged = await http.get(f"{api_url}/emby/items/{item}/images/primary/0?tag=abc")
    assert tagged.content == pictures["primary"] and tagged.headers["cache-control"] == "public, max-age=31536000"
    again = await http.get(url, headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    backdrop = await http.get(f"{api_url}/Items/{item}/Images/BACKDROP")
    assert backdrop.content == pictures["backdrop"] and backdrop.headers["content-type"] == "image/png"


async def test_resized_no_larger_than_asked_and_cached(
    http: httpx.AsyncClient, api_url: str, data: Seed, settings: Settings, pictures: dict[str, bytes]
) -> None:
    item = data.items["big"].replace("-", "")
    url = f"{api_url}/Items/{item}/Images/Primary"
    cases = [
        ({"maxWidth": "200"}, "JPEG", (200, 300)),
        ({"maxHeight": "300", "quality": "80"}, "JPEG", (200, 300)),
        ({"fillWidth": "100", "fillHeight": "100", "format": "webp"}, "WEBP", (100, 150)),
        ({"maxWidth": "50", "format": "Png"}, "PNG", (50, 75)),
        ({"width": "60000"}, "JPEG", (600, 900)),  # asked larger than the original: the original size
    ]
    for params, fmt, size in cases:
        r = await http.get(url, params=params)
        assert r.status_code == 200, (params, r.text)
        validate(r)
        assert _size(r.content) == (fmt, size), params
    # A browser that accepts WebP gets WebP for a resized copy.
    r = await http.get(f"{api_url}/Items/{item}/Images/Backdrop", params={"maxWidth": "320"},
                       headers={"Accept": "image/avif,image/webp,*/*"})  # fmt: skip
    assert _size(r.content) == ("WEBP", (320, 180)) and r.headers["content-type"] == "image/webp"

    store = object_store_for(settings)
    prefix = f"{CACHE_PREFIX}/{data.items['big']}/primary/"
    keys = await asyncio.to_thread(_cached_keys, store, prefix)
    assert len(keys) == 4, keys  # one per distinct output (the 60000 request served the original)
    # The second request for a size is the stored copy: replace it and the answer follows.
    first = await http.get(url, params={"maxWidth": "200"})
    marker = _picture((7, 7), "JPEG", "red")
    for key in keys:
        body = await asyncio.to_thread(store.get, key)
        if body == first.content:
            await asyncio.to_thread(store.put, key, marker, "image/jpeg")
    second = await http.get(url, params={"maxWidth": "200"})
    assert second.content == marker


async def test_bad_and_missing(http: httpx.AsyncClient, api_url: str, data: Seed, pictures: dict[str, bytes]) -> None:
    item = data.items["big"].replace("-", "")
    url = f"{api_url}/Items/{item}/Images/Primary"
    for params in ({"maxWidth": "-1"}, {"maxWidth": "99999999"}, {"maxHeight": "abc"}, {"quality": "101"},
                   {"format": "tiff"}, {"fillWidth": "1e9"}):  # fmt: skip
        r = await http.get(url, params=params)
        assert r.status_code == 400, params
    show = data.items["show"].replace("-", "")
    for path in (f"/Items/{show}/Images/Primary", f"/Items/{item}/Images/Logo", f"/Items/{item}/Images/Thumb",
                 f"/Items/{item}/Images/Primary/1", f"/Items/{'0' * 32}/Images/Primary"):  # fmt: skip
        for method in ("GET", "HEAD"):
            r = await http.request(method, api_url + path)
            assert r.status_code == 404, (method, path)
            validate(r)
    assert (await http.get(f"{api_url}/Items/not-an-id/Images/Primary")).status_code == 404
    assert (await http.get(f"{api_url}/Items/{item}/Images/Primary/x")).status_code == 400
    user = data.users["alice"].replace("-", "")
    assert (await http.get(f"{api_url}/Users/{user}/Images/Primary")).status_code == 404
    assert (await http.head(f"{api_url}/Users/{user}/Images/Primary/0")).status_code == 404
