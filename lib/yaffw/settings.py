"""One typed settings object, read from the environment once at start-up.

Entry points call :func:`Settings.from_env` and pass the object (or the parts a class needs) to
constructors; nothing else in ``yaffw`` reads ``os.environ``. Every ``YAFFW_*`` variable must be one
we know: a typo fails at start with a message naming it instead of being silently ignored.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from yaffw.errors import ConfigError

HWACCELS = ("none", "nvenc", "vaapi", "qsv")


def _url(schemes: tuple[str, ...]) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        parsed = urlparse(raw)
        if parsed.scheme not in schemes or not (parsed.hostname or parsed.path):
            raise ValueError(f"expected a URL with scheme {' or '.join(schemes)}")
        return raw

    return parse


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected true/false/1/0/yes/no")


def _int(minimum: int, maximum: int = 2**31) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        value = int(raw)
        if not minimum <= value <= maximum:
            raise ValueError(f"must be between {minimum} and {maximum}")
        return value

    return parse


def _choice(options: tuple[str, ...]) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw not in options:
            raise ValueError(f"must be one of {', '.join(options)}")
        return raw

    return parse


def _paths(raw: str) -> tuple[Path, ...]:
    parts = [p for p in raw.split(os.pathsep) if p]
    for part in parts:
        if not os.path.isabs(part):
            raise ValueError(f"{part!r} is not an absolute path")
    return tuple(Path(p) for p in parts)


def _path(raw: str) -> Path:
    if not os.path.isabs(raw):
        raise ValueError("must be an absolute path")
    return Path(raw)


def _prefix(raw: str) -> str:
    if any(c.isspace() for c in raw):
        raise ValueError("must not contain whitespace")
    return raw


def _targets(raw: str) -> dict[str, str]:
    """``name=http://host:port,name2=...`` — where the local dispatcher finds each function."""
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        name, sep, url = part.partition("=")
        if not sep or not name:
            raise ValueError(f"{part!r} is not name=url")
        out[name.strip()] = _url(("http", "https"))(url.strip())
    return out


def _text(raw: str) -> str:
    return raw


def _networks(raw: str) -> tuple[str, ...]:
    """``10.0.0.0/8,192.168.1.2,::1`` — addresses or CIDR ranges, normalised (``10.0.0.0/8``)."""
    out = []
    for part in filter(None, (p.strip() for p in raw.split(","))):
        try:
            out.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError:
            raise ValueError(f"{part!r} is not an IP address or CIDR range") from None
    return tuple(out)


