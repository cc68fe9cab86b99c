"""Read a load test's output folder and summarise it (used by run.py; also runnable on its own).

``python loadtests/summary.py OUT`` prints, for each step folder ``OUT/u<users>/``: requests,
failures, p50/p95/p99 per group, the custom metrics, and CPU per process category; then one line
per step, which it also writes to ``OUT/steps.csv`` (what ``plot.py`` draws capacity curves from).

Every figure is printed beside the step's load average (before the step / mean during it) and the
CPU that processes outside the stack used meanwhile (``other``: the machine's CPU minus the stack's
and Locust's). A step that started above run.py's load limit (``meta.json``'s ``quiet: false``, run
with ``--allow-load``) is marked ``LOADED`` on every line and ``*`` in the table.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
from pathlib import Path
from typing import Any

STEP_COLUMNS = ["users", "requests", "failures", "rps", "browse_p50", "browse_p95", "browse_p99",
                "ttfs_p50", "ttfs_p95", "stalls", "stall_p95", "retries", "direct_stalls", "direct_ttfc_p95", "api_cpu",
                "api_cpu_max", "postgres_cpu", "redis_cpu", "transcode_cpu", "ffmpeg_cpu", "locust_cpu",
                "machine_cpu", "load1", "api_ms_per_req", "pg_ms_per_req", "ffmpeg_cores_per_session",
                "app_p50", "app_p95", "app_p99", "app_ttff_p95", "app_stalls", "load_before", "quiet",
                "other_cpu"]  # fmt: skip


_TABLE = ("users", "req/s", "fail", "browse95", "app95", "ttfs95", "stalls", "api cpu", "pg cpu", "ffmpeg",
          "machine", "other", "api ms/r", "load<", "load1")  # fmt: skip


def _read(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def cpu_by_category(rows: list[dict[str, str]]) -> dict[str, tuple[float, float]]:
    """Mean and max CPU (% of one core) per category over the samples."""
    series: dict[str, list[float]] = {}
    for row in rows:
        series.setdefault(row["category"], []).append(_num(row["cpu_percent"]))
    return {c: (statistics.fmean(v), max(v)) for c, v in series.items() if v}


def other_cpu(rows: list[dict[str, str]]) -> float:
    """Mean CPU (% of one core) of processes outside the sampled categories: the machine's mean CPU
    minus the categories' (means over the step, so the jitter of per-process sampling evens out)."""
    machine, stack, samples = 0.0, 0.0, 0
    for row in rows:
        if row["category"] == "machine":
            machine += _num(row["cpu_percent"])
            samples += 1
        else:
            stack += _num(row["cpu_percent"])
    return round(max(0.0, (machine - stack) / samples)) if samples else 0.0


def load_note(meta: dict[str, Any], load1: float, other: float) -> str:
    """``load 0.12/1.85, other 3%`` (before the step / mean during it; CPU of other processes), with
    ``LOADED`` when the step started above the limit."""
    note = f"load {meta.get('load_before', '?')}/{load1:.2f}, other {other:.0f}%"
    return note + (" LOADED" if meta.get("quiet") is False else "")


def cpu_per_request(step: Path) -> dict[str, float]:
    """CPU milliseconds per request of the target api and of PostgreSQL, over the steady part of the
    step (all users running): a cost that depends far less on what else the machine does than
    latency does, so ``1000 / api_ms_per_req`` estimates what one dedicated core serves."""
    history = [r for r in _read(step / "locust_stats_history.csv") if r["Name"] == "Aggregated"]
    top = max((_num(r["User Count"]) for r in history), default=0)
    steady = [r for r in history if top and _num(r["User Count"]) == top][2:]  # after a reset-stats
    if len(steady) < 5:
        return {}
    t0, t1 = _num(steady[0]["Timestamp"]), _num(steady[-1]["Timestamp"])
    requests = _num(steady[-1]["Total Request Count"]) - _num(steady[0]["Total Request Count"])
    samples = [r for r in _read(step / "resources.csv") if t0 <= _num(r["t"]) <= t1]
    if requests <= 0 or t1 <= t0:
        return {}
    out = {}
    for category, key in (("api (target)", "api_ms_per_req"), ("postgres", "pg_ms_per_req")):
        cpu = cpu_by_category([r for r in samples if r["category"] == category]).get(category, (0.0, 0.0))[0]
        out[key] = round(cpu / 100 * (t1 - t0) * 1000 / requests, 2)
    return out


