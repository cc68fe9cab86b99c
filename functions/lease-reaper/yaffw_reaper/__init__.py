"""The lease reaper: cleans up after dead workers and lapsed playback sessions on every tick."""
