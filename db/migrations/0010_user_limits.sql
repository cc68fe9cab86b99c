-- Per-user playback limits (issue 14): an admin may give one user more (or fewer) open playback
-- sessions and worker-served ones than YAFFW_MAX_SESSIONS_PER_USER / YAFFW_MAX_TRANSCODES_PER_USER.
-- NULL means the setting's value. Expand-only: nullable columns the previous release never reads.
ALTER TABLE users
    ADD COLUMN max_sessions integer CHECK (max_sessions BETWEEN 1 AND 10000),
    ADD COLUMN max_transcodes integer CHECK (max_transcodes BETWEEN 0 AND 10000);
