"""Make a media folder for capacity runs: a large catalogue of tiny files plus a few real-sized films.

Usage: ``python loadtests/make_media.py DIR [--movies 1000] [--shows 20] [--seasons 2] [--episodes 8]
[--films 3] [--film-seconds 300]``; the capacity library (20,000 films and episodes) is
``--movies 10000 --shows 625``.

- ``movies/Title NNNN (YEAR)/``: ``--movies`` films of two seconds each, with a poster and a backdrop
  (hard links to two tiny JPEGs) and an ``.nfo`` with genres and a plot: what browsing, paging and
  search run over. Every film is a copy of one tiny real clip (160x90 H.264 + AAC, ~20 KB) followed by
  a different number of zero bytes, written as a sparse hole: each file has its own size, so its own
  header hash (the scan's identity: SHA-256 of the first 64 KiB and the size) and its own item, while
  the scan still opens, probes and end-checks real media. Hard links would share one size and so one
  item; the holes cost no disk.
- ``shows/Show NN/Season 0S/``: ``--shows`` series of ``--seasons`` x ``--episodes`` episodes, the same
  way, each with a ``-thumb.jpg`` (its picture), and a poster per series.
- ``features/``: ``--films`` films of ``--film-seconds`` seconds, alternately 1080p H.264 + AAC at
  6 Mbit/s (``Feature Alpha``, ``Feature Charlie``...: what direct-play viewers read, and a 1080p
  decode for a transcode) and 720p HEVC at 3 Mbit/s (``Feature Bravo``...). Viewers pick them with
  ``LOADTEST_PLAY_FILTER=q=Feature`` (or ``q=Alpha`` for one film).

Files that already exist are kept, so a second run only adds what is missing.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
from pathlib import Path

WORDS = ["silent", "river", "night", "city", "last", "summer", "iron", "garden", "winter", "shadow", "light", "storm",
         "glass", "paper", "north", "ocean", "golden", "broken", "secret", "second", "long", "road", "house", "fire",
         "star", "blue", "hidden", "empty", "wild", "quiet"]  # fmt: skip
FILM_NAMES = ("Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot")
GENRES = ("Drama", "Comedy", "Thriller", "Documentary", "Animation", "Science Fiction", "Romance", "Horror")


def ffmpeg(*args: str) -> None:
    """Run FFmpeg quietly. :raises CalledProcessError: on failure."""
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args], check=True, stdin=subprocess.DEVNULL)


def clip(path: Path, seconds: int, size: str, codec: str = "libx264", bitrate: str = "300k",
         audio_bitrate: str = "128k") -> None:  # fmt: skip
    """A test-pattern film with a sine tone."""
    if path.exists():
        return
    tmp = path.with_name(".tmp-" + path.name)
    hevc = ["-tag:v", "hvc1", "-x265-params", "log-level=error"]
    extra = hevc if codec == "libx265" else ["-movflags", "+faststart"]
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=size={size}:rate=24:duration={seconds}",
           "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
           "-c:v", codec, "-preset", "ultrafast", "-b:v", bitrate, "-maxrate", bitrate, "-bufsize", bitrate,
           "-pix_fmt", "yuv420p", "-g", "48", "-c:a", "aac", "-b:a", audio_bitrate, "-ac", "2",
           *extra,
           "-shortest", str(tmp))  # fmt: skip
    tmp.rename(path)


_CONTENT: dict[Path, bytes] = {}


def padded_copy(source: Path, dest: Path, pad: int) -> None:
    """``source`` plus ``pad`` zero bytes (a distinct size, so a distinct header hash), the zeros a
    sparse hole (``truncate``), so they cost no disk."""
    if dest.exists():
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    data = _CONTENT.get(source)
    if data is None:
        data = _CONTENT[source] = source.read_bytes()
    with dest.open("wb") as f:
        f.write(data)
        f.truncate(len(data) + pad)


def title(rng: random.Random) -> str:
    """Two or three words, capitalised."""
    return " ".join(w.capitalize() for w in rng.sample(WORDS, rng.choice((2, 3))))


def link(source: Path, dest: Path) -> None:
    """A hard link (a copy where links are not possible)."""
    if dest.exists():
        return
    try:
        os.link(source, dest)
    except OSError:
        dest.write_bytes(source.read_bytes())


def still(path: Path, size: str, colour: str) -> None:
    """A one-colour JPEG of ``size`` (a few KB): posters, backdrops and thumbs."""
    if not path.exists():
        ffmpeg("-f", "lavfi", "-i", f"color=c={colour}:size={size}", "-frames:v", "1", str(path))


def main(argv: list[str] | None = None) -> None:
    """CLI."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("dir", type=Path)
    p.add_argument("--movies", type=int, default=1000, help="catalogue films (default 1000)")
    p.add_argument("--shows", type=int, default=20, help="catalogue series (default 20)")
    p.add_argument("--seasons", type=int, default=2, help="seasons per series (default 2)")
    p.add_argument("--episodes", type=int, default=8, help="episodes per season (default 8)")
    p.add_argument("--films", type=int, default=3, help="real-sized feature films (default 3)")
    p.add_argument("--film-seconds", type=int, default=300, help="length of each feature film (default 300)")
    args = p.parse_args(argv)
    root: Path = args.dir.resolve()
    seed = root / ".seed"
    seed.mkdir(parents=True, exist_ok=True)
    tiny = seed / "tiny2s.mp4"
    poster, backdrop, thumb = seed / "poster.jpg", seed / "fanart.jpg", seed / "thumb.jpg"
    clip(tiny, 2, "160x90", bitrate="40k", audio_bitrate="32k")
    still(poster, "400x600", "steelblue")
    still(backdrop, "640x360", "darkslategray")
    still(thumb, "320x180", "olive")
    rng = random.Random(7)  # the same catalogue on every machine
    pad = 0
    for n in range(args.movies):
        name = f"{title(rng)} {n:04d} ({rng.randint(1950, 2025)})"
        folder = root / "movies" / name
        pad += 1
        padded_copy(tiny, folder / f"{name}.mp4", pad)
        link(poster, folder / "poster.jpg")
        link(backdrop, folder / "fanart.jpg")
        # Drawn whether or not the file exists, so a second run names everything the same way.
        genres = "".join(f"<genre>{g}</genre>" for g in rng.sample(GENRES, 2))
        plot, rating = " and ".join(rng.sample(WORDS, 3)), rng.uniform(3, 9)
        nfo = folder / "movie.nfo"
        if not nfo.exists():
            nfo.write_text(f"<movie><title>{name.rsplit(' (', 1)[0]}</title><plot>A film about {plot}.</plot>"
                           f"{genres}<rating>{rating:.1f}</rating></movie>\n")  # fmt: skip
    for s in range(args.shows):
        show = root / "shows" / f"{title(rng)} Show {s:03d}"
        for season in range(1, args.seasons + 1):
            for e in range(1, args.episodes + 1):
                pad += 1
                stem = show / f"Season {season:02d}" / f"{show.name} S{season:02d}E{e:02d}"
                padded_copy(tiny, stem.with_name(stem.name + ".mp4"), pad)
                link(thumb, stem.with_name(stem.name + "-thumb.jpg"))
        link(poster, show / "poster.jpg")
        link(backdrop, show / "fanart.jpg")
    for f in range(args.films):
        folder = root / "features"
        folder.mkdir(parents=True, exist_ok=True)
        # Names without quality tags (the scan strips "1080p", "HEVC"...): viewers pick by name.
        name = f"Feature {FILM_NAMES[f % len(FILM_NAMES)]}"
        if f % 2 == 0:
            clip(folder / f"{name} (2024).mp4", args.film_seconds, "1920x1080", bitrate="6M")
        else:
            clip(folder / f"{name} (2024).mkv", args.film_seconds, "1280x720", "libx265", "3M")
    episodes = args.shows * args.seasons * args.episodes
    print(f"{root}: {args.movies} movies, {episodes} episodes ({args.movies + episodes} catalogue items), "
          f"{args.films} feature films")  # fmt: skip


if __name__ == "__main__":
    main()
