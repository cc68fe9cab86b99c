"""Helpers for the transcode, HLS and reaper tests: real files registered in the real database,
real worker processes, segment probing with ffprobe."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from yaffw import leases, queue, sessions
from yaffw.keys import Keys
from yaffw.local_services import free_port
from yaffw.settings import Settings

from tests.processes import stop_process

ROOT = Path(__file__).resolve().parents[1]
WORKER_MAIN = ROOT / "functions" / "transcode" / "main.py"


def ffprobe_json(path: Path, *args: str) -> dict[str, Any]:
    """ffprobe's JSON for ``path``."""
    out = subprocess.run(["ffprobe", "-v", "error", "-of", "json", *args, str(path)], check=True,
                         capture_output=True, text=True).stdout  # fmt: skip
    return json.loads(out)


def _make_once(path: Path, *args: str) -> Path:
    """Run FFmpeg with ``args`` into ``path`` unless it exists (a cache shared by concurrent runs:
    each writes its own temporary name and renames it into place)."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args, str(tmp)], check=True,
                   stdin=subprocess.DEVNULL)  # fmt: skip
    tmp.rename(path)
    return path


def make_long_hevc(path: Path, seconds: int = 40, size: str = "640x360") -> Path:
    """A small HEVC + AAC Matroska file with keyframes every 2 s (made once, cached)."""
    return _make_once(
        path,
        "-f", "lavfi", "-i", f"testsrc=size={size}:rate=24:duration={seconds}",
        "-f", "lavfi", "-i", f"sine=frequency=330:sample_rate=48000:duration={seconds}",
        "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error:keyint=48",
        "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "96k", "-ac", "2",
    )  # fmt: skip


def make_h264_ac3(path: Path, seconds: int = 20) -> Path:
    """H.264 video with AC-3 5.1 audio in Matroska, keyframes every 2 s (made once, cached): browsers
    play the video but not the audio, so they get a direct stream (video copied, audio to AAC)."""
    return _make_once(
        path,
        "-f", "lavfi", "-i", f"testsrc2=size=640x360:rate=24:duration={seconds}",
        "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
        "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-g", "48", "-keyint_min", "48",
        "-c:a", "ac3", "-b:a", "384k", "-ac", "6", "-metadata:s:a:0", "language=eng",
    )  # fmt: skip


async def register_file(pool: asyncpg.Pool, path: Path, library_id: str | None = None) -> str:
    """Insert a library (if none given), an item and its streams for ``path``; returns the item id."""
    info = ffprobe_json(path, "-show_format", "-show_streams")
    fmt = info["format"]
    if library_id is None:
        library_id = str(await pool.fetchval(
            "INSERT INTO libraries (name, kind, paths) VALUES ($1, 'movies', $2) RETURNING id",
            f"lib-{uuid.uuid4().hex[:8]}", [str(path.parent)],
        ))  # fmt: skip
    item_id = str(await pool.fetchval(
        """INSERT INTO media_items (library_id, type, name, sort_name, path, header_hash, size, container,
                                    duration_seconds, bitrate)
           VALUES ($1, 'movie', $2, $2, $3, $4, $5, $6, $7, $8) RETURNING id""",
        library_id, path.stem, str(path), uuid.uuid4().hex, path.stat().st_size, fmt.get("format_name"),
        float(fmt["duration"]), int(fmt.get("bit_rate") or 0) or None,
    ))  # fmt: skip
    for s in info["streams"]:
        kind = s.get("codec_type")
        if kind not in ("video", "audio", "subtitle"):
            continue
        await pool.execute(
            """INSERT INTO media_streams (item_id, stream_index, type, codec, profile, level, width, height,
                                          channels, bitrate, is_default)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)""",
            item_id, s["index"], kind, s.get("codec_name"), s.get("profile"), s.get("level"), s.get("width"),
            s.get("height"), s.get("channels"), int(s["bit_rate"]) if s.get("bit_rate") else None,
            bool(s.get("disposition", {}).get("default")),
        )  # fmt: skip
    return item_id


async def make_user(pool: asyncpg.Pool, *, admin: bool = False, library_id: str | None = None) -> str:
    """A user (with access to ``library_id``); returns the id. Tokens are minted with yaffw.tokens."""
    user_id = str(await pool.fetchval(
        "INSERT INTO users (name, password_hash, is_admin) VALUES ($1, 'x', $2) RETURNING id",
        f"u-{uuid.uuid4().hex[:8]}", admin,
    ))  # fmt: skip
    if library_id:
        await pool.execute("INSERT INTO library_access (user_id, library_id) VALUES ($1, $2)", user_id, library_id)
    return user_id


def transcode_job(sid: str, item_id: str, path: Path, *, height: int = 240, start: int = 0,
                  segment_seconds: int = 6, audio_index: int = 1) -> queue.JobPayload:  # fmt: skip
    """A transcode job at a small height (fast on a small CPU)."""
    return queue.JobPayload(
        sid=sid, item_id=item_id, source_path=str(path), start_segment=start, segment_seconds=segment_seconds,
        video={"codec": "h264", "height": height, "bitrate": 400_000},
        audio={"codec": "aac", "channels": 2, "bitrate": 96_000, "stream_index": audio_index},
        audio_index=audio_index,
    )  # fmt: skip


async def open_session(redis: Any, keys: Keys, settings: Settings, job: queue.JobPayload, *, user_id: str,
                       item_id: str, method: str = "transcode", lease: bool = True) -> None:  # fmt: skip
    """A playback session through ``yaffw.sessions`` (as the playback route makes it) with a lease."""
    template = json.loads(job.at_segment(0).to_json())
    await sessions.create(redis, keys, sessions.PlaybackSession(
        sid=job.sid, user_id=user_id, user_name="tester", item_id=item_id, item_name="test", method=method,
        job=template, audio_index=job.audio_index, duration_seconds=None,
    ))  # fmt: skip
    if lease:
        await leases.renew(redis, keys, job.sid, settings.lease_seconds)


class WorkerProcess:
    """A real worker (``functions/transcode/main.py``) on a free port."""

    def __init__(self, settings: Settings, log_path: Path, **overrides: Any):
        self.port = free_port()
        self.settings = settings.replace(port=self.port, host="127.0.0.1", advertise_host="127.0.0.1", **overrides)
        self.address = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.address}"
        self.log_path = log_path
        env = {k: v for k, v in os.environ.items() if not k.startswith(("YAFFW_", "S3_"))}
        env.update(self.settings.to_env())
        env["PYTHONUNBUFFERED"] = "1"
        self._log = log_path.open("w")
        self.proc = subprocess.Popen([sys.executable, str(WORKER_MAIN)], env=env, stdout=self._log,
                                     stderr=subprocess.STDOUT)  # fmt: skip

    def wait_ready(self, timeout: float = 60) -> WorkerProcess:
        """Poll /readyz. :raises AssertionError: with the log when it does not come up."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"worker exited {self.proc.returncode}:\n{self.log()}")
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"worker not ready:\n{self.log()}")

    def log(self) -> str:
        """The worker's output so far (last 6000 characters)."""
        return self.log_path.read_text(errors="replace")[-6000:]

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not exit."""
        stop_process(self.proc, 30)
        self._log.close()


async def wait_for(predicate: Any, timeout: float, interval: float = 0.1) -> Any:
    """Poll an async or sync ``predicate`` until it returns something truthy; that value, else None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        await asyncio.sleep(interval)
    return None


