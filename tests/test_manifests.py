"""The Kubernetes manifests (deploy/, knative/, keda/, kustomization.yaml): every object parses,
is of a known kind, core objects are valid against the Kubernetes API models, and the manifests
agree with the code: settings, event types, Redis keys, ports, probe paths, the dispatcher's
routes, and the drain time the transcode worker needs on scale-in.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from kubernetes.client import ApiClient
from yaffw import events
from yaffw.keys import Keys
from yaffw.settings import Settings, env_var_names

from tests._manifests import (
    ROOT,
    Doc,
    config_map_data,
    containers,
    env_of,
    env_references,
    is_own_image,
    load_docs,
    manifest_files,
    objects,
    one,
    pod_labels,
    pod_spec,
    secret_refs,
)

DOCS = load_docs()
CONFIG = config_map_data(DOCS, "yaffw-config")
KEYS = Keys(CONFIG.get("YAFFW_REDIS_PREFIX", ""))
DEFAULTS = Settings()

KNOWN = {
    ("v1", "Namespace"): "V1Namespace",
    ("v1", "ConfigMap"): "V1ConfigMap",
    ("v1", "Service"): "V1Service",
    ("v1", "ServiceAccount"): "V1ServiceAccount",
    ("v1", "PersistentVolumeClaim"): "V1PersistentVolumeClaim",
    ("apps/v1", "Deployment"): "V1Deployment",
    ("apps/v1", "StatefulSet"): "V1StatefulSet",
    ("batch/v1", "Job"): "V1Job",
    ("networking.k8s.io/v1", "NetworkPolicy"): "V1NetworkPolicy",
    ("rbac.authorization.k8s.io/v1", "Role"): "V1Role",
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): "V1RoleBinding",
    # Custom resources: checked field by field below.
    ("serving.knative.dev/v1", "Service"): None,
    ("eventing.knative.dev/v1", "Broker"): None,
    ("eventing.knative.dev/v1", "Trigger"): None,
    ("eventing.knative.dev/v1alpha1", "EventTransform"): None,
    ("sources.knative.dev/v1", "PingSource"): None,
    ("sources.knative.dev/v1alpha1", "RedisStreamSource"): None,
    ("keda.sh/v1alpha1", "ScaledObject"): None,
    ("keda.sh/v1alpha1", "TriggerAuthentication"): None,
    ("postgresql.cnpg.io/v1", "Cluster"): None,
    ("kustomize.config.k8s.io/v1beta1", "Kustomization"): None,
    ("kustomize.config.k8s.io/v1alpha1", "Component"): None,
}
# Environment variables a yaffw container may set that Settings does not read.
PLATFORM_VARS = {
    "NVIDIA_DRIVER_CAPABILITIES",  # read by the NVIDIA container runtime
    "REDIS_PASSWORD",  # only to compose REDIS_URL (a test checks that it is used that way)
}
WORKLOADS = [d for d in DOCS if pod_spec(d) is not None]
KSERVICES = objects(DOCS, "Service", "serving.knative.dev/v1")
TRANSCODE = one(DOCS, "Deployment", "yaffw-transcode")


def _ids(docs: list[Doc]) -> list[str]:
    return [repr(d) for d in docs]


def _missing_keys(original: Any, roundtrip: Any, where: str = "") -> list[str]:
    """Paths present in ``original`` but lost on the way through the API model."""
    if isinstance(original, dict):
        if not isinstance(roundtrip, dict):
            return [where or "/"]
        lost = []
        for key, value in original.items():
            if key not in roundtrip:
                lost.append(f"{where}/{key}")
            else:
                lost += _missing_keys(value, roundtrip[key], f"{where}/{key}")
        return lost
    if isinstance(original, list):
        if not isinstance(roundtrip, list) or len(roundtrip) != len(original):
            return [where]
        return [
            p
            for i, (a, b) in enumerate(zip(original, roundtrip, strict=True))
            for p in _missing_keys(a, b, f"{where}[{i}]")
        ]
    return []


def _validate(data: dict[str, Any], model: str) -> list[str]:
    client = ApiClient()
    obj = client._ApiClient__deserialize(data, model)  # validates required fields and enums
    return _missing_keys(data, client.sanitize_for_serialization(obj))


# ---------------------------------------------------------------------------------------- shape


def test_every_manifest_parses_and_names_a_known_kind() -> None:
    assert len(manifest_files()) >= 10
    for doc in DOCS:
        assert (doc.api_version, doc.kind) in KNOWN, f"{doc!r}: unknown {doc.api_version} {doc.kind}"
        if doc.kind not in ("Kustomization", "Component"):
            assert doc.name, f"{doc!r} has no metadata.name"
            if doc.kind != "Namespace":
                assert doc.data["metadata"].get("namespace") == "yaffw", f"{doc!r} is not in namespace yaffw"


def test_names_are_unique_per_kind() -> None:
    seen = [(d.api_version, d.kind, d.name) for d in DOCS if d.kind not in ("Kustomization", "Component")]
    assert len(seen) == len(set(seen))


@pytest.mark.parametrize("doc", [d for d in DOCS if KNOWN.get((d.api_version, d.kind))], ids=repr)
def test_core_objects_match_the_kubernetes_api_models(doc: Doc) -> None:
    lost = _validate(doc.data, KNOWN[(doc.api_version, doc.kind)])
    assert not lost, f"{doc!r}: fields unknown to the API (typo?): {lost}"


# Knative's defaults plus the features docs/deploy.md enables (step 1).
KNATIVE_POD_FIELDS = {"serviceAccountName", "containers", "volumes", "imagePullSecrets", "enableServiceLinks"}
KNATIVE_FLAGS = {
    "initContainers": "kubernetes.podspec-init-containers",
    "persistentVolumeClaim": "kubernetes.podspec-persistent-volume-claim",
    "emptyDir": "kubernetes.podspec-emptydir",
}
KNATIVE_REVISION_FIELDS = {"containerConcurrency", "timeoutSeconds"}


@pytest.mark.parametrize("doc", KSERVICES, ids=_ids(KSERVICES))
def test_knative_services_are_valid_pod_specs_within_knatives_limits(doc: Doc) -> None:
    spec = copy.deepcopy(doc.data["spec"]["template"]["spec"])
    revision = {k: spec.pop(k) for k in KNATIVE_REVISION_FIELDS & spec.keys()}
    for c in spec["containers"]:  # Knative fills in the probes' port: the container's port
        for probe in (c.get("readinessProbe"), c.get("livenessProbe")):
            if probe and "httpGet" in probe:
                probe["httpGet"].setdefault("port", c["ports"][0]["containerPort"])
    lost = _validate(spec, "V1PodSpec")
    assert not lost, f"{doc!r}: fields unknown to the API: {lost}"
    docs_text = (ROOT / "docs" / "deploy.md").read_text()
    for field in spec.keys() - KNATIVE_POD_FIELDS:
        assert field in KNATIVE_FLAGS, f"{doc!r}: Knative does not accept pod field {field}"
        assert KNATIVE_FLAGS[field] in docs_text, f"docs/deploy.md must enable {KNATIVE_FLAGS[field]}"
    for volume in spec.get("volumes", []):
        for kind in KNATIVE_FLAGS.keys() & volume.keys():
            assert KNATIVE_FLAGS[kind] in docs_text, f"docs/deploy.md must enable {KNATIVE_FLAGS[kind]}"
    assert len([c for c in spec["containers"] if c.get("ports")]) == 1, "Knative routes to one port"
    assert 0 < revision["timeoutSeconds"] <= 3600
    if revision["timeoutSeconds"] > 600:
        assert "max-revision-timeout-seconds" in docs_text
    annotations = doc.data["spec"]["template"]["metadata"]["annotations"]
    assert annotations["autoscaling.knative.dev/min-scale"] == "0", "functions scale to zero"
    assert int(annotations["autoscaling.knative.dev/target"]) >= 1


def test_scan_runs_one_scan_per_replica_and_may_run_long() -> None:
    spec = one(DOCS, "Service", "yaffw-scan", "serving.knative.dev/v1")["spec"]["template"]["spec"]
    assert spec["containerConcurrency"] == 1
    assert spec["timeoutSeconds"] >= 1800
    broker = one(DOCS, "Broker", "yaffw")
    timeout = re.fullmatch(r"PT(\d+)S", broker["spec"]["delivery"]["timeout"])
    assert timeout and int(timeout.group(1)) >= spec["timeoutSeconds"], "the Broker would retry a running scan"


# ---------------------------------------------------------------------------------- settings


def test_every_environment_variable_is_a_setting() -> None:
    known = env_var_names() | PLATFORM_VARS
    for key in CONFIG:
        assert key in env_var_names(), f"deploy/config.yaml sets {key}, which yaffw.settings does not know"
    for doc in WORKLOADS:
        for c in filter(is_own_image, containers(pod_spec(doc))):
            for var in c.get("env", []):
                assert var["name"] in known, f"{doc!r} container {c['name']}: {var['name']} is not a setting"


@pytest.mark.parametrize("doc", WORKLOADS, ids=_ids(WORKLOADS))
def test_environment_references_resolve_in_order(doc: Doc) -> None:
    """Kubernetes expands $(VAR) only from variables defined earlier in the same container."""
    for c in containers(pod_spec(doc)):
        defined: list[str] = []
        for var in c.get("env", []):
            for name, ref in env_references({"env": [var]}):
                assert ref in defined, f"{doc!r}: {name} uses $({ref}) before it is defined"
            defined.append(var["name"])
        for _, ref in env_references({"command": c.get("command", []), "args": c.get("args", [])}):
            assert ref in defined, f"{doc!r}: args use $({ref}), which is not defined"
        if "REDIS_PASSWORD" in defined and is_own_image(c):
            assert ("REDIS_URL", "REDIS_PASSWORD") in env_references(c), "REDIS_PASSWORD only composes REDIS_URL"


@pytest.mark.parametrize("doc", WORKLOADS, ids=_ids(WORKLOADS))
def test_own_containers_start_with_valid_settings(doc: Doc) -> None:
    for c in filter(is_own_image, containers(pod_spec(doc))):
        env = env_of(c, DOCS)
        settings = Settings.from_env(env)  # raises ConfigError naming a bad or unknown variable
        settings.require("database_url")
        if "REDIS_URL" in env:
            assert settings.redis_url and "$(" not in settings.redis_url


def test_the_documented_secrets_are_the_ones_the_manifests_read() -> None:
    text = (ROOT / "docs" / "deploy.md").read_text()
    for name, key in sorted(secret_refs(DOCS)):
        if name == "yaffw-db-app":  # made by CloudNativePG from deploy/data/postgres.yaml
            assert one(DOCS, "Cluster", "yaffw-db")
            continue
        assert name in text and f"{key}=" in text, f"docs/deploy.md must create secret {name} with key {key}"


# ---------------------------------------------------------------------------- ports and probes


def _probe_paths(c: dict[str, Any]) -> tuple[str, str]:
    return c["readinessProbe"]["httpGet"]["path"], c["livenessProbe"]["httpGet"]["path"]


def test_function_ports_and_probe_paths_match_what_the_functions_serve() -> None:
    assert DEFAULTS.port == 8080
    for doc in KSERVICES:
        (c,) = doc.data["spec"]["template"]["spec"]["containers"]
        assert [p["containerPort"] for p in c["ports"]] == [DEFAULTS.port]
        assert _probe_paths(c) == ("/readyz", "/healthz"), repr(doc)
        for probe in (c["readinessProbe"], c["livenessProbe"]):
            assert probe["httpGet"].get("port", DEFAULTS.port) == DEFAULTS.port, "Knative probes the served port"
    (worker,) = TRANSCODE["spec"]["template"]["spec"]["containers"]
    (port,) = worker["ports"]
    assert port["containerPort"] == DEFAULTS.port
    assert _probe_paths(worker) == ("/readyz", "/healthz")
    for probe in (worker["readinessProbe"], worker["livenessProbe"]):
        assert probe["httpGet"]["port"] in (port["name"], port["containerPort"])
    service = one(DOCS, "Service", "yaffw-transcode", "v1")
    assert service["spec"]["clusterIP"] == "None", "headless"
    assert service["spec"]["selector"].items() <= pod_labels(Doc(ROOT, TRANSCODE)).items()
    assert service["spec"]["ports"][0]["targetPort"] in (port["name"], port["containerPort"])


def test_each_knative_service_runs_the_image_of_its_function() -> None:
    for doc in KSERVICES:
        (c,) = doc.data["spec"]["template"]["spec"]["containers"]
        assert c["image"] == doc.name, "image yaffw-<function> = Dockerfile target <function>"
        assert "command" not in c and "args" not in c, "the image's CMD is the entry point"


# ---------------------------------------------------------------------------------- eventing


def _knative_ref(ref: dict[str, Any]) -> tuple[str, str, str]:
    return ref["apiVersion"], ref["kind"], ref["name"]


def _exists(ref: tuple[str, str, str]) -> bool:
    return any((d.api_version, d.kind, d.name) == ref for d in DOCS)


def _trigger_routes() -> dict[str, list[tuple[str, str]]]:
    routes: dict[str, list[tuple[str, str]]] = {}
    for trigger in objects(DOCS, "Trigger"):
        spec = trigger.data["spec"]
        routes.setdefault(spec["filter"]["attributes"]["type"], []).append(
            (spec["subscriber"]["ref"]["name"], spec["subscriber"].get("uri") or "/")
        )
    return routes


def test_triggers_filter_on_events_the_code_knows_and_reach_existing_services() -> None:
    triggers = objects(DOCS, "Trigger")
    assert triggers
    for trigger in triggers:
        spec = trigger.data["spec"]
        assert spec["broker"] == "yaffw" and one(DOCS, "Broker", spec["broker"])
        assert spec["filter"]["attributes"]["type"] in events.KNOWN_TYPES, repr(trigger)
        ref = _knative_ref(spec["subscriber"]["ref"])
        assert ref[:2] == ("serving.knative.dev/v1", "Service") and _exists(ref), f"{trigger!r}: no {ref}"
    assert events.SCAN_REQUESTED in _trigger_routes()
    assert events.LEASE_TICK in _trigger_routes()


def test_dispatcher_routes_equal_the_triggers() -> None:
    triggers = pytest.importorskip("yaffw.triggers", reason="yaffw.triggers (the dispatcher's routes) not written yet")
    routes = triggers.load_routes(ROOT / "knative")
    assert {t: sorted((r.service, r.path) for r in rs) for t, rs in routes.items()} == {
        t: sorted(rs) for t, rs in _trigger_routes().items()
    }


def test_events_flow_from_the_redis_stream_and_the_schedule_into_the_broker() -> None:
    source = one(DOCS, "RedisStreamSource", "yaffw-events")["spec"]
    assert source["stream"] == KEYS.events
    host = source["address"].split("//")[1].split(":")[0]
    assert host.split(".")[0] == "yaffw-redis" and one(DOCS, "Service", "yaffw-redis", "v1")
    broker = ("eventing.knative.dev/v1", "Broker", "yaffw")
    for sink_of in (source, one(DOCS, "PingSource", "yaffw-lease-tick")["spec"]):
        transform = _knative_ref(sink_of["sink"]["ref"])
        assert transform[1] == "EventTransform" and _exists(transform)
        assert _knative_ref(one(DOCS, "EventTransform", transform[2])["spec"]["sink"]["ref"]) == broker
    assert one(DOCS, "PingSource", "yaffw-lease-tick")["spec"]["schedule"] == "* * * * *"


# -------------------------------------------------------------------------- transcode and KEDA


def test_keda_scales_on_the_lists_the_code_uses() -> None:
    scaled = one(DOCS, "ScaledObject", "yaffw-transcode")["spec"]
    assert scaled["scaleTargetRef"]["name"] == "yaffw-transcode" and scaled["minReplicaCount"] == 0
    lists = {t["name"]: t["metadata"]["listName"] for t in scaled["triggers"]}
    assert lists == {"queued": KEYS.transcode_queue, "active": KEYS.active_transcode, "openings": KEYS.openings_queue}
    for trigger in scaled["triggers"]:
        assert trigger["type"] == "redis"
        assert trigger["metadata"]["activationListLength"] == "0", "the first queued job wakes the fleet"
        assert one(DOCS, "TriggerAuthentication", trigger["authenticationRef"]["name"])
    modifiers = scaled["advanced"]["scalingModifiers"]
    assert set(re.findall(r"[a-z_]+", modifiers["formula"])) == set(lists), "every list sizes the fleet"
    # Waiting openings wake one worker, not one per film (a worker makes them only while idle).
    assert "(openings > 0 ? 1 : 0)" in modifiers["formula"]
    sessions = int(CONFIG.get("YAFFW_WORKER_SESSIONS", DEFAULTS.worker_sessions))
    assert int(modifiers["target"]) == sessions, "one replica per YAFFW_WORKER_SESSIONS sessions"
    assert modifiers["activationTarget"] == "0"


def test_transcode_workers_are_gpu_pods_with_a_ram_scratch_and_read_only_media() -> None:
    assert TRANSCODE["spec"]["replicas"] == 0, "KEDA owns the replica count"
    spec = TRANSCODE["spec"]["template"]["spec"]
    (worker,) = spec["containers"]
    assert int(worker["resources"]["limits"]["nvidia.com/gpu"]) == 1
    assert {"key": "gpu-node", "operator": "Equal", "value": "true", "effect": "NoSchedule"} in spec["tolerations"]
    env = env_of(worker, DOCS)
    assert env["YAFFW_HWACCEL"] in ("nvenc", "vaapi", "qsv")
    advertise = next(v for v in worker["env"] if v["name"] == "YAFFW_ADVERTISE_HOST")
    assert advertise["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP"
    volumes = {v["name"]: v for v in spec["volumes"]}
    (scratch,) = [m for m in worker["volumeMounts"] if m["mountPath"] == env["YAFFW_SCRATCH"]]
    assert volumes[scratch["name"]]["emptyDir"]["medium"] == "Memory"
    assert volumes[scratch["name"]]["emptyDir"]["sizeLimit"]
    # Openings live in the object store: the workers reach it with the scan's credentials.
    assert env["S3_ENDPOINT_URL"] and env["S3_BUCKET"]
    secrets = {v["name"]: v["valueFrom"]["secretKeyRef"]["name"] for v in worker["env"] if "secretKeyRef" in
               v.get("valueFrom", {})}  # fmt: skip
    assert secrets["S3_ACCESS_KEY_ID"] == secrets["S3_SECRET_ACCESS_KEY"] == "yaffw-s3"


def test_scale_in_gives_a_worker_time_to_hand_off_its_sessions() -> None:
    """A scaled-away worker gets SIGTERM and requeues its sessions; the api notices the move within
    one lease. The grace period must cover a full lease (the worker's documented bound: sessions it
    requeues are picked up at the latest when their lease would have lapsed) twice over."""
    lease = int(CONFIG.get("YAFFW_LEASE_SECONDS", DEFAULTS.lease_seconds))
    grace = TRANSCODE["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace >= 2 * max(lease, DEFAULTS.lease_seconds), f"grace {grace}s < 2 leases of {lease}s"
    scaled = one(DOCS, "ScaledObject", "yaffw-transcode")["spec"]
    down = scaled["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]["scaleDown"]
    assert down["stabilizationWindowSeconds"] >= grace, "no second scale-in while a worker drains"


# Knative's queue-proxy drains a terminating pod at least this long before the container is signalled.
QUEUE_PROXY_DRAIN = 30


def test_api_drain_fits_the_pods_grace_period() -> None:
    """The api drains on SIGTERM (yaffw_api.drain) for YAFFW_SHUTDOWN_GRACE_SECONDS at most. Knative
    sets the pod's terminationGracePeriodSeconds to the revision's timeoutSeconds, and signals the
    container only after its queue-proxy's drain: both must fit, or requests in flight are killed."""
    spec = one(DOCS, "Service", "yaffw-api", "serving.knative.dev/v1")["spec"]["template"]["spec"]
    grace = int(CONFIG.get("YAFFW_SHUTDOWN_GRACE_SECONDS", DEFAULTS.shutdown_grace_seconds))
    delay = int(CONFIG.get("YAFFW_SHUTDOWN_DELAY_SECONDS", DEFAULTS.shutdown_delay_seconds))
    assert 0 <= delay < grace
    assert QUEUE_PROXY_DRAIN + grace < spec["timeoutSeconds"], (grace, spec["timeoutSeconds"])


