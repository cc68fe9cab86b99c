"""``yaffw migrate-jellyfin`` end to end against real SQLite files made from Jellyfin's own table
definitions (both layouts) and this run's PostgreSQL: every migrated row checked, idempotence,
dry run, and a migrated user logging in through the real api with the password they had in Jellyfin."""

from __future__ import annotations

import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest
from yaffw.jellyfin import migrate
from yaffw.jellyfin.load import NO_PASSWORD
from yaffw.jellyfin.pathmap import PathMap
from yaffw.jellyfin.read_userdata import DETACHED_KEY
from yaffw.passwords import verify_password
from yaffw.sample import SampleLibrary
from yaffw.settings import Settings

from tests.jellyfin_fixture import ALICE_PW, BOB_PW, CAROL_PW, DT1, DT2, DT3, DT4, Built, build, scan_rows

VERSIONS = ["10.10", "10.11"]
TABLES = ("users", "libraries", "library_access", "user_item_data", "jellyfin_users", "jellyfin_libraries",
          "jellyfin_items", "media_items")  # fmt: skip


@pytest.fixture(params=VERSIONS)
def jellyfin(request: pytest.FixtureRequest, tmp_path: Path, sample_media: SampleLibrary) -> Built:
    """A Jellyfin data folder in the version's layout."""
    return build(tmp_path / "jellyfin", request.param, sample_media)


async def _run(settings: Settings, built: Built, **kw: object) -> migrate.Report:
    return await migrate.run(settings.database_url or "", built.root, PathMap.parse(built.path_map), **kw)


async def _snapshot(pool: asyncpg.Pool) -> dict[str, list]:
    out = {}
    for table in TABLES:
        rows = await pool.fetch(f"SELECT * FROM {table}")
        out[table] = sorted((tuple(r.values()) for r in rows), key=repr)
    return out


