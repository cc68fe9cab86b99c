"""Run the Locust load test headless against ``yaffw up`` (or a running yaffw) and summarise it.

Usage (docs/loadtest.md)::

    python loadtests/run.py --users 20 --minutes 5                  # sample library, mixed users
    python loadtests/run.py --media ~/Videos --users 10,20,40 --minutes 3 --profile browse
    python loadtests/run.py --url https://yaffw.example --users 50 --minutes 10

Without ``--url`` it starts ``yaffw up`` on a free port with a private PostgreSQL and Redis under a
temporary state folder (``--media`` or the generated sample library), waits until the first scan has
settled, and stops it at the end. ``--users`` takes one number or a comma-separated list: each is a
step, run one after the other against the same stack, with its own folder ``OUT/u<users>/`` holding
Locust's CSV (``locust_stats.csv``, ``locust_stats_history.csv``, ``locust_failures.csv``,
``locust_groups.csv``), its HTML report (``report.html``), CPU per process (``resources.csv``) and
``meta.json``. At the end it prints the summary (``summary.py``) and writes ``OUT/summary.txt``;
``plot.py OUT`` draws the graphs. Exit status: 0 when no request failed, 1 otherwise.

Weights and pacing are the locustfile's ``LOADTEST_*`` variables, taken from the environment;
``--profile`` sets the weights for the usual single-kind runs unless the environment sets them.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from procstats import Sampler
from summary import summarise

ROOT = Path(__file__).resolve().parents[1]
LOCUSTFILE = ROOT / "loadtests" / "locustfile.py"
PROFILES = {  # (browse, direct, hls, admins)
    "mixed": (10, 3, 1, 1),
    "browse": (1, 0, 0, 0),
    "direct": (0, 1, 0, 0),
    "hls": (0, 0, 1, 0),
}


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stack:
    """``yaffw up`` in a child process, with its log in the output folder."""

    def __init__(self, args: argparse.Namespace, out: Path, admin_password: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.state = args.state_dir or Path(tempfile.mkdtemp(prefix="yaffw-loadtest-"))
        self.own_state = args.state_dir is None
        self.log = out / "yaffw-up.log"
        # yaffw refuses unknown YAFFW_* variables, and must not share the caller's database or Redis.
        foreign = ("YAFFW_", "S3_", "LOADTEST_")
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(foreign) and k not in ("DATABASE_URL", "REDIS_URL")
        }
        # Every process of a local stack is on 127.0.0.1; a worker must not advertise another interface
        # (its server listens on 127.0.0.1 only, so the api could not reach it there).
        env.update(YAFFW_ADMIN_PASSWORD=admin_password, YAFFW_WORKER_SESSIONS=str(args.worker_sessions),
                   YAFFW_ADVERTISE_HOST="127.0.0.1", PYTHONUNBUFFERED="1")  # fmt: skip
        cmd = [sys.executable, "-m", "yaffw.cli", "up", "--port", str(self.port), "--state-dir", str(self.state),
               "--workers", str(args.workers)]  # fmt: skip
        if args.media:
            cmd += ["--media", str(args.media)]
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log.open("w"), stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float) -> None:
        """Until ``yaffw is ready`` is printed. :raises SystemExit: it exited or took too long."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "yaffw is ready" in self.log.read_text(errors="replace"):
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.5)
        self.stop()
        raise SystemExit(f"yaffw up did not start:\n{self.log.read_text(errors='replace')[-3000:]}")

    def postgres_port(self) -> int | None:
        """The private PostgreSQL's port, from the runner's log line."""
        for line in self.log.read_text(errors="replace").splitlines():
            if "private PostgreSQL on port" in line:
                return int(line.split("on port", 1)[1].split()[0])
        return None

    def stop(self) -> None:
        """SIGTERM, wait, and remove a temporary state folder."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.own_state:
            shutil.rmtree(self.state, ignore_errors=True)


def admin_password(state_dir: Path | None) -> str:
    """A new admin password; kept in a given state folder, whose database keeps the admin too."""
    if state_dir is None:
        return secrets.token_urlsafe(12)
    path = state_dir / "loadtest-admin-password"
    if not path.exists():
        state_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(12))
        path.chmod(0o600)
    return path.read_text().strip()


def wait_scanned(url: str, user: str, password: str, timeout: float, quiet_s: float = 10.0) -> int:
    """Wait until the number of playable items has been > 0 and unchanged for ``quiet_s``; returns it."""
    token = httpx.post(f"{url}/api/auth/login", json={"username": user, "password": password}, timeout=60)
    if token.status_code != 200:
        raise SystemExit(f"admin login as {user!r} failed ({token.status_code}): set LOADTEST_ADMIN_PASSWORD")
    headers = {"Authorization": "Bearer " + token.json()["access_token"]}
    deadline, last, since = time.monotonic() + timeout, -1, time.monotonic()
    while time.monotonic() < deadline:
        r = httpx.get(f"{url}/api/items?type=movie,episode,video&limit=1", headers=headers, timeout=60)
        total = r.json().get("total", 0) if r.status_code == 200 else 0
        if total != last:
            last, since = total, time.monotonic()
        elif total > 0 and time.monotonic() - since >= quiet_s:
            return total
        time.sleep(1)
    raise SystemExit(f"the library did not settle in {timeout}s (items: {last})")


def run_step(args: argparse.Namespace, url: str, users: int, out: Path, env: dict[str, str],
             roots: list[int] | None, postgres_port: int | None) -> int:  # fmt: skip
    """One headless Locust run of ``users`` users; returns Locust's exit status."""
    step = out / f"u{users}"
    step.mkdir(parents=True, exist_ok=True)
    seconds = max(10, round(args.minutes * 60))
    settings = {k: v for k, v in env.items() if k.startswith("LOADTEST_") and "PASSWORD" not in k}
    meta = {"users": users, "minutes": args.minutes, "url": url, "spawn_rate": args.spawn_rate,
            "profile": args.profile, "reset_stats": args.reset_stats,
            "load_before": round(psutil.getloadavg()[0], 2), "cpus": psutil.cpu_count(), "started": time.time(),
            "settings": settings}  # fmt: skip
    (step / "meta.json").write_text(json.dumps(meta, indent=2))
    target = urlparse(url).port
    sampler = Sampler(step / "resources.csv", roots=roots, postgres_port=postgres_port, target_port=target)
    sampler.start()
    cmd = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--host", url, "-u", str(users),
           "-r", str(args.spawn_rate or users), "-t", f"{seconds}s", "--stop-timeout", str(args.stop_timeout),
           "--csv", str(step / "locust"), "--html", str(step / "report.html"), "--only-summary",
           "--loglevel", "WARNING", *(["--reset-stats"] if args.reset_stats else [])]  # fmt: skip
    print(f"-- {users} users for {seconds}s (load average now {meta['load_before']})", flush=True)
    with (step / "locust.log").open("w") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        if roots is not None:
            roots.append(proc.pid)  # Locust's own CPU is part of the picture on a small machine
        code = proc.wait()
    sampler.stop()
    return code


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = p.add_mutually_exclusive_group()
    where.add_argument("--url", help="test a running yaffw at this URL instead of starting one")
    where.add_argument("--media", type=Path, help="media folder for yaffw up (default: the generated sample)")
    p.add_argument("--users", default="10", help="users, or a comma-separated list of steps (default 10)")
    p.add_argument("--minutes", type=float, default=2.0, help="minutes per step (default 2)")
    p.add_argument("--spawn-rate", type=float, default=0, help="users started per second (default: all at once)")
    p.add_argument("--profile", choices=sorted(PROFILES), default="mixed", help="user mix (default mixed)")
    p.add_argument("--out", type=Path, default=None, help="output folder (default loadtest-out/<time>)")
    p.add_argument("--workers", type=int, default=1, help="yaffw up: transcode workers (default 1)")
    p.add_argument("--worker-sessions", type=int, default=16, help="yaffw up: sessions per worker (default 16)")
    p.add_argument("--state-dir", type=Path, default=None, help="yaffw up: state folder (default: temporary)")
    p.add_argument("--reset-stats", action="store_true", help="drop the ramp-up (spawning) from the statistics")
    p.add_argument("--stop-timeout", type=int, default=15, help="seconds users get to stop at the end (default 15)")
    p.add_argument("--scan-timeout", type=float, default=900, help="seconds to wait for the first scan")
    p.add_argument("--settle", type=float, default=10, help="the scan has settled after this many quiet seconds")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Start (or use) the stack, run each step, summarise."""
    args = parse_args(argv)
    steps = [int(u) for u in str(args.users).split(",") if u.strip()]
    out = (args.out or ROOT / "loadtest-out" / time.strftime("%Y%m%d-%H%M%S")).resolve()
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    for var, weight in zip(("LOADTEST_WEIGHT_BROWSE", "LOADTEST_WEIGHT_DIRECT", "LOADTEST_WEIGHT_HLS",
                            "LOADTEST_ADMINS"), PROFILES[args.profile], strict=True):  # fmt: skip
        env.setdefault(var, str(weight))
    admin = env.setdefault("LOADTEST_ADMIN_USER", "admin")
    stack = None
    if args.url:
        url, roots, pg_port = args.url.rstrip("/"), None, None
        password = env.get("LOADTEST_ADMIN_PASSWORD") or env.get("YAFFW_ADMIN_PASSWORD") or ""
    else:
        password = env.get("LOADTEST_ADMIN_PASSWORD") or admin_password(args.state_dir)
        stack = Stack(args, out, password)
    env["LOADTEST_ADMIN_PASSWORD"] = password
    env.pop("YAFFW_ADMIN_PASSWORD", None)
    failed = False
    try:
        if stack is not None:
            print(f"starting yaffw up on {stack.url} (log: {stack.log})", flush=True)
            stack.wait_ready(timeout=600)
            url, roots, pg_port = stack.url, [stack.proc.pid], stack.postgres_port()
        print(f"waiting for the library scan to settle at {url}", flush=True)
        items = wait_scanned(url, admin, password, args.scan_timeout, args.settle)
        print(f"{items} playable items", flush=True)
        for users in steps:
            code = run_step(args, url, users, out, env, list(roots) if roots is not None else None, pg_port)
            failed |= code != 0
    finally:
        if stack is not None:
            stack.stop()
    text = summarise(out)
    (out / "summary.txt").write_text(text + "\n")
    print(text)
    print(f"\nresults: {out}  (graphs: python loadtests/plot.py {out})")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
