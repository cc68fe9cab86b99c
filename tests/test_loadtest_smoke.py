"""The load test in its CI form: a few users of every kind for ~30 s against `yaffw up`, zero failures.

It runs the documented command (``loadtests/run.py --url``), which runs Locust headless as a
subprocess with ``--csv``, then reads Locust's CSV itself: no request may have failed, and every kind
of user must have done its job (browsed, read file ranges, played HLS segments, scanned, and the
Jellyfin apps logged in by name, loaded their home screen, asked PlaybackInfo and played: a TV app by
direct stream, a phone app through the TranscodingUrl). CI machines run other tests meanwhile, so
the run is started with ``--allow-load`` (figures marked, not refused).
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "smoke-admin-password"


def _rows(path: Path) -> dict[tuple[str, str], dict[str, str]]:
    with path.open(newline="") as f:
        return {(r["Type"], r["Name"]): r for r in csv.DictReader(f)}


@pytest.mark.e2e
@pytest.mark.timeout(300)
def test_load_test_smoke(start_stack, sample_media, tmp_path: Path) -> None:
    stack = start_stack({"YAFFW_ADMIN_PASSWORD": PASSWORD, "YAFFW_WORKER_SESSIONS": "4"},
                        ["--media", str(sample_media.root)])  # fmt: skip
    out = tmp_path / "loadtest"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOADTEST_")}
    env.update(
        LOADTEST_ADMIN_PASSWORD=PASSWORD, LOADTEST_ACCOUNTS="3",
        # 1 admin + 7 weighted users: 3 browsers, 1 direct-play viewer, 1 HLS viewer, 2 Jellyfin apps (a TV
        # playing by direct stream, a phone through the TranscodingUrl: both play the HEVC film, which the
        # TV plays as it is and the phone's H.264-only profile needs transcoded), every app item page a playback.
        LOADTEST_WEIGHT_BROWSE="3", LOADTEST_WEIGHT_DIRECT="1", LOADTEST_WEIGHT_HLS="1", LOADTEST_WEIGHT_APP="2",
        LOADTEST_ADMINS="1", LOADTEST_APP_DEVICE="tv,phone", LOADTEST_APP_PLAY_CHANCE="1",
        LOADTEST_APP_PLAY_FILTER="q=Hevc",
        LOADTEST_THINK_MIN="0.5", LOADTEST_THINK_MAX="2", LOADTEST_SEEK_CHANCE="0.2",
        LOADTEST_SCAN_EVERY_S="10", LOADTEST_ADMIN_THINK_S="3", LOADTEST_PROGRESS_EVERY_S="5",
        LOADTEST_PAUSE_BETWEEN_S="1", LOADTEST_WATCH_MAX_S="25",
    )  # fmt: skip
    cmd = [sys.executable, str(ROOT / "loadtests/run.py"), "--url", stack.url, "--users", "8", "--minutes", "0.5",
           "--out", str(out), "--settle", "3", "--scan-timeout", "120", "--stop-timeout", "10",
           "--allow-load", "--quiet-wait", "0"]  # fmt: skip
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    report = result.stdout[-6000:] + result.stderr[-3000:]
    stats = _rows(out / "u8" / "locust_stats.csv")

    total = stats[("", "Aggregated")]
    assert int(total["Request Count"]) > 50, report
    assert int(total["Failure Count"]) == 0, report
    assert result.returncode == 0, report

    def count(type_: str, name: str) -> int:
        return int(stats.get((type_, name), {}).get("Request Count", 0))

    assert count("GET", "[browse] /api/items/{id}") > 0, report
    assert count("GET", "[browse] /api/items?library_id (page)") + count("GET", "[browse] /api/latest") > 0, report
    assert count("GET", "[direct] /api/items/{id}/file (range)") > 0, report
    assert count("GET", "[hls] /api/sessions/{sid}/{variant}/{n}.ts") > 0, report
    assert count("METRIC", "[hls] time to first segment") > 0, report
    assert count("POST", "[admin] /api/libraries/{id}/scan") > 0, report
    assert count("POST", "[app] /Users/AuthenticateByName") > 0, report
    assert count("GET", "[app] /UserViews") > 0 and count("GET", "[app] /Items/Latest?ParentId") > 0, report
    assert count("GET", "[app] /Items/{id}/Images/Primary") > 0, report
    assert count("GET", "[app] /Items/{id}") > 0, report
    assert count("POST", "[app] /Items/{id}/PlaybackInfo") > 0, report
    assert count("POST", "[app] /Sessions/Playing") > 0, report
    assert count("POST", "[app] /Sessions/Playing/Progress") > 0, report
    assert count("GET", "[app] /Videos/{id}/stream (range)") > 0, report
    assert count("GET", "[app] /videos/{id}/hls1/{playlist}/{n}.ts") > 0, report
    summary = (out / "summary.txt").read_text()
    assert "browse api" in summary and "app api" in summary, report
    assert "load before/during" in summary, report
