"""Loading and walking the Kubernetes manifests (shared by the test_manifests* tests)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
MANIFEST_DIRS = ("deploy", "knative", "keda")
# Images built from this repository's Dockerfile: "yaffw-<target>" before kustomize renames them.
IMAGE_PREFIX = "yaffw-"
KUSTOMIZE_KINDS = {"Kustomization", "Component"}


@dataclass(frozen=True)
class Doc:
    """One YAML document of one manifest file."""

    path: Path
    data: dict[str, Any]

    @property
    def kind(self) -> str:
        return self.data.get("kind", "")

    @property
    def api_version(self) -> str:
        return self.data.get("apiVersion", "")

    @property
    def name(self) -> str:
        return (self.data.get("metadata") or {}).get("name", "")

    def __repr__(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.kind}/{self.name}"


def manifest_files() -> list[Path]:
    """Every YAML file under the manifest folders, plus the root kustomization; kustomize patches
    (partial objects, checked through ``kubectl kustomize``) are left out."""
    files = [ROOT / "kustomization.yaml"]
    for folder in MANIFEST_DIRS:
        files += sorted((ROOT / folder).rglob("*.yaml")) + sorted((ROOT / folder).rglob("*.yml"))
    return [f for f in files if f not in patch_files(files)]


def patch_files(files: list[Path]) -> set[Path]:
    """Files that a Kustomization or Component names under ``patches``."""
    patches = set()
    for file in files:
        if file.name == "kustomization.yaml":
            for patch in (yaml.safe_load(file.read_text()) or {}).get("patches", []):
                if "path" in patch:
                    patches.add((file.parent / patch["path"]).resolve())
    return patches


def load_docs(files: list[Path] | None = None) -> list[Doc]:
    """Every non-empty document of ``files`` (default: :func:`manifest_files`)."""
    docs = []
    for file in files or manifest_files():
        for data in yaml.safe_load_all(file.read_text()):
            if data is not None:
                docs.append(Doc(file, data))
    return docs


def objects(docs: list[Doc], kind: str, api_version: str | None = None) -> list[Doc]:
    """The documents of one kind (and apiVersion)."""
    return [d for d in docs if d.kind == kind and (api_version is None or d.api_version == api_version)]


def one(docs: list[Doc], kind: str, name: str, api_version: str | None = None) -> dict[str, Any]:
    """The only object of ``kind`` named ``name``."""
    found = [d.data for d in objects(docs, kind, api_version) if d.name == name]
    assert len(found) == 1, f"expected exactly one {kind}/{name}, found {len(found)}"
    return found[0]


def pod_spec(doc: Doc) -> dict[str, Any] | None:
    """The pod spec inside a workload (Deployment, StatefulSet, Job, Knative Service), if any."""
    if doc.kind in ("Deployment", "StatefulSet", "Job") or (
        doc.kind == "Service" and doc.api_version.startswith("serving.knative.dev")
    ):
        return doc.data["spec"]["template"]["spec"]
    return None


def pod_labels(doc: Doc) -> dict[str, str]:
    """Labels of the pods a workload makes."""
    return doc.data["spec"]["template"].get("metadata", {}).get("labels", {})


def containers(spec: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Init containers, then containers."""
    yield from spec.get("initContainers", [])
    yield from spec.get("containers", [])


def is_own_image(container: dict[str, Any]) -> bool:
    """True for containers running one of this repository's images."""
    return container["image"].split("/")[-1].split(":")[0].startswith(IMAGE_PREFIX)


def config_map_data(docs: list[Doc], name: str) -> dict[str, str]:
    """A ConfigMap's data."""
    return one(docs, "ConfigMap", name)["data"]


_REF = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


def env_of(container: dict[str, Any], docs: list[Doc], secret: str = "secret") -> dict[str, str]:
    """The environment a container starts with, as the kubelet builds it: ConfigMaps from
    ``envFrom``, then ``env`` in order with ``$(VAR)`` expanded from earlier entries only. Secret
    values become ``secret`` (a URL for DATABASE_URL, as CloudNativePG's ``uri`` key holds),
    downward-API fields a placeholder IP. Unresolvable references are left as written, like Kubernetes.
    """
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env.update(config_map_data(docs, source["configMapRef"]["name"]))
    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = _REF.sub(lambda m: env.get(m.group(1), m.group(0)), var["value"])
        elif "secretKeyRef" in var.get("valueFrom", {}):
            ref = var["valueFrom"]["secretKeyRef"]
            env[var["name"]] = "postgresql://yaffw:pw@yaffw-db-rw.yaffw:5432/yaffw" if ref["key"] == "uri" else secret
        elif "fieldRef" in var.get("valueFrom", {}):
            env[var["name"]] = "10.1.2.3"
        else:
            raise AssertionError(f"env {var['name']}: unsupported source {var}")
    return env


def env_references(container: dict[str, Any]) -> list[tuple[str, str]]:
    """``(variable, referenced variable)`` for every ``$(VAR)`` in env values, command and args."""
    refs = []
    for var in container.get("env", []):
        refs += [(var["name"], m) for m in _REF.findall(var.get("value", ""))]
    for arg in [*container.get("command", []), *container.get("args", [])]:
        refs += [("args", m) for m in _REF.findall(arg)]
    return refs


def secret_refs(docs: list[Doc]) -> set[tuple[str, str]]:
    """Every ``(secret name, key)`` a workload or KEDA TriggerAuthentication reads."""
    refs: set[tuple[str, str]] = set()
    for doc in docs:
        spec = pod_spec(doc)
        if spec is not None:
            for c in containers(spec):
                for var in c.get("env", []):
                    ref = var.get("valueFrom", {}).get("secretKeyRef")
                    if ref:
                        refs.add((ref["name"], ref["key"]))
    for auth in objects(docs, "TriggerAuthentication"):
        for ref in auth.data["spec"].get("secretTargetRef", []):
            refs.add((ref["name"], ref["key"]))
    return refs


def redis_server_argv(docs: list[Doc], passwords: dict[str, str], conf_path: Path) -> list[str]:
    """The Redis StatefulSet's command line, with its ``$(VAR)`` passwords filled in."""
    redis = one(docs, "StatefulSet", "yaffw-redis")["spec"]["template"]["spec"]["containers"][0]
    argv = [*redis["command"], *redis["args"]]
    argv[1] = str(conf_path)  # the ConfigMap's redis.conf, written to a temporary file
    return [_REF.sub(lambda m: passwords[m.group(1)], a) for a in argv]
