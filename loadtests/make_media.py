"""Make a media folder for capacity runs: a large catalogue of tiny files plus a few real-sized films.

Usage: ``python loadtests/make_media.py DIR [--movies 1000] [--shows 20] [--films 3] [--film-seconds 300]``

- ``movies/Title NNNN (YEAR)/``: ``--movies`` films of a few seconds each (one clip, each copy padded
  with a different number of bytes so every file has its own header hash and so its own item), with a
  shared poster (hard links) and an ``.nfo`` with genres and a plot: what browsing, paging and search
  run over.
- ``shows/Show NN/Season 0S/``: ``--shows`` series of 2 seasons x 8 episodes, the same way.
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


def clip(path: Path, seconds: int, size: str, codec: str = "libx264", bitrate: str = "300k") -> None:
    """A test-pattern film with a sine tone."""
    if path.exists():
        return
    tmp = path.with_name(".tmp-" + path.name)
    hevc = ["-tag:v", "hvc1", "-x265-params", "log-level=error"]
    extra = hevc if codec == "libx265" else ["-movflags", "+faststart"]
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=size={size}:rate=24:duration={seconds}",
           "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
           "-c:v", codec, "-preset", "ultrafast", "-b:v", bitrate, "-maxrate", bitrate, "-bufsize", bitrate,
           "-pix_fmt", "yuv420p", "-g", "48", "-c:a", "aac", "-b:a", "128k", "-ac", "2",
           *extra,
           "-shortest", str(tmp))  # fmt: skip
    tmp.rename(path)


def padded_copy(source: Path, dest: Path, pad: int) -> None:
    """``source`` plus ``pad`` zero bytes (a distinct size, so a distinct header hash)."""
    if dest.exists():
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(source.read_bytes() + b"\0" * pad)


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


def main() -> None:
    """CLI."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("dir", type=Path)
    p.add_argument("--movies", type=int, default=1000)
    p.add_argument("--shows", type=int, default=20)
    p.add_argument("--films", type=int, default=3)
    p.add_argument("--film-seconds", type=int, default=300)
    args = p.parse_args()
    root: Path = args.dir.resolve()
    seed = root / ".seed"
    seed.mkdir(parents=True, exist_ok=True)
    tiny, poster = seed / "tiny.mp4", seed / "poster.jpg"
    clip(tiny, 4, "320x180", bitrate="200k")
    if not poster.exists():
        ffmpeg("-f", "lavfi", "-i", "color=c=steelblue:size=400x600", "-frames:v", "1", str(poster))
    rng = random.Random(7)  # the same catalogue on every machine
    for n in range(args.movies):
        name = f"{title(rng)} {n:04d} ({rng.randint(1950, 2025)})"
        folder = root / "movies" / name
        padded_copy(tiny, folder / f"{name}.mp4", n + 1)
        link(poster, folder / "poster.jpg")
        # Drawn whether or not the file exists, so a second run names everything the same way.
        genres = "".join(f"<genre>{g}</genre>" for g in rng.sample(GENRES, 2))
        plot, rating = " and ".join(rng.sample(WORDS, 3)), rng.uniform(3, 9)
        nfo = folder / "movie.nfo"
        if not nfo.exists():
            nfo.write_text(f"<movie><title>{name.rsplit(' (', 1)[0]}</title><plot>A film about {plot}.</plot>"
                           f"{genres}<rating>{rating:.1f}</rating></movie>\n")  # fmt: skip
    pad = args.movies + 1
    for s in range(args.shows):
        show = root / "shows" / f"{title(rng)} Show {s:02d}"
        for season in (1, 2):
            for e in range(1, 9):
                pad += 1
                padded_copy(tiny, show / f"Season {season:02d}" / f"{show.name} S{season:02d}E{e:02d}.mp4", pad)
        link(poster, show / "poster.jpg")
    for f in range(args.films):
        folder = root / "features"
        folder.mkdir(parents=True, exist_ok=True)
        # Names without quality tags (the scan strips "1080p", "HEVC"...): viewers pick by name.
        name = f"Feature {FILM_NAMES[f % len(FILM_NAMES)]}"
        if f % 2 == 0:
            clip(folder / f"{name} (2024).mp4", args.film_seconds, "1920x1080", bitrate="6M")
        else:
            clip(folder / f"{name} (2024).mkv", args.film_seconds, "1280x720", "libx265", "3M")
    print(f"{root}: {args.movies} movies, {args.shows * 16} episodes, {args.films} feature films")


if __name__ == "__main__":
    main()
