"""The scan's steps one by one: identify (path → guess), nfo, sidecars, walk, the lock's request merging,
and the PyAV probe on real generated media."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from yaffw.media.fingerprint import header_hash
from yaffw.media.probe import MediaError, probe
from yaffw.media.stills import image_size
from yaffw_scan import nfo, sidecars
from yaffw_scan.identify import identify, sort_name
from yaffw_scan.lock import merge_requests
from yaffw_scan.walk import Entry, walk

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("path", "kind", "expected"),
    [
        ("/m/Big Buck Test (2020)/Big Buck Test (2020).mp4", "movies", ("movie", "Big Buck Test", 2020)),
        ("/m/Amélie – Ünïcode (2001).mp4", "movies", ("movie", "Amélie – Ünïcode", 2001)),
        ("/m/The.Matrix.1999.1080p.BluRay.x264.mkv", "movies", ("movie", "The Matrix", 1999)),
        ("/m/Blade Runner 2049 (2017).mkv", "movies", ("movie", "Blade Runner 2049", 2017)),
        ("/m/2001 A Space Odyssey (1968)/movie.mkv", "movies", ("movie", "2001 A Space Odyssey", 1968)),
        ("/m/Heat.mkv", "mixed", ("movie", "Heat", None)),
        # In a movies library even an SxxEyy-looking name is a film.
        ("/m/Dark.S01E01.mkv", "movies", ("movie", "Dark S01E01", None)),
    ],
)
def test_identify_movies(path, kind, expected):
    guess = identify(path, root="/m", kind=kind)
    assert (guess.type, guess.name, guess.year) == expected


@pytest.mark.parametrize(
    ("path", "kind", "series", "series_path", "season", "season_path", "episode", "name"),
    [
        ("/m/Show/Season 01/Show S01E02.mkv", "shows", "Show", "/m/Show", 1, "/m/Show/Season 01", 2, None),
        ("/m/Show (2010)/Show 1x03 - Pilot.mkv", "shows", "Show", "/m/Show (2010)", 1, "/m/Show (2010)/Season 1", 3,
         "Pilot"),
        ("/m/Anime/Anime - 012 - The Duel.mkv", "shows", "Anime", "/m/Anime", None, None, 12, "The Duel"),
        ("/m/Show/Specials/Show S00E01.mkv", "shows", "Show", "/m/Show", 0, "/m/Show/Specials", 1, None),
        ("/m/TV/Firefly/Season 1/ep.mkv", "mixed", "Firefly", "/m/TV/Firefly", 1, "/m/TV/Firefly/Season 1", None, "ep"),
        ("/m/Dark.S01E01.720p.mkv", "mixed", "Dark", "/m/Dark", 1, "/m/Dark/Season 1", 1, None),
    ],
)  # fmt: skip
def test_identify_episodes(path, kind, series, series_path, season, season_path, episode, name):
    guess = identify(path, root="/m", kind=kind)
    assert guess.type == "episode"
    assert (guess.series, guess.series_path, guess.season, guess.season_path) == (
        series, series_path, season, season_path,
    )  # fmt: skip
    assert (guess.episode, guess.name) == (episode, name)


def test_identify_double_episode_and_sort_names():
    guess = identify("/m/Show/Season 2/Show.S02E03E04.mkv", root="/m", kind="shows")
    assert (guess.season, guess.episode, guess.episode_end) == (2, 3, 4)
    assert sort_name("The Matrix") < sort_name("Zodiac") and sort_name("Amélie") == "amelie"
    assert sort_name("Episode 9") < sort_name("Episode 10")


def test_identify_runs_from_the_command_line():
    path = "/m/Show/Season 01/Show S01E02-E03.mkv"
    out = subprocess.run(
        [sys.executable, "-m", "yaffw.cli", "identify", "--kind", "shows", "--root", "/m", "--json", path],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    doc = json.loads(out.stdout)
    assert (doc["type"], doc["series"], doc["season"], doc["episode"], doc["episode_end"]) == (
        "episode",
        "Show",
        1,
        2,
        3,
    )
    # Without --root the library folder is guessed (the one holding the series folder); text for people.
    text = subprocess.run(
        [sys.executable, "-m", "yaffw_scan.identify", "/srv/Movies/Film (2000)/trailers/Teaser.mkv",
         "--kind", "movies"],
        cwd=ROOT / "functions" / "scan", capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    assert "kind: extra" in text and "extra kind: trailer" in text and "belongs to: /srv/Movies/Film (2000)" in text


def test_nfo_parsing():
    movie = nfo.parse(
        "<?xml version='1.0'?><movie><title>T</title><year>1999</year><plot>P</plot><genre>Drama / Crime</genre>"
        "<ratings><rating name='imdb' default='true'><value>8.1</value></rating></ratings></movie>\n"
        "https://www.imdb.com/title/tt0000000/"
    )
    assert movie == nfo.Nfo(title="T", year=1999, plot="P", genres=("Drama", "Crime"), rating=8.1)
    episode = nfo.parse("<episodedetails><title>E</title><season>2</season><episode>5</episode></episodedetails>")
    assert (episode.season, episode.episode) == (2, 5)
    assert nfo.parse("https://www.themoviedb.org/movie/603") is None
    assert nfo.parse("<movie><title>unclosed") is None
    assert nfo.parse("<html><title>not an nfo</title></html>") is None


def test_sidecars_for_a_film_in_its_own_folder_and_for_episodes():
    entries = tuple(
        Entry(n, 10, 1.0)
        for n in sorted(["movie.nfo", "poster.jpg", "fanart.png", "Film (2000).en.srt", "Film (2000).fre.forced.vtt"])
    )
    cars = sidecars.for_media("/m/Film (2000)/Film (2000).mkv", entries, own_folder=True, episode=False)
    assert cars.nfo == "/m/Film (2000)/movie.nfo"
    assert cars.images == {"primary": "/m/Film (2000)/poster.jpg", "backdrop": "/m/Film (2000)/fanart.png"}
    assert [os.path.basename(p) for p in cars.subtitles] == ["Film (2000).en.srt", "Film (2000).fre.forced.vtt"]
    # A folder poster is not an episode's; its own -thumb is.
    ep_entries = (Entry("S01E01-thumb.jpg", 1, 1.0), Entry("poster.jpg", 1, 1.0))
    ep = sidecars.for_media("/m/Show/Season 1/S01E01.mkv", ep_entries, own_folder=True, episode=True)
    assert ep.images == {"primary": "/m/Show/Season 1/S01E01-thumb.jpg", "thumb": "/m/Show/Season 1/S01E01-thumb.jpg"}
    # The signature moves with any matched sidecar's size or mtime, and ignores unrelated files.
    touched = tuple(Entry(e.name, e.size, 2.0) if e.name == "movie.nfo" else e for e in entries)
    assert sidecars.for_media("/m/Film (2000)/Film (2000).mkv", touched, own_folder=True, episode=False).signature != (
        cars.signature
    )
    extra = (*entries, Entry("unrelated.nfo", 1, 1.0))
    same = sidecars.for_media("/m/Film (2000)/Film (2000).mkv", tuple(sorted(extra, key=lambda e: e.name)),
                              own_folder=True, episode=False)  # fmt: skip
    assert same.signature == cars.signature


def test_walk_skips_hidden_samples_and_non_media(tmp_path: Path):
    for rel in [
        "Film (2000)/Film (2000).mkv", "Film (2000)/Film (2000)-sample.mkv", "Film (2000)/Sample/clip.mkv",
        "Film (2000)/poster.jpg", ".hidden/Secret.mkv", "Other/.partial.mp4", "@eaDir/thumb.mp4", "notes.txt",
        "Hevc Sample (2021).mkv",
    ]:  # fmt: skip
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x")
    listing = walk([str(tmp_path), str(tmp_path / "missing")])
    found = sorted(Path(f.path).relative_to(tmp_path).as_posix() for f in listing.files)
    assert found == ["Film (2000)/Film (2000).mkv", "Hevc Sample (2021).mkv"]
    assert listing.missing_roots == [str(tmp_path / "missing")]
    assert [e.name for e in listing.sidecars[str(tmp_path / "Film (2000)")]] == ["poster.jpg"]
    sub = walk([str(tmp_path)], str(tmp_path / "Film (2000)"))
    assert [Path(f.path).name for f in sub.files] == ["Film (2000).mkv"]


def test_merge_pending_requests():
    assert merge_requests(["/m/a", "*"]) == [None]
    assert merge_requests(["/m/a/b", "/m/a", "/m/ab", "/m/a"]) == ["/m/a", "/m/ab"]


def test_probe_and_still_on_generated_media(sample_media):
    info = probe(sample_media.episodes[0])
    assert info.duration_seconds == pytest.approx(12, abs=0.2) and info.tags["title"] == "Episode 1"
    assert [(s.type, s.codec) for s in info.streams] == [("video", "h264"), ("audio", "aac")]
    assert info.still is None  # only when asked for
    still = probe(sample_media.mkv, still_at=0.1).still
    assert (still.width, still.height) == (1280, 720) and still.data[:2] == b"\xff\xd8"
    assert image_size(sample_media.mp4.parent / "poster.jpg") == (400, 600)
    with pytest.raises(MediaError, match="truncated"):
        probe(sample_media.truncated)
    with pytest.raises(MediaError, match="empty"):
        probe(sample_media.empty)
    with pytest.raises(MediaError):
        probe(sample_media.text)
    with pytest.raises(FileNotFoundError):
        probe(sample_media.root / "nope.mkv")


def test_header_hash_follows_content_not_name(sample_media, tmp_path: Path):
    copy = tmp_path / "renamed.mp4"
    copy.write_bytes(sample_media.mp4.read_bytes())
    assert header_hash(copy) == header_hash(sample_media.mp4)
    assert header_hash(sample_media.unicode) != header_hash(sample_media.mp4)  # same start, other size
    assert header_hash(sample_media.episodes[0]) != header_hash(sample_media.episodes[1])  # same size
