"""Private PostgreSQL and Redis that a test may restart, and the real processes on top of them
(``test_faults``, ``test_rolling_update``). Never the machine's shared servers: other runs use them.

Redis keeps its data as production does (``appendonly yes``, fsync on every write), so a restart
loses nothing and the test can ask that nothing written is lost.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
from yaffw.local_services import PrivatePostgres, free_port, port_open
from yaffw.migrations import migrate
from yaffw.settings import Settings

from tests.processes import stop_process


class PersistentRedis:
    """redis-server on 127.0.0.1:``port`` with an append-only file in ``workdir``."""

    def __init__(self, workdir: Path, port: int):
        self.workdir = workdir
        self.port = port
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"redis://127.0.0.1:{port}/0"

    def start(self) -> PersistentRedis:
        """Start (again, on the same port and files) and wait until it answers."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "redis.conf"
        config.write_text(
            f"port {self.port}\nbind 127.0.0.1\nprotected-mode yes\ndir {self.workdir}\n"
            f"logfile {self.workdir / 'redis.log'}\nappendonly yes\nappendfsync always\n"
        )
        self.proc = subprocess.Popen([shutil.which("redis-server") or "redis-server", str(config)],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     start_new_session=True)  # fmt: skip
        deadline = time.monotonic() + 20
        while not _answers_ping(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError((self.workdir / "redis.log").read_text()[-2000:])
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        """SIGTERM (Redis writes its files and exits), SIGKILL if it lingers."""
        if self.proc is not None:
            stop_process(self.proc, 10)
            self.proc = None

    def restart(self, down: float = 1.0) -> None:
        """Stop, stay down ``down`` seconds (clients see refused connections), start."""
        self.stop()
        time.sleep(down)
        self.start()


def _answers_ping(port: int) -> bool:
    if not port_open("127.0.0.1", port):
        return False
    import redis as redis_sync

    try:
        with redis_sync.Redis(port=port, socket_timeout=1) as r:
            return bool(r.ping())
    except redis_sync.RedisError:  # loading its data set
        return False


@dataclass
class FaultStack:
    """A private PostgreSQL (database migrated) and Redis, and settings for processes using them."""

    base: Path
    settings: Settings
    pg: PrivatePostgres
    redis: PersistentRedis
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def restart_postgres(self, down: float = 1.0) -> None:
        """Fast shutdown (connections are cut), ``down`` seconds, start."""
        self.pg.stop()
        time.sleep(down)
        self.pg.start()

    async def connect(self) -> asyncpg.Connection:
        """A connection of the test's own (short-lived: the server may be restarted under a pool)."""
        return await asyncpg.connect(self.settings.database_url)


@contextmanager
def fault_stack(settings: Settings) -> Iterator[FaultStack]:
    """Start the private servers; stop them and remove every file afterwards."""
    # The postgres system user must traverse it (PostgreSQL runs as postgres under root).
    base = Path(tempfile.mkdtemp(prefix="yaffw-faults-"))
    base.chmod(0o755)
    pg = PrivatePostgres(base / "pg", free_port(), fsync=False)
    rd = PersistentRedis(base / "redis", free_port())
    try:
        pg.start()
        rd.start()
        dsn = pg.dsn.rsplit("/", 1)[0] + "/yaffw"

        async def create() -> None:
            conn = await asyncpg.connect(pg.dsn)
            try:
                await conn.execute("CREATE DATABASE yaffw")
            finally:
                await conn.close()
            await migrate(dsn)

        _run_in_thread(create)  # pytest-asyncio's loop may be running in this thread
        stack_settings = settings.replace(database_url=dsn, redis_url=rd.url,
                                          redis_prefix=f"faults:{uuid.uuid4().hex[:6]}:")  # fmt: skip
        yield FaultStack(base, stack_settings, pg, rd)
    finally:
        rd.stop()
        pg.stop()
        shutil.rmtree(pg.datadir, ignore_errors=True)
        shutil.rmtree(base, ignore_errors=True)


def _run_in_thread(make) -> None:  # type: ignore[no-untyped-def]
    import threading

    errors: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(make())
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    t = threading.Thread(target=target)
    t.start()
    t.join()
    if errors:
        raise errors[0]


def env_for(settings: Settings) -> dict[str, str]:
    """The environment of a real process run with ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YAFFW_", "S3_"))}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    env.update(settings.to_env())
    env["PYTHONUNBUFFERED"] = "1"
    return env


def wait_ready(url: str, proc: subprocess.Popen | None = None, timeout: float = 60) -> None:
    """Poll /readyz until 200. :raises AssertionError: on timeout or if ``proc`` exited."""
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
