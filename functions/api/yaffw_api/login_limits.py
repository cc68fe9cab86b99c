"""Failed-login limits that slow a guesser down without locking the household out.

Two counters, each a Redis hash ``{n, until}`` (``Keys.login_attempts``):

- ``name`` scope, keyed by user name **and** client address: the tight one, at
  ``settings.login_attempts``. Guessing one account's password from one client is slowed down; the
  same name from another client is not affected, so a flood from one address cannot lock the owner
  out from theirs.
- ``addr`` scope, keyed by client address only, at :data:`ADDRESS_FACTOR` times that: bounds a
  client that sprays many names (one try each would never trip the first counter).

An attempt is *reserved* before the password hash is checked: one Lua script refuses it if a counter
is over its limit and still cooling down, and otherwise increments every counter, atomically. So
fifty concurrent wrong guesses cannot all see "below the limit" and all reach the hash check: at
most ``limit`` do. Past the limit each further try is allowed only after a delay that doubles with
each failure (1 s, 2 s, 4 s … up to :data:`MAX_DELAY_MS`); refused tries get 429 with
``Retry-After``. A right password :func:`release` s its reservation: the name counter is cleared,
the address counter gives back the one it took.

The right password from a client with no failures is therefore always checked and accepted.
Counters expire :data:`WINDOW_SECONDS` after the last try (or after the current delay, if longer).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from yaffw.keys import Keys

WINDOW_SECONDS = 900
BASE_DELAY_MS = 1000
MAX_DELAY_MS = 900_000
ADDRESS_FACTOR = 3

# KEYS: counters. ARGV: one limit per key, then base delay ms, max delay ms, window ms.
# Returns 0 when the attempt is reserved, else the milliseconds to wait.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local nkeys = #KEYS
local base, cap, window = tonumber(ARGV[nkeys + 1]), tonumber(ARGV[nkeys + 2]), tonumber(ARGV[nkeys + 3])
local wait = 0
for i, key in ipairs(KEYS) do
  local n = tonumber(redis.call('HGET', key, 'n') or '0')
  local untl = tonumber(redis.call('HGET', key, 'until') or '0')
  if n >= tonumber(ARGV[i]) and now < untl then wait = math.max(wait, untl - now) end
end
if wait > 0 then return wait end
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[i])
  local n = redis.call('HINCRBY', key, 'n', 1)
  local ttl = window
  if n >= limit then
    local delay = math.min(cap, base * 2 ^ (n - limit))
    redis.call('HSET', key, 'until', now + delay)
    ttl = math.max(window, delay + 1000)
  end
  redis.call('PEXPIRE', key, ttl)
end
return 0
"""

# KEYS[1]: the name counter (cleared), KEYS[2]: the address counter (gives one back); ARGV[1]: its limit.
_RELEASE = """
redis.call('DEL', KEYS[1])
if redis.call('EXISTS', KEYS[2]) == 1 then
  local n = redis.call('HINCRBY', KEYS[2], 'n', -1)
  if n < tonumber(ARGV[1]) then redis.call('HDEL', KEYS[2], 'until') end
end
return 0
"""


@dataclass(frozen=True)
class Counters:
    """The two counters of one login attempt and their limits."""

    keys: tuple[str, str]
    limits: tuple[int, int]


def counters(keys: Keys, limit: int, name: str, client: str) -> Counters:
    """The counters for ``name`` (case-insensitive) tried from ``client``."""
    return Counters(
        (keys.login_attempts("name", f"{client}/{name.lower()}"), keys.login_attempts("addr", client)),
        (limit, limit * ADDRESS_FACTOR),
    )


async def reserve(redis: Any, c: Counters) -> int:
    """Take one attempt. Returns 0 when taken, else the seconds to wait before the next try."""
    script = redis.register_script(_RESERVE)
    wait_ms = int(await script(keys=list(c.keys), args=[*c.limits, BASE_DELAY_MS, MAX_DELAY_MS,
                                                         WINDOW_SECONDS * 1000]))  # fmt: skip
    return math.ceil(wait_ms / 1000) if wait_ms > 0 else 0


async def release(redis: Any, c: Counters) -> None:
    """The attempt had the right password: it is not a failure."""
    script = redis.register_script(_RELEASE)
    await script(keys=list(c.keys), args=[c.limits[1]])
