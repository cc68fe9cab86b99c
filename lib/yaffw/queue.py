"""The transcode job queue (DESIGN §3): ``queue:transcode`` → ``processing:{worker_id}``.

Producers push JobPayload JSON on the left; a worker moves the oldest job from the right of the
queue to the left of its own ``processing`` list in one atomic BLMOVE, so a job is always in exactly
one list and a worker that dies holding it leaves it where the reaper finds it. A requeued job goes
to the *right* end: it is an interrupted playback and is taken before jobs that waited less.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from yaffw.errors import BadInput
from yaffw.keys import Keys

log = logging.getLogger(__name__)

# How long a "job for this session is queued" marker lives: long enough for a worker to take it,
# short enough that a job lost with its worker is enqueued again by the next request.
PENDING_TTL = 20


COPY: Literal["copy"] = "copy"


def _optional_index(value: Any) -> int | None:
    """A stream index or None. :raises ValueError: a negative or non-integer value."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or int(value) != value or int(value) < 0:
        raise ValueError(f"bad stream index {value!r}")
    return int(value)


def _opt_int(data: dict[str, Any], name: str) -> int | None:
    value = data.get(name)
    return None if value in (None, "") else int(value)


@dataclass(frozen=True)
class VideoTarget:
    """Transcoded video: ``codec`` (H.264) at ``height`` lines and ``bitrate`` b/s (None: the
    source's height / the ladder's rate for it). JSON: ``{codec, height, bitrate}``."""

    codec: str = "h264"
    height: int | None = None
    bitrate: int | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VideoTarget:
        """From the JSON object; unknown keys are ignored. :raises ValueError, TypeError: bad values."""
        return cls(str(data.get("codec") or "h264"), _opt_int(data, "height"), _opt_int(data, "bitrate"))

    def to_dict(self) -> dict[str, Any]:
        """The JSON object."""
        return asdict(self)


@dataclass(frozen=True)
class AudioTarget:
    """Transcoded audio: ``codec`` with ``channels`` at ``bitrate`` b/s from source stream
    ``stream_index``. JSON: ``{codec, channels, bitrate, stream_index}``."""

    codec: str = "aac"
    channels: int | None = None
    bitrate: int | None = None
    stream_index: int | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AudioTarget:
        """From the JSON object; unknown keys are ignored. :raises ValueError, TypeError: bad values."""
        return cls(str(data.get("codec") or "aac"), _opt_int(data, "channels"), _opt_int(data, "bitrate"),
                   _opt_int(data, "stream_index"))  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """The JSON object."""
        return asdict(self)


Video = VideoTarget | Literal["copy"] | None
Audio = AudioTarget | Literal["copy"] | None


def video_target(value: Any) -> Video:
    """``"copy"``, None or a :class:`VideoTarget` from its JSON form (or a target already).

    :raises BadInput: for anything else.
    """
    if value is None or value == COPY or isinstance(value, VideoTarget):
        return value  # type: ignore[no-any-return]
    if isinstance(value, dict):
        try:
            return VideoTarget.from_dict(value)
        except (TypeError, ValueError) as exc:
            raise BadInput(f"malformed job video: {exc}", code="bad_job") from exc
    raise BadInput("job video must be 'copy' or an object", code="bad_job")


def audio_target(value: Any) -> Audio:
    """``"copy"``, None or an :class:`AudioTarget` from its JSON form (or a target already).

    :raises BadInput: for anything else.
    """
    if value is None or value == COPY or isinstance(value, AudioTarget):
        return value  # type: ignore[no-any-return]
    if isinstance(value, dict):
        try:
            return AudioTarget.from_dict(value)
        except (TypeError, ValueError) as exc:
            raise BadInput(f"malformed job audio: {exc}", code="bad_job") from exc
    raise BadInput("job audio must be 'copy' or an object", code="bad_job")


