"""Test harness (DESIGN §8): real PostgreSQL, Redis, FFmpeg and an S3 endpoint over HTTP.

- PostgreSQL and Redis: the servers at DATABASE_URL / REDIS_URL (default 127.0.0.1:5432 and :6379)
  when they answer, otherwise private ones started under a temporary directory (yaffw's own
  ``local_services``, the code `yaffw up` uses: pytest-postgresql cannot run initdb as root, which
  CI is). Each run gets its own database and its own Redis key prefix.
- S3: moto's standalone server on a free port, spoken to over HTTP by boto3.
- Media: generated once with FFmpeg's test sources, cached between runs under ~/.cache.
- HOME: a scratch folder for the whole run (``tests.home_guard``), so nothing can create or use the
  user's real ``~/.local/state/yaffw``; the run fails if that folder appears anyway.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import asyncpg
import pytest
import redis.asyncio as redis_async
from yaffw import sample
from yaffw.keys import Keys
from yaffw.local_services import PrivatePostgres, PrivateRedis, free_port, port_open
from yaffw.migrations import migrate
from yaffw.settings import Settings

from tests import home_guard
from tests.processes import stop_process

home_guard.isolate()  # before any fixture builds Settings or starts a process

pytest_plugins = ["tests.browser"]  # Chromium fixtures for the web UI tests

# Every process this run starts inherits this mark (api, workers, `yaffw up` copy the environment),
# so an FFmpeg left behind is recognised as ours even once its parent is gone. Not YAFFW_*: that
# prefix is reserved for settings and unknown names fail at start.
RUN_MARK = "PYTEST_YAFFW_RUN"
os.environ[RUN_MARK] = uuid.uuid4().hex
_SCRATCH_DIRS: list[str] = []  # this run's scratch folders (they appear in encoders' command lines)
# How long FFmpeg may take to die after the test that started it ended (PR_SET_PDEATHSIG is
# asynchronous; a busy machine is slow to deliver it).
FFMPEG_EXIT_GRACE = 15.0

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"

# Each function's own package (yaffw_api, yaffw_transcode, ...) is importable by unit tests, as it
# is inside that function's process. Functions never import each other; tests may import any.
for _function in sorted((ROOT / "functions").iterdir()):
    if _function.is_dir() and str(_function) not in sys.path:
        sys.path.insert(0, str(_function))

DATA_TABLES = (
    "user_item_data", "images", "keyframes", "stream_ends", "media_streams", "media_items", "scan_failures",
    "library_access", "libraries", "users", "activity_log", "plugin_configuration", "display_preferences",
)  # fmt: skip


def _with_db(dsn: str, dbname: str) -> str:
    parsed = urlparse(dsn)
    return urlunparse(parsed._replace(path="/" + dbname))


@pytest.fixture(scope="session")
def _scratch() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="yaffw-test-"))
    _SCRATCH_DIRS.append(str(path))
    yield path
    if not os.environ.get("YAFFW_TEST_KEEP"):
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_admin_dsn(_scratch: Path) -> Iterator[str]:
    """A DSN with rights to create databases: the configured server, else a private one."""
    dsn = os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
    parsed = urlparse(dsn)
    if port_open(parsed.hostname or "127.0.0.1", parsed.port or 5432):
        yield dsn
        return
    pg = PrivatePostgres(_scratch / "pg", free_port(), fsync=False).start()  # faster; tests may lose it
    try:
        yield pg.dsn
    finally:
        pg.stop()


@pytest.fixture(scope="session")
def database_url(postgres_admin_dsn: str) -> Iterator[str]:
    """A fresh, migrated database for this run, dropped at the end."""
    name = f"yaffw_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"

    async def create() -> None:
        conn = await asyncpg.connect(postgres_admin_dsn)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    async def drop() -> None:
        conn = await asyncpg.connect(postgres_admin_dsn)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(create())
    url = _with_db(postgres_admin_dsn, name)
    asyncio.run(migrate(url))
    yield url
    asyncio.run(drop())


@pytest.fixture(scope="session")
def redis_url(_scratch: Path) -> Iterator[str]:
    """The configured Redis, else a private one."""
    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    parsed = urlparse(url)
    if port_open(parsed.hostname or "127.0.0.1", parsed.port or 6379):
        yield url
        return
    server = PrivateRedis(_scratch / "redis", free_port()).start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_prefix(redis_url: str) -> Iterator[str]:
    """This run's key prefix; its keys are deleted at the end."""
    prefix = f"test:{uuid.uuid4().hex[:8]}:"
    yield prefix
    import redis as redis_sync

    client = redis_sync.Redis.from_url(redis_url)
    for key in client.scan_iter(match=prefix + "*", count=1000):
        client.delete(key)
    client.close()


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server over HTTP on a free port."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(scope="session")
def sample_media() -> sample.SampleLibrary:
    """The generated sample library, shared and read-only (copy it before changing anything)."""
    digest = hashlib.sha256(Path(sample.__file__).read_bytes()).hexdigest()[:12]
    root = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "yaffw-test-media" / digest
    return sample.generate(root)


