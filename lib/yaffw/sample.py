"""A sample library made with FFmpeg's test sources (for `yaffw up` and the tests).

Layout under ``root``::

    movies/Big Buck Test (2020)/Big Buck Test (2020).mp4      H.264/AAC, 640x360, 30 s, poster + nfo
    movies/Hevc Sample (2021)/Hevc Sample (2021).mkv          HEVC + 2 audio (aac eng, ac3 fre 5.1) + subrip
    movies/Amélie – Ünïcode (2001).mp4                        loose file with a Unicode name
    movies/Broken (2019)/Broken (2019).mp4                    truncated (first 20 KiB of a real file)
    movies/Empty (2018).mkv                                   empty
    movies/readme.txt                                         not media
    shows/Test Show/Season 01/Test Show S01E0{1,2}.mp4        episodes
    shows/Test Show/Season 02/Test Show S02E01.mp4
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

_NFO = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<movie>
  <title>Big Buck Test</title>
  <year>2020</year>
  <plot>A test pattern goes on an adventure with a sine wave.</plot>
  <genre>Animation</genre>
  <genre>Comedy</genre>
  <rating>7.4</rating>
</movie>
"""


@dataclass(frozen=True)
class SampleLibrary:
    """Paths of the generated files."""

    root: Path
    movies: Path
    shows: Path
    mp4: Path
    mkv: Path
    unicode: Path
    truncated: Path
    empty: Path
    text: Path
    episodes: tuple[Path, ...]


def _ffmpeg(*args: str) -> None:
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args],
        check=True,
        stdin=subprocess.DEVNULL,
    )


def _h264(out: Path, seconds: int, size: str = "640x360", title: str = "") -> None:
    _ffmpeg(
        "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=24:duration={seconds}",
        "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "48",
        "-c:a", "aac", "-b:a", "96k", "-ac", "2",
        "-metadata", f"title={title}", "-metadata:s:a:0", "language=eng",
        "-movflags", "+faststart", "-shortest", str(out),
    )  # fmt: skip


def _hevc(out: Path, seconds: int) -> None:
    srt = out.with_suffix(".srt.tmp")
    srt.write_text(
        "1\n00:00:01,000 --> 00:00:04,000\nHello from yaffw\n\n2\n00:00:05,000 --> 00:00:08,000\nSecond line\n"
    )
    try:
        _ffmpeg(
            "-f", "lavfi", "-i", f"testsrc=size=1280x720:rate=24:duration={seconds}",
            "-f", "lavfi", "-i", f"sine=frequency=330:sample_rate=48000:duration={seconds}",
            "-f", "lavfi", "-i", f"sine=frequency=550:sample_rate=48000:duration={seconds}",
            "-i", str(srt),
            "-map", "0:v", "-map", "1:a", "-map", "2:a", "-map", "3:s",
            "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error:keyint=48",
            "-pix_fmt", "yuv420p",
            "-c:a:0", "aac", "-b:a:0", "128k", "-ac:a:0", "2",
            "-c:a:1", "ac3", "-b:a:1", "384k", "-ac:a:1", "6",
            "-c:s", "srt",
            "-metadata:s:a:0", "language=eng", "-metadata:s:a:0", "title=English Stereo",
            "-metadata:s:a:1", "language=fre", "-metadata:s:a:1", "title=Français 5.1",
            "-metadata:s:s:0", "language=eng",
            "-disposition:a:0", "default", "-disposition:a:1", "0",
            # No -shortest: the subtitle track ends early and would cut the film to 8 s.
            str(out),
        )  # fmt: skip
    finally:
        srt.unlink(missing_ok=True)


def _tmp(final: Path) -> Path:
    """A name of this process's own beside ``final``: concurrent test runs may fill one cache."""
    return final.with_name(f".{final.stem}.{os.getpid()}.tmp{final.suffix}")


def _poster(out: Path, color: str) -> None:
    _ffmpeg("-f", "lavfi", "-i", f"color=c={color}:size=400x600", "-frames:v", "1", str(out))


def generate(root: Path) -> SampleLibrary:
    """Create the sample library under ``root`` (skips files that already exist)."""
    movies, shows = root / "movies", root / "shows"
    mp4 = movies / "Big Buck Test (2020)" / "Big Buck Test (2020).mp4"
    mkv = movies / "Hevc Sample (2021)" / "Hevc Sample (2021).mkv"
    unicode = movies / "Amélie – Ünïcode (2001).mp4"
    truncated = movies / "Broken (2019)" / "Broken (2019).mp4"
    empty = movies / "Empty (2018).mkv"
    text = movies / "readme.txt"
    show = shows / "Test Show"
    episodes = (
        show / "Season 01" / "Test Show S01E01.mp4",
        show / "Season 01" / "Test Show S01E02.mp4",
        show / "Season 02" / "Test Show S02E01.mp4",
    )
    for p in (mp4, mkv, truncated, *episodes):
        p.parent.mkdir(parents=True, exist_ok=True)
    if not mp4.exists():
        tmp = _tmp(mp4)
        _h264(tmp, 30, title="Big Buck Test")
        tmp.rename(mp4)
        (mp4.parent / "movie.nfo").write_text(_NFO)
        _poster(mp4.parent / "poster.jpg", "darkorange")
    if not mkv.exists():
        tmp = _tmp(mkv)
        _hevc(tmp, 20)
        tmp.rename(mkv)
    if not unicode.exists():
        shutil.copyfile(mp4, unicode)
        # Same bytes as mp4 would share its header hash; make it a distinct file.
        with unicode.open("ab") as f:
            f.write(b"\0" * 16)
    if not truncated.exists():
        truncated.write_bytes(mp4.read_bytes()[: 20 * 1024])
    if not empty.exists():
        empty.write_bytes(b"")
    if not text.exists():
        text.write_text("Not a media file.\n")
    for n, ep in enumerate(episodes):
        if not ep.exists():
            tmp = _tmp(ep)
            _h264(tmp, 12, size="480x270", title=f"Episode {n + 1}")
            tmp.rename(ep)
    if not (show / "poster.jpg").exists():
        _poster(show / "poster.jpg", "steelblue")
        (show / "tvshow.nfo").write_text(
            "<tvshow><title>Test Show</title><year>2019</year><plot>Patterns, weekly.</plot>"
            "<genre>Documentary</genre></tvshow>\n"
        )
    return SampleLibrary(root, movies, shows, mp4, mkv, unicode, truncated, empty, text, episodes)
