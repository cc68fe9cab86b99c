"""The scanner on libraries named as people name them (issue 16): extras of every kind linked to their
film, series or season; a daily show across two years; an anime show by absolute numbers; season
folders in several languages; a DVD folder as one film; and an old library re-identified by a rescan
without losing anyone's watch state. Real FFmpeg clips, real PostgreSQL, Redis and S3 (moto)."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest
from yaffw.naming import NAMING_VERSION

from tests._scan_helpers import items, make_library, make_scanner

pytestmark = pytest.mark.timeout(300)

MOVIES = [
    "Film (2000)/Film (2000).mp4",
    "Film (2000)/Film (2000)-trailer.mp4",
    "Film (2000)/featurettes/Making Of.mp4",
    "Film (2000)/behind the scenes/On Set.mp4",
    "Film (2000)/Deleted Scenes/Cut.mp4",
    "Film (2000)/interviews/Director.mp4",
    "Film (2000)/scenes/Opening.mp4",
    "Film (2000)/shorts/Short One.mp4",
    "Other.2010.1080p.WEB-DL.x264.mp4",
    "Other.2010.1080p.WEB-DL.x264-trailer.mp4",
    "Lonely Trailer (2015)-trailer.mp4",  # belongs to nothing in this library: never listed
]
SHOWS = [
    "Daily Show/Daily Show 2023-12-30.mp4",
    "Daily Show/Daily Show 2023-12-31 - Guest.mp4",
    "Daily Show/Daily Show 2024-01-02.mp4",
    "Anime/[Group] Anime - 001 [720p].mp4",
    "Anime/[Group] Anime - 002 [720p].mp4",
    "Anime/[Group] Anime - 136 [720p].mp4",
    "Serie/Staffel 1/Serie S01E01.mp4",
    "Serie/Saison 2/02 - Titre.mp4",
    "Serie/Сезон 3/Serie 3x01-02.mp4",
    "Serie/Specials/Serie S00E01.mp4",
    "Serie/extras/Behind.mp4",
    "Serie/Staffel 1/trailers/Teaser.mp4",
    "The.Show.S01/The.Show.S01E01.720p.WEB.mp4",
    "The.Show.S02/The.Show.S02E01.720p.WEB.mp4",
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
        path.write_bytes(data + b"\0" * n)  # another size, so another header hash: every copy is its own file


def _dvd(folder: Path) -> None:
    """A VIDEO_TS folder: a menu, a title set's menu, and the title in two pieces (MPEG-2 program streams)."""
    folder.mkdir(parents=True)
    for name, seconds in (("VIDEO_TS.VOB", 1), ("VTS_01_0.VOB", 1), ("VTS_01_1.VOB", 2), ("VTS_01_2.VOB", 2)):
        subprocess.run(
            ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
             f"testsrc=size=64x48:rate=25:d={seconds}", "-f", "lavfi", "-i", f"sine=d={seconds}",
             "-c:v", "mpeg2video", "-c:a", "mp2", "-shortest", "-f", "vob", str(folder / name)],
            check=True, timeout=120,
        )  # fmt: skip


