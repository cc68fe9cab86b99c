"""The api answers liveness, readiness and metrics, and errors in one JSON shape."""

from __future__ import annotations

import httpx


def test_health_ready_metrics(api_url: str) -> None:
    assert httpx.get(api_url + "/healthz").json() == {"status": "ok"}
    ready = httpx.get(api_url + "/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"postgres": "ok", "redis": "ok"}
    metrics = httpx.get(api_url + "/metrics")
    assert metrics.status_code == 200
    assert "yaffw_api_requests_total" in metrics.text


def test_unknown_route_is_json_404(api_url: str) -> None:
    r = httpx.get(api_url + "/api/does-not-exist")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
