"""Subtitles found by the scan (issue 13): every sidecar name form (language in any ISO 639 spelling,
forced, default, SDH, a title), the codec from the file's data rather than its extension, a VobSub
``.idx``/``.sub`` pair as one image stream, a PGS ``.sup``, embedded streams with their flags, and rescans that add
and remove sidecars while the others keep their stream index. Real FFmpeg, PostgreSQL, Redis, S3."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from yaffw_scan import subtitles

from tests._scan_helpers import items, make_library, make_scanner, streams
from tests.pgs_sup import Rect, write_sup

pytestmark = pytest.mark.timeout(300)

_SRT = "1\n00:00:01,000 --> 00:00:02,000\nHello\n"
_VTT = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nOlá\n"
_ASS = (
    "[Script Info]\nScriptType: v4.00+\n\n[V4+ Styles]\nFormat: Name, Fontname, Fontsize\nStyle: Default,Arial,20\n\n"
    "[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
    "Dialogue: 0,0:00:01.00,0:00:02.00,Default,,0,0,0,,Hallo\n"
)
_IDX = (
    "# VobSub index file, v7 (do not modify this line!)\nsize: 64x36\npalette: "
    + ", ".join(["000000", "ffffff"] + ["808080"] * 14)
    + "\n\nid: en, index: 0\ntimestamp: 00:00:01:000, filepos: 000000000\n"
)


def _run(*args: str) -> None:
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args], check=True, timeout=120)


@pytest.fixture(scope="module")
def film(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2 s H.264/AAC Matroska film with an embedded SubRip track (French, forced, titled)."""
    folder = tmp_path_factory.mktemp("subs-src")
    srt = folder / "in.srt"
    srt.write_text(_SRT)
    out = folder / "film.mkv"
    _run("-f", "lavfi", "-i", "testsrc=size=64x36:rate=12:d=2", "-f", "lavfi", "-i", "sine=d=2", "-i", str(srt),
         "-map", "0", "-map", "1", "-map", "2", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac",
         "-c:s", "srt", "-metadata:s:s:0", "language=fre", "-metadata:s:s:0", "title=Signs",
         "-disposition:s:0", "forced", str(out))  # fmt: skip
    return out


def _vobsub(folder: Path, stem: str) -> None:
    sup = write_sup(folder / ".tmp.sup", Rect(64, 36, 8, 8, 20, 10, 1.0, 2.0))
    _run("-i", str(sup), "-c:s", "dvdsub", "-f", "vob", str(folder / f"{stem}.sub"))
    sup.unlink()
    (folder / f"{stem}.idx").write_text(_IDX)


async def test_sidecar_names_codecs_flags_and_stable_indexes(clean_db, redis, settings, film, tmp_path):
    pool = clean_db
    folder = tmp_path / "movies" / "Film (2000)"
    folder.mkdir(parents=True)
    stem = "Film (2000)"
    (folder / f"{stem}.mkv").write_bytes(film.read_bytes())
    sidecar = {
        f"{stem}.srt": _SRT,
        f"{stem}.en.srt": _SRT,
        f"{stem}.eng.forced.ass": _ASS,
        f"{stem}.en.default.vtt": _VTT,
        f"{stem}.fr.sdh.srt": _SRT,
        f"{stem}.ger.ssa": _ASS,
        f"{stem}.Commentary.pt-BR.srt": _VTT,  # WebVTT data behind a .srt name
        f"{stem}.es.srt": "\x00\x01 not subtitles at all \xff",
        "Other.en.srt": _SRT,  # another film's
    }
    for name, body in sidecar.items():
        (folder / name).write_text(body)
    _vobsub(folder, stem)
    write_sup(folder / f"{stem}.en.sup", Rect(64, 36, 8, 8, 20, 10, 1.0, 2.0))  # a PGS sidecar
    library = await make_library(pool, "Movies", "movies", [tmp_path / "movies"])
    scanner = make_scanner(pool, redis, settings)
    [result] = await scanner.scan(library)
    assert (result.added, result.failed) == (1, 0)
    [item] = (await items(pool, library)).values()

    def described(rows):
        return {
            (r["external_path"] and Path(r["external_path"]).name): (
                r["stream_index"], r["codec"], r["language"], r["title"], r["is_default"], r["is_forced"],
                r["is_external"],
            )
            for r in rows if r["type"] == "subtitle"
        }  # fmt: skip

    rows = await streams(pool, item["id"])
    assert [r["type"] for r in rows[:3]] == ["video", "audio", "subtitle"]
    got = described(rows)
    # Embedded first, with its own flags; sidecars numbered after it in name order.
    assert got == {
        None: (2, "subrip", "fre", "Signs", False, True, False),
        f"{stem}.Commentary.pt-BR.srt": (3, "webvtt", "por", "Commentary", False, False, True),
        f"{stem}.en.default.vtt": (4, "webvtt", "eng", None, True, False, True),
        f"{stem}.en.srt": (5, "subrip", "eng", None, False, False, True),
        f"{stem}.en.sup": (6, "hdmv_pgs_subtitle", "eng", None, False, False, True),
        f"{stem}.eng.forced.ass": (7, "ass", "eng", None, False, True, True),
        f"{stem}.fr.sdh.srt": (8, "subrip", "fra", "SDH", False, False, True),
        f"{stem}.ger.ssa": (9, "ass", "deu", None, False, False, True),
        f"{stem}.idx": (10, "dvd_subtitle", None, None, False, False, True),
        f"{stem}.srt": (11, "subrip", None, None, False, False, True),
    }
    assert all(r["external_path"].startswith(str(folder)) for r in rows if r["is_external"])

    # Rescan after removing one sidecar and adding one: the others keep their index, the new one
    # takes a number no stream had.
    (folder / f"{stem}.en.srt").unlink()
    (folder / f"{stem}.it.srt").write_text(_SRT)
    [result] = await scanner.scan(library)
    assert (result.updated, result.failed) == (1, 0)
    again = described(await streams(pool, item["id"]))
    expected = {k: v for k, v in got.items() if k != f"{stem}.en.srt"}
    expected[f"{stem}.it.srt"] = (12, "subrip", "ita", None, False, False, True)
    assert again == expected
    # And an unchanged rescan changes nothing.
    [result] = await scanner.scan(library)
    assert described(await streams(pool, item["id"])) == expected


def test_sidecar_name_parts():
    media = "/m/Film (2000)/Film (2000).mkv"
    assert subtitles.describe(media, "/m/Film (2000)/Film (2000).fre.forced.vtt") == ("fra", None, False, True)
    assert subtitles.describe(media, "/m/Film (2000)/Film (2000).en.cc.default.srt") == ("eng", "SDH", True, False)
    assert subtitles.describe(media, "/m/Film (2000)/Film (2000).Director's Cut.srt") == (None, "Director's Cut",
                                                                                         False, False)  # fmt: skip
    assert subtitles.pick(["/a/F.sub", "/a/F.idx", "/a/G.sub", "/a/F.nfo"]) == ["/a/F.idx", "/a/G.sub"]
