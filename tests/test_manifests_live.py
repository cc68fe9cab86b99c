"""The manifests run against real parts: the Redis configuration in a real redis-server (ACL users
as KEDA, the stream source adapter and the functions use them), the Knative EventTransform
expressions on events read back from that Redis, the bootstrap Job's script against a real
PostgreSQL and S3 server, the kustomize build, and the Dockerfile's targets against the code.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import boto3
import httpx
import pytest
import redis as redis_sync
import yaml
from yaffw import events
from yaffw.keys import Keys
from yaffw.local_services import free_port
from yaffw.settings import Settings

from tests._manifests import (
    ROOT,
    config_map_data,
    env_of,
    env_references,
    load_docs,
    manifest_files,
    one,
    redis_server_argv,
)

DOCS = load_docs()
CONFIG = config_map_data(DOCS, "yaffw-config")
KEYS = Keys(CONFIG.get("YAFFW_REDIS_PREFIX", ""))
PASSWORDS = {"REDIS_PASSWORD": "yaffw-" + uuid.uuid4().hex, "REDIS_KEDA_PASSWORD": "keda-" + uuid.uuid4().hex}
TARGETS = ("api", "transcode", "scan", "lease-reaper", "migrate")


# ------------------------------------------------------------------------------------ Redis ACLs


@pytest.fixture(scope="module")
def manifest_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """redis-server with deploy/data/redis.yaml's redis.conf and command line, on a free port."""
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed")
    folder = tmp_path_factory.mktemp("redis")
    conf = folder / "redis.conf"
    text = one(DOCS, "ConfigMap", "yaffw-redis")["data"]["redis.conf"]
    conf.write_text(re.sub(r"(?m)^dir .*$", f"dir {folder}", text))  # the pod's /data volume
    port = free_port()
    argv = [*redis_server_argv(DOCS, PASSWORDS, conf), "--port", str(port)]  # later arguments win
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    client = redis_sync.Redis(port=port)
    deadline = time.monotonic() + 30
    while True:
        try:
            client.ping()
            break
        except redis_sync.ConnectionError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"redis-server did not start: {proc.stdout.read() if proc.stdout else ''}")
            time.sleep(0.1)
    yield port
    proc.terminate()
    proc.wait(timeout=30)


def _client(port: int, user: str | None = None, password: str | None = None) -> redis_sync.Redis:
    return redis_sync.Redis(port=port, username=user, password=password, decode_responses=True)


def _functions_client(port: int) -> redis_sync.Redis:
    """Connect with the REDIS_URL every function gets (host replaced by the test server)."""
    api = one(DOCS, "Service", "yaffw-api", "serving.knative.dev/v1")["spec"]["template"]["spec"]
    url = re.sub(
        r"\$\(REDIS_PASSWORD\)",
        PASSWORDS["REDIS_PASSWORD"],
        next(v["value"] for v in api["containers"][0]["env"] if v["name"] == "REDIS_URL"),
    )
    url = re.sub(r"@[^/]+/", f"@127.0.0.1:{port}/", url)
    return redis_sync.Redis.from_url(url, decode_responses=True)


def test_functions_user_may_do_everything(manifest_redis: int) -> None:
    client = _functions_client(manifest_redis)
    client.set("session:x", "1")
    client.rpush(KEYS.transcode_queue, "{}")
    assert client.publish(KEYS.notify, "hello") == 0
    client.delete("session:x", KEYS.transcode_queue)


def test_keda_user_may_only_read_the_list_lengths(manifest_redis: int) -> None:
    scaled = one(DOCS, "ScaledObject", "yaffw-transcode")["spec"]
    keda = _client(manifest_redis, "keda", PASSWORDS["REDIS_KEDA_PASSWORD"])
    _functions_client(manifest_redis).rpush(KEYS.active_transcode, "s1", "s2", "s3")
    _functions_client(manifest_redis).rpush(KEYS.openings_queue, "i1")
    try:
        lengths = {t["name"]: keda.llen(t["metadata"]["listName"]) for t in scaled["triggers"]}
        assert lengths == {"queued": 0, "active": 3, "openings": 1}
        with pytest.raises(redis_sync.exceptions.NoPermissionError):
            keda.llen(KEYS.processing("w1"))
        with pytest.raises(redis_sync.exceptions.NoPermissionError):
            keda.lpop(KEYS.transcode_queue)
        with pytest.raises(redis_sync.exceptions.NoPermissionError):
            keda.lpop(KEYS.openings_queue)
    finally:
        _functions_client(manifest_redis).delete(KEYS.active_transcode, KEYS.openings_queue)