def test_media_is_mounted_read_only_everywhere() -> None:
    mounted = 0
    for doc in WORKLOADS:
        spec = pod_spec(doc)
        media = {
            v["name"]
            for v in spec.get("volumes", [])
            if v.get("persistentVolumeClaim", {}).get("claimName") == "yaffw-media"
        }
        for v in spec.get("volumes", []):
            if v["name"] in media:
                assert v["persistentVolumeClaim"]["readOnly"] is True, repr(doc)
        for c in containers(spec):
            for m in c.get("volumeMounts", []):
                if m["name"] in media:
                    mounted += 1
                    assert m.get("readOnly") is True, f"{doc!r}: media mounted writable"
                    assert m["mountPath"] in CONFIG["YAFFW_MEDIA_ROOTS"].split(":")
    assert mounted >= 3  # api, scan, transcode
    assert one(DOCS, "PersistentVolumeClaim", "yaffw-media")["spec"]["accessModes"] == ["ReadOnlyMany"]


# ------------------------------------------------------------------------------ access control


def test_workloads_run_unprivileged() -> None:
    for doc in WORKLOADS:
        spec = pod_spec(doc)
        pod_ctx = spec.get("securityContext", {})
        for c in containers(spec):
            ctx = c.get("securityContext", {})
            assert ctx.get("runAsNonRoot", pod_ctx.get("runAsNonRoot")) is True, f"{doc!r} {c['name']}"
            assert ctx.get("allowPrivilegeEscalation") is False, f"{doc!r} {c['name']}"
            assert ctx.get("capabilities", {}).get("drop") == ["ALL"], f"{doc!r} {c['name']}"
        account = spec.get("serviceAccountName")
        assert account and one(DOCS, "ServiceAccount", account), f"{doc!r} needs its own ServiceAccount"
    for account in objects(DOCS, "ServiceAccount"):
        assert account.data.get("automountServiceAccountToken") is False, "no process talks to the API"


