"""Custom measurements, reported as Locust ``request`` events so they land in its CSV and HTML.

Each has request type ``METRIC`` and a name starting with its group (``[hls]``, ``[direct]``); the
"response time" column holds the measured milliseconds:

- ``[hls] time to first segment``: pressing play (the playback request) to the first segment's
  last byte. ``[direct] time to first chunk`` is the same for direct play.
- ``[hls] seek to segment`` / ``[direct] seek to chunk``: a seek to the media arriving.
- ``[hls] stall`` / ``[direct] stall``: one entry per rebuffering, its length. The count says how
  often viewers stalled, the percentiles how long.
- ``[hls] segment retry``: a 503 + Retry-After from the proxy (segment not ready in time), retried
  as a player does; its time is the Retry-After waited.
"""

from __future__ import annotations

from locust.env import Environment

METRIC = "METRIC"


def record(environment: Environment, name: str, milliseconds: float, exception: Exception | None = None) -> None:
    """Report one measurement (``exception`` makes it a failure)."""
    environment.events.request.fire(request_type=METRIC, name=name, response_time=milliseconds,
                                    response_length=0, exception=exception, context={})  # fmt: skip
