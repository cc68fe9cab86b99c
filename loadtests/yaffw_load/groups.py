"""Per-group statistics: all requests of one kind of user, in one row, written beside Locust's CSV.

Locust's CSV has a row per request name; a percentile over a whole group (say, everything browsers
asked for) cannot be computed from those rows, so this keeps a second :class:`RequestStats` keyed by
group and writes ``<csv prefix>_groups.csv`` when the test stops. Groups are the ``[tag]`` of the
request name plus ``api`` or ``media`` (playlists, segments and file ranges), so a browser's p95 is
not mixed with a segment's transfer time; logins are one group of their own (``login``: one per user,
slow by design). Custom ``METRIC`` events stay out (they are not requests).
"""

from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import Any

from locust.env import Environment
from locust.stats import RequestStats

from yaffw_load.metrics import METRIC

COLUMNS = ["Group", "Requests", "Failures", "Requests/s", "50%", "95%", "99%", "Max"]
_MEDIA_MARKS = (".ts", ".m3u8", "/file", "/stream")


def group_of(name: str) -> str:
    """``[browse] /api/items/{id}`` → ``browse api``; segment and range requests are ``media``; every
    group's logins are ``login`` (once per user, and deliberately slow: PBKDF2)."""
    if "/api/auth/login" in name or "/AuthenticateByName" in name:
        return "login"
    tag = name[1 : name.index("]")] if name.startswith("[") and "]" in name else "other"
    return f"{tag} {'media' if any(m in name for m in _MEDIA_MARKS) else 'api'}"


class GroupStats:
    """Collects every request by group; :meth:`write` saves the table."""

    def __init__(self) -> None:
        self.stats = RequestStats(use_response_times_cache=False)
        self.first: float | None = None  # the first and the last request counted (for requests/s)
        self.last = 0.0

    def on_request(self, request_type: str, name: str, response_time: float, response_length: int,
                   exception: Any = None, **_kw: Any) -> None:  # fmt: skip
        """Locust ``request`` listener."""
        if request_type == METRIC:
            return
        group = group_of(name)
        self.last = time.time()
        self.first = self.first or self.last
        self.stats.log_request("", group, int(response_time or 0), response_length or 0)
        if exception is not None:
            self.stats.log_error("", group, exception)

    def rows(self) -> list[list[Any]]:
        """One row per group, sorted by name."""
        elapsed = max(1.0, self.last - (self.first or self.last))
        out = []
        for (name, _), e in sorted(self.stats.entries.items()):
            percentiles = [e.get_response_time_percentile(p) for p in (0.5, 0.95, 0.99)]
            rate = round(e.num_requests / elapsed, 2)
            out.append([name, e.num_requests, e.num_failures, rate, *percentiles, round(e.max_response_time or 0)])
        return out

    def write(self, prefix: str) -> Path:
        """Write ``<prefix>_groups.csv``; returns its path."""
        path = Path(f"{prefix}_groups.csv")
        with path.open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(COLUMNS)
            w.writerows(self.rows())
        return path


def install(environment: Environment) -> GroupStats:
    """Listen to requests; write the table at the end when Locust writes its CSV (``--csv``)."""
    groups = GroupStats()
    environment.events.request.add_listener(groups.on_request)

    def _reset(**_kw: Any) -> None:
        # --reset-stats: Locust drops the ramp-up from its numbers; so do we.
        if environment.reset_stats:
            groups.stats, groups.first = RequestStats(use_response_times_cache=False), None

    def _write(**_kw: Any) -> None:
        prefix = getattr(environment.parsed_options, "csv_prefix", None)
        if prefix:
            groups.write(prefix)

    environment.events.spawning_complete.add_listener(_reset)
    environment.events.reset_stats.add_listener(_reset)
    environment.events.quitting.add_listener(_write)
    return groups
