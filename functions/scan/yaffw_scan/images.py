"""Item images: read from sidecar files or taken from the video, stored in the object store.

Keys are ``items/<item_id>/<kind>.<ext>`` (``kind``: primary, backdrop, thumb); width and height are
recorded with each image. Everything here blocks (file reads, boto3), so the scanner runs it in its
worker threads.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from yaffw.media.stills import Still, image_size
from yaffw.storage import ObjectStore

log = logging.getLogger(__name__)

MAX_IMAGE_BYTES = 20 * 1024 * 1024
_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".tbn": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}
_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


@dataclass(frozen=True)
class Picture:
    """An image ready to store. ``source``: sidecar, embedded or extracted."""

    kind: str
    data: bytes
    content_type: str
    width: int | None
    height: int | None
    source: str


def load_sidecar(kind: str, path: str) -> Picture | None:
    """Read an image file; ``None`` (logged) if it is unreadable, too big or not an image."""
    try:
        if os.path.getsize(path) > MAX_IMAGE_BYTES:
            log.warning("ignoring image %s: larger than %d bytes", path, MAX_IMAGE_BYTES)
            return None
        with open(path, "rb") as f:
            data = f.read()
        width, height = image_size(path)
    except (OSError, ValueError) as exc:
        log.warning("ignoring image %s: %s", path, exc)
        return None
    content_type = _TYPES.get(os.path.splitext(path)[1].lower(), "image/jpeg")
    return Picture(kind, data, content_type, width, height, "sidecar")


def from_still(still: Still, kind: str = "primary") -> Picture:
    """A frame taken from the video."""
    return Picture(kind, still.data, still.content_type, still.width, still.height, "extracted")


def object_key(item_id: str, kind: str, content_type: str) -> str:
    """Where an item's image lives in the object store."""
    return f"items/{item_id}/{kind}.{_EXTENSIONS.get(content_type, 'jpg')}"


def save(store: ObjectStore, item_id: str, pictures: list[Picture]) -> list[dict[str, object]]:
    """Upload ``pictures``; returns the ``images`` rows to record (one per kind)."""
    rows = []
    for pic in pictures:
        key = object_key(item_id, pic.kind, pic.content_type)
        store.put(key, pic.data, pic.content_type)
        rows.append(
            {"kind": pic.kind, "object_key": key, "content_type": pic.content_type,
             "width": pic.width, "height": pic.height, "source": pic.source}
        )  # fmt: skip
    return rows


def delete(store: ObjectStore, keys: list[str]) -> None:
    """Remove objects of removed items or replaced images; failures are logged, not raised."""
    for key in keys:
        try:
            store.delete(key)
        except Exception as exc:  # the row is gone already; a stray object only costs space
            log.warning("could not delete image object %s: %s", key, exc)
