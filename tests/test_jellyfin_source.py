"""A Jellyfin data folder that cannot be migrated fails with one clear message naming the file, and
nothing is written: truncated, corrupt, locked, missing and wrong-version databases; and the
``yaffw migrate-jellyfin`` command itself (exit codes, report, progress on stderr)."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest
from yaffw.jellyfin import migrate
from yaffw.jellyfin.pathmap import PathMap
from yaffw.jellyfin.source import SourceError
from yaffw.sample import SampleLibrary
from yaffw.settings import Settings

from tests.jellyfin_fixture import Built, build, scan_rows

TABLES = ("users", "libraries", "library_access", "user_item_data", "jellyfin_users", "jellyfin_items")


async def _counts(pool: asyncpg.Pool) -> dict[str, int]:
    return {t: await pool.fetchval(f"SELECT count(*) FROM {t}") for t in TABLES}


async def _fails(settings: Settings, built: Built, pool: asyncpg.Pool, *expect: str) -> str:
    """Run the migration, expecting a SourceError whose message contains every ``expect``; checks
    that no row was written."""
    before = await _counts(pool)
    with pytest.raises(SourceError) as info:
        await migrate.run(settings.database_url or "", built.root, PathMap.parse(built.path_map))
    for text in expect:
        assert text in info.value.message, info.value.message
    assert await _counts(pool) == before
    return info.value.message


@pytest.fixture(scope="module")
def built_dirs(tmp_path_factory: pytest.TempPathFactory, sample_media: SampleLibrary) -> dict[str, Built]:
    root = tmp_path_factory.mktemp("jellyfin")
    return {v: build(root / v, v, sample_media) for v in ("10.10", "10.11")}


@pytest.fixture(params=["10.10", "10.11"])
def jellyfin(request: pytest.FixtureRequest, built_dirs: dict[str, Built], tmp_path: Path) -> Built:
    """A private copy of a built data folder, to break."""
    src = built_dirs[request.param]
    dst = tmp_path / "jellyfin"
    shutil.copytree(src.root, dst)
    return Built(dst, src.version, src.path_map, src.paths)


def _items_db(built: Built) -> Path:
    return built.root / "data" / ("library.db" if built.version == "10.10" else "jellyfin.db")


@pytest.mark.parametrize("fraction", [0.5, 0.9])
async def test_truncated_database_fails_cleanly(
    jellyfin: Built, fraction: float, clean_db: asyncpg.Pool, settings: Settings, sample_media: SampleLibrary
) -> None:
    await scan_rows(clean_db, sample_media)
    db = _items_db(jellyfin)
    size = db.stat().st_size
    with db.open("r+b") as f:
        f.truncate(int(size * fraction))
    await _fails(settings, jellyfin, clean_db, str(db), "corrupt or truncated")


async def test_garbage_database_fails_cleanly(jellyfin: Built, clean_db: asyncpg.Pool, settings: Settings) -> None:
    db = jellyfin.root / "data" / "jellyfin.db"
    db.write_bytes(b"this is not SQLite\n" * 500)
    await _fails(settings, jellyfin, clean_db, str(db), "corrupt or truncated")


async def test_locked_database_fails_cleanly(jellyfin: Built, clean_db: asyncpg.Pool, settings: Settings) -> None:
    db = _items_db(jellyfin)
    holder = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")  # what a Jellyfin writing its database holds
    try:
        await _fails(settings, jellyfin, clean_db, str(db), "locked", "stop Jellyfin")
    finally:
        holder.execute("ROLLBACK")
        holder.close()


async def test_missing_files_fail_cleanly(jellyfin: Built, clean_db: asyncpg.Pool, settings: Settings) -> None:
    if jellyfin.version == "10.10":
        (jellyfin.root / "data" / "library.db").unlink()
        await _fails(settings, jellyfin, clean_db, str(jellyfin.root / "data" / "library.db"), "not found")
    (jellyfin.root / "data" / "jellyfin.db").unlink()
    await _fails(settings, jellyfin, clean_db, "jellyfin.db", "not found")
    shutil.rmtree(jellyfin.root)
    await _fails(settings, jellyfin, clean_db, str(jellyfin.root), "not a directory")


async def test_older_jellyfin_is_refused(jellyfin: Built, clean_db: asyncpg.Pool, settings: Settings) -> None:
    db = jellyfin.root / "data" / "jellyfin.db"
    with sqlite3.connect(db) as conn:  # a 10.7 server: no migration from 10.8 on
        conn.execute("DELETE FROM __EFMigrationsHistory WHERE MigrationId >= '20210814002109'")
    await _fails(settings, jellyfin, clean_db, str(db), "older than 10.8", "20210407110544_NullableCustomPrefValue")


async def test_unknown_schema_is_refused(jellyfin: Built, clean_db: asyncpg.Pool, settings: Settings) -> None:
    db = _items_db(jellyfin)
    table = "UserDatas" if jellyfin.version == "10.10" else "UserData"
    with sqlite3.connect(db) as conn:
        conn.execute(f"ALTER TABLE {table} DROP COLUMN AudioStreamIndex")
    await _fails(settings, jellyfin, clean_db, str(db), f"table {table} lacks column(s) audiostreamindex")


async def test_files_are_opened_read_only(jellyfin: Built, clean_db: asyncpg.Pool, settings: Settings,
                                          sample_media: SampleLibrary) -> None:  # fmt: skip
    await scan_rows(clean_db, sample_media)
    files = sorted(p for p in jellyfin.root.rglob("*") if p.is_file())
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in files}
    await migrate.run(settings.database_url or "", jellyfin.root, PathMap.parse(jellyfin.path_map))
    assert sorted(p for p in jellyfin.root.rglob("*") if p.is_file()) == files  # no journal or -wal left
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in files} == before


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YAFFW_", "S3_"))}
    env.pop("DATABASE_URL", None)
    env.update(settings.to_env())
    return subprocess.run([sys.executable, "-m", "yaffw.cli", "migrate-jellyfin", *args], env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip


async def test_cli(jellyfin: Built, clean_db: asyncpg.Pool, settings: Settings, sample_media: SampleLibrary) -> None:
    await scan_rows(clean_db, sample_media)
    maps = [a for m in jellyfin.path_map for a in ("--path-map", m)]
    # the blocking subprocess runs off the event loop (the session loop also serves the pool)
    dry = await asyncio.to_thread(_cli, settings, "--data-dir", str(jellyfin.root), *maps, "--dry-run")
    assert await clean_db.fetchval("SELECT count(*) FROM users") == 0
    real = await asyncio.to_thread(_cli, settings, "--data-dir", str(jellyfin.root), *maps)
    assert dry.returncode == 0, dry.stderr
    assert "dry run: nothing was written" in dry.stdout
    assert real.returncode == 0, real.stderr
    assert "users      read        5  migrated        4" in real.stdout
    assert "items      [##############################] " in real.stderr  # the progress bar's last state
    assert await clean_db.fetchval("SELECT count(*) FROM users") == 4

    bad = _cli(settings, "--data-dir", str(jellyfin.root / "nowhere"))
    assert bad.returncode == 2
    assert bad.stderr.strip() == f"yaffw migrate-jellyfin: {jellyfin.root / 'nowhere'}: not a directory"
    assert "Traceback" not in bad.stderr
    badmap = _cli(settings, "--data-dir", str(jellyfin.root), "--path-map", "nothing")
    assert badmap.returncode == 2 and "expected OLD=NEW" in badmap.stderr
