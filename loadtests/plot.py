"""Graphs (PNG) from a load test's output folder: ``python loadtests/plot.py OUT [--dest DIR]``.

Per step folder ``OUT/u<users>/``: ``timeline.png`` (users, requests/s, p50 and p95 over time, from
Locust's ``locust_stats_history.csv``) and ``cpu.png`` (CPU per process category over time, from
``resources.csv``). With two steps or more, from ``OUT/steps.csv``: ``capacity.png`` (browse p95,
HLS time to first segment and stalls against users) and ``cpu-by-users.png`` (mean CPU per category
against users). Needs matplotlib (the ``loadtest`` extra).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt

CATEGORIES = ("api (target)", "api (other)", "postgres", "redis", "transcode", "ffmpeg", "yaffw other", "locust")


def _read(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def _num(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "", "N/A") else None
    except ValueError:
        return None


def timeline(step: Path, dest: Path) -> Path | None:
    """Users, throughput and latency over the run."""
    rows = [r for r in _read(step / "locust_stats_history.csv") if r["Name"] == "Aggregated"]
    if not rows:
        return None
    t0 = float(rows[0]["Timestamp"])
    t = [float(r["Timestamp"]) - t0 for r in rows]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    top.plot(t, [_num(r["Requests/s"]) for r in rows], label="requests/s")
    top.plot(t, [_num(r["Failures/s"]) for r in rows], label="failures/s", color="tab:red")
    top.set_ylabel("per second")
    users = top.twinx()
    users.plot(t, [_num(r["User Count"]) for r in rows], color="grey", linestyle="--", label="users")
    users.set_ylabel("users")
    top.legend(loc="upper left")
    for column in ("50%", "95%"):
        bottom.plot(t, [_num(r[column]) for r in rows], label=f"p{column.rstrip('%')} (all requests, last 10 s)")
    bottom.set_ylabel("ms")
    bottom.set_yscale("log")
    bottom.set_xlabel("seconds")
    bottom.legend(loc="upper left")
    fig.suptitle(f"{step.name}: throughput and response times")
    fig.tight_layout()
    path = dest / f"{step.name}-timeline.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def cpu(step: Path, dest: Path) -> Path | None:
    """Stacked CPU per process category over the run."""
    rows = _read(step / "resources.csv")
    if not rows:
        return None
    times = sorted({float(r["t"]) for r in rows})
    t0 = times[0]
    index = {t: i for i, t in enumerate(times)}
    series = {c: [0.0] * len(times) for c in CATEGORIES}
    machine = [0.0] * len(times)
    for r in rows:
        i = index[float(r["t"])]
        if r["category"] == "machine":
            machine[i] = float(r["cpu_percent"])
        elif r["category"] in series:
            series[r["category"]][i] = float(r["cpu_percent"])
    present = [c for c in CATEGORIES if any(series[c])]
    fig, ax = plt.subplots(figsize=(9, 4))
    x = [t - t0 for t in times]
    ax.stackplot(x, *[series[c] for c in present], labels=present)
    ax.plot(x, machine, color="black", linewidth=1, label="whole machine")
    ax.set_ylabel("CPU, % of one core")
    ax.set_xlabel("seconds")
    ax.legend(loc="upper left", fontsize="small", ncol=3)
    ax.set_title(f"{step.name}: CPU by process")
    fig.tight_layout()
    path = dest / f"{step.name}-cpu.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def capacity(out: Path, dest: Path) -> list[Path]:
    """Curves against the number of users, from ``steps.csv``."""
    rows = _read(out / "steps.csv")
    if len(rows) < 2:
        return []
    users = [float(r["users"]) for r in rows]
    made = []
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    if any(float(r["browse_p95"]) for r in rows):
        left.plot(users, [float(r["browse_p95"]) for r in rows], marker="o", label="browse p95")
        left.plot(users, [float(r["browse_p50"]) for r in rows], marker="o", label="browse p50")
        left.axhline(200, color="tab:red", linestyle=":", label="200 ms target")
    if any(float(r.get("app_p95") or 0) for r in rows):
        left.plot(users, [float(r["app_p95"]) for r in rows], marker="D", label="app (Jellyfin API) p95")
        left.plot(users, [float(r["app_p50"]) for r in rows], marker="D", label="app (Jellyfin API) p50")
    if any(float(r.get("app_ttff_p95") or 0) for r in rows):
        left.plot(users, [float(r["app_ttff_p95"]) for r in rows], marker="v", label="app: first chunk/segment p95")
    if any(float(r["direct_ttfc_p95"]) for r in rows):
        left.plot(users, [float(r["direct_ttfc_p95"]) for r in rows], marker="^", label="direct: first chunk p95")
    if any(float(r["ttfs_p95"]) for r in rows):
        left.plot(users, [float(r["ttfs_p95"]) for r in rows], marker="s", label="HLS time to first segment p95")
    left.set_xlabel("users")
    left.set_ylabel("ms")
    left.legend(fontsize="small")
    right.plot(users, [float(r["rps"]) for r in rows], marker="o", label="requests/s")
    right.plot(users, [float(r["stalls"]) for r in rows], marker="s", label="HLS stalls (count)")
    right.plot(users, [float(r["direct_stalls"]) for r in rows], marker="^", label="direct-play stalls (count)")
    right.plot(users, [float(r["failures"]) for r in rows], marker="x", label="failures")
    right.set_xlabel("users")
    right.legend(fontsize="small", loc="upper left")
    load = right.twinx()  # other work on the machine distorts everything: show how much there was
    load.plot(users, [float(r["load1"]) for r in rows], color="grey", linestyle="--", marker=".",
              label="load average (mean during)")  # fmt: skip
    if any(r.get("load_before") not in (None, "") for r in rows):
        load.plot(users, [float(r["load_before"] or 0) for r in rows], color="black", linestyle=":", marker=".",
                  label="load average before the step")  # fmt: skip
    load.set_ylabel("machine load average (1 min)")
    load.legend(fontsize="small", loc="lower right")
    fig.suptitle(f"{out.name}: response times and throughput by load")
    fig.tight_layout()
    made.append(dest / "capacity.png")
    fig.savefig(made[-1], dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(9, 4))
    bottom = [0.0] * len(rows)
    columns = [("api_cpu", "api (target)"), ("postgres_cpu", "postgres"), ("redis_cpu", "redis"),
               ("transcode_cpu", "transcode"), ("ffmpeg_cpu", "ffmpeg"), ("locust_cpu", "locust")]  # fmt: skip
    labels = [str(int(u)) for u in users]
    for column, label in columns:
        values = [float(r[column]) for r in rows]
        if any(values):
            ax.bar(labels, values, bottom=bottom, label=label)
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.plot(labels, [float(r["machine_cpu"]) for r in rows], color="black", marker="o", label="whole machine")
    ax.set_xlabel("users")
    ax.set_ylabel("mean CPU, % of one core")
    ax.legend(fontsize="small", ncol=3)
    fig.tight_layout()
    made.append(dest / "cpu-by-users.png")
    fig.savefig(made[-1], dpi=100)
    plt.close(fig)
    return made


def main() -> None:
    """CLI."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="a folder written by loadtests/run.py")
    parser.add_argument("--dest", type=Path, default=None, help="where the PNGs go (default: OUT)")
    args = parser.parse_args()
    dest = args.dest or args.out
    dest.mkdir(parents=True, exist_ok=True)
    made = []
    for step in sorted(p for p in args.out.glob("u*") if p.is_dir()):
        made += [p for p in (timeline(step, dest), cpu(step, dest)) if p]
    made += capacity(args.out, dest)
    for path in made:
        print(path)


if __name__ == "__main__":
    main()
