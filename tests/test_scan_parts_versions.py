"""Multi-part and multi-version films scanned into one item each (issue 16, migration 0011): exact
items and counts, an old library upgraded by a rescan with its watch state moved onto the film, and
renames, moves and deletions of parts and versions that keep the film and its watch state. Real
FFmpeg clips, PostgreSQL, Redis and S3 (moto)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from yaffw.naming import NAMING_VERSION

from tests._scan_helpers import items, make_library, make_scanner, streams

pytestmark = pytest.mark.timeout(300)

FILES = [
    "Parted (2001)/Parted (2001) - cd1.mp4",
    "Parted (2001)/Parted (2001) - cd2.mp4",
    "Versioned (2010)/Versioned (2010) - 1080p.mp4",
    "Versioned (2010)/Versioned (2010) - Director's Cut.mp4",
    "Versioned (2010)/Versioned (2010)-trailer.mp4",
    "Loose.part1.mp4",
    "Loose.part2.mp4",
    "Single (2003).mp4",
]


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One tiny H.264/AAC clip (2 s, 64×36); copies of it get distinct trailing bytes."""
    out = tmp_path_factory.mktemp("clip") / "clip.mp4"
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=64x36:rate=12:d=2",
         "-f", "lavfi", "-i", "sine=d=2", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest",
         str(out)],
        check=True, timeout=120,
    )  # fmt: skip
    return out


def _lay_out(root: Path, clip: Path, names: list[str]) -> None:
    data = clip.read_bytes()
    for n, name in enumerate(names, start=1):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data + b"\0" * n)  # another size, so another header hash


def _poster(path: Path) -> None:
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "color=c=green:size=40x60",
         "-frames:v", "1", str(path)],
        check=True, timeout=60,
    )  # fmt: skip


async def _scanned(pool, redis, settings, clip, tmp_path):
    root = tmp_path / "movies"
    _lay_out(root, clip, FILES)
    # The folder's poster is the film's: its parts (or versions) are one film in its own folder.
    _poster(root / "Parted (2001)" / "poster.jpg")
    library = await make_library(pool, "Movies", "movies", [root])
    scanner = make_scanner(pool, redis, settings)
    [result] = await scanner.scan(library)
    return root, library, scanner, result


async def _user(pool) -> str:
    return str(await pool.fetchval("INSERT INTO users (name, password_hash) VALUES ('viewer', 'x') RETURNING id"))


async def test_parts_and_versions_are_one_item_each(clean_db, redis, settings, clip, tmp_path):
    pool = clean_db
    root, library, scanner, result = await _scanned(pool, redis, settings, clip, tmp_path)
    assert (result.added, result.failed) == (len(FILES), 0)

    rows = {str(Path(p).relative_to(root)): r for p, r in (await items(pool, library)).items()}
    films = {r["name"]: r for r in rows.values() if r["type"] == "movie"}
    assert sorted(films) == ["Loose", "Parted", "Single", "Versioned"]
    # The parts: part 1 is the film; part 2 hangs on it; the film lasts as long as both.
    parted = films["Parted"]
    cd2 = rows["Parted (2001)/Parted (2001) - cd2.mp4"]
    assert parted["path"].endswith("Parted (2001) - cd1.mp4")
    assert (parted["film_id"], parted["part_number"]) == (None, 1)
    assert (cd2["type"], cd2["film_id"], cd2["part_number"]) == ("video", parted["id"], 2)
    assert parted["duration_seconds"] == pytest.approx(parted["file_duration_seconds"] + cd2["file_duration_seconds"])
    assert parted["duration_seconds"] == pytest.approx(4.0, abs=0.3)
    assert (
        await pool.fetchval("SELECT source FROM images WHERE item_id = $1 AND kind = 'primary'", parted["id"])
        == "sidecar"
    )
    loose = films["Loose"]
    loose2 = rows["Loose.part2.mp4"]
    assert (loose["path"], loose["part_number"]) == (str(root / "Loose.part1.mp4"), 1)
    assert (loose2["film_id"], loose2["part_number"]) == (loose["id"], 2)
    # The versions: one film, each version with its label and its own streams.
    versioned = films["Versioned"]
    cut = rows["Versioned (2010)/Versioned (2010) - Director's Cut.mp4"]
    assert versioned["path"].endswith("Versioned (2010) - 1080p.mp4")
    assert (versioned["version_label"], versioned["part_number"]) == ("1080p", None)
    assert (cut["type"], cut["film_id"], cut["version_label"]) == ("video", versioned["id"], "Director's Cut")
    assert len(await streams(pool, cut["id"])) == 2
    trailer = rows["Versioned (2010)/Versioned (2010)-trailer.mp4"]
    assert (trailer["extra_kind"], trailer["owner_id"]) == ("trailer", versioned["id"])
    single = films["Single"]
    assert (single["film_id"], single["part_number"], single["version_label"]) == (None, None, None)
    # 4 films listed in all, 8 rows.
    assert len(rows) == len(FILES)
    assert sum(1 for r in rows.values() if r["film_id"] is None and r["extra_kind"] is None) == 4
    assert all(r["naming_version"] == NAMING_VERSION for r in rows.values())

    # A rescan changes nothing and opens nothing.
    [again] = await scanner.scan(library)
    assert (again.opened, again.unchanged, again.added, again.updated) == (0, len(FILES), 0, 0)
    assert {p: (r["film_id"], r["type"]) for p, r in (await items(pool, library)).items()} == {
        str(root / p): (r["film_id"], r["type"]) for p, r in rows.items()
    }


