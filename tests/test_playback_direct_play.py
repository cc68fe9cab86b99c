"""``GET|HEAD /api/items/{id}/file`` against a real api process: ranges, conditionals, auth, errors.

Multiple ranges are answered with the whole file (200), as documented in ``yaffw_api.ranges``.
"""

from __future__ import annotations

import shutil
import subprocess
from email.utils import formatdate

import httpx
import pytest
from yaffw import tokens

from tests._media_rows import insert_item, make_library, make_user


@pytest.fixture(scope="module")
async def movie(pool, settings, sample_media):
    """The MP4 sample in a library; a user who may see it and one who may not."""
    lib = await make_library(pool, sample_media.movies)
    item_id = await insert_item(pool, lib, sample_media.mp4)
    mkv_id = await insert_item(pool, lib, sample_media.mkv)
    owner = await make_user(pool, settings, libraries=(lib,))
    stranger = await make_user(pool, settings)
    return {"id": item_id, "mkv": mkv_id, "lib": lib, "path": sample_media.mp4, "bytes": sample_media.mp4.read_bytes(),
            "owner": owner, "stranger": stranger}  # fmt: skip


def _get(api_url: str, movie: dict, headers: dict | None = None, method: str = "GET", **kw) -> httpx.Response:
    return httpx.request(method, f"{api_url}/api/items/{movie['id']}/file",
                         headers={**movie["owner"]["headers"], **(headers or {})}, timeout=30, **kw)  # fmt: skip


def test_whole_file_and_headers(api_url, movie) -> None:
    r = _get(api_url, movie)
    assert r.status_code == 200
    assert r.content == movie["bytes"]
    assert r.headers["content-type"] == "video/mp4"
    assert r.headers["content-length"] == str(len(movie["bytes"]))
    assert r.headers["accept-ranges"] == "bytes"
    assert r.headers["etag"].startswith('"') and r.headers["last-modified"].endswith("GMT")
    assert "content-range" not in r.headers


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-0", 0, 0),  # first byte
        ("bytes=1000-1999", 1000, 1999),  # middle
        ("bytes=-500", "-500", None),  # suffix: the last 500 bytes
        ("bytes=-100000000", 0, None),  # suffix longer than the file: all of it
        ("bytes=100-", 100, None),  # open-ended
        ("bytes=100-999999999999", 100, None),  # end past the file: clipped
    ],
)  # fmt: skip
def test_single_ranges(api_url, movie, header, start, end) -> None:
    data = movie["bytes"]
    size = len(data)
    first = size - 500 if start == "-500" else start
    last = size - 1 if end is None else end
    r = _get(api_url, movie, {"Range": header})
    assert r.status_code == 206, r.text[:200]
    assert r.headers["content-range"] == f"bytes {first}-{last}/{size}"
    assert r.headers["content-length"] == str(last - first + 1)
    assert r.content == data[first : last + 1]


@pytest.mark.parametrize("header", [f"bytes={10**12}-", "bytes=-0"])
def test_unsatisfiable_range_is_416(api_url, movie, header) -> None:
    size = len(movie["bytes"])
    r = _get(api_url, movie, {"Range": header.replace(str(10**12), str(size))})
    assert r.status_code == 416
    assert r.headers["content-range"] == f"bytes */{size}"
    assert r.json()["error"]["code"] == "range_not_satisfiable"


@pytest.mark.parametrize("header", ["bytes=0-1,5-6", "bytes=5-2", "items=0-1", "bytes=abc"])
def test_multiple_or_malformed_ranges_get_the_whole_file(api_url, movie, header) -> None:
    r = _get(api_url, movie, {"Range": header})
    assert r.status_code == 200
    assert r.content == movie["bytes"]


def test_head(api_url, movie) -> None:
    r = _get(api_url, movie, method="HEAD")
    assert r.status_code == 200 and r.content == b""
    assert r.headers["content-length"] == str(len(movie["bytes"]))
    r = _get(api_url, movie, {"Range": "bytes=10-19"}, method="HEAD")
    assert r.status_code == 206 and r.content == b""
    assert r.headers["content-range"].startswith("bytes 10-19/")


def test_conditionals(api_url, movie) -> None:
    first = _get(api_url, movie, {"Range": "bytes=0-0"})
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert _get(api_url, movie, {"If-None-Match": etag}).status_code == 304
    assert _get(api_url, movie, {"If-None-Match": f'"nope", W/{etag}'}).status_code == 304
    assert _get(api_url, movie, {"If-None-Match": '"other"'}).status_code == 200
    assert _get(api_url, movie, {"If-Modified-Since": modified}).status_code == 304
    assert _get(api_url, movie, {"If-Modified-Since": formatdate(0, usegmt=True)}).status_code == 200
    # If-Range: the range only while the file is the version the client has.
    assert _get(api_url, movie, {"Range": "bytes=5-9", "If-Range": etag}).status_code == 206
    assert _get(api_url, movie, {"Range": "bytes=5-9", "If-Range": modified}).status_code == 206
    stale = _get(api_url, movie, {"Range": "bytes=5-9", "If-Range": '"stale"'})
    assert stale.status_code == 200 and stale.content == movie["bytes"]


