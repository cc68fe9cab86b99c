"""Rows for the api tests, inserted with SQL (the scan is tested elsewhere).

Three users (admin ``root``, ``alice`` who sees Movies and Shows, ``bob`` who sees nothing), three
libraries (Movies, Shows, Private: only admins see it), named movies plus fillers for paging, a
show with two seasons, streams for one movie and images for two items.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from yaffw import passwords, tokens
from yaffw.settings import Settings

PASSWORD = "correct horse"
FILLERS = 45


@dataclass
class Seed:
    """Ids of what :func:`seed` inserted, by a short name."""

    users: dict[str, str] = field(default_factory=dict)
    libraries: dict[str, str] = field(default_factory=dict)
    items: dict[str, str] = field(default_factory=dict)


def token(settings: Settings, seed: Seed, name: str, ttl: int = 600) -> str:
    """An access token for a seeded user, without going through login."""
    return tokens.issue(settings.jwt_secret or "", seed.users[name], name == "root", ttl)[0]


def bearer(settings: Settings, seed: Seed, name: str) -> dict[str, str]:
    """Authorization header for a seeded user."""
    return {"Authorization": f"Bearer {token(settings, seed, name)}"}


async def _item(conn: asyncpg.Connection, library: str, type_: str, name: str, added: datetime,
                **cols: Any) -> str:  # fmt: skip
    columns = {"library_id": library, "type": type_, "name": name, "sort_name": name.lower(), "date_added": added,
               **cols}  # fmt: skip
    names = ", ".join(columns)
    params = ", ".join(f"${n}" for n in range(1, len(columns) + 1))
    return str(await conn.fetchval(f"INSERT INTO media_items ({names}) VALUES ({params}) RETURNING id",
                                   *columns.values()))  # fmt: skip


async def seed(pool: asyncpg.Pool) -> Seed:
    """Insert the fixture rows into an empty database."""
    s = Seed()
    # Few iterations: the tests log in often; verification reads the count from the hash.
    encoded = passwords.hash_password(PASSWORD, iterations=1000)
    base = datetime(2024, 1, 1, tzinfo=UTC)
    async with pool.acquire() as conn, conn.transaction():
        for name, admin in (("root", True), ("alice", False), ("bob", False)):
            s.users[name] = str(await conn.fetchval(
                "INSERT INTO users (name, password_hash, is_admin) VALUES ($1, $2, $3) RETURNING id",
                name, encoded, admin,
            ))  # fmt: skip
        for name, kind in (("Movies", "movies"), ("Shows", "shows"), ("Private", "movies")):
            s.libraries[name] = str(await conn.fetchval(
                "INSERT INTO libraries (name, kind, paths) VALUES ($1, $2, $3) RETURNING id",
                name, kind, [f"/media/{name.lower()}"],
            ))  # fmt: skip
        await conn.executemany(
            "INSERT INTO library_access (user_id, library_id) VALUES ($1, $2)",
            [(s.users["alice"], s.libraries["Movies"]), (s.users["alice"], s.libraries["Shows"])],
        )
        movies, shows = s.libraries["Movies"], s.libraries["Shows"]
        named = [
            ("big", "Big Buck Test", 2020, 7.4, 30.0),
            ("amelie", "Amélie – Ünïcode", 2001, 8.3, 20.0),
            ("zebra", "Zebra Night", 1999, None, 100.0),
            ("hevc", "Hevc Sample", 2021, 6.1, 60.0),
        ]
        for n, (key, name, year, rating, duration) in enumerate(named):
            s.items[key] = await _item(conn, movies, "movie", name, base + timedelta(days=10 + n), year=year,
                                       rating=rating, duration_seconds=duration, container="mp4",
                                       path=f"/media/movies/{name}.mp4", genres=["Test"])  # fmt: skip
        for n in range(FILLERS):
            await _item(conn, movies, "movie", f"Filler {n:03d}", base + timedelta(hours=n), year=1950 + n,
                        duration_seconds=10.0, path=f"/media/movies/filler{n}.mp4")  # fmt: skip
        show = s.items["show"] = await _item(conn, shows, "series", "Test Show", base, year=2022)
        for season_no, episodes in ((1, 2), (2, 1)):
            season = s.items[f"s{season_no}"] = await _item(
                conn, shows, "season", f"Season {season_no}", base, parent_id=show, index_number=season_no
            )
            for ep in range(1, episodes + 1):
                s.items[f"s{season_no}e{ep}"] = await _item(
                    conn, shows, "episode", f"Episode {ep}", base + timedelta(days=30 + season_no * 2 + ep),
                    parent_id=season, index_number=ep, parent_index_number=season_no, duration_seconds=50.0,
                    path=f"/media/shows/Test Show/S{season_no:02d}E{ep:02d}.mp4",
                )  # fmt: skip
        s.items["secret"] = await _item(conn, s.libraries["Private"], "movie", "Secret Movie",
                                        base + timedelta(days=90), duration_seconds=10.0,
                                        path="/media/private/secret.mp4")  # fmt: skip
        await conn.executemany(
            "INSERT INTO media_streams (item_id, stream_index, type, codec, width, height, channels, language, "
            "is_default) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            [(s.items["big"], 0, "video", "h264", 640, 360, None, None, True),
             (s.items["big"], 1, "audio", "aac", None, None, 2, "eng", True)],
        )  # fmt: skip
    return s


def image_key(item_id: str, kind: str = "primary") -> str:
    """Where the tests store an item's image."""
    return f"items/{item_id}/{kind}-{uuid.uuid4().hex[:6]}.jpg"
