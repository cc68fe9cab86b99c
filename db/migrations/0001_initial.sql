-- yaffw schema, DESIGN §6. Forward-only; applied by `yaffw migrate` in one transaction.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE users (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    -- PBKDF2-SHA512 in Jellyfin's encoding: $PBKDF2-SHA512$iterations=N$<salt hex>$<hash hex>
    password_hash   text NOT NULL,
    is_admin        boolean NOT NULL DEFAULT false,
    is_disabled     boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    last_login_at   timestamptz
);
-- Names are unique regardless of case, as in Jellyfin.
CREATE UNIQUE INDEX users_name_lower ON users (lower(name));

CREATE TABLE libraries (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 128),
    kind            text NOT NULL CHECK (kind IN ('movies', 'shows', 'mixed')),
    paths           text[] NOT NULL CHECK (cardinality(paths) >= 1),
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_scan_at    timestamptz
);
CREATE UNIQUE INDEX libraries_name_lower ON libraries (lower(name));

CREATE TABLE library_access (
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    library_id      uuid NOT NULL REFERENCES libraries (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, library_id)
);
CREATE INDEX library_access_library ON library_access (library_id);

-- Every browsable thing: movies, series, seasons, episodes. Folders (series, season) have no
-- header_hash; files do. A renamed file is found again by header_hash and keeps its id.
CREATE TABLE media_items (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    library_id          uuid NOT NULL REFERENCES libraries (id) ON DELETE CASCADE,
    parent_id           uuid REFERENCES media_items (id) ON DELETE CASCADE,
    type                text NOT NULL CHECK (type IN ('movie', 'series', 'season', 'episode', 'video')),
    name                text NOT NULL,
    sort_name           text NOT NULL,
    original_title      text,
    year                integer,
    plot                text,
    genres              text[] NOT NULL DEFAULT '{}',
    rating              real,
    index_number        integer,          -- episode number, season number
    parent_index_number integer,          -- the season of an episode
    path                text,             -- absolute path of the file or folder
    header_hash         text,             -- sha256 of the first bytes and the size
    size                bigint,
    mtime               double precision, -- seconds since the epoch, as stat() gives it
    container           text,
    duration_seconds    double precision,
    bitrate             bigint,
    date_added          timestamptz NOT NULL DEFAULT now(),
    date_modified       timestamptz NOT NULL DEFAULT now(),
    search              tsvector GENERATED ALWAYS AS (
        to_tsvector('simple', coalesce(name, '') || ' ' || coalesce(original_title, ''))
    ) STORED,
    UNIQUE (path, header_hash)
);
CREATE INDEX media_items_library_type ON media_items (library_id, type, sort_name);
CREATE INDEX media_items_parent ON media_items (parent_id, parent_index_number, index_number, sort_name);
CREATE INDEX media_items_added ON media_items (library_id, date_added DESC);
CREATE INDEX media_items_path ON media_items (path);
CREATE INDEX media_items_hash ON media_items (header_hash) WHERE header_hash IS NOT NULL;
CREATE INDEX media_items_search ON media_items USING gin (search);
CREATE INDEX media_items_name_trgm ON media_items USING gin (lower(name) gin_trgm_ops);

CREATE TABLE media_streams (
    item_id         uuid NOT NULL REFERENCES media_items (id) ON DELETE CASCADE,
    stream_index    integer NOT NULL,
    type            text NOT NULL CHECK (type IN ('video', 'audio', 'subtitle', 'attachment', 'data')),
    codec           text,
    profile         text,
    level           integer,
    width           integer,
    height          integer,
    frame_rate      double precision,
    bit_depth       integer,
    pixel_format    text,
    channels        integer,
    channel_layout  text,
    sample_rate     integer,
    bitrate         bigint,
    language        text,
    title           text,
    is_default      boolean NOT NULL DEFAULT false,
    is_forced       boolean NOT NULL DEFAULT false,
    is_external     boolean NOT NULL DEFAULT false,
    external_path   text,             -- sidecar subtitle file
    PRIMARY KEY (item_id, stream_index)
);

CREATE TABLE images (
    item_id         uuid NOT NULL REFERENCES media_items (id) ON DELETE CASCADE,
    kind            text NOT NULL CHECK (kind IN ('primary', 'backdrop', 'thumb')),
    object_key      text NOT NULL,
    content_type    text NOT NULL DEFAULT 'image/jpeg',
    width           integer,
    height          integer,
    source          text NOT NULL DEFAULT 'sidecar' CHECK (source IN ('sidecar', 'embedded', 'extracted')),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (item_id, kind)
);

-- Source keyframe times, read once per file version, for copied-video HLS segment boundaries.
CREATE TABLE keyframes (
    item_id         uuid PRIMARY KEY REFERENCES media_items (id) ON DELETE CASCADE,
    header_hash     text NOT NULL,
    times           double precision[] NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE user_item_data (
    user_id             uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    item_id             uuid NOT NULL REFERENCES media_items (id) ON DELETE CASCADE,
    played              boolean NOT NULL DEFAULT false,
    play_count          integer NOT NULL DEFAULT 0,
    position_seconds    double precision NOT NULL DEFAULT 0 CHECK (position_seconds >= 0),
    is_favorite         boolean NOT NULL DEFAULT false,
    last_played_at      timestamptz,
    audio_stream_index  integer,
    subtitle_stream_index integer,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, item_id)
);
-- Continue watching: a user's partly watched items, most recent first.
CREATE INDEX user_item_data_resume ON user_item_data (user_id, last_played_at DESC)
    WHERE position_seconds > 0 AND NOT played;
CREATE INDEX user_item_data_item ON user_item_data (item_id);

-- Files the scan could not read, with why; cleared when the file scans cleanly or disappears.
CREATE TABLE scan_failures (
    library_id      uuid NOT NULL REFERENCES libraries (id) ON DELETE CASCADE,
    path            text NOT NULL,
    error           text NOT NULL,
    size            bigint,
    mtime           double precision,
    failed_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (library_id, path)
);

-- High-volume, append-only: partitioned by month. The reaper creates next month's partition and
-- drops those past retention (ensure_activity_partition below).
CREATE TABLE activity_log (
    id              bigint GENERATED ALWAYS AS IDENTITY,
    at              timestamptz NOT NULL DEFAULT now(),
    type            text NOT NULL,
    severity        text NOT NULL DEFAULT 'info' CHECK (severity IN ('info', 'warning', 'error')),
    user_id         uuid,             -- no foreign key: the log outlives deleted users
    item_id         uuid,
    message         text NOT NULL,
    data            jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (id, at)
) PARTITION BY RANGE (at);
CREATE INDEX activity_log_at ON activity_log (at DESC);
CREATE INDEX activity_log_user ON activity_log (user_id, at DESC);

CREATE FUNCTION ensure_activity_partition(month timestamptz) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    start_at timestamptz := date_trunc('month', month AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    part text := 'activity_log_' || to_char(start_at AT TIME ZONE 'UTC', 'YYYY_MM');
BEGIN
    EXECUTE format(
        'CREATE TABLE IF NOT EXISTS %I PARTITION OF activity_log FOR VALUES FROM (%L) TO (%L)',
        part, start_at, start_at + interval '1 month');
    RETURN part;
END $$;

SELECT ensure_activity_partition(now());
SELECT ensure_activity_partition(now() + interval '1 month');

CREATE TABLE plugin_configuration (
    plugin          text PRIMARY KEY,
    config          jsonb NOT NULL DEFAULT '{}',
    updated_at      timestamptz NOT NULL DEFAULT now()
);
