"""Malformed input gets a 4xx with a message, never a 500 (issue 14): absurd Range headers,
NaN/Infinity/huge numbers in JSON bodies, non-ASCII digits in query integers. Against a real api
process (PostgreSQL, Redis), plus the pure Range planner.
"""
# ruff: noqa: F811  (pytest fixtures imported from tests.api_fixtures are redefined as arguments)

from __future__ import annotations

import httpx
import pytest
from yaffw_api import ranges

from tests._media_rows import insert_item, make_library, make_user
from tests.api_fixtures import data, http  # noqa: F401
from tests.api_seed import Seed, bearer

SIZE = 1000

ABSURD_RANGES = [
    ("bytes=" + "9" * 5000 + "-", 416),  # first byte beyond any file
    ("bytes=" + "0" * 5000 + "1-1", 206),  # leading zeros are still a small number
    ("bytes=0-" + "9" * 5000, 206),  # last byte beyond the file: to the end
    ("bytes=-" + "9" * 5000, 206),  # suffix longer than the file: all of it
    ("bytes=" + "1" * 30 + "-" + "2" * 30, 416),
    ("bytes=١٢-", 200),  # Arabic-Indic digits are not digits in HTTP: ignored
    ("bytes=0-1," * 500 + "0-1", 200),  # hundreds of ranges: the whole file
    ("bytes=" + "-" * 5000, 200),
    ("bytes=" + " " * 5000 + "0-1", 206),
]


@pytest.mark.parametrize(("header", "status"), ABSURD_RANGES, ids=range(len(ABSURD_RANGES)))
def test_range_planner_survives_absurd_headers(header: str, status: int) -> None:
    plan = ranges.plan("GET", {"range": header}, SIZE, 1.0)
    assert plan.status == status
    if status == 206:
        assert 0 <= plan.offset < SIZE and 0 < plan.length <= SIZE - plan.offset


@pytest.fixture(scope="module")
async def movie(pool, settings, sample_media):
    """The MP4 sample in a library and a user who may see it."""
    lib = await make_library(pool, sample_media.movies)
    item_id = await insert_item(pool, lib, sample_media.mp4)
    owner = await make_user(pool, settings, libraries=(lib,))
    return {"id": item_id, "headers": owner["headers"]}


@pytest.mark.parametrize(("header", "status"), ABSURD_RANGES, ids=range(len(ABSURD_RANGES)))
async def test_direct_play_answers_absurd_ranges(http: httpx.AsyncClient, api_url: str, movie: dict, header: str,
                                                 status: int) -> None:  # fmt: skip
    r = await http.get(
        f"{api_url}/api/items/{movie['id']}/file", headers={**movie["headers"], "Range": header.encode()}
    )
    assert r.status_code == status, r.text[:200]


@pytest.mark.parametrize(
    "body",
    [
        b'{"position_seconds": NaN}',
        b'{"position_seconds": Infinity}',
        b'{"position_seconds": -Infinity}',
        b'{"position_seconds": 1e999}',
        b'{"position_seconds": 1' + b"0" * 40 + b"}",
        b'{"position_seconds": 1' + b"0" * 5000 + b"}",
        b'{"favorite": true, "x": [NaN]}',
    ],
    ids=["nan", "inf", "-inf", "1e999", "10**40", "5000 digits", "nested nan"],
)
async def test_json_numbers_that_are_not_numbers(http: httpx.AsyncClient, api_url: str, data: Seed, settings,
                                                 body: bytes) -> None:  # fmt: skip
    r = await http.put(f"{api_url}/api/items/{data.items['big']}/userdata", content=body,
                       headers={**bearer(settings, data, "alice"), "content-type": "application/json"})  # fmt: skip
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "bad_input"


@pytest.mark.parametrize("value", ["١٠", "１０", "1_0", " 10", "+10", "10 ", "9" * 5000, "0x10", "1e2"])
async def test_query_integers_are_ascii_digits(http: httpx.AsyncClient, api_url: str, data: Seed, settings,
                                               value: str) -> None:  # fmt: skip
    r = await http.get(f"{api_url}/api/items", params={"limit": value}, headers=bearer(settings, data, "alice"))
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "bad_input"
    ok = await http.get(f"{api_url}/api/items", params={"limit": "10"}, headers=bearer(settings, data, "alice"))
    assert ok.status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        b'{"capabilities": {"max_height": NaN}}',
        b'{"capabilities": {"max_bitrate": Infinity}}',
        b'{"capabilities": {}, "start_seconds": 1' + b"0" * 400 + b"}",
        b'{"capabilities": {}, "max_bitrate": 1' + b"0" * 40 + b"}",
    ],
    ids=["nan height", "infinite bitrate", "400-digit start", "10**40 bitrate"],
)
async def test_playback_refuses_non_numbers(http: httpx.AsyncClient, api_url: str, data: Seed, settings,
                                            body: bytes) -> None:  # fmt: skip
    """These reached the playback decision and answered 500 (or started a session) before."""
    r = await http.post(f"{api_url}/api/items/{data.items['big']}/playback", content=body,
                        headers={**bearer(settings, data, "alice"), "content-type": "application/json"})  # fmt: skip
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "bad_input"
