"""An image subtitle burned in by real FFmpeg (issue 13): ``multi_track``'s embedded PGS (a white
rectangle, tests/awkward_media.py) through the decision's job and ``ffmpeg.build``. The pixels
under the rectangle are white while it is shown, from the first segment and from a segment after
a seek into the caption (the subtitle is read from before the seek point), and are the picture
again once it is cleared; without the subtitle they are the picture throughout.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import av
import pytest
from yaffw.errors import NotFound
from yaffw.media import ffmpeg, hls
from yaffw.media import source as media_source
from yaffw.media.capabilities import Capabilities
from yaffw.media.decision import decide

from tests import awkward_media
from tests._media_rows import insert_item, make_library, probe
from tests.transcode_support import ffprobe_json

pytestmark = pytest.mark.timeout(240)
PGS_INDEX = 4
STARTS = [0.0, 2.0, 4.0, 6.0, 8.0]
WHITE = 200  # the rectangle is Y=235 (limited range); testsrc2 under it is far darker on average


@pytest.fixture(scope="module")
def film(sample_media) -> Path:
    folder = sample_media.root.parent / f"{sample_media.root.name}-awkward"
    return awkward_media.make(folder, next(a for a in awkward_media.FILES if a.name == "multi_track"))


def caption_window(path: Path) -> tuple[float, float]:
    """When the PGS rectangle is shown and cleared, from the file's packets (ffprobe, not yaffw)."""
    packets = ffprobe_json(path, "-select_streams", str(PGS_INDEX), "-show_entries", "packet=pts_time")["packets"]
    shown, cleared = (float(p["pts_time"]) for p in packets[:2])
    return shown, cleared


def rect_luma(segment: Path, at: float) -> float:
    """Mean luma of the rectangle's area in the first frame at or after source time ``at`` (PyAV:
    MPEG-TS keeps the source's clock, so frame times are source times)."""
    r = awkward_media.PGS_RECT
    with av.open(str(segment)) as container:
        frame = next(f for f in container.decode(video=0) if f.time is not None and f.time >= at - 1e-3)
        plane = frame.reformat(format="gray").planes[0]
        rows = bytes(plane)
        values = [rows[y * plane.line_size + r.x + i] for y in range(r.y, r.y + r.h) for i in range(r.w)]
    return sum(values) / len(values)


