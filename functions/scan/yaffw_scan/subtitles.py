"""Sidecar subtitle files as ``media_streams`` rows: what their names say, what their data is.

``Film.srt``, ``Film.en.srt``, ``Film.eng.forced.ass``, ``Film.en.default.vtt``, ``Film.fr.sdh.srt``,
``Film.Director's commentary.en.ssa``, ``Film.idx`` + ``Film.sub`` (a VobSub pair: the ``.idx`` is the
stream, FFmpeg reads the ``.sub`` beside it), ``Film.en.sup`` (PGS). The parts between the video's
stem and the extension give the language (any ISO 639 spelling, stored as 639-2/T), ``forced``, ``default``, the
hearing-impaired kind (``sdh``, ``cc``, ``hi``: the title says "SDH") and, for anything else, the
title. The codec comes from opening the file (a ``.sub`` alone may be MicroDVD text, a ``.srt`` may
really be WebVTT); a file FFmpeg cannot read as subtitles is left out. Blocking: the scan's probe
threads call it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable

import av
import av.error
from yaffw.media import languages, safe_path
from yaffw.media.ffmpeg import PYAV_OPTIONS
from yaffw.media.probe import StreamInfo

log = logging.getLogger(__name__)

# What the name promises, for files whose probe names no codec.
EXTENSIONS = {".srt": "subrip", ".vtt": "webvtt", ".ass": "ass", ".ssa": "ass", ".idx": "dvd_subtitle",
              ".sup": "hdmv_pgs_subtitle", ".sub": "microdvd"}  # fmt: skip
_FLAGS = frozenset({"forced", "default", "sdh", "cc", "hi"})
_HEARING_IMPAIRED = frozenset({"sdh", "cc", "hi"})


def pick(paths: Iterable[str]) -> list[str]:
    """The sidecar subtitle files among ``paths``, sorted: of a VobSub pair only the ``.idx``."""
    chosen = sorted(p for p in paths if os.path.splitext(p)[1].lower() in EXTENSIONS)
    idx = {os.path.splitext(p)[0].lower() for p in chosen if p.lower().endswith(".idx")}
    return [p for p in chosen if not (p.lower().endswith(".sub") and os.path.splitext(p)[0].lower() in idx)]


def describe(media_path: str, path: str) -> tuple[str | None, str | None, bool, bool]:
    """``(language, title, default, forced)`` from a sidecar's name next to ``media_path``."""
    stem = os.path.splitext(os.path.basename(media_path))[0]
    name = os.path.splitext(os.path.basename(path))[0]
    parts = [p for p in name[len(stem) :].split(".") if p.strip()]
    language = None
    rest: list[str] = []
    for part in parts:
        lower = part.strip().lower()
        if lower in _FLAGS:
            continue
        code = languages.canonical(lower) if language is None else None
        if code is not None:
            language = code
        else:
            rest.append(part.strip())
    lowered = {p.strip().lower() for p in parts}
    words = [*rest, *(["SDH"] if lowered & _HEARING_IMPAIRED else [])]
    return language, " ".join(words) or None, "default" in lowered, "forced" in lowered


def codec_of(path: str) -> str | None:
    """The subtitle codec FFmpeg finds in ``path`` (None when it finds none or cannot read it)."""
    try:
        with av.open(path, container_options=PYAV_OPTIONS) as container:
            for stream in container.streams:
                if stream.type == "subtitle" and stream.codec_context is not None:
                    return str(stream.codec_context.codec.canonical_name)
    except (av.error.FFmpegError, OSError, UnicodeDecodeError) as exc:
        log.warning("sidecar subtitle %s unreadable: %s", path, exc)
    return None


def streams(media_path: str, paths: Iterable[str], first_index: int, roots: list[str] | None) -> list[StreamInfo]:
    """External subtitle streams for the sidecars ``paths`` of ``media_path``, numbered from
    ``first_index`` in name order (:func:`yaffw_scan.register.save_file` keeps a known file's number
    across rescans). With ``roots``, a sidecar that leads outside them or is no regular file is left out."""
    out: list[StreamInfo] = []
    for path in pick(paths):
        try:
            if roots is not None and safe_path.refusal(path, roots):
                log.warning("sidecar subtitle %s refused: outside the library or not a file", path)
                continue
        except OSError:
            continue  # gone since the walk
        codec = codec_of(path)
        if codec is None:
            continue
        language, title, default, forced = describe(media_path, path)
        out.append(
            StreamInfo(
                index=first_index + len(out), type="subtitle", codec=codec, language=language, title=title,
                is_default=default, is_forced=forced, is_external=True, external_path=path,
            )
        )  # fmt: skip
    return out