def step_figures(step: Path) -> dict[str, Any]:
    """The key figures of one step folder (see :data:`STEP_COLUMNS`)."""
    meta = json.loads((step / "meta.json").read_text()) if (step / "meta.json").exists() else {}
    stats = {(r["Type"], r["Name"]): r for r in _read(step / "locust_stats.csv")}
    groups = {r["Group"]: r for r in _read(step / "locust_groups.csv")}
    agg = stats.get(("", "Aggregated"), {})
    cpu = cpu_by_category(_read(step / "resources.csv"))
    load = [_num(r["load1"]) for r in _read(step / "resources.csv") if r["category"] == "machine"]

    def metric(name: str, column: str) -> float:
        return _num(stats.get(("METRIC", name), {}).get(column))

    browse = groups.get("browse api", {})
    app = groups.get("app api", {})
    resources = _read(step / "resources.csv")
    ttff = max(metric("[app] time to first chunk", "95%"), metric("[app] time to first segment", "95%"))
    return {
        "users": meta.get("users", 0), "requests": int(_num(agg.get("Request Count"))),
        "failures": int(_num(agg.get("Failure Count"))), "rps": round(_num(agg.get("Requests/s")), 2),
        "browse_p50": _num(browse.get("50%")), "browse_p95": _num(browse.get("95%")),
        "browse_p99": _num(browse.get("99%")),
        "ttfs_p50": metric("[hls] time to first segment", "50%"),
        "ttfs_p95": metric("[hls] time to first segment", "95%"),
        "stalls": int(metric("[hls] stall", "Request Count")), "stall_p95": metric("[hls] stall", "95%"),
        "retries": int(metric("[hls] segment retry", "Request Count")),
        "direct_stalls": int(metric("[direct] stall", "Request Count")),
        "direct_ttfc_p95": metric("[direct] time to first chunk", "95%"),
        "api_cpu": round(cpu.get("api (target)", (0, 0))[0]), "api_cpu_max": round(cpu.get("api (target)", (0, 0))[1]),
        "postgres_cpu": round(cpu.get("postgres", (0, 0))[0]), "redis_cpu": round(cpu.get("redis", (0, 0))[0]),
        "transcode_cpu": round(cpu.get("transcode", (0, 0))[0]), "ffmpeg_cpu": round(cpu.get("ffmpeg", (0, 0))[0]),
        "locust_cpu": round(cpu.get("locust", (0, 0))[0]), "machine_cpu": round(cpu.get("machine", (0, 0))[0]),
        "load1": round(statistics.fmean(load), 2) if load else 0,
        "api_ms_per_req": 0.0, "pg_ms_per_req": 0.0,
        "ffmpeg_cores_per_session": round(cpu.get("ffmpeg", (0, 0))[0] / 100 / max(1, meta.get("users", 1)), 2)
        if meta.get("profile") == "hls" else 0.0,
        **cpu_per_request(step),
        "app_p50": _num(app.get("50%")), "app_p95": _num(app.get("95%")), "app_p99": _num(app.get("99%")),
        "app_ttff_p95": ttff, "app_stalls": int(metric("[app] stall", "Request Count")),
        "load_before": meta.get("load_before", ""), "quiet": meta.get("quiet", ""), "other_cpu": other_cpu(resources),
    }  # fmt: skip