# (field name, environment variable, parser). The default lives on the dataclass field.
_VARS: tuple[tuple[str, str, Callable[[str], Any]], ...] = (
    ("database_url", "DATABASE_URL", _url(("postgres", "postgresql"))),
    ("redis_url", "REDIS_URL", _url(("redis", "rediss", "unix"))),
    ("redis_prefix", "YAFFW_REDIS_PREFIX", _prefix),
    ("s3_endpoint_url", "S3_ENDPOINT_URL", _url(("http", "https"))),
    ("s3_bucket", "S3_BUCKET", _text),
    ("s3_access_key_id", "S3_ACCESS_KEY_ID", _text),
    ("s3_secret_access_key", "S3_SECRET_ACCESS_KEY", _text),
    ("s3_region", "S3_REGION", _text),
    ("image_dir", "YAFFW_IMAGE_DIR", _path),
    ("jwt_secret", "YAFFW_JWT_SECRET", _text),
    ("jwt_ttl_seconds", "YAFFW_JWT_TTL_SECONDS", _int(60, 86400 * 30)),
    ("device_token_ttl_seconds", "YAFFW_DEVICE_TOKEN_TTL_SECONDS", _int(60, 86400 * 365)),
    ("service_token", "YAFFW_SERVICE_TOKEN", _text),
    ("media_roots", "YAFFW_MEDIA_ROOTS", _paths),
    ("scratch_dir", "YAFFW_SCRATCH", _path),
    ("state_dir", "YAFFW_STATE_DIR", _path),
    ("hwaccel", "YAFFW_HWACCEL", _choice(HWACCELS)),
    ("vaapi_device", "YAFFW_VAAPI_DEVICE", _path),
    ("host", "YAFFW_HOST", _text),
    ("port", "PORT", _int(1, 65535)),
    ("advertise_host", "YAFFW_ADVERTISE_HOST", _text),
    ("worker_sessions", "YAFFW_WORKER_SESSIONS", _int(1, 64)),
    ("first_segment_cache", "YAFFW_FIRST_SEGMENT_CACHE", _int(0, 100_000)),
    ("openings", "YAFFW_OPENINGS", _bool),
    ("segment_seconds", "YAFFW_SEGMENT_SECONDS", _int(2, 30)),
    ("lease_seconds", "YAFFW_LEASE_SECONDS", _int(5, 3600)),
    ("scan_concurrency", "YAFFW_SCAN_CONCURRENCY", _int(1, 64)),
    ("admin_user", "YAFFW_ADMIN_USER", _text),
    ("admin_password", "YAFFW_ADMIN_PASSWORD", _text),
    ("activity_retention_months", "YAFFW_ACTIVITY_RETENTION_MONTHS", _int(1, 600)),
    ("dispatch_targets", "YAFFW_DISPATCH_TARGETS", _targets),
    ("knative_dir", "YAFFW_KNATIVE_DIR", _path),
    ("log_level", "YAFFW_LOG_LEVEL", _choice(("DEBUG", "INFO", "WARNING", "ERROR"))),
    ("login_attempts", "YAFFW_LOGIN_ATTEMPTS", _int(1, 1000)),
    ("secure_cookies", "YAFFW_SECURE_COOKIES", _bool),
    ("trusted_proxies", "YAFFW_TRUSTED_PROXIES", _networks),
    ("max_sessions_per_user", "YAFFW_MAX_SESSIONS_PER_USER", _int(1, 10_000)),
    ("max_transcodes_per_user", "YAFFW_MAX_TRANSCODES_PER_USER", _int(0, 10_000)),
    ("session_idle_seconds", "YAFFW_SESSION_IDLE_SECONDS", _int(1, 86400)),
    ("max_sse_per_user", "YAFFW_MAX_SSE_PER_USER", _int(1, 10_000)),
    ("events_per_minute", "YAFFW_EVENTS_PER_MINUTE", _int(1, 1_000_000)),
    ("event_retention_seconds", "YAFFW_EVENT_RETENTION_SECONDS", _int(60, 86400 * 365)),
    ("worker_connections", "YAFFW_WORKER_CONNECTIONS", _int(1, 100_000)),
    ("shutdown_grace_seconds", "YAFFW_SHUTDOWN_GRACE_SECONDS", _int(1, 3600)),
    ("shutdown_delay_seconds", "YAFFW_SHUTDOWN_DELAY_SECONDS", _int(0, 600)),
)

# Tuple settings written as comma-separated lists (the others are paths, joined with os.pathsep).
_COMMA_LISTS = frozenset({"trusted_proxies"})

# Variables with the YAFFW_ prefix that are read by other tools, not by Settings.
_FOREIGN = frozenset({"YAFFW_TEST_KEEP"})


