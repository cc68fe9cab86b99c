"""Playback sessions in Redis (DESIGN §3, §5): one hash ``session:{sid}`` per playback.

The api creates a session when a client asks to play an item, renews it on every progress report
and deletes it on stop; the transcode worker sets ``worker`` when it starts serving it; the admin
view lists every open one. A session lives ``SESSION_TTL`` seconds after its last update, so a
client that vanishes leaves nothing behind for long. The ids of open sessions are also kept in the
set ``sessions``; :func:`list_open` drops ids whose hash has expired.

Hash fields (all strings, as Redis stores them)::

    sid, user_id, user_name, item_id, item_name,
    method            direct_play | direct_stream | transcode
    reason            why that method, for people ("audio codec ac3 not supported")
    job               the session's JobPayload (DESIGN §3) as JSON for HLS, "" for direct play
    audio_index       source stream index of the chosen audio track, "" if none
    max_height, max_bitrate          the client's limits, "" for none
    position_seconds, paused (0/1), duration_seconds
    created_at, updated_at           seconds since the epoch
    worker            "" until a worker serves it (host:port)
    client            free text: the client's name / user agent

The async functions take a ``redis.asyncio`` client with string replies; blocking code can use
:func:`to_fields` / :func:`from_fields` with a sync client and the same key.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from yaffw.errors import BadInput
from yaffw.keys import Keys
from yaffw.queue import JobPayload

METHODS = ("direct_play", "direct_stream", "transcode")
# A session outlives its last update by this long (renewed on every progress report).
SESSION_TTL = 24 * 3600

# Only written via update(); ``sid`` and the owner never change.
_IMMUTABLE = frozenset({"sid", "user_id", "created_at"})

# Updates only an existing hash, so a stop racing a late progress report cannot resurrect a
# half-filled session. ARGV: ttl, then field/value pairs.
_UPDATE_IF_EXISTS = """
if redis.call('exists', KEYS[1]) == 0 then return 0 end
redis.call('hset', KEYS[1], unpack(ARGV, 2))
redis.call('expire', KEYS[1], tonumber(ARGV[1]))
return 1
"""


@dataclass
class PlaybackSession:
    """One playback: who plays what, how, and where they are."""

    sid: str
    user_id: str
    user_name: str
    item_id: str
    item_name: str
    method: str
    reason: str = ""
    job: JobPayload | None = None  # the template every job of this session starts from (HLS only)
    audio_index: int | None = None
    max_height: int | None = None
    max_bitrate: int | None = None
    position_seconds: float = 0.0
    paused: bool = False
    duration_seconds: float | None = None
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)
    worker: str = ""
    client: str = ""

    def __post_init__(self) -> None:
        # A template given in its JSON form (as earlier callers did) is typed once, here.
        if isinstance(self.job, dict):
            self.job = JobPayload.from_dict(self.job)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (for the admin API)."""
        return dataclasses.asdict(self)


_FIELDS = {f.name: f for f in dataclasses.fields(PlaybackSession)}
_INTS = ("audio_index", "max_height", "max_bitrate")
_FLOATS = ("position_seconds", "duration_seconds", "created_at", "updated_at")


def new_sid() -> str:
    """A fresh, unguessable session id (32 hex characters)."""
    return uuid.uuid4().hex


def _encode(name: str, value: Any) -> str:
    if value is None:
        return ""
    if name == "job":
        return str(value.to_json())
    if name == "paused":
        return "1" if value else "0"
    if name in _FLOATS:
        return repr(float(value))
    return str(value)


def _decode(name: str, raw: str) -> Any:
    if name == "job":
        return JobPayload.from_json(raw) if raw else None
    if name == "paused":
        return raw == "1"
    if name in _INTS:
        return int(raw) if raw else None
    if name in _FLOATS:
        if raw:
            return float(raw)
        return None if name == "duration_seconds" else 0.0
    return raw


def to_fields(session: PlaybackSession) -> dict[str, str]:
    """The session as the hash's field → string mapping."""
    return {name: _encode(name, getattr(session, name)) for name in _FIELDS}


def from_fields(fields: dict[str, str]) -> PlaybackSession:
    """A session from a hash's fields (missing ones take their defaults)."""
    values = {name: _decode(name, fields[name]) for name in _FIELDS if name in fields}
    return PlaybackSession(**values)


async def create(redis: Any, keys: Keys, session: PlaybackSession, ttl: int = SESSION_TTL) -> None:
    """Store a new session and add it to the open set. :raises BadInput: for an unknown method."""
    if session.method not in METHODS:
        raise BadInput(f"unknown playback method {session.method!r}")
    key = keys.session(session.sid)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.delete(key)
        pipe.hset(key, mapping=to_fields(session))
        pipe.expire(key, ttl)
        pipe.sadd(keys.sessions, session.sid)
        await pipe.execute()


async def get(redis: Any, keys: Keys, sid: str) -> PlaybackSession | None:
    """The session, or None when it never existed, was stopped or expired."""
    fields = await redis.hgetall(keys.session(sid))
    if not fields or "sid" not in fields:
        return None
    return from_fields(fields)


async def update(redis: Any, keys: Keys, sid: str, ttl: int = SESSION_TTL, **fields: Any) -> bool:
    """Change some fields of an existing session, set ``updated_at`` and renew its TTL.

    Returns False (and writes nothing) when the session is gone.

    :raises BadInput: for an unknown field or one that never changes (``sid``, ``user_id``, ...).
    """
    for name in fields:
        if name not in _FIELDS or name in _IMMUTABLE:
            raise BadInput(f"session field {name!r} cannot be updated")
    fields.setdefault("updated_at", time.time())
    flat: list[str] = []
    for name, value in fields.items():
        flat += [name, _encode(name, value)]
    return bool(await redis.eval(_UPDATE_IF_EXISTS, 1, keys.session(sid), ttl, *flat))


async def delete(redis: Any, keys: Keys, sid: str) -> bool:
    """Remove the session and its open-set entry. Returns whether it existed.

    The worker's route (``map:session``) and lease are not touched here; the api's stop handler
    removes them too, so the worker ends its encoder.
    """
    async with redis.pipeline(transaction=True) as pipe:
        pipe.delete(keys.session(sid))
        pipe.srem(keys.sessions, sid)
        removed, _ = await pipe.execute()
    return bool(removed)


async def list_open(redis: Any, keys: Keys) -> list[PlaybackSession]:
    """Every open session, oldest first. Ids whose hash has expired are dropped from the set."""
    sids = sorted(await redis.smembers(keys.sessions))
    if not sids:
        return []
    async with redis.pipeline(transaction=False) as pipe:
        for sid in sids:
            pipe.hgetall(keys.session(sid))
        rows = await pipe.execute()
    out: list[PlaybackSession] = []
    gone: list[str] = []
    for sid, fields in zip(sids, rows, strict=True):
        if fields and "sid" in fields:
            out.append(from_fields(fields))
        else:
            gone.append(sid)
    if gone:
        await redis.srem(keys.sessions, *gone)
    out.sort(key=lambda s: s.created_at)
    return out
