"""Migration from Jellyfin (``yaffw migrate-jellyfin``): read a Jellyfin server's SQLite databases
read-only and load users, libraries, item matches and per-user play state into PostgreSQL.

One module per step: :mod:`~yaffw.jellyfin.detect` (which layout, is it readable),
``read_*`` (streaming readers), :mod:`~yaffw.jellyfin.load` (PostgreSQL writes),
:mod:`~yaffw.jellyfin.migrate` (the phases in order), :mod:`~yaffw.jellyfin.report`,
:mod:`~yaffw.jellyfin.cli`. See ``docs/jellyfin-migration.md``.
"""