@pytest.fixture
def media_copy(sample_media: sample.SampleLibrary, tmp_path: Path) -> sample.SampleLibrary:
    """A private copy of the sample library that a test may rename and delete in."""
    root = tmp_path / "media"
    shutil.copytree(sample_media.root, root)
    return sample.generate(root)  # same layout; generate() only fills what is missing


@pytest.fixture(scope="session")
def settings(database_url: str, redis_url: str, redis_prefix: str, s3_endpoint: str, _scratch: Path) -> Settings:
    """Settings for in-process code under test: this run's database, prefix and S3 bucket."""
    return Settings(
        database_url=database_url,
        redis_url=redis_url,
        redis_prefix=redis_prefix,
        s3_endpoint_url=s3_endpoint,
        s3_bucket=f"yaffw-test-{uuid.uuid4().hex[:6]}",
        s3_access_key_id="testing",
        s3_secret_access_key="testing",
        jwt_secret="test-secret-" + uuid.uuid4().hex,
        service_token="service-" + uuid.uuid4().hex,
        scratch_dir=_scratch / "scratch",
        # Off: tests that open the same film twice expect an encoder each time; the cache's own test
        # (tests/test_first_segments.py) turns it on.
        first_segment_cache=0,
        # Off for the same reason (and so scans in tests queue no openings for workers to make); the
        # openings' own test (tests/test_openings.py) turns it on.
        openings=False,
        state_dir=_scratch / "state",
        image_dir=_scratch / "images",
        # No load balancer waits on the api processes tests stop (test_rolling_update puts one back).
        shutdown_delay_seconds=0,
    )


@pytest.fixture(scope="session")
def keys(settings: Settings) -> Keys:
    """Redis key builder with this run's prefix."""
    return Keys(settings.redis_prefix)