def test_stream_source_reads_events_without_a_password_and_the_transform_restores_them(
    manifest_redis: int,
) -> None:
    jsonata = pytest.importorskip("jsonata", reason="jsonata-python (test extra) is needed")
    source = one(DOCS, "RedisStreamSource", "yaffw-events")["spec"]
    adapter = _client(manifest_redis)  # the adapter sends no AUTH without TLS
    stream, group = source["stream"], source["group"]
    # The adapter's own commands (eventing-redis source/pkg/adapter): XINFO, XGROUP, XREADGROUP, XACK.
    with pytest.raises(redis_sync.ResponseError):
        adapter.xinfo_groups(stream)
    adapter.xgroup_create(stream, group, id="$", mkstream=True)
    assert adapter.xinfo_groups(stream)[0]["name"] == group
    # Quotes, a backslash and non-ASCII survive the JSON-in-a-stream-entry round trip.
    data = {"library_id": str(uuid.uuid4()), "path": '/media/Ça "x" \\ ☃'}
    sent = events.build(events.SCAN_REQUESTED, "/yaffw/api", data)
    events.publish_sync(_functions_client(manifest_redis), KEYS.events, sent)
    ((_, entries),) = adapter.xreadgroup(group, f"{group}-0", {stream: ">"}, count=1)
    ((entry_id, fields),) = entries
    assert adapter.xack(stream, group, entry_id) == 1
    with pytest.raises(redis_sync.exceptions.NoPermissionError):
        adapter.get("session:x")
    with pytest.raises(redis_sync.exceptions.NoPermissionError):
        adapter.xadd(stream, {"event": "{}"})

    # What the adapter sends on: type redisstream, data = the entry's field/value list.
    wrapped = {
        "specversion": "1.0",
        "type": "dev.knative.sources.redisstream",
        "source": f"{source['address']}/{stream}",
        "id": entry_id,
        "datacontenttype": "application/json",
        "data": [item for pair in fields.items() for item in pair],
    }
    expression = one(DOCS, "EventTransform", "yaffw-unwrap")["spec"]["jsonata"]["expression"]
    out = jsonata.Jsonata(expression).evaluate(wrapped)
    received = events.from_json(json.dumps(out))
    assert received["type"] == events.SCAN_REQUESTED and received["id"] == sent["id"]
    assert received["source"] == sent["source"] and events.data_of(received) == events.data_of(sent)
    with pytest.raises(Exception, match="no 'event' field"):
        jsonata.Jsonata(expression).evaluate({**wrapped, "data": ["other", "{}"]})


def test_passwordless_user_cannot_destroy_or_claim_the_event_stream(manifest_redis: int) -> None:
    """Only the adapter's four commands: whoever reaches Redis without a password cannot delete,
    trim or reset the stream or its groups, nor claim entries another consumer holds (issue 14)."""
    stream, group = one(DOCS, "RedisStreamSource", "yaffw-events")["spec"]["stream"], "acl-test"
    adapter, functions = _client(manifest_redis), _functions_client(manifest_redis)
    adapter.xgroup_create(stream, group, id="$", mkstream=True)
    event = events.build(events.SCAN_REQUESTED, "/yaffw/api", {"library_id": str(uuid.uuid4())})
    events.publish_sync(functions, KEYS.events, event)
    ((_, ((entry_id, _),)),) = adapter.xreadgroup(group, "a", {stream: ">"}, count=1)
    forbidden = [
        ("DEL", stream), ("UNLINK", stream), ("XTRIM", stream, "MAXLEN", "0"), ("XDEL", stream, entry_id),
        ("XGROUP", "DESTROY", stream, group), ("XGROUP", "SETID", stream, group, "0"),
        ("XGROUP", "DELCONSUMER", stream, group, "a"), ("XGROUP", "CREATECONSUMER", stream, group, "b"),
        ("XCLAIM", stream, group, "b", "0", entry_id), ("XAUTOCLAIM", stream, group, "b", "0", "0-0"),
        ("XADD", stream, "*", "event", "{}"), ("RENAME", stream, "elsewhere"), ("FLUSHALL",),
        ("EVAL", "return redis.call('DEL', KEYS[1])", "1", stream),
    ]  # fmt: skip
    for command in forbidden:
        with pytest.raises(redis_sync.exceptions.NoPermissionError):
            adapter.execute_command(*command)
    assert adapter.xack(stream, group, entry_id) == 1  # what it needs still works
    assert functions.xlen(stream) >= 1 and any(g["name"] == group for g in functions.xinfo_groups(stream))
    functions.xgroup_destroy(stream, group)