def _encode(film: Path, out: Path, start_segment: int, burn: int | None) -> dict[int, Path]:
    item, streams = probe(film)
    caps = Capabilities.from_json({"containers": ["mp4"], "video_codecs": ["h264"], "audio_codecs": ["aac"]})
    d = decide({**item, "id": "x", "path": str(film)}, streams, caps, subtitle_index=burn)
    assert d.burn_subtitle == burn
    if burn is not None:
        assert d.method == "transcode" and "is burned in" in d.reason
    spec = ffmpeg.EncodeSpec(
        source=str(film), variant=hls.Variant("270p", 480, 270, 600_000, 900_000, ""), starts=STARTS,
        start_segment=start_segment, out_dir=out, audio=d.audio, audio_index=d.audio_index,
        audio_source_codec="aac", burn_subtitle=d.burn_subtitle, duration=10.0, end=10.0,
    )  # fmt: skip
    out.mkdir(parents=True)
    run = subprocess.run(ffmpeg.build(spec, ffmpeg.Software()), capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr
    return {int(name.removesuffix(".ts")): out / name for name in run.stdout.split()}


def _segment_at(segments: dict[int, Path], t: float) -> Path:
    return segments[max(n for n in segments if STARTS[n] <= t)]


def test_pgs_is_burned_in_from_the_start_and_after_a_seek(film, tmp_path) -> None:
    shown, cleared = caption_window(film)
    inside, after = (shown + cleared) / 2, cleared + 1.0
    plain = _encode(film, tmp_path / "plain", 0, None)
    burned = _encode(film, tmp_path / "burned", 0, PGS_INDEX)
    # Seek into the caption: the run starts at the segment holding `inside`, after the caption began.
    seek_to = max(n for n, t in enumerate(STARTS) if t <= inside)
    assert STARTS[seek_to] > shown
    seeked = _encode(film, tmp_path / "seeked", seek_to, PGS_INDEX)
    assert min(seeked) == seek_to

    lumas = {name: (rect_luma(_segment_at(segs, inside), inside), rect_luma(_segment_at(segs, after), after))
             for name, segs in (("plain", plain), ("burned", burned), ("seeked", seeked))}  # fmt: skip
    print(f"caption {shown:.3f}-{cleared:.3f} s; rectangle luma at {inside:.2f} s / {after:.2f} s: {lumas}")
    assert lumas["plain"][0] < WHITE and lumas["plain"][1] < WHITE
    assert lumas["burned"][0] > WHITE and lumas["seeked"][0] > WHITE
    assert lumas["burned"][1] < WHITE and lumas["seeked"][1] < WHITE
    # The burned picture is the output size (the subtitle canvas scaled with it), H.264 for any player.
    video = next(s for s in ffprobe_json(burned[0], "-show_streams")["streams"] if s["codec_type"] == "video")
    assert (video["codec_name"], video["width"], video["height"]) == ("h264", 480, 270)


async def test_worker_source_names_a_sidecar_subtitle_only_inside_the_library(pool, film, tmp_path) -> None:
    """``source.load`` (what the worker runs) gives FFmpeg the sidecar of the burned subtitle from
    the database, checked like the film itself: a sidecar that now leads out of the library is
    refused before FFmpeg opens anything."""
    folder = tmp_path / "lib"
    folder.mkdir()
    shutil.copy(film, folder / "film.mkv")
    (folder / "film.en.idx").write_text("# VobSub index file, v7\n")
    (folder / "film.fr.idx").symlink_to("/etc/hostname")  # a link out of the library
    lib = await make_library(pool, folder)
    item = await insert_item(pool, lib, folder / "film.mkv")
    for index, name in ((20, "film.en.idx"), (21, "film.fr.idx")):
        await pool.execute(
            "INSERT INTO media_streams (item_id, stream_index, type, codec, is_external, external_path)"
            " VALUES ($1, $2, 'subtitle', 'dvd_subtitle', true, $3)", item, index, str(folder / name),
        )  # fmt: skip
    assert (await media_source.load(pool, item, None, PGS_INDEX)).burn_path is None  # embedded: no extra file
    assert (await media_source.load(pool, item, None, 20)).burn_path == str(folder / "film.en.idx")
    assert (await media_source.load(pool, item, None)).burn_path is None
    with pytest.raises(NotFound) as refused:
        await media_source.load(pool, item, None, 21)
    assert refused.value.code == "file_refused"


def test_pgs_is_burned_into_a_film_in_parts(film, tmp_path) -> None:
    """A film in two parts (the concat input, issue 16): the first part's caption is burned in from
    segment 0 and after a seek, read through the concat list in both readings."""
    parts = []
    for n, (start, length) in enumerate(((0, 6), (6, 4)), 1):
        part = tmp_path / f"part{n}.mkv"
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-ss", str(start), "-i", str(film), "-t", str(length), "-map",
                        "0", "-c", "copy", str(part)], check=True, timeout=60)  # fmt: skip
        parts.append((str(part), float(ffprobe_json(part, "-show_format")["format"]["duration"])))
    listing = tmp_path / "parts.ffconcat"
    listing.write_text(media_source.concat_list(tuple(parts)))
    shown, cleared = caption_window(Path(parts[0][0]))
    inside = (shown + cleared) / 2
    total = sum(d for _, d in parts)
    out = {}
    for start_segment in (0, 1):
        spec = ffmpeg.EncodeSpec(
            source=str(listing), concat=True, variant=hls.Variant("270p", 480, 270, 600_000, 900_000, ""),
            starts=STARTS, start_segment=start_segment, out_dir=tmp_path / f"run{start_segment}", audio="copy",
            audio_index=1, audio_source_codec="aac", burn_subtitle=PGS_INDEX, duration=total, end=total,
        )  # fmt: skip
        argv = ffmpeg.build(spec, ffmpeg.Software())
        assert argv.count("concat") == (2 if start_segment else 1)
        spec.out_dir.mkdir()
        run = subprocess.run(argv, capture_output=True, text=True, timeout=180)
        assert run.returncode == 0, run.stderr
        segments = {int(name.removesuffix(".ts")): spec.out_dir / name for name in run.stdout.split()}
        out[start_segment] = (rect_luma(_segment_at(segments, inside), inside),
                              rect_luma(_segment_at(segments, cleared + 1), cleared + 1))  # fmt: skip
    print(f"parts {parts}; caption {shown:.3f}-{cleared:.3f} s; rectangle luma (inside, after) per start: {out}")
    assert out[0][0] > WHITE and out[1][0] > WHITE
    assert out[0][1] < WHITE and out[1][1] < WHITE
