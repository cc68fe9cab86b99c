"""Extras in the api (issue 16): listed on their owner's page, in kind order, never as library items
(``/api/items`` lists, search, recently added). Real database; the page partial through the app's
own Jinja environment."""

from __future__ import annotations

import asyncpg
from yaffw import tokens
from yaffw_api.auth import User
from yaffw_api.queries import extras, items
from yaffw_api.queries.items import ItemQuery
from yaffw_api.templating import ENV, duration

from tests.api_seed import Seed, seed


def _user(data: Seed, name: str) -> User:
    claims = tokens.Claims(data.users[name], name == "root", "jti", 0.0, 0, "access")
    return User(data.users[name], name, name == "root", claims)


async def _extra(pool: asyncpg.Pool, library: str, owner: str, name: str, kind: str) -> str:
    return str(await pool.fetchval(
        "INSERT INTO media_items (library_id, type, name, sort_name, extra_kind, owner_id, path, header_hash,"
        " duration_seconds) VALUES ($1, 'video', $2, lower($2), $3, $4, '/x/' || $2, md5($2), 90)"
        " RETURNING id",
        library, name, kind, owner,
    ))  # fmt: skip


async def test_extras_are_listed_by_their_owner_only(clean_db: asyncpg.Pool) -> None:
    pool = clean_db
    data = await seed(pool)
    alice, bob = _user(data, "alice"), _user(data, "bob")
    movies = data.libraries["Movies"]
    film = str(await pool.fetchval("SELECT id FROM media_items WHERE library_id = $1 AND type = 'movie'"
                                   " ORDER BY sort_name LIMIT 1", movies))  # fmt: skip
    before, total_before = await items.list_items(pool, alice, ItemQuery(library_id=movies, limit=200))
    made = {
        await _extra(pool, movies, film, "Zebra Interview", "interview"): "interview",
        await _extra(pool, movies, film, "Teaser Trailer", "trailer"): "trailer",
        await _extra(pool, movies, film, "Making Of", "featurette"): "featurette",
    }
    await _extra(pool, movies, None, "Orphan Trailer", "trailer")  # belongs to nothing (yet): shown nowhere

    after, total_after = await items.list_items(pool, alice, ItemQuery(library_id=movies, limit=200))
    assert total_after == total_before and {i["id"] for i in after} == {i["id"] for i in before}
    for query in (ItemQuery(q="Trailer"), ItemQuery(types=("video",)), ItemQuery(library_id=movies, q="Making")):
        found, _ = await items.list_items(pool, alice, query)
        assert not {i["id"] for i in found} & set(made), query
    latest = await items.latest(pool, alice, movies, limit=50)
    assert not {i["id"] for i in latest} & set(made)

    listed = await extras.for_item(pool, alice, film)
    assert [(x["name"], x["extra_kind"], x["kind_label"]) for x in listed] == [
        ("Teaser Trailer", "trailer", "Trailer"), ("Making Of", "featurette", "Featurette"),
        ("Zebra Interview", "interview", "Interview"),
    ]  # fmt: skip
    one = await items.get(pool, alice, next(iter(made)))  # an extra has a page of its own, where it plays
    assert one["type"] == "video"
    html = ENV.get_template("_extras.html").render(extras=listed)
    assert 'id="extras"' in html and html.count("data-extra-kind=") == 3 and "Behind" not in html
    assert duration(90) in html
    assert 'id="extras"' not in ENV.get_template("_extras.html").render(extras=[])
    # Library access applies: bob may not see the Movies library.
    assert await extras.for_item(pool, bob, film) == []