@dataclass(frozen=True)
class JobPayload:
    """One transcode job: make HLS for session ``sid`` from ``start_segment`` on (DESIGN §3).

    ``video`` is ``"copy"``, ``None`` (no video track) or a :class:`VideoTarget`; ``audio`` is
    ``"copy"``, ``None`` or an :class:`AudioTarget`. ``audio_index`` names the source audio track
    also when it is copied. ``burn_subtitle`` is the source stream index of an image subtitle (PGS,
    VobSub, DVB) to burn into the transcoded video, or ``None``. The queue entry is :meth:`to_json`;
    :meth:`from_json` also reads the entries of earlier releases (targets as plain objects, fields
    missing or unknown).
    """

    sid: str
    item_id: str
    source_path: str
    start_segment: int = 0
    segment_seconds: int = 6
    video: Video = COPY
    audio: Audio = COPY
    hwaccel: str = "none"
    created_at: float = field(default_factory=time.time)
    audio_index: int | None = None
    variant: str | None = None  # the variant to start with (a requeued session keeps its quality)
    burn_subtitle: int | None = None
    # The segment plan starts with the ramp of short segments (yaffw.media.hls.ramp): sessions opened
    # at the film's start. One opened at a position (a resume, a track change) keeps full segments.
    short_start: bool = False

    def __post_init__(self) -> None:
        # Targets given in their JSON form (callers holding a decoded template) become typed here,
        # so a JobPayload never carries a dict. Frozen: set through object.__setattr__.
        object.__setattr__(self, "video", video_target(self.video))
        object.__setattr__(self, "audio", audio_target(self.audio))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobPayload:
        """Build from a decoded payload; unknown keys are ignored (newer producers).

        :raises BadInput: when a required field is missing or has the wrong type.
        """
        try:
            job = cls(
                sid=str(data["sid"]), item_id=str(data["item_id"]), source_path=str(data["source_path"]),
                start_segment=int(data.get("start_segment") or 0),
                segment_seconds=int(data.get("segment_seconds") or 6),
                video=video_target(data.get("video")), audio=audio_target(data.get("audio")),
                hwaccel=str(data.get("hwaccel") or "none"),
                created_at=float(data.get("created_at") or time.time()),
                audio_index=None if data.get("audio_index") in (None, "") else int(data["audio_index"]),
                variant=str(data["variant"]) if data.get("variant") else None,
                burn_subtitle=_optional_index(data.get("burn_subtitle")),
                short_start=data.get("short_start") is True,
            )  # fmt: skip
        except (KeyError, TypeError, ValueError) as exc:
            raise BadInput(f"malformed job payload: {exc!r}", code="bad_job") from exc
        if job.start_segment < 0 or not 1 <= job.segment_seconds <= 60:
            raise BadInput("job start_segment/segment_seconds out of range", code="bad_job")
        return job

    @classmethod
    def from_json(cls, raw: str | bytes) -> JobPayload:
        """Parse one queue entry. :raises BadInput: for anything that is not a job."""
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise BadInput("job payload is not JSON", code="bad_job") from exc
        if not isinstance(data, dict):
            raise BadInput("job payload is not an object", code="bad_job")
        return cls.from_dict(data)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form as a dict (the queue entry's fields; targets as objects). ``short_start`` is
        written only when set, so an entry of an earlier release writes back as it was read."""
        out = asdict(self)
        if not self.short_start:
            del out["short_start"]
        return out

    def to_json(self) -> str:
        """The queue entry (compact JSON)."""
        return json.dumps(self.to_dict(), separators=(",", ":"))

    def at_segment(self, segment: int, variant: str | None = None) -> JobPayload:
        """The same job starting at ``segment`` (of ``variant``, if given), stamped now."""
        return replace(self, start_segment=max(0, int(segment)), created_at=time.time(),
                       variant=variant or self.variant)  # fmt: skip

    @property
    def copies_video(self) -> bool:
        """True for direct stream: segment boundaries follow the source's keyframes."""
        return self.video == COPY


async def enqueue(redis: Any, keys: Keys, job: JobPayload) -> None:
    """Append a new job (taken after those already waiting)."""
    await redis.lpush(keys.transcode_queue, job.to_json())


async def enqueue_once(redis: Any, keys: Keys, job: JobPayload) -> bool:
    """Enqueue ``job`` unless one for its session is already waiting; returns whether it did.

    Requeued jobs go to the front (they are interrupted playbacks).
    """
    if not await redis.set(keys.session_pending(job.sid), str(job.start_segment), nx=True, ex=PENDING_TTL):
        return False
    await redis.rpush(keys.transcode_queue, job.to_json())
    return True


async def take(redis: Any, keys: Keys, worker_id: str, timeout: float = 1.0) -> str | None:
    """Move the oldest job into ``processing:{worker_id}``; its raw JSON, or None after ``timeout``."""
    raw: str | None = await redis.blmove(keys.transcode_queue, keys.processing(worker_id), timeout, "RIGHT", "LEFT")
    return raw


async def ack(redis: Any, keys: Keys, worker_id: str, raw: str) -> None:
    """The worker is done with ``raw`` (finished, failed for good, or dropped as a duplicate)."""
    await redis.lrem(keys.processing(worker_id), 1, raw)


async def requeue(redis: Any, keys: Keys, worker_id: str, raw: str, job: JobPayload) -> None:
    """Atomically replace ``raw`` in the worker's list by ``job`` at the front of the queue."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.lrem(keys.processing(worker_id), 1, raw)
        pipe.rpush(keys.transcode_queue, job.to_json())
        pipe.set(keys.session_pending(job.sid), str(job.start_segment), ex=PENDING_TTL)
        await pipe.execute()


async def held(redis: Any, keys: Keys, worker_id: str) -> list[tuple[str, JobPayload | None]]:
    """Every job in ``processing:{worker_id}`` as ``(raw, parsed or None if malformed)``."""
    out: list[tuple[str, JobPayload | None]] = []
    for raw in await redis.lrange(keys.processing(worker_id), 0, -1):
        try:
            out.append((raw, JobPayload.from_json(raw)))
        except BadInput:
            out.append((raw, None))
    return out


async def requeue_session(redis: Any, keys: Keys, worker_id: str, sid: str, job: JobPayload) -> int:
    """Move the jobs of ``sid`` held by (dead) ``worker_id`` back to the queue as one ``job``.

    Returns how many held entries were removed. The new job is pushed even when the worker held
    none (it may have acked them already), so the session is served again.
    """
    entries = [raw for raw, parsed in await held(redis, keys, worker_id) if parsed and parsed.sid == sid]
    async with redis.pipeline(transaction=True) as pipe:
        for raw in entries:
            pipe.lrem(keys.processing(worker_id), 1, raw)
        pipe.rpush(keys.transcode_queue, job.to_json())
        pipe.set(keys.session_pending(sid), str(job.start_segment), ex=PENDING_TTL)
        await pipe.execute()
    log.info("requeued session %s from worker %s at segment %d", sid, worker_id, job.start_segment)
    return len(entries)
