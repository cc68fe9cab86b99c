"""Event routes read from the Knative Trigger manifests under ``knative/``.

The local dispatcher and the cluster route by the same files, so they cannot drift: a Trigger's
``spec.filter.attributes.type`` names the event type and ``spec.subscriber.ref.name`` the Knative
Service (``yaffw-scan`` ...), with an optional ``spec.subscriber.uri`` path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from yaffw.errors import ConfigError


@dataclass(frozen=True)
class Route:
    """Deliver events of ``event_type`` to ``service`` at ``path``."""

    trigger: str
    event_type: str
    service: str
    path: str = "/"


def default_dir() -> Path:
    """The repository's ``knative/`` folder."""
    return Path(__file__).resolve().parents[2] / "knative"


def load_routes(knative_dir: Path | None = None) -> dict[str, list[Route]]:
    """``{event_type: [Route, ...]}`` from every Trigger in ``knative_dir`` (recursively).

    :raises ConfigError: for a Trigger without a type filter or a subscriber ref.
    """
    routes: dict[str, list[Route]] = {}
    for file in sorted((knative_dir or default_dir()).rglob("*.yaml")):
        for doc in yaml.safe_load_all(file.read_text()):
            if not isinstance(doc, dict) or doc.get("kind") != "Trigger":
                continue
            name = doc.get("metadata", {}).get("name", "?")
            spec = doc.get("spec") or {}
            event_type = ((spec.get("filter") or {}).get("attributes") or {}).get("type")
            subscriber = spec.get("subscriber") or {}
            service = (subscriber.get("ref") or {}).get("name")
            if not event_type or not service:
                raise ConfigError(f"Trigger {name} in {file.name} needs filter.attributes.type and subscriber.ref")
            path = subscriber.get("uri") or "/"
            routes.setdefault(event_type, []).append(Route(name, event_type, service, path))
    return routes
