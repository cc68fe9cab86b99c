"""The activity log (partitioned by month): logins, scans, playback, user changes."""

from __future__ import annotations

from typing import Any

import asyncpg

_INSERT = """
INSERT INTO activity_log (type, severity, user_id, item_id, message, data)
VALUES ($1, $2, $3, $4, $5, $6)
"""


async def write(
    conn: asyncpg.Connection | asyncpg.Pool,
    type_: str,
    message: str,
    *,
    user_id: str | None = None,
    item_id: str | None = None,
    severity: str = "info",
    data: dict[str, Any] | None = None,
) -> None:
    """Append one entry. Creates the month's partition if the schedule has not yet."""
    args = (type_, severity, user_id, item_id, message, data or {})
    try:
        await conn.execute(_INSERT, *args)
    except asyncpg.PostgresError as exc:
        # "no partition of relation found for row": the reaper was late; make it and retry once.
        if "no partition" not in str(exc):
            raise
        await conn.execute("SELECT ensure_activity_partition(now())")
        await conn.execute(_INSERT, *args)


async def ensure_partitions(conn: asyncpg.Connection | asyncpg.Pool, retention_months: int) -> dict[str, Any]:
    """Create this and next month's partitions, drop those older than ``retention_months``.

    Returns ``{"created": [...], "dropped": [...]}``.
    """
    created = [
        await conn.fetchval("SELECT ensure_activity_partition(now())"),
        await conn.fetchval("SELECT ensure_activity_partition(now() + interval '1 month')"),
    ]
    rows = await conn.fetch(
        """
        SELECT c.relname FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
        WHERE p.relname = 'activity_log'
        """
    )
    cutoff = await conn.fetchval(
        "SELECT to_char(date_trunc('month', now() AT TIME ZONE 'UTC') - make_interval(months => $1), 'YYYY_MM')",
        retention_months,
    )
    dropped = []
    for r in rows:
        name = r["relname"]
        if name.startswith("activity_log_") and name[len("activity_log_") :] < cutoff:
            await conn.execute(f'DROP TABLE IF EXISTS "{name}"')
            dropped.append(name)
    return {"created": created, "dropped": dropped}
