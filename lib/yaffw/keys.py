"""Every Redis key yaffw uses (DESIGN §3). No other module spells a key.

``Keys(prefix)`` applies ``YAFFW_REDIS_PREFIX`` once, so tests and several installations can share
one Redis.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Keys:
    """Key builder bound to one prefix."""

    prefix: str = ""

    # Lists and streams with fixed names.
    @property
    def transcode_queue(self) -> str:
        """Pending JobPayload JSON; KEDA scales the workers on its length."""
        return f"{self.prefix}queue:transcode"

    @property
    def openings_queue(self) -> str:
        """Item ids whose opening segments an idle worker should make (yaffw.opening_queue)."""
        return f"{self.prefix}queue:openings"

    @property
    def active_transcode(self) -> str:
        """One entry per running session; KEDA's second trigger keeps busy workers alive."""
        return f"{self.prefix}active:transcode"

    @property
    def events(self) -> str:
        """The CloudEvents bus (a stream of structured-mode JSON)."""
        return f"{self.prefix}events"

    @property
    def events_dead(self) -> str:
        """Events that kept failing after every retry."""
        return f"{self.prefix}events:dead"

    @property
    def notify(self) -> str:
        """Pub/sub channel fanned out to every api replica's SSE clients."""
        return f"{self.prefix}notify"

    @property
    def workers(self) -> str:
        """Set of worker ids that have registered (the reaper checks each one's heartbeat)."""
        return f"{self.prefix}workers"

    @property
    def sessions(self) -> str:
        """Set of open playback session ids (for the admin view and the reaper)."""
        return f"{self.prefix}sessions"

    def processing(self, worker_id: str) -> str:
        """Jobs a worker has taken; requeued by the reaper if the worker dies."""
        return f"{self.prefix}processing:{worker_id}"

    def worker(self, worker_id: str) -> str:
        """Worker heartbeat: ``host:port`` with a short TTL."""
        return f"{self.prefix}worker:{worker_id}"

    def session_map(self, sid: str) -> str:
        """Which worker (``host:port``) serves a playback session."""
        return f"{self.prefix}map:session:{sid}"

    def session_events(self, sid: str) -> str:
        """Pub/sub channel: ``ready`` / ``failed`` for one session."""
        return f"{self.prefix}events:session:{sid}"

    def lease(self, sid: str) -> str:
        """Renewed by the api on every proxied request; a lapsed lease ends the session."""
        return f"{self.prefix}lease:session:{sid}"

    def session(self, sid: str) -> str:
        """Playback session hash: user, item, decision, position, worker."""
        return f"{self.prefix}session:{sid}"

    def revoked(self, jti: str) -> str:
        """JWT revocation marker, TTL = the token's remaining life."""
        return f"{self.prefix}revoked:{jti}"

    def user_revoked_before(self, user_id: str) -> str:
        """Tokens of this user issued before the stored time are refused (delete/disable)."""
        return f"{self.prefix}revoked:user:{user_id}"

    def login_attempts(self, scope: str, who: str) -> str:
        """Failed-login counter per user name or per client address."""
        return f"{self.prefix}ratelimit:login:{scope}:{who}"

    def scan_lock(self, library_id: str) -> str:
        """Held while a library is being scanned, so two scans never overlap."""
        return f"{self.prefix}lock:scan:{library_id}"

    def session_pending(self, sid: str) -> str:
        """Set (NX, short TTL) while a job for this session waits in the queue, so concurrent
        segment requests and api replicas enqueue it once."""
        return f"{self.prefix}pending:session:{sid}"

    def scan_pending(self, library_id: str) -> str:
        """Set of scan requests (``*`` = whole library, else a path) that arrived while the lock was
        held; the holder runs them before it lets go."""
        return f"{self.prefix}lock:scan:{library_id}:pending"

    def device_token(self, user_id: str, device_id: str) -> str:
        """String: the ``jti`` of the token a Jellyfin client's device holds (one per device and user)."""
        return f"{self.prefix}device:{user_id}:{device_id}"

    def devices(self, user_id: str) -> str:
        """Hash: a user's Jellyfin devices, device id -> JSON (client, device name, version, last seen)."""
        return f"{self.prefix}devices:{user_id}"

    def user_sessions(self, user_id: str) -> str:
        """Sorted set: the user's open playback session ids (score: opened at), for the per-user limit."""
        return f"{self.prefix}limits:sessions:{user_id}"

    def user_transcodes(self, user_id: str) -> str:
        """Sorted set: the user's open sessions that a transcode worker serves, for the per-user limit."""
        return f"{self.prefix}limits:transcodes:{user_id}"

    def user_streams(self, kind: str, user_id: str) -> str:
        """Sorted set: the user's open SSE streams or Jellyfin sockets (score: expiry, renewed while open)."""
        return f"{self.prefix}limits:{kind}:{user_id}"

    def events_rate(self, caller: str) -> str:
        """Counter of ``POST /api/events`` by one caller in the current minute."""
        return f"{self.prefix}ratelimit:events:{caller}"

    def opening(self, item_id: str) -> str:
        """Hash: the item's openings that are whole in object storage, opening key → segment count;
        a worker asks Redis, not the store, whether there is one (yaffw.opening_store)."""
        return f"{self.prefix}opening:{item_id}"

    def subtitle_vtt(self, item_id: str, stream_index: int, fingerprint: str) -> str:
        """String (TTL a day): an item's subtitle stream converted to WebVTT, for the file whose size and
        mtime make ``fingerprint``."""
        return f"{self.prefix}subs:{item_id}:{stream_index}:{fingerprint}"