def playlist_segments(playlist: str) -> list[tuple[float, str]]:
    """``(EXTINF seconds, URI)`` of each segment of a media playlist."""
    lines = playlist.splitlines()
    return [(float(line[8:].rstrip(",")), lines[i + 1]) for i, line in enumerate(lines) if line.startswith("#EXTINF:")]


async def get_segment(client: httpx.AsyncClient, url: str, dest: Path, budget: float = 90) -> tuple[Path, int]:
    """Fetch a segment through the api like a player: a 503 is retried after Retry-After.

    Returns (file written, number of 503s). :raises AssertionError: another status, or no segment
    within ``budget`` seconds.
    """
    retries, deadline = 0, time.monotonic() + budget
    while time.monotonic() < deadline:
        r = await client.get(url)
        if r.status_code == 503 and r.json()["error"]["code"] == "not_ready":
            assert r.headers["retry-after"]
            retries += 1
            await asyncio.sleep(float(r.headers["retry-after"]) / 4)
            continue
        assert r.status_code == 200, (url, r.status_code, r.text[:300])
        assert r.headers["content-type"] == "video/mp2t"
        dest.write_bytes(r.content)
        return dest, retries
    raise AssertionError(f"{url} not served in {budget}s")


def probe_segment(path: Path) -> dict[str, tuple[float, float]]:
    """``{codec_type: (start_time, duration)}`` of one MPEG-TS segment; raises if ffprobe rejects it."""
    info = ffprobe_json(path, "-show_entries", "stream=codec_type,start_time,duration")
    return {s["codec_type"]: (float(s["start_time"]), float(s["duration"])) for s in info["streams"]}


def ffmpeg_pids_with(fragment: str) -> list[int]:
    """Pids of running ffmpeg processes whose command line contains ``fragment``."""
    import psutil

    out = []
    for p in psutil.process_iter(["name", "cmdline"]):
        cmd = p.info.get("cmdline") or []
        if cmd and Path(cmd[0]).name == "ffmpeg" and any(fragment in c for c in cmd):
            out.append(p.pid)
    return out
