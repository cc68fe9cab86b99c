-- Where each file's streams end (issue 13): yaffw.media.timeline.stream_end, the end of the HLS
-- timeline, measured once per file version instead of on every playback (about 20 ms of PyAV on the
-- api's and the worker's path to a new session's first frame). Keyed like `keyframes`: by item, and
-- valid while `header_hash` matches the item's. Expand-only: a new table the previous release never
-- names.
CREATE TABLE stream_ends (
    item_id uuid PRIMARY KEY REFERENCES media_items (id) ON DELETE CASCADE,
    header_hash text NOT NULL,
    seconds double precision NOT NULL CHECK (seconds >= 0),
    created_at timestamptz NOT NULL DEFAULT now()
);