async def test_named_library_scans_to_exact_items(clean_db, redis, settings, clip, tmp_path):
    pool = clean_db
    movies_dir, shows_dir = tmp_path / "movies", tmp_path / "shows"
    _lay_out(movies_dir, clip, MOVIES)
    _lay_out(shows_dir, clip, SHOWS)
    _dvd(movies_dir / "Disc Film (1999)" / "VIDEO_TS")
    movies = await make_library(pool, "Movies", "movies", [movies_dir])
    shows = await make_library(pool, "Shows", "shows", [shows_dir])
    scanner = make_scanner(pool, redis, settings)

    [m] = await scanner.scan(movies)
    [s] = await scanner.scan(shows)
    assert (m.added, m.failed) == (len(MOVIES) + 1, 0)  # the DVD is one file
    assert (s.added, s.failed) == (len(SHOWS), 0)

    by_path = {str(Path(p).relative_to(movies_dir)): r for p, r in (await items(pool, movies)).items()}
    films = {r["name"]: r for r in by_path.values() if r["type"] == "movie"}
    assert {(n, r["year"]) for n, r in films.items()} == {("Film", 2000), ("Other", 2010), ("Disc Film", 1999)}
    assert films["Disc Film"]["path"].endswith("VIDEO_TS/VTS_01_1.VOB")
    extras = {p: r for p, r in by_path.items() if r["extra_kind"] is not None}
    assert {p: (r["type"], r["extra_kind"]) for p, r in extras.items()} == {
        "Film (2000)/Film (2000)-trailer.mp4": ("video", "trailer"),
        "Film (2000)/featurettes/Making Of.mp4": ("video", "featurette"),
        "Film (2000)/behind the scenes/On Set.mp4": ("video", "behind_the_scenes"),
        "Film (2000)/Deleted Scenes/Cut.mp4": ("video", "deleted_scene"),
        "Film (2000)/interviews/Director.mp4": ("video", "interview"),
        "Film (2000)/scenes/Opening.mp4": ("video", "scene"),
        "Film (2000)/shorts/Short One.mp4": ("video", "short"),
        "Other.2010.1080p.WEB-DL.x264-trailer.mp4": ("video", "trailer"),
        "Lonely Trailer (2015)-trailer.mp4": ("video", "trailer"),
    }
    owners = {p: r["owner_id"] for p, r in extras.items()}
    assert owners.pop("Other.2010.1080p.WEB-DL.x264-trailer.mp4") == films["Other"]["id"]
    assert owners.pop("Lonely Trailer (2015)-trailer.mp4") is None
    assert set(owners.values()) == {films["Film"]["id"]}
    assert by_path["Film (2000)/featurettes/Making Of.mp4"]["name"] == "Making Of"
    assert by_path["Film (2000)/Film (2000)-trailer.mp4"]["name"] == "Trailer"
    assert all(r["parent_id"] is None and r["naming_version"] == NAMING_VERSION for r in by_path.values())

    tree = await items(pool, shows)
    rows = list(tree.values())
    series = {r["name"]: r for r in rows if r["type"] == "series"}
    assert set(series) == {"Daily Show", "Anime", "Serie", "The Show"}
    seasons = {(r["parent_id"], r["index_number"]): r for r in rows if r["type"] == "season"}
    episodes = [r for r in rows if r["type"] == "episode"]
    assert len(episodes) == len(SHOWS) - 2 and sum(1 for r in rows if r["extra_kind"]) == 2

    # The daily show: one series across two years, a season per year, episodes keyed by air date.
    daily = series["Daily Show"]["id"]
    assert {k[1] for k in seasons if k[0] == daily} == {2023, 2024}
    by_date = {r["air_date"]: r for r in episodes if r["air_date"] is not None}
    assert set(by_date) == {dt.date(2023, 12, 30), dt.date(2023, 12, 31), dt.date(2024, 1, 2)}
    assert by_date[dt.date(2023, 12, 31)]["name"] == "Guest"
    assert by_date[dt.date(2024, 1, 2)]["parent_id"] == seasons[(daily, 2024)]["id"]
    assert by_date[dt.date(2023, 12, 30)]["parent_index_number"] == 2023
    # Sorted by air date whatever the titles.
    order = sorted(by_date.values(), key=lambda r: r["sort_name"])
    assert [r["air_date"].day for r in order] == [30, 31, 2]

    # The anime show: absolute numbers, episodes right under the series.
    anime = [r for r in episodes if r["parent_id"] == series["Anime"]["id"]]
    assert sorted(r["index_number"] for r in anime) == [1, 2, 136]
    assert all(r["parent_index_number"] is None for r in anime)

    # Localised season folders, specials, a range, and the series' and season's extras.
    serie = series["Serie"]["id"]
    assert {k[1] for k in seasons if k[0] == serie} == {0, 1, 2, 3}
    titre = tree[str(shows_dir / "Serie/Saison 2/02 - Titre.mp4")]
    assert (titre["name"], titre["parent_index_number"], titre["index_number"]) == ("Titre", 2, 2)
    ranged = tree[str(shows_dir / "Serie/Сезон 3/Serie 3x01-02.mp4")]
    assert (ranged["parent_id"], ranged["index_number"]) == (seasons[(serie, 3)]["id"], 1)
    assert tree[str(shows_dir / "Serie/extras/Behind.mp4")]["owner_id"] == serie
    teaser = tree[str(shows_dir / "Serie/Staffel 1/trailers/Teaser.mp4")]
    assert (teaser["extra_kind"], teaser["owner_id"]) == ("trailer", seasons[(serie, 1)]["id"])

    # Release-named series folders: one series, a season per folder.
    the_show = series["The Show"]
    assert the_show["path"] == str(shows_dir / "The Show")
    assert {k[1] for k in seasons if k[0] == the_show["id"]} == {1, 2}

    # A rescan changes nothing and opens nothing.
    [again] = await scanner.scan(movies)
    assert (again.opened, again.unchanged, again.added, again.updated) == (0, len(MOVIES) + 1, 0, 0)


async def test_old_library_is_reidentified_keeping_ids_and_watch_state(clean_db, redis, settings, clip, tmp_path):
    pool = clean_db
    root = tmp_path / "movies"
    _lay_out(root, clip, ["Film (2000)/Film (2000).mp4", "Film (2000)/Film (2000)-trailer.mp4"])
    library = await make_library(pool, "Movies", "movies", [root])
    scanner = make_scanner(pool, redis, settings)
    await scanner.scan(library)
    trailer_path = str(root / "Film (2000)/Film (2000)-trailer.mp4")
    # What the scanner before issue 16 left behind: the trailer as a film of its own, no naming version.
    await pool.execute(
        "UPDATE media_items SET type = 'movie', name = 'Film', extra_kind = NULL, owner_id = NULL,"
        " naming_version = NULL WHERE library_id = $1",
        library,
    )
    before = {p: r["id"] for p, r in (await items(pool, library)).items()}
    user = await pool.fetchval("INSERT INTO users (name, password_hash) VALUES ('viewer', 'x') RETURNING id")
    await pool.execute(
        "INSERT INTO user_item_data (user_id, item_id, position_seconds, is_favorite, play_count)"
        " VALUES ($1, $2, 1.5, true, 2)",
        user, before[trailer_path],
    )  # fmt: skip

    [result] = await scanner.scan(library)

    assert (result.updated, result.added, result.removed) == (2, 0, 0)
    after = await items(pool, library)
    assert {p: r["id"] for p, r in after.items()} == before  # same rows
    trailer = after[trailer_path]
    film = after[str(root / "Film (2000)/Film (2000).mp4")]
    assert (trailer["type"], trailer["extra_kind"], trailer["owner_id"]) == ("video", "trailer", film["id"])
    data = await pool.fetchrow("SELECT position_seconds, is_favorite, play_count FROM user_item_data")
    assert tuple(data) == (1.5, True, 2)

    # The film goes: its extra stays, unlinked; the film comes back (a new row): the extra is linked again.
    film_file = Path(film["path"])
    hidden = film_file.with_name("held.bin")
    film_file.rename(hidden)
    await scanner.scan(library)
    assert (await items(pool, library))[trailer_path]["owner_id"] is None
    shutil.move(hidden, film_file)
    await scanner.scan(library)
    now = await items(pool, library)
    assert now[trailer_path]["owner_id"] == now[str(film_file)]["id"]
