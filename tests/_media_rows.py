"""Test helpers: database rows for real files (ffprobe'd here, since the scan is tested elsewhere),
and users with tokens, so playback tests do not depend on the scanner or the login route.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path
from typing import Any

import asyncpg
from yaffw import tokens
from yaffw.passwords import hash_password
from yaffw.settings import Settings


def probe(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(media_items fields, media_streams rows) for ``path``, as the scanner would store them."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
        check=True, capture_output=True, text=True, stdin=subprocess.DEVNULL,
    ).stdout  # fmt: skip
    data = json.loads(out)
    fmt = data["format"]

    def num(v: Any, kind: type = int) -> Any:
        try:
            return kind(v)
        except (TypeError, ValueError):
            return None

    item = {
        "container": fmt.get("format_name"), "duration_seconds": num(fmt.get("duration"), float),
        "bitrate": num(fmt.get("bit_rate")), "size": path.stat().st_size, "mtime": path.stat().st_mtime,
    }  # fmt: skip
    streams = []
    for s in data["streams"]:
        tags = s.get("tags", {})
        rate = s.get("avg_frame_rate", "0/1").split("/")
        streams.append(
            {
                "stream_index": s["index"], "type": s["codec_type"], "codec": s.get("codec_name"),
                "profile": s.get("profile"), "level": num(s.get("level")), "width": num(s.get("width")),
                "height": num(s.get("height")),
                "frame_rate": (int(rate[0]) / int(rate[1])) if len(rate) == 2 and int(rate[1] or 0) else None,
                "pixel_format": s.get("pix_fmt"), "channels": num(s.get("channels")),
                "channel_layout": s.get("channel_layout"), "sample_rate": num(s.get("sample_rate")),
                "bitrate": num(s.get("bit_rate")), "language": tags.get("language"), "title": tags.get("title"),
                "is_default": bool(s.get("disposition", {}).get("default")),
            }
        )  # fmt: skip
    return item, streams


async def make_library(pool: asyncpg.Pool, root: Path, name: str | None = None) -> str:
    """A movies library over ``root``; returns its id."""
    return str(
        await pool.fetchval(
            "INSERT INTO libraries (name, kind, paths) VALUES ($1, 'movies', $2) RETURNING id",
            name or f"lib-{uuid.uuid4().hex[:6]}", [str(root)],
        )
    )  # fmt: skip


async def insert_item(pool: asyncpg.Pool, library_id: str, path: Path, name: str | None = None) -> str:
    """A movie row for ``path`` with its probed streams; returns the item id."""
    item, streams = probe(path)
    async with pool.acquire() as conn, conn.transaction():
        item_id = await conn.fetchval(
            """INSERT INTO media_items (library_id, type, name, sort_name, path, header_hash, size, mtime,
                                        container, duration_seconds, bitrate)
               VALUES ($1, 'movie', $2, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id""",
            library_id, name or path.stem, str(path), uuid.uuid4().hex, item["size"], item["mtime"],
            item["container"], item["duration_seconds"], item["bitrate"],
        )  # fmt: skip
        for s in streams:
            cols = list(s)
            await conn.execute(
                f"INSERT INTO media_streams (item_id, {', '.join(cols)}) VALUES "
                f"($1, {', '.join(f'${i + 2}' for i in range(len(cols)))})",
                item_id, *s.values(),
            )  # fmt: skip
    return str(item_id)


async def make_user(pool: asyncpg.Pool, settings: Settings, *, admin: bool = False, password: str = "secret-pw",
                    libraries: tuple[str, ...] = ()) -> dict[str, Any]:  # fmt: skip
    """A user with access to ``libraries``; returns ``{id, name, password, token, headers}``."""
    name = f"user-{uuid.uuid4().hex[:8]}"
    # Few iterations: hashing strength is not under test here and the machine is slow.
    user_id = str(
        await pool.fetchval(
            "INSERT INTO users (name, password_hash, is_admin) VALUES ($1, $2, $3) RETURNING id",
            name, hash_password(password, iterations=1000), admin,
        )
    )  # fmt: skip
    for lib in libraries:
        await pool.execute("INSERT INTO library_access (user_id, library_id) VALUES ($1, $2)", user_id, lib)
    token, _ = tokens.issue(settings.jwt_secret or "", user_id, admin, 3600)
    return {"id": user_id, "name": name, "password": password, "token": token,
            "headers": {"Authorization": f"Bearer {token}"}}  # fmt: skip