@dataclass(frozen=True)
class Settings:
    """Everything a yaffw process is configured with. Build it with :meth:`from_env`."""

    database_url: str | None = None
    redis_url: str | None = None
    redis_prefix: str = ""
    s3_endpoint_url: str | None = None
    s3_bucket: str = "yaffw"
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    s3_region: str = "us-east-1"
    image_dir: Path | None = None
    jwt_secret: str | None = None
    jwt_ttl_seconds: int = 3600
    # Jellyfin apps log in once and keep their token (they have no refresh): 90 days by default.
    device_token_ttl_seconds: int = 90 * 86400
    service_token: str | None = None
    media_roots: tuple[Path, ...] = ()
    scratch_dir: Path = Path("/dev/shm/yaffw")
    state_dir: Path = field(default_factory=lambda: Path.home() / ".local/state/yaffw")
    hwaccel: str = "none"
    vaapi_device: Path = Path("/dev/dri/renderD128")
    host: str = "0.0.0.0"
    port: int = 8080
    advertise_host: str | None = None
    worker_sessions: int = 2
    # Films whose first segments a worker machine keeps for the next session (0: off); see
    # functions/transcode/yaffw_transcode/first_segments.py. About 1-3 MB each, in scratch.
    first_segment_cache: int = 50
    # Films' first segments made ahead by idle workers after a scan and kept in object storage, so a
    # film's first playback starts like a second one (lib/yaffw/opening_queue.py).
    openings: bool = True
    segment_seconds: int = 6
    lease_seconds: int = 30
    scan_concurrency: int = 4
    admin_user: str = "admin"
    admin_password: str | None = None
    activity_retention_months: int = 12
    dispatch_targets: dict[str, str] = field(default_factory=dict)
    knative_dir: Path | None = None
    log_level: str = "INFO"
    login_attempts: int = 10
    secure_cookies: bool = False
    # Reverse proxies whose X-Forwarded-For/-Proto we believe (CIDRs); empty: the peer is the client.
    trusted_proxies: tuple[str, ...] = ()
    # Per-user limits (yaffw.user_limits); an admin may set other values per user (users.max_*).
    max_sessions_per_user: int = 4
    max_transcodes_per_user: int = 2
    # A session paused, or without a progress report this long, may be closed to admit a new one.
    session_idle_seconds: int = 300
    max_sse_per_user: int = 8
    # POST /api/events per caller (admin or service token) and minute; stream entries kept this long.
    events_per_minute: int = 120
    event_retention_seconds: int = 7 * 86400
    # Connections one api process keeps to transcode workers (segment proxy); beyond it requests wait
    # for a free one and get 503 + Retry-After when none frees in time.
    worker_connections: int = 256
    # The api on SIGTERM (yaffw_api.drain): it stays open but not ready for the delay (the load
    # balancer takes it out), then waits for requests in flight; it has exited by the grace.
    shutdown_grace_seconds: int = 30
    shutdown_delay_seconds: int = 5

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Parse ``environ`` (default ``os.environ``).

        :raises ConfigError: naming the variable, for a malformed value or an unknown ``YAFFW_*``.
        """
        env = os.environ if environ is None else environ
        known = {var for _, var, _ in _VARS}
        unknown = sorted(k for k in env if k.startswith("YAFFW_") and k not in known | _FOREIGN)
        if unknown:
            raise ConfigError(f"unknown setting {unknown[0]}: not a yaffw variable (typo?)")
        values: dict[str, Any] = {}
        for name, var, parse in _VARS:
            raw = env.get(var)
            if raw is None or raw == "":
                continue
            try:
                values[name] = parse(raw)
            except ValueError as exc:
                raise ConfigError(f"{var}={raw!r} is invalid: {exc}") from exc
        settings = cls(**values)
        if settings.shutdown_delay_seconds >= settings.shutdown_grace_seconds:
            raise ConfigError("YAFFW_SHUTDOWN_DELAY_SECONDS must be less than YAFFW_SHUTDOWN_GRACE_SECONDS")
        return settings

    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed (tests and the local runner use this)."""
        return dataclasses.replace(self, **changes)

    def require(self, *names: str) -> None:
        """:raises ConfigError: if any of the named settings is unset (for a function's start)."""
        env_of = {name: var for name, var, _ in _VARS}
        for name in names:
            if getattr(self, name) in (None, "", ()):
                raise ConfigError(f"{env_of[name]} must be set")

    def to_env(self) -> dict[str, str]:
        """The environment that reproduces these settings (for child processes)."""
        out: dict[str, str] = {}
        for name, var, _ in _VARS:
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool):
                out[var] = "true" if value else "false"
            elif isinstance(value, tuple):
                out[var] = ("," if name in _COMMA_LISTS else os.pathsep).join(str(v) for v in value)
            elif isinstance(value, dict):
                out[var] = ",".join(f"{k}={v}" for k, v in value.items())
            else:
                out[var] = str(value)
        return out

    @property
    def s3_enabled(self) -> bool:
        """True when images go to an S3 endpoint rather than the directory store."""
        return self.s3_endpoint_url is not None


def env_var_names() -> frozenset[str]:
    """Every environment variable Settings reads (manifest tests check against this)."""
    return frozenset(var for _, var, _ in _VARS)
