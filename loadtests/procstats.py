"""CPU and memory of the stack's processes while a load test runs, sampled with psutil.

Each process is put in a category by what it runs: ``api (target)`` (the replica Locust talks to),
``api (other)``, ``transcode``, ``ffmpeg``, ``postgres``, ``redis``, ``locust``, ``yaffw other``
(scan, reaper, dispatcher, timer, the runner). ``roots`` limits sampling to those processes and their
descendants (plus a private PostgreSQL found by its port, since ``pg_ctl`` detaches it); without
roots every process on the machine is sampled, so other work on the machine shows up there too.
CPU is in percent of one core (200 = both cores of a 2-core machine). A ``machine`` row per sample
holds the whole machine's CPU and used memory; every row carries the 1-minute load average.
"""

from __future__ import annotations

import contextlib
import csv
import threading
import time
from pathlib import Path

import psutil

COLUMNS = ["t", "category", "cpu_percent", "rss_mb", "processes", "load1"]
MACHINE = "machine"


def category(proc: psutil.Process, target_port: int | None) -> str | None:
    """The category of ``proc``, or None for processes that are not part of a yaffw stack."""
    try:
        name = proc.name()
        cmd = " ".join(proc.cmdline())
    except (psutil.Error, OSError):
        return None
    if name == "ffmpeg":
        return "ffmpeg"
    if name.startswith("postgres") or cmd.startswith("postgres"):
        return "postgres"
    if name.startswith("redis-server"):
        return "redis"
    if "locust" in cmd:
        return "locust"
    if "functions/api/main.py" in cmd:
        try:
            port = proc.environ().get("PORT")
        except (psutil.Error, OSError):
            port = None
        return "api (target)" if target_port and port == str(target_port) else "api (other)"
    if "functions/transcode/main.py" in cmd:
        return "transcode"
    if "yaffw" in cmd or "functions/" in cmd:
        return "yaffw other"
    return None


class Sampler(threading.Thread):
    """Samples every ``interval`` seconds into ``path`` (CSV, :data:`COLUMNS`) until :meth:`stop`."""

    def __init__(self, path: Path, *, roots: list[int] | None = None, postgres_port: int | None = None,
                 target_port: int | None = None, interval: float = 1.0) -> None:  # fmt: skip
        super().__init__(daemon=True, name="procstats")
        self.path, self.roots, self.postgres_port = path, roots, postgres_port
        self.target_port, self.interval = target_port, interval
        self._halt = threading.Event()
        self._procs: dict[int, psutil.Process] = {}  # kept between samples: cpu_percent needs two

    def _candidates(self) -> list[psutil.Process]:
        if self.roots is None:
            return list(psutil.process_iter())
        found: list[psutil.Process] = []
        for pid in self.roots:
            try:
                root = psutil.Process(pid)
                found += [root, *root.children(recursive=True)]
            except psutil.Error:
                continue
        if self.postgres_port:
            flag = f"-p {self.postgres_port}"
            for p in psutil.process_iter(["name", "cmdline"]):
                if (p.info["name"] or "").startswith("postgres") and flag in " ".join(p.info["cmdline"] or []):
                    with contextlib.suppress(psutil.Error):
                        found += [p, *p.children(recursive=True)]
        return found

    def sample(self) -> list[list[object]]:
        """One row per category present now, plus the machine's total CPU and load average."""
        now = round(time.time(), 1)
        totals: dict[str, list[float]] = {}
        for proc in self._candidates():
            proc = self._procs.setdefault(proc.pid, proc)
            cat = category(proc, self.target_port)
            if cat is None:
                continue
            try:
                cpu, rss = proc.cpu_percent(None), proc.memory_info().rss / 2**20
            except (psutil.Error, OSError):
                continue
            row = totals.setdefault(cat, [0.0, 0.0, 0])
            row[0] += cpu
            row[1] += rss
            row[2] += 1
        load1 = round(psutil.getloadavg()[0], 2)
        rows: list[list[object]] = [[now, c, round(v[0], 1), round(v[1], 1), v[2], load1]
                                    for c, v in sorted(totals.items())]  # fmt: skip
        used = (psutil.virtual_memory().total - psutil.virtual_memory().available) / 2**20
        rows.append([now, MACHINE, round(psutil.cpu_percent(None) * psutil.cpu_count(), 1), round(used), 0, load1])
        return rows

    def run(self) -> None:
        """Sample until stopped (the first sample only primes the CPU counters)."""
        self.sample()
        with self.path.open("w", newline="") as f:
            out = csv.writer(f)
            out.writerow(COLUMNS)
            while not self._halt.wait(self.interval):
                out.writerows(self.sample())
                f.flush()

    def stop(self) -> None:
        """Stop and wait for the last row to be written."""
        self._halt.set()
        self.join(timeout=10)