def describe(step: Path) -> str:
    """The printed summary of one step."""
    meta = json.loads((step / "meta.json").read_text()) if (step / "meta.json").exists() else {}
    stats = _read(step / "locust_stats.csv")
    agg = next((r for r in stats if r["Name"] == "Aggregated"), {})
    resources = _read(step / "resources.csv")
    load = [_num(r["load1"]) for r in resources if r["category"] == "machine"]
    note = load_note(meta, statistics.fmean(load) if load else 0.0, other_cpu(resources))
    loaded = meta.get("quiet") is False
    lines = [f"== {step.name}: {meta.get('users', '?')} users for {meta.get('minutes', '?')} min against "
             f"{meta.get('url', '?')} (load average before: {meta.get('load_before', '?')}, limit "
             f"{meta.get('load_limit', '?')})"
             f"{' ** LOADED: figures taken under foreign load **' if loaded else ''} =="]  # fmt: skip
    failures = int(_num(agg.get("Failure Count")))
    lines.append(f"requests {int(_num(agg.get('Request Count')))}, failures {failures}, "
                 f"{_num(agg.get('Requests/s')):.1f} req/s   [{note}]")  # fmt: skip
    lines.append(f"  {'group':<28}{'requests':>9}{'fail':>6}{'req/s':>8}{'p50':>8}{'p95':>8}{'p99':>8}  (ms)  "
                 "[load before/during, other processes' CPU]")  # fmt: skip
    for r in _read(step / "locust_groups.csv"):
        lines.append(f"  {r['Group']:<28}{r['Requests']:>9}{r['Failures']:>6}{_num(r['Requests/s']):>8.2f}"
                     f"{r['50%']:>8}{r['95%']:>8}{r['99%']:>8}        [{note}]")  # fmt: skip
    metrics = [r for r in stats if r["Type"] == "METRIC"]
    if metrics:
        lines.append(f"  {'measurement':<36}{'count':>7}{'p50':>8}{'p95':>8}{'max':>8}  (ms)")
        for r in metrics:
            lines.append(f"  {r['Name']:<36}{r['Request Count']:>7}{r['50%']:>8}{r['95%']:>8}"
                         f"{round(_num(r['Max Response Time'])):>8}  [{note}]")  # fmt: skip
    cost = cpu_per_request(step)
    if cost:
        lines.append(f"  CPU per request (steady state): api {cost['api_ms_per_req']} ms, "
                     f"PostgreSQL {cost['pg_ms_per_req']} ms  [{note}]")  # fmt: skip
    cpu = cpu_by_category(resources)
    if cpu:
        parts = [f"{c} {m:.0f}/{x:.0f}" for c, (m, x) in sorted(cpu.items(), key=lambda kv: -kv[1][0])]
        lines.append("  CPU % of one core, mean/max: " + ", ".join(parts) + f"  [{note}]")
    errors = _read(step / "locust_failures.csv")
    for r in errors[:10]:
        lines.append(f"  FAILED {r.get('Occurrences')}x {r.get('Method')} {r.get('Name')}: {r.get('Error', '')[:160]}")
    return "\n".join(lines)


def summarise(out: Path) -> str:
    """Describe every step under ``out`` and write ``out/steps.csv``; returns the text."""
    steps = sorted((p for p in out.glob("u*") if p.is_dir() and (p / "locust_stats.csv").exists()),
                   key=lambda p: int(p.name[1:]) if p.name[1:].isdigit() else 0)  # fmt: skip
    texts = [describe(s) for s in steps]
    rows = [step_figures(s) for s in steps]
    with (out / "steps.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=STEP_COLUMNS)
        w.writeheader()
        w.writerows(rows)
    if rows:
        texts.append("== steps (ms; CPU in % of one core) ==")
        texts.append("  ".join(f"{c:>9}" for c in _TABLE))
        for r in rows:
            mark = "*" if r["quiet"] is False else ""
            values = (r["users"], r["rps"], r["failures"], r["browse_p95"], r["app_p95"], r["ttfs_p95"], r["stalls"],
                      r["api_cpu"], r["postgres_cpu"], r["ffmpeg_cpu"], r["machine_cpu"], r["other_cpu"],
                      r["api_ms_per_req"], r["load_before"], r["load1"])  # fmt: skip
            texts.append("  ".join(f"{str(v) + mark:>9}" for v in values))
        if any(r["quiet"] is False for r in rows):
            texts.append("* LOADED: the step started above the load limit (--allow-load); its figures include "
                         "foreign load")  # fmt: skip
        texts.append("load< = 1-minute load average before the step; load1 = its mean during the step; other = "
                     "CPU % of processes outside the stack and Locust")  # fmt: skip
    return "\n\n".join(texts)


def main() -> None:
    """CLI: print the summary of an output folder."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="a folder written by loadtests/run.py")
    print(summarise(parser.parse_args().out))


if __name__ == "__main__":
    main()