def test_keep_alive_framing(api_url, movie) -> None:
    """Several responses on one connection: each body ends exactly where its length says."""
    data = movie["bytes"]
    with httpx.Client(headers=movie["owner"]["headers"], timeout=30) as client:
        url = f"{api_url}/api/items/{movie['id']}/file"
        for header, expect in (("bytes=0-99", data[:100]), (None, data), ("bytes=-7", data[-7:]), (None, data)):
            r = client.get(url, headers={"Range": header} if header else {})
            assert r.content == expect
        assert client.get(f"{api_url}/healthz").json() == {"status": "ok"}


def test_plain_http_bodies_go_by_sendfile(api_url, movie) -> None:
    def sent() -> dict[str, float]:
        text = httpx.get(f"{api_url}/metrics").text
        out = {"sendfile": 0.0, "copy": 0.0}
        for line in text.splitlines():
            if line.startswith("yaffw_api_file_bytes_total{"):
                mode = line.split('mode="')[1].split('"')[0]
                out[mode] = float(line.rsplit(" ", 1)[1])
        return out

    before = sent()
    assert _get(api_url, movie, {"Range": "bytes=0-65535"}).status_code == 206
    after = sent()
    assert after["sendfile"] - before["sendfile"] == 65536
    assert after["copy"] == before["copy"]


def test_content_type_of_matroska(api_url, movie) -> None:
    r = httpx.head(f"{api_url}/api/items/{movie['mkv']}/file", headers=movie["owner"]["headers"])
    assert r.status_code == 200 and r.headers["content-type"] == "video/x-matroska"


def test_authorisation(api_url, movie, settings) -> None:
    url = f"{api_url}/api/items/{movie['id']}/file"
    assert httpx.get(url).status_code == 401
    # Another user's item does not exist for them.
    r = httpx.get(url, headers=movie["stranger"]["headers"])
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    # A token scoped to this item works in the URL; one for another item, or a full token, does not.
    owner = movie["owner"]["id"]
    scoped, _ = tokens.issue(settings.jwt_secret, owner, False, 60, scope=f"item:{movie['id']}")
    r = httpx.get(url, params={"token": scoped}, headers={"Range": "bytes=0-3"})
    assert r.status_code == 206 and r.content == movie["bytes"][:4]
    other, _ = tokens.issue(settings.jwt_secret, owner, False, 60, scope=f"item:{movie['mkv']}")
    assert httpx.get(url, params={"token": other}).status_code == 401
    assert httpx.get(url, params={"token": movie["owner"]["token"]}).status_code == 401
    # Cookie, as the browser sends it.
    r = httpx.get(url, cookies={"yaffw_token": movie["owner"]["token"]}, headers={"Range": "bytes=0-0"})
    assert r.status_code == 206
    assert httpx.get(f"{api_url}/api/items/not-a-uuid/file", headers=movie["owner"]["headers"]).status_code == 404


async def test_file_deleted_after_scan_is_clean_404(api_url, movie, pool, tmp_path) -> None:
    root = tmp_path / "lib"
    root.mkdir()
    copy = root / "gone.mp4"
    shutil.copyfile(movie["path"], copy)
    lib = await make_library(pool, root)
    item_id = await insert_item(pool, lib, copy)
    await pool.execute("INSERT INTO library_access (user_id, library_id) VALUES ($1, $2)", movie["owner"]["id"], lib)
    url = f"{api_url}/api/items/{item_id}/file"
    assert httpx.get(url, headers={**movie["owner"]["headers"], "Range": "bytes=0-0"}).status_code == 206
    copy.unlink()
    r = httpx.get(url, headers=movie["owner"]["headers"])
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["error"]["code"] == "file_missing"
    # A path outside the item's library (a hand-edited row) is refused the same way.
    await pool.execute("UPDATE media_items SET path = $1 WHERE id = $2", str(movie["path"]), item_id)
    assert httpx.get(url, headers=movie["owner"]["headers"]).status_code == 404


async def test_a_fast_download_does_not_hold_the_server(api_url, movie, pool, tmp_path) -> None:
    """curl reads as fast as the api sends, so sendfile never blocks; other requests must still be
    answered while the download runs (the api yields between sendfile calls)."""
    root = tmp_path / "big"
    root.mkdir()
    big = root / "big.mp4"
    with big.open("wb") as f:
        f.truncate(512 * 1024 * 1024)  # sparse: instant to make, read from zero pages
    lib = await make_library(pool, root)
    item_id = await pool.fetchval(
        "INSERT INTO media_items (library_id, type, name, sort_name, path, size) "
        "VALUES ($1, 'movie', 'big', 'big', $2, $3) RETURNING id", lib, str(big), big.stat().st_size,
    )  # fmt: skip
    await pool.execute("INSERT INTO library_access (user_id, library_id) VALUES ($1, $2)", movie["owner"]["id"], lib)
    curl = subprocess.Popen(
        ["curl", "-s", "-o", "/dev/null", "-w", "%{size_download}", "-H",
         f"Authorization: Bearer {movie['owner']['token']}", f"{api_url}/api/items/{item_id}/file"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    answered_meanwhile = 0
    async with httpx.AsyncClient(timeout=60) as client:
        while curl.poll() is None:
            assert (await client.get(f"{api_url}/healthz")).status_code == 200
            answered_meanwhile += curl.poll() is None
    assert int(curl.communicate()[0]) == big.stat().st_size
    assert answered_meanwhile >= 3, answered_meanwhile