@pytest.fixture(scope="session")
async def pool(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    """A connection pool to this run's database."""
    from yaffw.db import create_pool

    p = await create_pool(settings.database_url, max_size=5)
    yield p
    await p.close()


@pytest.fixture
async def redis(settings: Settings) -> AsyncIterator[redis_async.Redis]:
    """An asyncio Redis client (string replies)."""
    client = redis_async.Redis.from_url(settings.redis_url, decode_responses=True)
    yield client
    await client.aclose()


@pytest.fixture
async def clean_db(pool: asyncpg.Pool) -> asyncpg.Pool:
    """Empty every data table before the test (schema and migrations stay)."""
    await pool.execute("TRUNCATE " + ", ".join(DATA_TABLES) + " CASCADE")
    return pool


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where tests leave screenshots and reports for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


class Stack:
    """A `yaffw up` process tree started by a test."""

    def __init__(self, proc: subprocess.Popen[str], url: str, ports: dict[str, int], log: Path):
        self.proc = proc
        self.url = url
        self.ports = ports
        self.log = log

    def stop(self) -> int:
        """SIGTERM `yaffw up` and wait; returns its exit status."""
        return stop_process(self.proc, 30)


@pytest.fixture
def start_stack(tmp_path: Path) -> Iterator:
    """Factory: start `yaffw up` with ``env`` and ``args``; waits for its ready line; stops at the end."""
    stacks: list[Stack] = []

    def start(env: dict[str, str], args: list[str], timeout: float = 120) -> Stack:
        log = tmp_path / f"stack-{len(stacks)}.log"
        port = free_port()
        full_env = {k: v for k, v in os.environ.items() if not k.startswith(("YAFFW_", "S3_"))}
        full_env.pop("DATABASE_URL", None)
        full_env.pop("REDIS_URL", None)
        full_env.update(env)
        full_env["PYTHONUNBUFFERED"] = "1"
        cmd = [sys.executable, "-m", "yaffw.cli", "up", "--port", str(port), *args]
        out = log.open("w")
        proc = subprocess.Popen(cmd, env=full_env, stdout=out, stderr=subprocess.STDOUT, text=True,
                                start_new_session=False)  # fmt: skip
        stack = Stack(proc, f"http://127.0.0.1:{port}", {}, log)
        stacks.append(stack)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = log.read_text()
            if "yaffw is ready" in text:
                for line in text.splitlines():
                    if line.startswith("  ") and "http://" in line and ":" in line:
                        name, _, url = line.strip().partition(" ")
                        stack.ports[name.rstrip(":")] = urlparse(url.strip()).port or 0
                return stack
            if proc.poll() is not None:
                raise AssertionError(f"yaffw up exited with {proc.returncode}:\n{text[-4000:]}")
            time.sleep(0.2)
        stack.stop()
        raise AssertionError(f"yaffw up not ready in {timeout}s:\n{log.read_text()[-4000:]}")

    yield start
    for s in stacks:
        s.stop()


def wait_ready(url: str, proc: subprocess.Popen | None = None, timeout: float = 60) -> None:
    """Poll ``url`` + /readyz until 200. :raises AssertionError: on timeout or if ``proc`` died."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"process exited with {proc.returncode}")
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} not ready in {timeout}s")


@pytest.fixture(scope="session")
def api_url(settings: Settings, _scratch: Path) -> Iterator[str]:
    """One real api process (functions/api/main.py) on a free port, for this run's database."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YAFFW_", "S3_"))}
    env.update(settings.replace(port=port, host="127.0.0.1").to_env())
    env["PYTHONUNBUFFERED"] = "1"
    log = (_scratch / "api.log").open("w")
    proc = subprocess.Popen([sys.executable, str(ROOT / "functions/api/main.py")], env=env,
                            stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, proc)
    except AssertionError:
        proc.kill()
        raise AssertionError((_scratch / "api.log").read_text()[-4000:]) from None
    yield url
    stop_process(proc, 15)


def _our_ffmpeg() -> list[Any]:
    """FFmpeg processes of this run still alive: descendants of pytest, or carrying this run's
    mark in their environment or its scratch folder in their command line (orphans of a killed
    worker are no longer our descendants)."""
    import psutil

    descendants = {p.pid for p in psutil.Process().children(recursive=True)}
    found = []
    for proc in psutil.process_iter(["name", "cmdline", "status"]):
        try:
            cmd = proc.info["cmdline"] or []
            if proc.info["status"] == psutil.STATUS_ZOMBIE or not cmd or Path(cmd[0]).name != "ffmpeg":
                continue
            if (proc.pid in descendants or any(d in c for d in _SCRATCH_DIRS for c in cmd)
                    or proc.environ().get(RUN_MARK) == os.environ[RUN_MARK]):  # fmt: skip
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if an FFmpeg it started is still running once every fixture has been torn
    down (issue 6: "after the whole suite no FFmpeg process is left running"); then end them.
    Also fail it if the user's real yaffw state folder was created or changed (issue 14)."""
    import psutil

    touched = home_guard.check()
    home_guard.cleanup()
    if touched:
        _report(session, touched)

    deadline = time.monotonic() + FFMPEG_EXIT_GRACE
    left = _our_ffmpeg()
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = _our_ffmpeg()
    if not left:
        return
    lines = []
    for proc in left:
        try:
            lines.append(f"  pid {proc.pid}: {' '.join(proc.cmdline())[:300]}")
            proc.kill()
        except psutil.Error:  # it exited meanwhile
            continue
    _report(session, f"FFmpeg still running after the test run ({len(left)}):\n" + "\n".join(lines))


def _report(session: pytest.Session, message: str) -> None:
    """Print ``message`` in red and make the run fail."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(message, red=True, bold=True)
    else:
        print(message, file=sys.stderr)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