def _allowed_from(policy: dict[str, Any]) -> list[dict[str, Any]]:
    return [peer for rule in policy["spec"]["ingress"] for peer in rule["from"]]


def test_only_the_api_reaches_workers_and_only_functions_reach_data() -> None:
    policies = [p.data for p in objects(DOCS, "NetworkPolicy")]
    worker_labels = pod_labels(Doc(ROOT, TRANSCODE))
    (to_workers,) = [p for p in policies if p["spec"]["podSelector"]["matchLabels"].items() <= worker_labels.items()]
    assert _allowed_from(to_workers) == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "yaffw-api"}}}]
    api = one(DOCS, "Service", "yaffw-api", "serving.knative.dev/v1")
    assert pod_labels(Doc(ROOT, api))["app.kubernetes.io/name"] == "yaffw-api"

    data_pods = {"yaffw-redis": pod_labels(Doc(ROOT, one(DOCS, "StatefulSet", "yaffw-redis")))}
    data_pods["postgres"] = {"cnpg.io/cluster": one(DOCS, "Cluster", "yaffw-db")["metadata"]["name"]}
    clients = {"yaffw.io/data-access": "true"}
    for name, labels in data_pods.items():
        guarding = [p for p in policies if p["spec"]["podSelector"]["matchLabels"].items() <= labels.items()]
        assert guarding, f"no NetworkPolicy guards {name}"
        for peer in _allowed_from(guarding[0]):
            selector = peer.get("podSelector", {}).get("matchLabels", {})
            namespace = peer.get("namespaceSelector", {}).get("matchLabels", {})
            operators = {"cnpg-system", "keda"}
            assert (
                selector == clients
                or selector.items() <= labels.items()  # a cluster's own instances
                or selector == {"eventing.knative.dev/sourceName": "yaffw-events"}
                or namespace.get("kubernetes.io/metadata.name") in operators
            ), f"{name} admits {peer}"
    # Every pod labelled as a data client is one of yaffw's own processes.
    for doc in WORKLOADS:
        if pod_labels(doc).get("yaffw.io/data-access") == "true":
            assert all(is_own_image(c) for c in containers(pod_spec(doc))), repr(doc)


