"""SQL for the api, grouped by table: ``items``, ``libraries``, ``users``, ``activity``.

Each module holds its SQL as constants and typed async functions that take an asyncpg connection
or pool (and the caller, :class:`yaffw_api.auth.User`, where access matters). Rows come back as
JSON-ready dicts (UUIDs and times as strings). Missing or invisible rows raise
``yaffw.errors.NotFound``; malformed arguments raise ``BadInput``.
"""
