"""Private PostgreSQL and Redis instances under a state directory (for `yaffw up` and the tests
when no server answers at DATABASE_URL / REDIS_URL).

Uses the system's ``initdb``/``pg_ctl``/``redis-server``. PostgreSQL refuses to run as root, so as
root the server runs as the ``postgres`` system user (which Debian's package creates).
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from yaffw.errors import ConfigError, Unavailable


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections at ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _pg_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for version in sorted(Path("/usr/lib/postgresql").glob("*"), reverse=True):
        candidate = version / "bin" / name
        if candidate.exists():
            return str(candidate)
    raise ConfigError(f"{name} not found: install PostgreSQL (apt install postgresql)")


def _as_pg_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


def _postgres_can_reach(path: Path) -> bool:
    """As root: can the postgres user traverse every parent of ``path``?"""
    return subprocess.run(["runuser", "-u", "postgres", "--", "test", "-x", str(path.parent)],
                          check=False, capture_output=True).returncode == 0  # fmt: skip


def _run(cmd: list[str], what: str) -> None:
    result = subprocess.run(cmd, check=False, capture_output=True, text=True, start_new_session=True)
    if result.returncode != 0:
        raise Unavailable(f"{what} failed: {(result.stderr or result.stdout).strip()[-1000:]}")


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster in ``datadir`` listening on 127.0.0.1:``port``.

    As root, PostgreSQL runs as the ``postgres`` user; when that user cannot reach ``datadir`` (a
    private temporary folder, say) the cluster lives in the postgres user's home instead, under a name
    derived from ``datadir`` so the same state dir finds it again.
    """

    datadir: Path
    port: int

    def __post_init__(self) -> None:
        if os.geteuid() == 0:
            self.datadir.parent.mkdir(parents=True, exist_ok=True)
            if not _postgres_can_reach(self.datadir):
                tag = hashlib.sha256(str(self.datadir.resolve()).encode()).hexdigest()[:12]
                self.datadir = Path(pwd.getpwnam("postgres").pw_dir) / f"yaffw-{tag}"

    @property
    def dsn(self) -> str:
        user = "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
        return f"postgresql://{user}@127.0.0.1:{self.port}/postgres"

    def start(self) -> PrivatePostgres:
        """initdb (first time) and start; returns when it accepts connections."""
        self.datadir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            pg = pwd.getpwnam("postgres")
            os.chown(self.datadir, pg.pw_uid, pg.pw_gid)
            os.chmod(self.datadir, 0o700)
        if not (self.datadir / "PG_VERSION").exists():
            _run(_as_pg_user([_pg_bin("initdb"), "-D", str(self.datadir), "-A", "trust", "-E", "UTF8",
                              "--no-instructions"]), "initdb")  # fmt: skip
        opts = f"-p {self.port} -k {self.datadir} -c listen_addresses=127.0.0.1 -c fsync=off"
        # Own session (in _run): a Ctrl-C in the terminal must not stop it before the functions using it.
        log_file = str(self.datadir / "server.log")
        _run(_as_pg_user([_pg_bin("pg_ctl"), "-D", str(self.datadir), "-o", opts, "-l", log_file,
                          "-w", "-t", "60", "start"]), "pg_ctl start")  # fmt: skip
        return self

    def stop(self) -> None:
        """Fast shutdown; waits until it is gone."""
        subprocess.run(
            _as_pg_user([_pg_bin("pg_ctl"), "-D", str(self.datadir), "-m", "fast", "-w", "stop"]),
            check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip


@dataclass
class PrivateRedis:
    """A redis-server on 127.0.0.1:``port`` that keeps nothing on disk."""

    workdir: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> PrivateRedis:
        """Start and wait until it answers."""
        binary = shutil.which("redis-server")
        if not binary:
            raise ConfigError("redis-server not found: install it (apt install redis-server)")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir), "--logfile", str(self.workdir / "redis.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while not port_open("127.0.0.1", self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise Unavailable(f"redis-server did not start (see {self.workdir / 'redis.log'})")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it lingers."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
