"""Serve a functions-framework CloudEvent function with yaffw's health and metrics routes.

``yaffw function scan`` (locally and in the container) loads ``functions/scan/main.py``'s ``handle``
through functions-framework, adds ``/healthz``, ``/readyz`` and ``/metrics``, and serves it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import flask
import functions_framework
from gunicorn.app.base import BaseApplication
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

from yaffw import health
from yaffw.redis_client import sync_client
from yaffw.settings import Settings

log = logging.getLogger(__name__)

EVENTS = Counter("yaffw_function_events_total", "CloudEvents handled", ["function", "outcome"])
SECONDS = Histogram("yaffw_function_event_seconds", "Time to handle one CloudEvent", ["function"])


def functions_dir() -> Path:
    """The repository's ``functions/`` folder."""
    return Path(__file__).resolve().parents[2] / "functions"


def create_app(name: str, settings: Settings) -> flask.Flask:
    """The Flask app for function ``name`` (``scan``, ``lease-reaper``)."""
    source = functions_dir() / name / "main.py"
    app: flask.Flask = functions_framework.create_app(target="handle", source=str(source), signature_type="cloudevent")
    redis = sync_client(settings.redis_url)

    @app.before_request
    def _start() -> None:
        flask.g.started = time.perf_counter()

    @app.after_request
    def _count(response: flask.Response) -> flask.Response:
        if flask.request.method == "POST":
            outcome = "ok" if response.status_code < 400 else "error"
            EVENTS.labels(name, outcome).inc()
            SECONDS.labels(name).observe(time.perf_counter() - flask.g.get("started", time.perf_counter()))
        return response

    def healthz() -> flask.Response:
        return flask.jsonify(status="ok")

    def readyz() -> tuple[flask.Response, int]:
        checks = health.check_sync(settings, redis)
        return flask.jsonify(checks), 200 if health.is_ready(checks) else 503

    def metrics() -> flask.Response:
        return flask.Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)

    app.add_url_rule("/healthz", "healthz", healthz, methods=["GET"])
    app.add_url_rule("/readyz", "readyz", readyz, methods=["GET"])
    app.add_url_rule("/metrics", "metrics", metrics, methods=["GET"])
    return app


class _Server(BaseApplication):
    """gunicorn (functions-framework's own production server) serving one Flask app in-process."""

    def __init__(self, app: flask.Flask, settings: Settings):
        self.application = app
        self.options = {
            "bind": f"{settings.host}:{settings.port}",
            "workers": 1,  # Knative scales by replicas; one process keeps /metrics whole
            "worker_class": "gthread",
            "threads": 8,  # health probes are answered while a long scan runs
            "timeout": 0,  # a scan answers when it is done; Knative's timeoutSeconds bounds it
            "graceful_timeout": 30,
            "accesslog": None,
            "loglevel": settings.log_level.lower(),
        }
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Callable[..., Any]:  # a WSGI application (Flask is one)
        return self.application


def serve(name: str, settings: Settings) -> None:
    """Serve function ``name`` on ``settings.host:settings.port`` until SIGTERM (blocks)."""
    app = create_app(name, settings)
    log.info("function %s listening on %s:%d", name, settings.host, settings.port)
    _Server(app, settings).run()