async def test_old_library_is_joined_keeping_watch_state(clean_db, redis, settings, clip, tmp_path):
    pool = clean_db
    root, library, scanner, _ = await _scanned(pool, redis, settings, clip, tmp_path)
    # What the scanner before migration 0011 left: every part and version a film of its own.
    await pool.execute(
        "UPDATE media_items SET type = CASE WHEN extra_kind IS NULL THEN 'movie' ELSE type END, film_id = NULL,"
        " part_number = NULL, version_label = NULL, naming_version = 1, duration_seconds = file_duration_seconds"
        " WHERE library_id = $1",
        library,
    )  # fmt: skip
    before = {str(Path(p).relative_to(root)): r for p, r in (await items(pool, library)).items()}
    user = await _user(pool)
    cd1, cd2 = before["Parted (2001)/Parted (2001) - cd1.mp4"], before["Parted (2001)/Parted (2001) - cd2.mp4"]
    hd, cut = (before["Versioned (2010)/Versioned (2010) - 1080p.mp4"],
               before["Versioned (2010)/Versioned (2010) - Director's Cut.mp4"])  # fmt: skip
    data = [
        # Part 1 watched a while ago; part 2 started later: the film resumes in part 2.
        (cd1["id"], False, 1, 0.0, False, "2026-01-01"),
        (cd2["id"], False, 0, 1.5, True, "2026-01-02"),
        # The 1080p version seen to the end last; the cut was a favourite long before.
        (hd["id"], True, 1, 0.0, False, "2026-02-02"),
        (cut["id"], False, 0, 1.0, True, "2026-02-01"),
    ]
    await pool.executemany(
        "INSERT INTO user_item_data (user_id, item_id, played, play_count, position_seconds, is_favorite, updated_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7::text::timestamptz)",
        [(user, *d) for d in data],
    )  # fmt: skip

    [result] = await scanner.scan(library)

    assert (result.updated, result.added, result.removed) == (len(FILES), 0, 0)
    after = {str(Path(p).relative_to(root)): r for p, r in (await items(pool, library)).items()}
    assert {p: r["id"] for p, r in after.items()} == {p: r["id"] for p, r in before.items()}  # same rows
    assert after["Parted (2001)/Parted (2001) - cd2.mp4"]["film_id"] == cd1["id"]
    assert after["Versioned (2010)/Versioned (2010) - Director's Cut.mp4"]["film_id"] == hd["id"]
    saved = {
        r["item_id"]: r
        for r in await pool.fetch("SELECT * FROM user_item_data WHERE user_id = $1", user)
    }  # fmt: skip
    assert set(saved) == {cd1["id"], hd["id"]}  # the absorbed files' state is on the film
    parted = saved[cd1["id"]]
    # Position in part 2 counts from the film's start: after the whole of part 1.
    expected = cd1["file_duration_seconds"] + 1.5
    assert (parted["played"], parted["is_favorite"], parted["play_count"]) == (False, True, 1)
    assert parted["position_seconds"] == pytest.approx(expected)
    versioned = saved[hd["id"]]
    assert (versioned["played"], versioned["is_favorite"], versioned["play_count"]) == (True, True, 1)
    assert versioned["position_seconds"] == 0