async def test_migrates_users_libraries_items_and_userdata(
    jellyfin: Built, clean_db: asyncpg.Pool, settings: Settings, sample_media: SampleLibrary
) -> None:
    ids = await scan_rows(clean_db, sample_media)
    report = await _run(settings, jellyfin)

    # users: flags and Jellyfin's own hashes, which verify the old passwords
    users = {r["name"]: r for r in await clean_db.fetch("SELECT * FROM users")}
    assert sorted(users) == ["alice", "bob", "carol", "dave"]
    assert (users["alice"]["is_admin"], users["alice"]["is_disabled"]) == (True, False)
    assert (users["bob"]["is_admin"], users["bob"]["is_disabled"]) == (False, False)
    assert (users["carol"]["is_admin"], users["carol"]["is_disabled"]) == (False, True)
    assert users["alice"]["password_hash"].startswith("$PBKDF2-SHA512$iterations=210000$")
    assert verify_password(ALICE_PW, users["alice"]["password_hash"])
    assert users["bob"]["password_hash"].startswith("$PBKDF2$iterations=1000$")
    assert verify_password(BOB_PW, users["bob"]["password_hash"])
    assert verify_password(CAROL_PW, users["carol"]["password_hash"])
    assert not verify_password("wrong", users["alice"]["password_hash"])
    assert users["dave"]["password_hash"] == NO_PASSWORD and not verify_password("", NO_PASSWORD)
    assert users["alice"]["last_login_at"] == DT2

    # libraries: Movies joined yaffw's "Films" (same path), Shows joined "Shows", Home Videos is new
    libs = {r["name"]: r for r in await clean_db.fetch("SELECT * FROM libraries")}
    assert sorted(libs) == ["Films", "Home Videos", "Shows"]
    assert libs["Films"]["paths"] == [str(sample_media.movies)]
    assert (libs["Home Videos"]["kind"], libs["Home Videos"]["paths"]) == (
        "mixed", [f"{sample_media.root}/home", f"{sample_media.root}/home2"])  # fmt: skip
    mapped = {r["name"]: r["library_id"] for r in await clean_db.fetch("SELECT * FROM jellyfin_libraries")}
    assert mapped == {"Movies": libs["Films"]["id"], "Shows": libs["Shows"]["id"],
                      "Home Videos": libs["Home Videos"]["id"]}  # fmt: skip
    access = {(r["uname"], r["lname"]) for r in await clean_db.fetch(
        "SELECT u.name AS uname, l.name AS lname FROM library_access a JOIN users u ON u.id = a.user_id "
        "JOIN libraries l ON l.id = a.library_id")}  # fmt: skip
    everything = {"Films", "Home Videos", "Shows"}
    assert access == ({("alice", n) for n in everything} | {("carol", n) for n in everything}
                      | {("dave", n) for n in everything} | {("bob", "Shows")})  # fmt: skip

    # items: matched by path after --path-map; "Gone" has no yaffw item
    items = {r["path"]: r["item_id"] for r in await clean_db.fetch("SELECT * FROM jellyfin_items")}
    for label, path in jellyfin.paths.items():
        assert str(items[path]) == ids[label], label
    gone = [p for p, i in items.items() if i is None]
    assert gone == [f"{sample_media.root}/movies/Gone (1999)/Gone (1999).mkv"]

    # user data, row by row
    rows = await clean_db.fetch(
        "SELECT u.name, d.item_id::text, d.played, d.play_count, d.position_seconds, d.is_favorite, "
        "d.last_played_at, d.audio_stream_index, d.subtitle_stream_index "
        "FROM user_item_data d JOIN users u ON u.id = d.user_id"
    )
    got = {(r[0], r[1]): tuple(r)[2:] for r in rows}
    assert got == {
        ("alice", ids["mp4"]): (True, 3, 0.0, False, DT1, None, None),
        ("alice", ids["mkv"]): (False, 0, 612.5, True, DT2, 1, 2),
        ("alice", ids["series"]): (False, 0, 0.0, True, None, None, None),
        ("alice", ids["ep1"]): (True, 1, 0.0, False, DT3, None, None),
        ("bob", ids["ep2"]): (False, 0, 300.25, False, DT4, None, None),
        ("carol", ids["unicode"]): (True, 2, 0.0, False, None, None, None),
    }

    # the report's counts
    r = report.as_dict()["phases"]
    assert (r["libraries"]["read"], r["libraries"]["migrated"]) == (4, 3)
    assert r["libraries"]["skipped"] == {"content type music is not served by yaffw": 1}
    assert (r["users"]["read"], r["users"]["migrated"]) == (5, 4)
    assert list(r["users"]["skipped"].values()) == [1]
    items_read = 19 if jellyfin.version == "10.11" else 18  # + the placeholder item
    assert (r["items"]["read"], r["items"]["matched"], r["items"]["unmatched"]) == (items_read, 9, 1)
    assert r["items"]["skipped"]["virtual Episode (Jellyfin's placeholder for a missing file)"] == 1
    assert r["items"]["skipped"]["type CollectionFolder is not a video yaffw serves"] == 4
    assert report.unmatched_examples == gone
    ud = r["userdata"]
    assert ud["migrated"] == 6
    assert ud["skipped"]["item unmatched (no yaffw item at its path)"] == 1
    assert ud["skipped"]["item was not migrated (not a video, virtual or without a path)"] == 1
    assert ud["skipped"]["user was not migrated"] >= 1
    if jellyfin.version == "10.10":
        assert ud["read"] == 13  # mp4's rows are stored under both of its keys (Tmdb, then its id)
        assert ud["skipped"][DETACHED_KEY] == 3  # alice's and ghost's id-key copies of mp4, tt9999999
        assert ud["skipped"]["user not in jellyfin.db"] == 1
    else:
        assert ud["read"] == 11
        assert ud["skipped"]["another key's copy of the same item's data"] == 1
        assert ud["skipped"]["detached from its item (Jellyfin's placeholder)"] == 1
    assert "unmatched items" in report.render()


async def test_second_run_changes_nothing(
    jellyfin: Built, clean_db: asyncpg.Pool, settings: Settings, sample_media: SampleLibrary
) -> None:
    await scan_rows(clean_db, sample_media)
    await _run(settings, jellyfin)
    before = await _snapshot(clean_db)
    again = await _run(settings, jellyfin)
    assert await _snapshot(clean_db) == before  # updated_at and migrated_at included
    for name, phase in again.phases.items():
        assert phase.migrated == 0, name
    assert again.phases["userdata"].unchanged == 6


