"""Counts of what a migration read, wrote, matched and skipped (and why), and their rendering."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

MAX_EXAMPLES = 20  # unmatched paths listed in the report; the rest are counted


@dataclass
class Phase:
    """One phase's counts. ``migrated``: rows written (new or changed); ``unchanged``: already
    there as they would be written; ``matched``/``unmatched``: items only."""

    name: str
    read: int = 0
    migrated: int = 0
    unchanged: int = 0
    matched: int = 0
    unmatched: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

    def skip(self, reason: str, n: int = 1) -> None:
        """Count ``n`` rows skipped for ``reason``."""
        self.skipped[reason] += n


@dataclass
class Report:
    """The whole run."""

    source: str  # "Jellyfin 10.10 (10.8-10.10 layout) at /var/lib/jellyfin/data"
    dry_run: bool
    phases: dict[str, Phase] = field(default_factory=dict)
    unmatched_examples: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def phase(self, name: str) -> Phase:
        """The named phase's counts (created on first use)."""
        return self.phases.setdefault(name, Phase(name))

    def as_dict(self) -> dict[str, Any]:
        """Plain data (for ``--json`` and tests)."""
        return {
            "source": self.source,
            "dry_run": self.dry_run,
            "seconds": round(self.seconds, 3),
            "phases": {
                p.name: {
                    "read": p.read,
                    "migrated": p.migrated,
                    "unchanged": p.unchanged,
                    "matched": p.matched,
                    "unmatched": p.unmatched,
                    "skipped": dict(p.skipped),
                    "notes": list(p.notes),
                }
                for p in self.phases.values()
            },
            "unmatched_examples": list(self.unmatched_examples),
        }

    def render(self) -> str:
        """A human-readable summary."""
        lines = [f"Jellyfin migration {'(dry run: nothing was written) ' if self.dry_run else ''}from {self.source}"]
        for p in self.phases.values():
            head = f"  {p.name:<10} read {p.read:>8}  migrated {p.migrated:>8}  unchanged {p.unchanged:>8}"
            if p.name == "items":
                head += f"  matched {p.matched:>8}  unmatched {p.unmatched:>8}"
            lines.append(head)
            for reason, n in sorted(p.skipped.items(), key=lambda kv: (-kv[1], kv[0])):
                lines.append(f"      skipped {n:>8}  {reason}")
            lines.extend(f"      note: {note}" for note in p.notes)
        if self.unmatched_examples:
            total = self.phases["items"].unmatched if "items" in self.phases else len(self.unmatched_examples)
            lines.append(f"  unmatched items (no yaffw item at that path; scan, or check --path-map), "
                         f"first {len(self.unmatched_examples)} of {total}:")  # fmt: skip
            lines.extend(f"      {path}" for path in self.unmatched_examples)
        lines.append(f"  took {self.seconds:.1f} s")
        return "\n".join(lines)
