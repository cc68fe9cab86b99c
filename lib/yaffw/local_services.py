"""Private PostgreSQL and Redis instances under a state directory (for `yaffw up` and the tests
when no server answers at DATABASE_URL / REDIS_URL).

Uses the system's ``initdb``/``pg_ctl``/``redis-server``. PostgreSQL refuses to run as root, so as
root the server runs as the ``postgres`` system user (which Debian's package creates).

Safe on a shared machine: both listen on 127.0.0.1 only and require a password over TCP, a random
one kept in the state folder (``postgres.password``, ``redis.password``, mode 0600) and made the
first time. Other local users can reach the ports, not the data. PostgreSQL's Unix socket (the only
way in without the password) lives in its 0700 data directory. Passwords never appear on a command
line (``ps`` shows those to everyone): Redis reads it from a 0600 config file, PostgreSQL gets it
over the socket on stdin. PostgreSQL keeps ``fsync`` on unless the caller asks otherwise (the tests
do, for speed; ``yaffw up`` never does: a power cut must not lose a household's watch history).
"""

from __future__ import annotations

import hashlib
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from yaffw.errors import ConfigError, Unavailable


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


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


def _run(cmd: list[str], what: str, stdin: str | None = None) -> None:
    result = subprocess.run(cmd, check=False, capture_output=True, text=True, start_new_session=True, input=stdin)
    if result.returncode != 0:
        raise Unavailable(f"{what} failed: {(result.stderr or result.stdout).strip()[-1000:]}")


