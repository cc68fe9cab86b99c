"""Jinja2 for the web UI: one environment, the filters pages share, and :func:`render`.

Templates live in ``templates/``; static files in ``static/`` (see ``pages_static``). Pages are
rendered on the server and enhanced with htmx; nothing here knows about SQL.
"""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sanic import Request
from sanic.response import HTTPResponse, html

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

# ISO 639-2 codes as ffprobe reports them; anything else is shown as the code itself.
_LANGUAGES = {
    "eng": "English", "fre": "French", "fra": "French", "ger": "German", "deu": "German",
    "spa": "Spanish", "ita": "Italian", "jpn": "Japanese", "por": "Portuguese", "rus": "Russian",
    "chi": "Chinese", "zho": "Chinese", "kor": "Korean", "dut": "Dutch", "nld": "Dutch",
    "swe": "Swedish", "nor": "Norwegian", "dan": "Danish", "fin": "Finnish", "pol": "Polish",
    "und": "Unknown",
}  # fmt: skip
_CODECS = {
    "h264": "H.264", "hevc": "HEVC", "av1": "AV1", "vp9": "VP9", "mpeg4": "MPEG-4", "mpeg2video": "MPEG-2",
    "aac": "AAC", "ac3": "Dolby Digital", "eac3": "Dolby Digital+", "dts": "DTS", "truehd": "TrueHD",
    "opus": "Opus", "flac": "FLAC", "mp3": "MP3", "vorbis": "Vorbis",
    "subrip": "SRT", "ass": "ASS", "webvtt": "WebVTT", "hdmv_pgs_subtitle": "PGS", "dvd_subtitle": "VobSub",
}  # fmt: skip


def static_digest(name: str) -> str:
    """A short content hash of a static file, for cache-busting URLs."""
    try:
        return hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:10]
    except OSError:
        return "0"


_DIGESTS: dict[str, str] = {}


def static_url(name: str) -> str:
    """``/static/<name>?v=<hash>``: the URL changes when the file does, so it may be cached forever."""
    if name not in _DIGESTS:
        _DIGESTS[name] = static_digest(name)
    return f"/static/{name}?v={_DIGESTS[name]}"


def duration(seconds: float | None) -> str:
    """``1 h 42 min``, ``12 min``, ``45 s``."""
    if not seconds or seconds <= 0:
        return ""
    total = round(seconds)
    hours, minutes = divmod(total // 60, 60)
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min"
    return f"{total} s"


def resolution(height: int | None, width: int | None = None) -> str:
    """A name people know for a video height: 4K, 1080p, 720p, SD."""
    if not height:
        return ""
    h = max(height, round((width or 0) * 9 / 16))  # letterboxed films are wide, not short
    for limit, name in ((2000, "4K"), (1300, "1440p"), (1000, "1080p"), (700, "720p"), (560, "576p"), (470, "480p")):
        if h >= limit:
            return name
    return "SD"


def channels(count: int | None, layout: str | None = None) -> str:
    """``Stereo``, ``5.1``, ``Mono``."""
    if layout and layout[:1].isdigit():
        return layout.split("(")[0]
    return {1: "Mono", 2: "Stereo", 6: "5.1", 8: "7.1"}.get(count or 0, f"{count} ch" if count else "")


def language(code: str | None) -> str:
    """A language's English name from its ISO 639-2 code."""
    if not code:
        return ""
    return _LANGUAGES.get(code.lower(), code)


def codec(name: str | None) -> str:
    """A codec's marketing name (``hevc`` → ``HEVC``)."""
    if not name:
        return ""
    return _CODECS.get(name.lower(), name.upper())


def bitrate(bps: int | float | None) -> str:
    """``4.2 Mbps`` / ``384 kbps``."""
    if not bps:
        return ""
    if bps >= 1_000_000:
        return f"{bps / 1_000_000:.1f} Mbps"
    return f"{round(bps / 1000)} kbps"


def filesize(size: int | None) -> str:
    """``1.4 GB``."""
    if not size:
        return ""
    units = ("B", "KB", "MB", "GB", "TB")
    exp = min(int(math.log(size, 1000)), len(units) - 1) if size > 0 else 0
    return f"{size / 1000**exp:.1f} {units[exp]}" if exp else f"{size} B"


def ago(when: datetime | str | None) -> str:
    """``3 min ago``, ``2 days ago`` (activity log, libraries)."""
    if when is None:
        return "never"
    if isinstance(when, str):
        when = datetime.fromisoformat(when)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    secs = max(0, int((datetime.now(UTC) - when).total_seconds()))
    for unit, size in (("day", 86400), ("h", 3600), ("min", 60)):
        if secs >= size:
            n = secs // size
            return f"{n} {unit}{'s' if unit == 'day' and n > 1 else ''} ago"
    return "just now"


def hue(key: str) -> int:
    """A stable hue (0..359) for ``key``: placeholders of different items get different colours."""
    return int(hashlib.sha256(str(key).encode()).hexdigest()[:4], 16) % 360


def percent(part: float | None, whole: float | None) -> int:
    """Whole-number percentage, clamped to 0..100 (progress bars)."""
    if not part or not whole or whole <= 0:
        return 0
    return max(0, min(100, round(100 * part / whole)))


def image_url(item: dict[str, Any], kind: str) -> str:
    """The API URL of an item's image; ``?v=`` changes when the image does, so browsers re-fetch."""
    version = (item.get("images") or {}).get(kind)
    suffix = f"?v={version}" if version is not None else ""
    return f"/api/items/{item['id']}/images/{kind}{suffix}"


def _build() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(("html",)),
        undefined=StrictUndefined,  # a typo in a template fails the test that renders it
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(duration=duration, resolution=resolution, channels=channels, language=language,
                       codec=codec, bitrate=bitrate, filesize=filesize, ago=ago, hue=hue)  # fmt: skip
    env.globals.update(static_url=static_url, percent=percent, image_url=image_url)
    return env


ENV = _build()


def render(request: Request, template: str, *, status: int = 200, **context: Any) -> HTTPResponse:
    """Render ``template`` as an HTML page for ``request``.

    The context always holds ``user`` (or None), ``csrf_token`` (for forms and htmx headers),
    ``path`` and ``htmx`` (True for an htmx partial request).
    """
    context.setdefault("user", getattr(request.ctx, "user", None))
    context.setdefault("csrf_token", getattr(request.ctx, "csrf_token", ""))
    context.setdefault("path", request.path)
    context.setdefault("htmx", request.headers.get("hx-request") == "true")
    body = ENV.get_template(template).render(**context)
    # Pages show per-user state; never let a shared cache keep them.
    return html(body, status=status, headers={"Cache-Control": "no-store", "Vary": "Cookie, HX-Request"})
