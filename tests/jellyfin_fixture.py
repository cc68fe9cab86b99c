"""A Jellyfin server's data (10.10 or 10.11 layout) whose items point at the generated sample media,
and the yaffw rows a scan of that media would have made. Shared by the tests/test_jellyfin_* files."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from yaffw.jellyfin import sample as jf
from yaffw.sample import SampleLibrary

OLD_ROOT = "/mnt/jellyfin/media"  # where the media was on the Jellyfin server

ALICE_PW, BOB_PW, CAROL_PW = "alice's old password", "bob-Ünïcode-pw", "carol pw"
DT1 = datetime(2024, 5, 1, 20, 15, 30, 123456, tzinfo=UTC)  # written with 7 digits: .1234567
DT2 = datetime(2024, 6, 2, 8, 0, tzinfo=UTC)
DT3 = datetime(2024, 3, 3, 21, 30, 5, tzinfo=UTC)
DT4 = datetime(2024, 7, 7, 7, 7, 7, 500000, tzinfo=UTC)


@dataclass
class Built:
    """What the fixture wrote: its folder and the items' paths on the yaffw side."""

    root: Path
    version: str
    path_map: list[str]
    paths: dict[str, str] = field(default_factory=dict)  # label -> yaffw path


def _old(media: SampleLibrary, path: Path) -> str:
    return OLD_ROOT + "/" + path.relative_to(media.root).as_posix()


def build(root: Path, version: str, media: SampleLibrary) -> Built:
    """Write the Jellyfin data directory under ``root``."""
    b = jf.JellyfinBuilder(root, version)
    out = Built(root, version, [f"{OLD_ROOT}={media.root}"])
    show = media.episodes[0].parent.parent
    movies = b.add_library("Movies", "movies", [_old(media, media.movies)])
    shows = b.add_library("Shows", "tvshows", [_old(media, media.shows)])
    b.add_library("Home Videos", "homevideos", [OLD_ROOT + "/home", OLD_ROOT + "/home2"])
    music = b.add_library("Music", "music", ["/srv/music"])

    def item(label: str, type_name: str, path: Path | None, **kw: object) -> uuid.UUID:
        if path is not None:
            out.paths[label] = str(path)
        return b.add_item(type_name, _old(media, path) if path else None, label, **kw)

    mp4 = item("mp4", jf.MOVIE, media.mp4, parent=movies, tmdb="603")
    mkv = item("mkv", jf.MOVIE, media.mkv, parent=movies)
    uni = item("unicode", jf.MOVIE, media.unicode, parent=movies)
    gone = b.add_item(jf.MOVIE, OLD_ROOT + "/movies/Gone (1999)/Gone (1999).mkv", "Gone", parent=movies)
    series = item("series", jf.SERIES, show, folder=True, parent=shows)
    s1 = item("season1", jf.SEASON, media.episodes[0].parent, folder=True, parent=series)
    item("season2", jf.SEASON, media.episodes[2].parent, folder=True, parent=series)
    ep1 = item("ep1", jf.EPISODE, media.episodes[0], parent=s1)
    ep2 = item("ep2", jf.EPISODE, media.episodes[1], parent=s1)
    item("ep3", jf.EPISODE, media.episodes[2], parent=s1)
    virtual = b.add_item(jf.EPISODE, None, "Missing S01E03", virtual=True, parent=s1)
    b.add_item(jf.PERSON, "/var/lib/jellyfin/metadata/People/A/Alan Smithee", "Alan Smithee")
    b.add_item(jf.AUDIO, "/srv/music/song.flac", "Song", parent=music)

    alice = b.add_user("alice", ALICE_PW, admin=True, last_login=DT2)
    # bob's hash is in the format of Jellyfin before 10.3 (PBKDF2 with SHA1, 1000 iterations)
    bob = b.add_user("bob", None, all_libraries=False, libraries=["Shows"],
                     password_hash=jf.jellyfin_hash(BOB_PW, method="PBKDF2", iterations=1000))  # fmt: skip
    carol = b.add_user("carol", CAROL_PW, disabled=True)
    b.add_user("dave", None)
    toolong = b.add_user("x" * 70, "pw")

    if version == "10.10":
        b.add_user_data(alice, mp4, played=True, play_count=3, last_played=DT1)  # keys "603" then its id
    else:
        b.add_user_data(alice, mp4, played=True, play_count=3, last_played=DT1, keys=[mp4.hex])
        # a stale copy under the Tmdb key: Jellyfin prefers the row keyed by the item id
        b.add_user_data(alice, mp4, played=False, play_count=1, last_played=DT3, keys=["603"])
    b.add_user_data(alice, mkv, position_seconds=612.5, favorite=True, last_played=DT2, audio=1, subtitle=2)
    b.add_user_data(alice, series, favorite=True)
    b.add_user_data(alice, ep1, played=True, play_count=1, last_played=DT3)
    b.add_user_data(alice, gone, played=True, play_count=1, last_played=DT3)  # no yaffw item there
    b.add_user_data(bob, ep2, position_seconds=300.25, last_played=DT4)
    b.add_user_data(bob, virtual, played=True)  # virtual item: not migrated
    b.add_user_data(carol, uni, played=True, play_count=2)
    b.add_user_data(toolong, mkv, played=True)  # user not migrated
    if version == "10.10":
        b.add_user_data(alice, mp4, played=True, keys=["tt9999999"])  # matches no item's key
        ghost = jf.SampleUser(uuid.uuid4(), 99, "ghost")
        b.add_user_data(ghost, mp4, played=True)  # InternalId 99 is nobody
    else:
        placeholder = uuid.UUID("00000000-0000-0000-0000-000000000001")
        b.add_item("PLACEHOLDER", None, "placeholder for detached user data", item_id=placeholder)
        b.add_user_data(alice, placeholder, played=True, keys=["tt9999999"])
    b.close()
    return out


async def scan_rows(pool: asyncpg.Pool, media: SampleLibrary) -> dict[str, str]:
    """The yaffw libraries and media_items a scan of the sample media makes (written with SQL):
    label -> media item id. The movies library is named differently from Jellyfin's on purpose."""
    films = await pool.fetchval(
        "INSERT INTO libraries (name, kind, paths) VALUES ('Films', 'movies', $1) RETURNING id", [str(media.movies)]
    )
    shows = await pool.fetchval(
        "INSERT INTO libraries (name, kind, paths) VALUES ('Shows', 'shows', $1) RETURNING id", [str(media.shows)]
    )
    ids: dict[str, str] = {}

    async def add(label: str, library: str, type_: str, path: Path, parent: str | None, folder: bool = False) -> str:
        ids[label] = str(
            await pool.fetchval(
                "INSERT INTO media_items (library_id, parent_id, type, name, sort_name, path, header_hash) "
                "VALUES ($1, $2, $3, $4, $4, $5, $6) RETURNING id",
                library, parent, type_, label, str(path), None if folder else f"hash-{label}",
            )
        )  # fmt: skip
        return ids[label]

    await add("mp4", films, "movie", media.mp4, None)
    await add("mkv", films, "movie", media.mkv, None)
    await add("unicode", films, "movie", media.unicode, None)
    series = await add("series", shows, "series", media.episodes[0].parent.parent, None, folder=True)
    s1 = await add("season1", shows, "season", media.episodes[0].parent, series, folder=True)
    s2 = await add("season2", shows, "season", media.episodes[2].parent, series, folder=True)
    await add("ep1", shows, "episode", media.episodes[0], s1)
    await add("ep2", shows, "episode", media.episodes[1], s1)
    await add("ep3", shows, "episode", media.episodes[2], s2)
    return ids
