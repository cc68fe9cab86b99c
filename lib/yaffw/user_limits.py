"""Per-user limits kept in Redis, so every api replica counts the same (issue 14).

**Playback sessions.** A user may hold ``max_sessions`` open playback sessions, of which
``max_transcodes`` served by a transcode worker (``transcode`` and ``direct_stream``: both take a
worker slot). The defaults are ``YAFFW_MAX_SESSIONS_PER_USER`` / ``YAFFW_MAX_TRANSCODES_PER_USER``;
``users.max_sessions`` / ``users.max_transcodes`` (NULL: the default) override them per user.

Each user has two sorted sets of session ids (``Keys.user_sessions`` / ``Keys.user_transcodes``).
One Lua script (:func:`admit`) drops the members whose lease (``lease:session:{sid}``) is gone, counts
the rest and, when there is room, adds the new session and takes its lease, atomically: two replicas
admitting at once cannot both take the last slot. Because a member counts only while its lease lives,
a session whose client vanished (or whose replica crashed) frees its slot when the lease lapses,
``YAFFW_LEASE_SECONDS`` after its last request, whether or not the reaper has run; the stop handler
and the reaper also remove the member (:func:`release`).

**Streams.** Open SSE streams and Jellyfin sockets per user are bounded by ``YAFFW_MAX_SSE_PER_USER``
(each kind on its own). A member's score is its expiry; an open stream renews it at every heartbeat,
so a replica that dies without saying goodbye frees the slots within :data:`STREAM_SLOT_SECONDS`.

**Events.** ``POST /api/events`` is counted per caller in fixed one-minute windows (:func:`hit_rate`).

The scripts name keys built from a prefix inside Lua (the lease of each member): fine on one Redis
server, which is what yaffw uses (DESIGN §3), not on a Redis Cluster.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from yaffw.keys import Keys

# A stream slot outlives its last renewal by this long; streams renew more often (heartbeats).
STREAM_SLOT_SECONDS = 60
EVENT_WINDOW_SECONDS = 60

# KEYS[1] the user's sessions, KEYS[2] their worker-served sessions.
# ARGV: sid, now, max sessions, max transcodes, needs a worker (0/1), lease key prefix, lease seconds.
# Returns {} when admitted, else {limit name, live sids of the full set...}.
_ADMIT = """
local function live(key)
  local out = {}
  for _, sid in ipairs(redis.call('ZRANGE', key, 0, -1)) do
    if redis.call('EXISTS', ARGV[6] .. sid) == 1 then
      table.insert(out, sid)
    else
      redis.call('ZREM', key, sid)
    end
  end
  return out
end
local sessions = live(KEYS[1])
local transcodes = live(KEYS[2])
if #sessions >= tonumber(ARGV[3]) then
  table.insert(sessions, 1, 'sessions')
  return sessions
end
if ARGV[5] == '1' and #transcodes >= tonumber(ARGV[4]) then
  table.insert(transcodes, 1, 'transcodes')
  return transcodes
end
redis.call('SET', ARGV[6] .. ARGV[1], '1', 'EX', tonumber(ARGV[7]))
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('EXPIRE', KEYS[1], 86400)
if ARGV[5] == '1' then
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
  redis.call('EXPIRE', KEYS[2], 86400)
end
return {}
"""

# KEYS[1] the user's streams of one kind. ARGV: member, now, expiry, limit. 1 when taken, else 0.
_TAKE_STREAM = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]) - tonumber(ARGV[2]) + 1)
return 1
"""

# KEYS[1] the caller's counter. ARGV: limit, window seconds. 0 when allowed, else seconds to wait.
_HIT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2])) end
if n > tonumber(ARGV[1]) then
  local ttl = redis.call('TTL', KEYS[1])
  if ttl < 0 then redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2])); ttl = tonumber(ARGV[2]) end
  return math.max(ttl, 1)
end
return 0
"""


@dataclass(frozen=True)
class Refusal:
    """Why a session was not admitted: which limit (``sessions``/``transcodes``), its value, and
    the user's live sessions that fill it (candidates for closing an idle one)."""

    limit: str
    value: int
    sids: list[str]

    @property
    def code(self) -> str:
        """The error code clients see: ``too_many_sessions`` or ``too_many_transcodes``."""
        return f"too_many_{self.limit}"


async def admit(redis: Any, keys: Keys, user_id: str, sid: str, *, needs_worker: bool, max_sessions: int,
                max_transcodes: int, lease_seconds: int) -> Refusal | None:  # fmt: skip
    """Reserve a slot for the new session ``sid`` and take its lease, or say which limit is full."""
    reply = await redis.eval(
        _ADMIT, 2, keys.user_sessions(user_id), keys.user_transcodes(user_id), sid, repr(time.time()),
        max_sessions, max_transcodes, "1" if needs_worker else "0", keys.lease(""), lease_seconds,
    )  # fmt: skip
    if not reply:
        return None
    limit, *sids = (r.decode() if isinstance(r, bytes) else str(r) for r in reply)
    return Refusal(limit, max_sessions if limit == "sessions" else max_transcodes, sids)


async def release(redis: Any, keys: Keys, user_id: str, sid: str) -> None:
    """Give back the session's slots (stop, reaper, a failed open). Safe to repeat."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.zrem(keys.user_sessions(user_id), sid)
        pipe.zrem(keys.user_transcodes(user_id), sid)
        await pipe.execute()


def new_stream_id() -> str:
    """A fresh id for one SSE stream or socket."""
    return uuid.uuid4().hex


async def take_stream(redis: Any, keys: Keys, kind: str, user_id: str, stream_id: str, limit: int) -> bool:
    """Hold a slot for an open stream of ``kind`` (``sse``, ``socket``); False when the user has
    ``limit`` open already. Call again to renew (it keeps the slot it has), :func:`drop_stream` at the end."""
    now = time.time()
    return bool(await redis.eval(_TAKE_STREAM, 1, keys.user_streams(kind, user_id), stream_id, repr(now),
                                 repr(now + STREAM_SLOT_SECONDS), limit))  # fmt: skip


async def renew_stream(redis: Any, keys: Keys, kind: str, user_id: str, stream_id: str) -> None:
    """Keep an open stream's slot for another :data:`STREAM_SLOT_SECONDS`."""
    await redis.zadd(keys.user_streams(kind, user_id), {stream_id: time.time() + STREAM_SLOT_SECONDS})


async def drop_stream(redis: Any, keys: Keys, kind: str, user_id: str, stream_id: str) -> None:
    """Free a closed stream's slot."""
    await redis.zrem(keys.user_streams(kind, user_id), stream_id)


async def hit_rate(redis: Any, keys: Keys, caller: str, per_minute: int) -> int:
    """Count one request of ``caller``; 0 when within ``per_minute``, else the seconds until the
    window ends (the ``Retry-After``)."""
    return int(await redis.eval(_HIT, 1, keys.events_rate(caller), per_minute, EVENT_WINDOW_SECONDS))
