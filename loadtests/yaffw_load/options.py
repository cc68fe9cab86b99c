"""The load test's own settings: Locust custom arguments, each also read from a ``LOADTEST_*`` variable.

They are registered on Locust's parser (so ``locust --help`` lists them and the web UI shows them)
and read back once per process by :func:`get`. The names are ``LOADTEST_*``, not ``YAFFW_*``: yaffw
refuses unknown ``YAFFW_*`` variables at start, and the load test's environment is often the
environment ``yaffw up`` is started from.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from typing import Any

# (option, variable, default, help). Defaults model a household-sized mix of people.
SPEC: tuple[tuple[str, str, Any, str], ...] = (
    ("weight_browse", "LOADTEST_WEIGHT_BROWSE", 10, "weight of browsing users (0: none)"),
    ("weight_direct", "LOADTEST_WEIGHT_DIRECT", 3, "weight of direct-play viewers (0: none)"),
    ("weight_hls", "LOADTEST_WEIGHT_HLS", 1, "weight of HLS (transcode) viewers (0: none)"),
    ("weight_app", "LOADTEST_WEIGHT_APP", 0, "weight of Jellyfin app users (0: none)"),
    ("admins", "LOADTEST_ADMINS", 1, "admins who scan now and then (fixed count, 0: none)"),
    ("accounts", "LOADTEST_ACCOUNTS", 10, "load-test accounts the admin creates; users share them round robin"),
    ("account_password", "LOADTEST_ACCOUNT_PASSWORD", "loadtest-password-1", "password of those accounts"),
    ("admin_user", "LOADTEST_ADMIN_USER", "admin", "the admin's name"),
    ("admin_password", "LOADTEST_ADMIN_PASSWORD", "", "the admin's password (default: YAFFW_ADMIN_PASSWORD)"),
    ("think_min", "LOADTEST_THINK_MIN", 2.0, "browsers: shortest pause between actions (s)"),
    ("think_max", "LOADTEST_THINK_MAX", 8.0, "browsers: longest pause between actions (s)"),
    ("page_size", "LOADTEST_PAGE_SIZE", 24, "browsers: items per library page"),
    ("image_cache_s", "LOADTEST_IMAGE_CACHE_S", 300.0, "browsers: seconds an image stays cached before revalidation"),
    ("watch_max_s", "LOADTEST_WATCH_MAX_S", 600.0, "viewers: longest watch of one item (s) before stopping"),
    ("pause_between_s", "LOADTEST_PAUSE_BETWEEN_S", 5.0, "viewers: pause between two items (s)"),
    ("buffer_s", "LOADTEST_BUFFER_S", 30.0, "viewers: media seconds kept buffered ahead (hls.js: 30)"),
    ("progress_every_s", "LOADTEST_PROGRESS_EVERY_S", 10.0, "viewers: seconds between progress reports"),
    ("seek_chance", "LOADTEST_SEEK_CHANCE", 0.05, "viewers: chance of a seek after each segment or chunk"),
    ("chunk_s", "LOADTEST_CHUNK_S", 4.0, "direct play: media seconds per range request"),
    ("play_filter", "LOADTEST_PLAY_FILTER", "", "viewers: extra query for the items they pick from, e.g. q=Feature"),
    ("hls_height", "LOADTEST_HLS_HEIGHT", 720, "HLS viewers: max_height they state (kept below the source's)"),
    ("hls_variant", "LOADTEST_HLS_VARIANT", "top", "HLS viewers: variant they play: top or bottom"),
    ("app_device", "LOADTEST_APP_DEVICE", "tv", "app users: DeviceProfile: tv, web, phone, or a list (tv,phone)"),
    ("app_play_filter", "LOADTEST_APP_PLAY_FILTER", "", "app users: what they play (q=Alpha); default: play filter"),
    ("app_play_chance", "LOADTEST_APP_PLAY_CHANCE", 0.25, "app users: chance that an item page ends in playback"),
    ("admin_think_s", "LOADTEST_ADMIN_THINK_S", 20.0, "admin: mean pause between actions (s)"),
    ("scan_every_s", "LOADTEST_SCAN_EVERY_S", 120.0, "admin: seconds between library scans"),
)


@dataclass(frozen=True)
class Options:
    """Parsed values of :data:`SPEC`."""

    weight_browse: int
    weight_direct: int
    weight_hls: int
    weight_app: int
    admins: int
    accounts: int
    account_password: str
    admin_user: str
    admin_password: str
    think_min: float
    think_max: float
    page_size: int
    image_cache_s: float
    watch_max_s: float
    pause_between_s: float
    buffer_s: float
    progress_every_s: float
    seek_chance: float
    chunk_s: float
    play_filter: str
    hls_height: int
    hls_variant: str
    app_device: str
    app_play_filter: str
    app_play_chance: float
    admin_think_s: float
    scan_every_s: float


_current: Options | None = None


def add_arguments(parser: Any) -> None:
    """Register every option on Locust's argument parser."""
    group = parser.add_argument_group("yaffw load test", "also settable as LOADTEST_* environment variables")
    for name, var, default, help_ in SPEC:
        group.add_argument("--" + name.replace("_", "-"), dest=name, type=type(default), default=default,
                           env_var=var, help=f"{help_} [{var}, default {default!r}]")  # fmt: skip


def load(parsed: Any) -> Options:
    """Build :class:`Options` from Locust's parsed options and remember them for :func:`get`."""
    global _current
    values = {f.name: getattr(parsed, f.name) for f in fields(Options)}
    if not values["admin_password"]:
        values["admin_password"] = os.environ.get("YAFFW_ADMIN_PASSWORD", "")
    if values["hls_variant"] not in ("top", "bottom"):
        raise SystemExit("LOADTEST_HLS_VARIANT must be top or bottom")
    devices = [d.strip() for d in values["app_device"].split(",") if d.strip()]
    if not devices or any(d not in ("tv", "web", "phone") for d in devices):
        raise SystemExit("LOADTEST_APP_DEVICE must be tv, web, phone or a comma-separated list of them")
    if values["think_max"] < values["think_min"]:
        raise SystemExit("LOADTEST_THINK_MAX must be >= LOADTEST_THINK_MIN")
    _current = Options(**values)
    return _current


def get() -> Options:
    """The options of this process (after Locust's ``init`` event)."""
    if _current is None:
        raise RuntimeError("options are read in the init event; is this running under Locust?")
    return _current
