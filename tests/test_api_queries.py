"""The api's query layer and the shared user/userdata modules, against the real database."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from yaffw import tokens, userdata
from yaffw import users as shared_users
from yaffw.errors import BadInput, Conflict, NotFound
from yaffw_api.auth import User
from yaffw_api.queries import items, libraries, users
from yaffw_api.queries.items import ItemQuery

from tests.api_seed import Seed, seed


@pytest.fixture
async def data(clean_db: asyncpg.Pool) -> Seed:
    return await seed(clean_db)


def as_user(data: Seed, name: str) -> User:
    claims = tokens.Claims(data.users[name], name == "root", "jti", 0.0, 0, "access")
    return User(data.users[name], name, name == "root", claims)


async def test_list_top_level_paging_and_sort(pool: asyncpg.Pool, data: Seed) -> None:
    alice = as_user(data, "alice")
    q = ItemQuery.from_args({"library_id": data.libraries["Movies"], "limit": "10"})
    page, total = await items.list_items(pool, alice, q)
    assert total == 4 + 45 and len(page) == 10
    assert [i["name"] for i in page[:2]] == ["Amélie – Ünïcode", "Big Buck Test"]
    rest, _ = await items.list_items(pool, alice, ItemQuery.from_args({**q.__dict__, "offset": "45", "limit": "10",
                                                                        "library_id": q.library_id}))  # fmt: skip
    assert len(rest) == 4
    by_year, _ = await items.list_items(pool, alice, ItemQuery(library_id=q.library_id, sort="year", order="desc"))
    assert by_year[0]["year"] == 2021
    by_rating, _ = await items.list_items(pool, alice, ItemQuery(library_id=q.library_id, sort="rating"))
    assert by_rating[0]["name"] == "Amélie – Ünïcode"  # desc by default, NULLs last
    beyond, total = await items.list_items(pool, alice, ItemQuery(library_id=q.library_id, offset=500))
    assert beyond == [] and total == 49


async def test_search_words_substring_and_typos(pool: asyncpg.Pool, data: Seed) -> None:
    alice = as_user(data, "alice")
    for q, expected in (("buck", "Big Buck Test"), ("amél", "Amélie – Ünïcode"), ("zebar nigth", None),
                        ("Big Buk Test", "Big Buck Test")):  # fmt: skip
        found, _ = await items.list_items(pool, alice, ItemQuery(q=q))
        if expected:
            assert found and found[0]["name"] == expected, (q, found[:3])
    found, _ = await items.list_items(pool, alice, ItemQuery(q="'; DROP TABLE users; --%_\\"))
    assert found == []
    found, _ = await items.list_items(pool, alice, ItemQuery(q="secret"))
    assert found == []  # Private is not alice's
    found, _ = await items.list_items(pool, as_user(data, "root"), ItemQuery(q="secret"))
    assert [i["name"] for i in found] == ["Secret Movie"]


async def test_children_in_episode_order_with_series_names(pool: asyncpg.Pool, data: Seed) -> None:
    alice = as_user(data, "alice")
    seasons, _ = await items.list_items(pool, alice, ItemQuery(parent_id=data.items["show"]))
    assert [s["name"] for s in seasons] == ["Season 1", "Season 2"] and seasons[0]["child_count"] == 2
    eps, _ = await items.list_items(pool, alice, ItemQuery(parent_id=data.items["s1"]))
    assert [e["index_number"] for e in eps] == [1, 2]
    assert eps[0]["series_name"] == "Test Show" and eps[0]["season_id"] == data.items["s1"]


async def test_invisible_is_not_found(pool: asyncpg.Pool, data: Seed) -> None:
    bob, alice = as_user(data, "bob"), as_user(data, "alice")
    with pytest.raises(NotFound):
        await items.get(pool, bob, data.items["big"])
    with pytest.raises(NotFound):
        await items.list_items(pool, alice, ItemQuery(library_id=data.libraries["Private"]))
    with pytest.raises(NotFound):
        await items.list_items(pool, alice, ItemQuery(parent_id=data.items["secret"]))
    with pytest.raises(NotFound):
        await libraries.get(pool, alice, data.libraries["Private"])
    with pytest.raises(NotFound):
        await items.get(pool, alice, "../../etc/passwd")
    assert [lib["name"] for lib in await libraries.list_visible(pool, bob)] == []
    visible = await libraries.list_visible(pool, alice)
    assert [lib["name"] for lib in visible] == ["Movies", "Shows"] and "paths" not in visible[0]


async def test_detail_streams_and_user_data(pool: asyncpg.Pool, data: Seed) -> None:
    alice = as_user(data, "alice")
    item = await items.get(pool, alice, data.items["big"].replace("-", ""))
    assert [s["codec"] for s in item["streams"]] == ["h264", "aac"] and "path" not in item
    assert item["user_data"] == {"played": False, "position_seconds": 0.0, "favorite": False, "play_count": 0,
                                 "last_played_at": None}  # fmt: skip
    assert (await items.get(pool, as_user(data, "root"), data.items["big"]))["path"].endswith(".mp4")


@pytest.mark.parametrize(
    "args",
    [{"limit": "0"}, {"limit": "100000"}, {"offset": "-1"}, {"limit": "x"}, {"sort": "path"}, {"order": "up"},
     {"type": "folder"}, {"library_id": "nope"}, {"q": "a\x00b"}, {"q": "x" * 500}],
)  # fmt: skip
def test_bad_query_args(args: dict[str, str]) -> None:
    with pytest.raises(BadInput):
        ItemQuery.from_args(args)


async def test_userdata_played_threshold_and_counts(pool: asyncpg.Pool, data: Seed) -> None:
    uid, item = data.users["alice"], data.items["big"]  # 30 s long
    state = await userdata.update(pool, uid, item, position_seconds=12.5)
    assert state["position_seconds"] == 12.5 and not state["played"]
    alice = as_user(data, "alice")
    assert [i["id"] for i in await items.resume(pool, alice)] == [item]
    state = await userdata.update(pool, uid, item, position_seconds=27.5)  # 91.7 %
    assert state["played"] and state["position_seconds"] == 0 and state["play_count"] == 1
    state = await userdata.update(pool, uid, item, position_seconds=29.0)  # still in the credits
    assert state["play_count"] == 1
    assert await items.resume(pool, alice) == []
    state = await userdata.update(pool, uid, item, played=False, favorite=True)
    assert not state["played"] and state["favorite"] and state["play_count"] == 1
    state = await userdata.update(pool, uid, item, played=True)
    assert state["play_count"] == 2
    with pytest.raises(BadInput):
        await userdata.update(pool, uid, item, position_seconds=-1)
    with pytest.raises(BadInput):
        await userdata.update(pool, uid, item, played="yes")


async def test_latest_groups_episodes(pool: asyncpg.Pool, data: Seed) -> None:
    latest = await items.latest(pool, as_user(data, "alice"))
    first = latest[0]
    assert first["type"] == "series" and first["added_count"] == 3
    assert all(i["type"] != "episode" for i in latest)
    only_movies = await items.latest(pool, as_user(data, "alice"), data.libraries["Movies"], limit=3)
    assert [i["name"] for i in only_movies] == ["Hevc Sample", "Zebra Night", "Amélie – Ünïcode"]


async def test_user_admin_rules(pool: asyncpg.Pool, data: Seed) -> None:
    made = await users.create(pool, {"name": "carol", "password": "pw", "library_ids": [data.libraries["Shows"]]})
    assert made["library_ids"] == [data.libraries["Shows"]]
    with pytest.raises(Conflict):
        await users.create(pool, {"name": "CAROL", "password": "pw"})
    changed, revoke = await users.update(pool, made["id"], {"library_ids": [], "name": "caroline"})
    assert changed["library_ids"] == [] and not revoke
    _, revoke = await users.update(pool, made["id"], {"is_disabled": True})
    assert revoke
    with pytest.raises(Conflict):
        await users.update(pool, data.users["root"], {"is_admin": False})
    with pytest.raises(Conflict):
        await users.delete(pool, data.users["root"])
    with pytest.raises(BadInput):
        await users.update(pool, made["id"], {"library_ids": [str(data.users["root"])]})
    with pytest.raises(BadInput):
        await users.update(pool, made["id"], {"is_admin": "true"})
    await users.delete(pool, made["id"])
    with pytest.raises(NotFound):
        await users.get(pool, made["id"])


async def test_ensure_admin_once_under_a_race(clean_db: asyncpg.Pool) -> None:
    results = await asyncio.gather(*(shared_users.ensure_admin(clean_db, "boss", "pw") for _ in range(4)))
    assert sorted(results) == [False, False, False, True]
    assert await clean_db.fetchval("SELECT count(*) FROM users WHERE is_admin") == 1