def secret(path: Path) -> str:
    """The password kept in ``path``; a random one is written (mode 0600) the first time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(32) + "\n")
    os.chmod(path, 0o600)  # a file made by hand or by an older yaffw becomes private too
    value = path.read_text().strip()
    if not value:
        raise ConfigError(f"{path} is empty: delete it to have a new password made")
    return value


# Written at every start, so a cluster made by an older yaffw (trust over TCP) is closed too.
_PG_HBA = """# Written by yaffw at every start (yaffw.local_services.PrivatePostgres); edits are lost.
# The Unix socket lives in the data directory (mode 0700): only the server's owner reaches it.
local all all trust
host all all 127.0.0.1/32 scram-sha-256
host all all ::1/128 scram-sha-256
"""


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster in ``datadir`` listening on 127.0.0.1:``port``, with a password
    (``password_file``, default ``postgres.password`` beside ``datadir``) and ``fsync`` on unless
    ``fsync=False``.

    As root, PostgreSQL runs as the ``postgres`` user; when that user cannot reach ``datadir`` (a
    private temporary folder, say) the cluster lives in the postgres user's home instead, under a name
    derived from ``datadir`` so the same state dir finds it again.
    """

    datadir: Path
    port: int
    fsync: bool = True
    password_file: Path | None = None

    def __post_init__(self) -> None:
        if self.password_file is None:  # in the state folder, even when the cluster moves below
            self.password_file = self.datadir.parent / "postgres.password"
        if os.geteuid() == 0:
            self.datadir.parent.mkdir(parents=True, exist_ok=True)
            if not _postgres_can_reach(self.datadir):
                tag = hashlib.sha256(str(self.datadir.resolve()).encode()).hexdigest()[:12]
                self.datadir = Path(pwd.getpwnam("postgres").pw_dir) / f"yaffw-{tag}"

    @property
    def user(self) -> str:
        """The cluster's superuser (the user that ran initdb)."""
        return "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name

    @property
    def password(self) -> str:
        """The superuser's password (made on first use)."""
        assert self.password_file is not None
        return secret(self.password_file)

    @property
    def dsn(self) -> str:
        return f"postgresql://{quote(self.user)}:{quote(self.password, safe='')}@127.0.0.1:{self.port}/postgres"

    def start(self) -> PrivatePostgres:
        """initdb (first time) and start; returns when it accepts connections."""
        self.datadir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            pg = pwd.getpwnam("postgres")
            os.chown(self.datadir, pg.pw_uid, pg.pw_gid)
            os.chmod(self.datadir, 0o700)
        password = self.password
        if not (self.datadir / "PG_VERSION").exists():
            _run(_as_pg_user([_pg_bin("initdb"), "-D", str(self.datadir), "-A", "trust", "-E", "UTF8",
                              "--no-instructions"]), "initdb")  # fmt: skip
        self._write_hba()
        opts = (f"-p {self.port} -k {self.datadir} -c listen_addresses=127.0.0.1 -c unix_socket_permissions=0700"
                f" -c password_encryption=scram-sha-256 -c fsync={'on' if self.fsync else 'off'}")  # fmt: skip
        # Own session (in _run): a Ctrl-C in the terminal must not stop it before the functions using it.
        log_file = str(self.datadir / "server.log")
        _run(_as_pg_user([_pg_bin("pg_ctl"), "-D", str(self.datadir), "-o", opts, "-l", log_file,
                          "-w", "-t", "60", "start"]), "pg_ctl start")  # fmt: skip
        # Set (again) over the socket: the password file is the truth, even for an older cluster.
        # On stdin, not in -c: a command line is visible to every user of the machine.
        sql = f"ALTER ROLE \"{self.user}\" PASSWORD '{password.replace(chr(39), chr(39) * 2)}';\n"
        psql = [_pg_bin("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", str(self.datadir), "-p", str(self.port),
                "-U", self.user, "-d", "postgres", "-f", "-"]  # fmt: skip
        _run(_as_pg_user(psql), "setting the PostgreSQL password", stdin=sql)
        return self

    def _write_hba(self) -> None:
        hba = self.datadir / "pg_hba.conf"
        hba.write_text(_PG_HBA)
        if os.geteuid() == 0:
            pg = pwd.getpwnam("postgres")
            os.chown(hba, pg.pw_uid, pg.pw_gid)
        hba.chmod(0o600)

    def stop(self) -> None:
        """Fast shutdown; waits until it is gone."""
        subprocess.run(
            _as_pg_user([_pg_bin("pg_ctl"), "-D", str(self.datadir), "-m", "fast", "-w", "stop"]),
            check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip


@dataclass
class PrivateRedis:
    """A redis-server on 127.0.0.1:``port`` that keeps nothing on disk and requires the password in
    ``password_file`` (default ``redis.password`` beside ``workdir``)."""

    workdir: Path
    port: int
    process: subprocess.Popen[bytes] | None = None
    password_file: Path | None = None

    def __post_init__(self) -> None:
        if self.password_file is None:
            self.password_file = self.workdir.parent / "redis.password"

    @property
    def password(self) -> str:
        """The default user's password (made on first use)."""
        assert self.password_file is not None
        return secret(self.password_file)

    @property
    def url(self) -> str:
        return f"redis://:{quote(self.password, safe='')}@127.0.0.1:{self.port}/0"

    def _write_config(self) -> Path:
        """The settings, in a 0600 file: ``requirepass`` must not be on the command line."""
        config = self.workdir / "redis.conf"
        lines = [f"port {self.port}", "bind 127.0.0.1", "protected-mode yes", 'save ""', "appendonly no",
                 f'dir "{self.workdir}"', f'logfile "{self.workdir / "redis.log"}"',
                 f"requirepass {self.password}"]  # fmt: skip
        fd = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(config, 0o600)
        return config

    def start(self) -> PrivateRedis:
        """Start and wait until it answers."""
        binary = shutil.which("redis-server")
        if not binary:
            raise ConfigError("redis-server not found: install it (apt install redis-server)")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [binary, str(self._write_config())],
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


def configured_or_private(
    database_url: str, redis_url: str, work: Path
) -> tuple[str, str, list[PrivatePostgres | PrivateRedis]]:
    """The PostgreSQL and Redis at these URLs when they answer, else private ones under ``work``
    (a bare machine): ``(database_url, redis_url, started)``; the caller stops what was started."""
    started: list[PrivatePostgres | PrivateRedis] = []
    if not port_open("127.0.0.1", int(database_url.rsplit(":", 1)[1].split("/")[0])):
        pg = PrivatePostgres(work / "pg", free_port()).start()
        started.append(pg)
        database_url = pg.dsn
    if not port_open("127.0.0.1", int(redis_url.rsplit(":", 1)[1].split("/")[0])):
        rd = PrivateRedis(work / "redis", free_port()).start()
        started.append(rd)
        redis_url = rd.url
    return database_url, redis_url, started