async def test_rename_move_and_delete_of_parts_and_versions_keep_the_film(clean_db, redis, settings, clip, tmp_path):
    pool = clean_db
    root, library, scanner, _ = await _scanned(pool, redis, settings, clip, tmp_path)
    rows = {str(Path(p).relative_to(root)): r for p, r in (await items(pool, library)).items()}
    parted = rows["Parted (2001)/Parted (2001) - cd1.mp4"]
    versioned = rows["Versioned (2010)/Versioned (2010) - 1080p.mp4"]
    user = await _user(pool)
    await pool.executemany(
        "INSERT INTO user_item_data (user_id, item_id, position_seconds, is_favorite, play_count)"
        " VALUES ($1, $2, $3, true, 3)",
        [(user, parted["id"], 2.5), (user, versioned["id"], 1.25)],
    )  # fmt: skip

    # Part 2 renamed (cd2 -> part2), the versioned film's folder moved one level down.
    (root / "Parted (2001)/Parted (2001) - cd2.mp4").rename(root / "Parted (2001)/Parted (2001) - part2.mp4")
    (root / "moved").mkdir()
    (root / "Versioned (2010)").rename(root / "moved/Versioned (2010)")
    [result] = await scanner.scan(library)
    assert (result.moved, result.added, result.removed) == (4, 0, 0)
    now = {str(Path(p).relative_to(root)): r for p, r in (await items(pool, library)).items()}
    part2 = now["Parted (2001)/Parted (2001) - part2.mp4"]
    assert (part2["id"], part2["film_id"], part2["part_number"]) == (
        rows["Parted (2001)/Parted (2001) - cd2.mp4"]["id"], parted["id"], 2)  # fmt: skip
    assert now["Parted (2001)/Parted (2001) - cd1.mp4"]["duration_seconds"] == pytest.approx(parted["duration_seconds"])
    moved_cut = now["moved/Versioned (2010)/Versioned (2010) - Director's Cut.mp4"]
    assert moved_cut["film_id"] == versioned["id"]
    assert now["moved/Versioned (2010)/Versioned (2010) - 1080p.mp4"]["id"] == versioned["id"]
    saved = {r["item_id"]: r for r in await pool.fetch("SELECT * FROM user_item_data WHERE user_id = $1", user)}
    assert {k: (v["position_seconds"], v["is_favorite"], v["play_count"]) for k, v in saved.items()} == {
        parted["id"]: (2.5, True, 3), versioned["id"]: (1.25, True, 3),
    }  # fmt: skip

    # The film's main version is deleted: the other version becomes the film, with the watch state.
    (root / "moved/Versioned (2010)/Versioned (2010) - 1080p.mp4").unlink()
    [result] = await scanner.scan(library)
    assert (result.removed, result.added) == (1, 0)
    now = await items(pool, library)
    cut = now[str(root / "moved/Versioned (2010)/Versioned (2010) - Director's Cut.mp4")]
    assert (cut["id"], cut["type"], cut["film_id"]) == (moved_cut["id"], "movie", None)
    trailer = now[str(root / "moved/Versioned (2010)/Versioned (2010)-trailer.mp4")]
    assert trailer["owner_id"] == cut["id"]
    state = await pool.fetchrow("SELECT * FROM user_item_data WHERE item_id = $1", cut["id"])
    assert (state["position_seconds"], state["is_favorite"], state["play_count"]) == (1.25, True, 3)
    # Part 2 goes: the film is one file again, as long as that file.
    (root / "Parted (2001)/Parted (2001) - part2.mp4").unlink()
    await scanner.scan(library)
    film = (await items(pool, library))[str(root / "Parted (2001)/Parted (2001) - cd1.mp4")]
    assert (film["id"], film["type"], film["part_number"]) == (parted["id"], "movie", None)
    assert film["duration_seconds"] == pytest.approx(film["file_duration_seconds"])
