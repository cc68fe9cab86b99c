"""Images: ``GET|HEAD /Items/{id}/Images/{type}[/{index}]``, resized copies cached in the image store.

No login, as in Jellyfin: apps load images with plain ``<img src>`` (an item id is the only key).
Types Primary, Backdrop and Thumb map to yaffw's image kinds; index 0 is the only image of a kind.

The size follows Jellyfin's rules (``width``/``height`` set it, ``maxWidth``/``maxHeight`` bound it,
``fillWidth``/``fillHeight`` shrink it to cover that box), except that yaffw never upscales and
never goes past :data:`MAX_SIDE`. When nothing changes, the original bytes are served; otherwise
Pillow makes the copy in a worker thread and the store keeps it under a key derived from the
original's key and version and the request, so each size is made once for all replicas.
``format`` (jpg, png, webp) picks the output; without it WebP is used when ``Accept`` allows it.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import math
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from typing import Any

from PIL import Image, ImageOps
from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from yaffw.errors import BadInput, NotFound

from yaffw_api.context import deps
from yaffw_api.jellyfin.routing import PREFIX
from yaffw_api.jellyfin.wire import arg, arg_int, parse_id

bp = Blueprint("jf_images", url_prefix=PREFIX)

KINDS = {"primary": "primary", "backdrop": "backdrop", "thumb": "thumb"}
MAX_SIDE = 4096  # largest side yaffw makes; bigger requests get this
MAX_PARAM = 65535  # larger size parameters are refused (400)
DEFAULT_QUALITY = 90
CACHE_PREFIX = "jellyfin-cache"
TAGGED_MAX_AGE = 365 * 24 * 3600  # Jellyfin's cache time for a URL with ?tag= (the tag names the version)
# Output formats: name → (Pillow format, content type).
FORMATS = {"jpg": ("JPEG", "image/jpeg"), "png": ("PNG", "image/png"), "webp": ("WEBP", "image/webp")}
_ALIASES = {"jpeg": "jpg"}
_OTHER_JELLYFIN_FORMATS = {"bmp", "gif", "svg"}  # in Jellyfin's enum; yaffw answers its default instead
_BY_CONTENT_TYPE = {"image/jpeg": "jpg", "image/jpg": "jpg", "image/png": "png", "image/webp": "webp"}

_ROW = "SELECT object_key, content_type, width, height, updated_at FROM images WHERE item_id = $1::uuid AND kind = $2"


@dataclass(frozen=True)
class ImageQuery:
    """What the client asked for, validated (0 = not given, as Jellyfin treats it)."""

    width: int = 0
    height: int = 0
    max_width: int = 0
    max_height: int = 0
    fill_width: int = 0
    fill_height: int = 0
    quality: int | None = None
    format: str | None = None  # explicit output format (FORMATS key)
    webp: bool = False  # the client accepts WebP (used when no format is given)

    def key(self) -> str:
        """A stable text for cache keys and ETags."""
        return f"{self.width}x{self.height}:{self.max_width}x{self.max_height}:{self.fill_width}x{self.fill_height}" \
            f":q{self.quality}:{self.format}:{int(self.webp)}"  # fmt: skip


def parse_request(request: Request) -> ImageQuery:
    """The size, quality and format parameters. :raises BadInput: negative, absurd or unknown values."""
    w, h, max_w, max_h, fill_w, fill_h = (arg_int(request, n, 0, 0, MAX_PARAM) or 0
                                          for n in ("width", "height", "maxWidth", "maxHeight", "fillWidth",
                                                    "fillHeight"))  # fmt: skip
    quality = arg_int(request, "quality", None, 0, 100)
    raw = (arg(request, "format") or "").strip().lower()
    fmt: str | None = _ALIASES.get(raw, raw) or None
    if fmt in _OTHER_JELLYFIN_FORMATS:
        fmt = None
    elif fmt is not None and fmt not in FORMATS:
        raise BadInput("format must be one of Jpg, Png, Webp")
    webp = "image/webp" in request.headers.get("accept", "").lower()
    return ImageQuery(w, h, max_w, max_h, fill_w, fill_h, quality=quality, format=fmt, webp=webp and fmt is None)


def _net_round(value: float) -> int:
    """``Convert.ToInt32`` of a double (.NET rounds halves to even, as Python's ``round``)."""
    return max(1, round(value))


def target_size(width: int, height: int, r: ImageQuery) -> tuple[int, int]:
    """The output size for an original of ``width`` x ``height`` (Jellyfin's DrawingUtils, no upscaling)."""
    w, h = width, height
    if r.width and r.height:
        w, h = r.width, r.height
    elif r.height:
        w, h = _net_round(r.height / h * w), r.height
    elif r.width:
        w, h = r.width, _net_round(r.width / w * h)
    if r.max_height and r.max_height < h:
        w, h = _net_round(r.max_height / h * w), r.max_height
    if r.max_width and r.max_width < w:
        w, h = r.max_width, _net_round(r.max_width / w * h)
    if r.fill_width or r.fill_height:
        # Shrink to the smallest size that still covers the box; never grow.
        scale = min(w / (r.fill_width or 1), h / (r.fill_height or 1))
        if scale >= 1:
            w, h = math.ceil(w / scale), math.ceil(h / scale)
    # yaffw's bounds: never larger than the original or MAX_SIDE (keeping the aspect asked for).
    shrink = min(1.0, width / w, height / h, MAX_SIDE / w, MAX_SIDE / h)
    if shrink < 1.0:
        w, h = max(1, math.floor(w * shrink)), max(1, math.floor(h * shrink))
    return w, h


def output_format(original: str | None, r: ImageQuery) -> str:
    """The FORMATS key a re-encoded copy is written in."""
    if r.format:
        return r.format
    if r.webp:
        return "webp"
    return "png" if original == "png" else "jpg"


def serves_original(original: str | None, size: tuple[int, int], new: tuple[int, int], r: ImageQuery) -> bool:
    """Whether the original bytes answer the request (Jellyfin's "default options")."""
    accepted = {r.format} if r.format else {"jpg", "png"} | ({"webp"} if r.webp else set())
    quality_ok = r.quality is None or r.quality >= 90
    return original in accepted and size == new and quality_ok


def render(data: bytes, size: tuple[int, int], fmt: str, quality: int) -> bytes:
    """``data`` resized to ``size`` and encoded as ``fmt`` (blocking: run it in an executor)."""
    with Image.open(io.BytesIO(data)) as opened:
        if opened.format == "JPEG":
            opened.draft("RGB", size)  # decode at a reduced scale when it is much larger: far less work
        image = ImageOps.exif_transpose(opened)
        pil_format = FORMATS[fmt][0]
        if pil_format == "JPEG" and image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        elif image.mode not in ("RGB", "RGBA", "L", "LA"):
            image = image.convert("RGBA")
        if image.size != size:
            image = image.resize(size, Image.Resampling.LANCZOS)
        out = io.BytesIO()
        options: dict[str, Any] = {"quality": quality} if pil_format in ("JPEG", "WEBP") else {"optimize": True}
        image.save(out, pil_format, **options)
        return out.getvalue()


def image_size(data: bytes) -> tuple[int, int]:
    """Width and height from the image header. :raises NotFound: not an image Pillow reads."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise NotFound("image cannot be read") from exc


def _etag(row: dict[str, Any], r: ImageQuery) -> str:
    text = f"{row['object_key']}:{row['updated_at'].timestamp()}:{r.key()}"
    return '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'


def cache_key(item_id: str, kind: str, row: dict[str, Any], size: tuple[int, int], fmt: str, quality: int) -> str:
    """Where a resized copy lives in the image store (a new original or version gets new keys)."""
    text = f"{row['object_key']}:{row['updated_at'].timestamp()}:{size[0]}x{size[1]}:{fmt}:{quality}"
    return f"{CACHE_PREFIX}/{item_id}/{kind}/{hashlib.sha256(text.encode()).hexdigest()[:40]}.{fmt}"


def _headers(row: dict[str, Any], etag: str, tagged: bool) -> dict[str, str]:
    modified: datetime = row["updated_at"]
    return {
        "ETag": etag, "Vary": "Accept", "Last-Modified": format_datetime(modified, usegmt=True),
        "Cache-Control": f"public, max-age={TAGGED_MAX_AGE}" if tagged else "public",
    }  # fmt: skip


async def _image(request: Request, item_id: str, image_type: str, index: int) -> HTTPResponse | None:
    kind = KINDS.get(image_type.lower())
    r = parse_request(request)
    if kind is None or index != 0:
        raise NotFound("image not found")
    item_id = parse_id(item_id)
    d = deps(request)
    row = await d.pool.fetchrow(_ROW, item_id, kind)
    if row is None:
        raise NotFound("image not found")
    row = dict(row)
    etag = _etag(row, r)
    headers = _headers(row, etag, bool(arg(request, "tag")))
    if etag in request.headers.get("if-none-match", ""):
        return HTTPResponse(status=304, headers=headers, content_type=None)
    loop = asyncio.get_running_loop()
    original_fmt = _BY_CONTENT_TYPE.get((row["content_type"] or "").lower())
    data: bytes | None = None
    size = (row["width"], row["height"])
    if not size[0] or not size[1]:
        data = await loop.run_in_executor(None, d.store.get, row["object_key"])
        size = image_size(data)
    new = target_size(size[0], size[1], r)
    if serves_original(original_fmt, size, new, r):
        if data is None:
            data = await loop.run_in_executor(None, d.store.get, row["object_key"])
        return await _send(request, data, row["content_type"], headers)
    fmt = output_format(original_fmt, r)
    quality = r.quality or DEFAULT_QUALITY
    key = cache_key(item_id, kind, row, new, fmt, quality)
    try:
        out = await loop.run_in_executor(None, d.store.get, key)
    except NotFound:
        if data is None:
            data = await loop.run_in_executor(None, d.store.get, row["object_key"])
        try:
            out = await loop.run_in_executor(None, render, data, new, fmt, quality)
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            raise NotFound("image cannot be read") from exc
        await loop.run_in_executor(None, d.store.put, key, out, FORMATS[fmt][1])
    return await _send(request, out, FORMATS[fmt][1], headers)


async def _send(request: Request, data: bytes, content_type: str, headers: dict[str, str]) -> HTTPResponse | None:
    """The bytes, or only their headers for HEAD."""
    if request.method != "HEAD":
        return HTTPResponse(data, headers=headers, content_type=content_type)
    response = await request.respond(headers={**headers, "Content-Length": str(len(data))}, content_type=content_type)
    await response.send(b"", end_stream=True)
    return None


def _index(raw: str) -> int:
    if not raw.isascii() or not raw.isdigit() or len(raw) > 6:
        raise BadInput("imageIndex must be a non-negative integer")
    return int(raw)


@bp.route("/items/<item_id:str>/images/<image_type:str>", methods=["GET", "HEAD"])
async def item_image(request: Request, item_id: str, image_type: str) -> HTTPResponse | None:
    """An item's image (``imageIndex`` may come as a query parameter)."""
    index = arg_int(request, "imageIndex", 0, 0, 10**6) or 0
    return await _image(request, item_id, image_type, index)


@bp.route("/items/<item_id:str>/images/<image_type:str>/<image_index:str>", methods=["GET", "HEAD"],
          name="item_image_index")  # fmt: skip
async def item_image_index(request: Request, item_id: str, image_type: str, image_index: str) -> HTTPResponse | None:
    """An item's image by index (only 0 exists)."""
    return await _image(request, item_id, image_type, _index(image_index))


@bp.route("/users/<user_id:str>/images/<image_type:str>", methods=["GET", "HEAD"], name="user_image")
@bp.route("/users/<user_id:str>/images/<image_type:str>/<image_index:str>", methods=["GET", "HEAD"],
          name="user_image_index")  # fmt: skip
async def user_image(request: Request, user_id: str, image_type: str, image_index: str = "0") -> HTTPResponse:
    """Users have no pictures in yaffw."""
    raise NotFound("user has no image")