async def test_dry_run_writes_nothing_and_counts_like_a_real_run(
    jellyfin: Built, clean_db: asyncpg.Pool, settings: Settings, sample_media: SampleLibrary
) -> None:
    await scan_rows(clean_db, sample_media)
    before = await _snapshot(clean_db)
    dry = await _run(settings, jellyfin, dry_run=True)
    assert await _snapshot(clean_db) == before
    assert dry.dry_run and "nothing was written" in dry.render()
    real = await _run(settings, jellyfin)
    assert {k: v for k, v in dry.as_dict().items() if k not in ("dry_run", "seconds")} == {
        k: v for k, v in real.as_dict().items() if k not in ("dry_run", "seconds")
    }


async def test_later_scan_is_matched_by_a_rerun_and_yaffw_progress_is_kept(
    jellyfin: Built, clean_db: asyncpg.Pool, settings: Settings, sample_media: SampleLibrary
) -> None:
    """Migrating before the shows were scanned: episodes are unmatched; after the scan a rerun matches
    them. Play state a user made in yaffw in between is newer and wins over Jellyfin's."""
    ids = await scan_rows(clean_db, sample_media)
    await clean_db.execute("DELETE FROM media_items WHERE type IN ('episode')")
    first = await _run(settings, jellyfin)
    assert first.phases["items"].unmatched == 4
    alice = await clean_db.fetchval("SELECT id FROM users WHERE name = 'alice'")
    # alice keeps watching the mkv in yaffw after the first migration
    await clean_db.execute(
        "UPDATE user_item_data SET position_seconds = 700, last_played_at = now() WHERE user_id = $1 AND item_id = $2",
        alice, uuid.UUID(ids["mkv"]),
    )  # fmt: skip
    ids.update(await _rescan_episodes(clean_db, sample_media))
    second = await _run(settings, jellyfin)
    assert (second.phases["items"].matched, second.phases["items"].unmatched) == (9, 1)
    assert second.phases["items"].migrated == 3
    ep1 = await clean_db.fetchrow(
        "SELECT played, play_count FROM user_item_data WHERE user_id = $1 AND item_id = $2", alice, ids["ep1"]
    )
    assert tuple(ep1) == (True, 1)
    mkv = await clean_db.fetchrow(
        "SELECT position_seconds, is_favorite FROM user_item_data WHERE user_id = $1 AND item_id = $2",
        alice, uuid.UUID(ids["mkv"]),
    )  # fmt: skip
    assert tuple(mkv) == (700.0, True)


async def _rescan_episodes(pool: asyncpg.Pool, media: SampleLibrary) -> dict[str, uuid.UUID]:
    shows, season = await pool.fetchrow("SELECT library_id, id FROM media_items WHERE type = 'season' LIMIT 1")
    out = {}
    for label, path in zip(("ep1", "ep2", "ep3"), media.episodes, strict=True):
        out[label] = await pool.fetchval(
            "INSERT INTO media_items (library_id, parent_id, type, name, sort_name, path, header_hash) "
            "VALUES ($1, $2, 'episode', $3, $3, $4, $5) RETURNING id",
            shows, season, label, str(path), f"hash-{label}-2",
        )  # fmt: skip
    return out


@pytest.mark.parametrize("version", VERSIONS)
async def test_migrated_user_logs_in_with_the_old_password(
    version: str, tmp_path: Path, clean_db: asyncpg.Pool, settings: Settings, sample_media: SampleLibrary,
    api_url: str,
) -> None:  # fmt: skip
    built = build(tmp_path / "jellyfin", version, sample_media)
    await scan_rows(clean_db, sample_media)
    await _run(settings, built)
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as client:
        ok = await client.post("/api/auth/login", json={"username": "alice", "password": ALICE_PW})
        assert ok.status_code == 200, ok.text
        body = ok.json()
        assert body["token_type"] == "bearer" and body["access_token"]
        assert body["user"]["name"] == "alice"
        old_format = await client.post("/api/auth/login", json={"username": "bob", "password": BOB_PW})
        assert old_format.status_code == 200, old_format.text
        wrong = await client.post("/api/auth/login", json={"username": "alice", "password": "not it"})
        assert wrong.status_code == 401
        disabled = await client.post("/api/auth/login", json={"username": "carol", "password": CAROL_PW})
        assert disabled.status_code in (401, 403), disabled.text
