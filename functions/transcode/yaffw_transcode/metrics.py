"""Prometheus metrics of the transcode worker."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

SESSIONS = Gauge("yaffw_transcode_sessions", "Sessions this worker serves")
JOBS = Counter("yaffw_transcode_jobs_total", "Jobs taken from the queue", ["outcome"])
SEGMENTS_MADE = Counter("yaffw_transcode_segments_made_total", "Segments FFmpeg completed")
SEGMENTS_SERVED = Counter("yaffw_transcode_segments_served_total", "Segment requests", ["status"])
RESTARTS = Counter("yaffw_transcode_encoder_restarts_total", "Encoder restarts (seeks, variant switches)")
FIRST_SEGMENT = Histogram("yaffw_transcode_first_segment_seconds", "Job taken to its first segment made",
                          buckets=(0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 21, 34))  # fmt: skip
FIRST_SEGMENTS_CACHED = Counter("yaffw_transcode_first_segments_cached_total",
                                "Sessions that began with the first-segment cache")  # fmt: skip
OPENINGS = Counter("yaffw_transcode_openings_total", "Openings asked for by the scan, by what happened",
                   ["outcome"])  # fmt: skip