KNATIVE_DATA_PLANE = {"knative-serving", "kourier-system", "knative-eventing"}


@pytest.mark.parametrize("name", ["yaffw-scan", "yaffw-lease-reaper"])
def test_only_knatives_data_plane_calls_scan_and_the_reaper(name: str) -> None:
    """The Broker reaches these functions through Knative's gateway and activator; no pod of the
    yaffw namespace (the api, a worker) may call them directly (issue 14)."""
    policies = [p.data for p in objects(DOCS, "NetworkPolicy")]
    labels = pod_labels(Doc(ROOT, one(DOCS, "Service", name, "serving.knative.dev/v1")))
    guarding = [p for p in policies if p["spec"]["podSelector"]["matchLabels"].items() <= labels.items()]
    assert guarding, f"no NetworkPolicy guards {name}"
    for policy in guarding:
        assert "Ingress" in policy["spec"]["policyTypes"]
        for peer in _allowed_from(policy):
            assert set(peer) == {"namespaceSelector"}, f"{name} admits pods of its own namespace: {peer}"
            assert peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] in KNATIVE_DATA_PLANE
    # The Triggers that deliver to them go through the Broker (so through that data plane).
    subscribers = {t["spec"]["subscriber"]["ref"]["name"] for t in (d.data for d in objects(DOCS, "Trigger"))}
    assert name in subscribers
