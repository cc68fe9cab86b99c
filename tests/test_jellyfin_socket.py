"""Jellyfin's ``/socket`` WebSocket (issue 12): ForceKeepAlive on connect, KeepAlive answered, other
client messages ignored, unauthenticated upgrades refused, and pushes through the replicas' one
Redis subscription each: a played mark made through ``/api`` on replica 2 arrives as
``UserDataChanged`` on a socket of replica 1 (only to that user), a scan's notices as
``LibraryChanged`` (only to users who see the library). Messages are checked against the schemas
Jellyfin's document gives for them.
"""
# ruff: noqa: F811  (pytest fixtures imported from tests.api_fixtures are redefined as arguments)

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import redis.asyncio as redis_async
from openapi_schema_validator import OAS30Validator
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus
from yaffw import events, notify
from yaffw.keys import Keys
from yaffw.settings import Settings

from tests.api_fixtures import data, http, replica2  # noqa: F401
from tests.api_seed import Seed, bearer, token
from tests.jellyfin_support import openapi


def check_message(schema_name: str, message: dict[str, Any]) -> None:
    """``message`` against the schema Jellyfin's document gives for that WebSocket message."""
    doc = openapi()
    validator = OAS30Validator({"$ref": f"#/components/schemas/{schema_name}", "components": doc["components"]})
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in validator.iter_errors(message)]
    assert not errors, errors
    assert len(message["MessageId"]) == 32 and int(message["MessageId"], 16) >= 0


def _ws_url(url: str, query: str) -> str:
    return url.replace("http://", "ws://", 1) + "/socket" + query


@asynccontextmanager
async def socket(url: str, tok: str) -> AsyncIterator[ClientConnection]:
    """A connected socket, past its ForceKeepAlive (so it is registered with the replica's hub)."""
    async with connect(_ws_url(url, f"?api_key={tok}&deviceId=pytest-socket"), open_timeout=20) as ws:
        first = json.loads(await asyncio.wait_for(ws.recv(), 20))
        assert first["MessageType"] == "ForceKeepAlive" and first["Data"] == 60
        check_message("ForceKeepAliveMessage", first)
        yield ws


async def next_message(ws: ClientConnection, timeout: float = 20) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def assert_silent(ws: ClientConnection, seconds: float = 1.5) -> None:
    with pytest.raises(TimeoutError):
        message = await asyncio.wait_for(ws.recv(), seconds)
        raise AssertionError(f"unexpected message {message}")


async def test_keepalive_exchange(api_url: str, data: Seed, settings: Settings) -> None:
    async with socket(api_url, token(settings, data, "alice")) as ws:
        await ws.send(json.dumps({"MessageType": "SessionsStart", "Data": "0,1500"}))
        await ws.send(json.dumps({"MessageType": "ActivityLogEntryStart", "Data": "0,1000"}))
        await ws.send("not json at all")
        await ws.send(json.dumps({"MessageType": "KeepAlive"}))
        answer = await next_message(ws)
        assert answer["MessageType"] == "KeepAlive"
        check_message("OutboundKeepAliveMessage", answer)


async def test_unauthenticated_socket_refused(api_url: str) -> None:
    for query in ("", "?api_key=not-a-token", "?deviceId=x"):
        with pytest.raises(InvalidStatus) as refused:
            async with connect(_ws_url(api_url, query), open_timeout=20):
                pass
        assert refused.value.response.status_code == 401


async def test_user_data_change_on_replica2_reaches_socket_on_replica1(
    http: httpx.AsyncClient, api_url: str, replica2: str, data: Seed, settings: Settings
) -> None:
    big = data.items["big"]
    async with (
        socket(api_url, token(settings, data, "alice")) as alice,
        socket(api_url, token(settings, data, "root")) as root,
    ):
        r = await http.put(f"{replica2}/api/items/{big}/userdata", json={"played": True},
                           headers=bearer(settings, data, "alice"))  # fmt: skip
        assert r.status_code == 200
        message = await next_message(alice)
        assert message["MessageType"] == "UserDataChanged"
        check_message("UserDataChangedMessage", message)
        assert message["Data"]["UserId"] == data.users["alice"].replace("-", "")
        [entry] = message["Data"]["UserDataList"]
        assert entry["ItemId"] == big.replace("-", "") and entry["Played"] is True and entry["PlayCount"] == 1

        # A Jellyfin mark on replica 2 too; and the admin's socket hears nothing of alice's data.
        r = await http.post(f"{replica2}/UserFavoriteItems/{big.replace('-', '')}",
                            headers={"X-Emby-Token": token(settings, data, "alice")})  # fmt: skip
        assert r.status_code == 200
        message = await next_message(alice)
        assert message["Data"]["UserDataList"][0]["IsFavorite"] is True
        await assert_silent(root)


async def test_scan_notices_become_library_changed(api_url: str, data: Seed, settings: Settings,
                                                   redis: redis_async.Redis, keys: Keys) -> None:  # fmt: skip
    movies, private = data.libraries["Movies"], data.libraries["Private"]
    async with (
        socket(api_url, token(settings, data, "alice")) as alice,
        socket(api_url, token(settings, data, "bob")) as bob,
    ):
        # What the scanner publishes (yaffw_scan.report): items one by one, then the totals.
        for type_, item in ((events.ITEM_ADDED, data.items["big"]), (events.ITEM_ADDED, data.items["zebra"]),
                            (events.ITEM_UPDATED, data.items["hevc"])):  # fmt: skip
            await notify.publish(redis, keys.notify, type_, {"item_id": item, "library_id": movies}, library_id=movies)
        await notify.publish(redis, keys.notify, events.ITEM_ADDED, {"item_id": data.items["secret"],
                             "library_id": private}, library_id=private)  # fmt: skip
        message = await next_message(alice)
        assert message["MessageType"] == "LibraryChanged"
        check_message("LibraryChangedMessage", message)
        info = message["Data"]
        assert sorted(info["ItemsAdded"]) == sorted(data.items[k].replace("-", "") for k in ("big", "zebra"))
        assert info["ItemsUpdated"] == [data.items["hevc"].replace("-", "")]
        assert info["FoldersAddedTo"] == info["CollectionFolders"] == [movies.replace("-", "")]
        assert info["ItemsRemoved"] == [] and info["FoldersRemovedFrom"] == []

        summary = {"library_id": movies, "added": 0, "updated": 0, "moved": 0, "removed": 3, "failed": 0}
        await notify.publish(redis, keys.notify, events.SCAN_COMPLETED, summary, library_id=movies)
        message = await next_message(alice)
        assert message["Data"]["FoldersRemovedFrom"] == [movies.replace("-", "")]
        await assert_silent(bob, 0.5)  # bob sees no library