def test_ping_becomes_a_lease_tick() -> None:
    jsonata = pytest.importorskip("jsonata", reason="jsonata-python (test extra) is needed")
    ping = {
        "specversion": "1.0",
        "type": "dev.knative.sources.ping",
        "source": "/apis/v1/namespaces/yaffw/pingsources/yaffw-lease-tick",
        "id": str(uuid.uuid4()),
        "time": "2026-01-01T00:01:00Z",
        "datacontenttype": "application/json",
        "data": {},
    }
    expression = one(DOCS, "EventTransform", "yaffw-tick")["spec"]["jsonata"]["expression"]
    tick = events.from_json(json.dumps(jsonata.Jsonata(expression).evaluate(ping)))
    assert tick["type"] == events.LEASE_TICK and tick["id"] == ping["id"] and tick["time"] == ping["time"]


# --------------------------------------------------------------------------------- bootstrap Job


def test_bootstrap_job_creates_the_bucket_and_the_first_admin(postgres_admin_dsn: str, s3_endpoint: str) -> None:
    job = one(DOCS, "Job", "yaffw-bootstrap")["spec"]["template"]["spec"]
    (container,) = job["containers"]
    dbname = f"yaffw_boot_{uuid.uuid4().hex[:8]}"
    dsn = re.sub(r"/[^/]*$", f"/{dbname}", postgres_admin_dsn)

    async def admin_sql(sql: str) -> None:
        conn = await asyncpg.connect(postgres_admin_dsn)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    import asyncio

    asyncio.run(admin_sql(f'CREATE DATABASE "{dbname}"'))
    try:
        env = env_of(container, DOCS) | {
            "DATABASE_URL": dsn,
            "S3_ENDPOINT_URL": s3_endpoint,
            "S3_BUCKET": f"yaffw-boot-{uuid.uuid4().hex[:6]}",
            "S3_ACCESS_KEY_ID": "testing",
            "S3_SECRET_ACCESS_KEY": "testing",
            "YAFFW_ADMIN_PASSWORD": "boot-" + uuid.uuid4().hex[:10],
        }
        base = {k: v for k, v in os.environ.items() if not k.startswith(("YAFFW_", "S3_", "DATABASE_URL", "REDIS_"))}
        argv = [sys.executable if c == "python" else c for c in container["command"]]
        for attempt in ("created", "already there"):
            done = subprocess.run(argv, env=base | env, capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, done.stderr
            assert f"administrator admin: {attempt}" in done.stdout
        s3 = boto3.client("s3", endpoint_url=s3_endpoint, aws_access_key_id="testing",
                          aws_secret_access_key="testing", region_name="us-east-1")  # fmt: skip
        assert env["S3_BUCKET"] in {b["Name"] for b in s3.list_buckets()["Buckets"]}

        async def admins() -> int:
            conn = await asyncpg.connect(dsn)
            try:
                return await conn.fetchval("SELECT count(*) FROM users WHERE is_admin")
            finally:
                await conn.close()

        assert asyncio.run(admins()) == 1
    finally:
        asyncio.run(admin_sql(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))


# -------------------------------------------------------------------------------------- kustomize


def _kustomize(folder: Path) -> list[dict]:
    if not shutil.which("kubectl"):
        pytest.skip("kubectl (with its built-in kustomize) is not installed")
    done = subprocess.run(["kubectl", "kustomize", str(folder)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return [d for d in yaml.safe_load_all(done.stdout) if d]


def test_kustomization_builds_every_manifest_with_registry_images() -> None:
    built = _kustomize(ROOT)
    listed = {(ROOT / r).resolve() for r in yaml.safe_load((ROOT / "kustomization.yaml").read_text())["resources"]}
    files = {f.resolve() for f in manifest_files() if f.name != "kustomization.yaml"}
    assert files == listed, f"not in kustomization.yaml: {files - listed}; missing: {listed - files}"
    expected = sum(1 for d in DOCS if d.kind not in ("Kustomization", "Component"))
    assert len(built) == expected
    images = re.findall(r"image: (\S+)", yaml.safe_dump_all(built))
    assert images and not [i for i in images if i.startswith("yaffw-")], "every own image is renamed"
    assert all(d["metadata"]["labels"]["app.kubernetes.io/part-of"] == "yaffw" for d in built)


def test_cpu_only_component_removes_the_gpu(tmp_path: Path) -> None:
    base = tmp_path / "base"
    base.mkdir()
    shutil.copy(ROOT / "kustomization.yaml", base)
    for folder in ("deploy", "knative", "keda"):
        shutil.copytree(ROOT / folder, base / folder)
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        "resources: [../base]\ncomponents: [../base/keda/cpu-only]\n"
    )
    (deployment,) = [d for d in _kustomize(overlay) if d["kind"] == "Deployment"]
    spec = deployment["spec"]["template"]["spec"]
    (worker,) = spec["containers"]
    assert not spec.get("tolerations")
    assert "nvidia.com/gpu" not in json.dumps(worker["resources"])
    env = {v["name"]: v.get("value") for v in worker["env"]}
    assert env["YAFFW_HWACCEL"] == "none" and "NVIDIA_DRIVER_CAPABILITIES" not in env
    defined = [v["name"] for v in worker["env"]]
    for name, ref in env_references(worker):
        assert defined.index(ref) < defined.index(name), "the patch kept $(VAR) order"
    Settings.from_env({k: v or "x" for k, v in env.items() if k.startswith("YAFFW_")})


# ------------------------------------------------------------------------------------ Dockerfile


def _stages() -> dict[str, dict]:
    """``{stage: {"base": parent stage or image, "lines": [instruction lines]}}`` of the Dockerfile."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    stages: dict[str, dict] = {}
    current = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = re.match(r"FROM\s+(\S+)(?:\s+AS\s+(\S+))?", line, re.IGNORECASE)
        if match:
            current = match.group(2) or f"stage{len(stages)}"
            stages[current] = {"base": match.group(1), "lines": []}
        elif current:
            stages[current]["lines"].append(line)
    return stages


def _chain(stages: dict[str, dict], name: str) -> list[str]:
    """The instructions that build stage ``name``, from its first ancestor on."""
    stage = stages[name]
    parent = _chain(stages, stage["base"]) if stage["base"] in stages else []
    return parent + stage["lines"]


def test_dockerfile_has_a_slim_non_root_target_per_function() -> None:
    stages = _stages()
    assert set(TARGETS) <= stages.keys()
    for target in TARGETS:
        chain = _chain(stages, target)
        users = [line.split()[1] for line in chain if line.startswith("USER ")]
        assert users and users[-1].split(":")[0] not in ("root", "0"), f"{target} runs as root"
        assert any("tini" in line for line in chain if line.startswith("ENTRYPOINT")), target
        has_ffmpeg = any("apt-get install" in line and " ffmpeg" in line for line in chain)
        assert has_ffmpeg == (target in ("transcode", "scan")), f"{target}: FFmpeg only where needed"
    for stage in stages.values():
        for line in stage["lines"]:
            if line.startswith("COPY ") and "--from=" not in line:
                *sources, _ = line.split()[1:]
                for source in sources:
                    assert (ROOT / source).exists(), f"COPY {source}: no such path"
    assert "slim" in stages["runtime"]["base"] or "slim" in (ROOT / "Dockerfile").read_text()


def test_dockerfile_commands_exist_in_the_code() -> None:
    stages = _stages()
    for target in TARGETS:
        (cmd,) = [json.loads(line[4:]) for line in _chain(stages, target) if line.startswith("CMD ")][-1:]
        if cmd[0] == "python":
            assert (ROOT / cmd[1]).is_file(), f"{target}: {cmd[1]} missing"
            assert cmd[1] == f"functions/{target}/main.py"
        else:
            assert cmd[0] == "yaffw"
            try:
                from yaffw.cli import build_parser

                parser = build_parser()
            except Exception as exc:  # the CLI imports modules other issues are still writing
                pytest.skip(f"yaffw.cli.build_parser() failed ({type(exc).__name__}: {exc}); CLI check skipped")
            args = parser.parse_args(cmd[1:])
            assert callable(args.run)
            if cmd[1] == "function":
                assert (ROOT / "functions" / cmd[2] / "main.py").is_file()


def test_manifest_images_are_dockerfile_targets() -> None:
    stages = _stages()
    for image in set(re.findall(r"image: (yaffw-\S+)", "".join(f.read_text() for f in manifest_files()))):
        assert image.removeprefix("yaffw-") in stages, f"{image} is not a Dockerfile target"


# ------------------------------------------------------------------------------- served endpoints


@pytest.mark.parametrize("name", ["scan", "lease-reaper"])
def test_cloudevent_functions_serve_the_probed_paths(name: str, settings: Settings) -> None:
    from yaffw.function_app import create_app

    app = create_app(name, settings)
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    assert {"/healthz", "/readyz", "/metrics"} <= rules
    with app.test_client() as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 200


def test_api_serves_the_probed_paths(api_url: str) -> None:
    for path in ("/healthz", "/readyz"):
        assert httpx.get(api_url + path, timeout=30).status_code == 200
