-- What `yaffw migrate-jellyfin` made of each Jellyfin id, so a second run changes nothing, a run
-- after a new scan matches what the last one could not, and Jellyfin's ids stay known.

-- A Jellyfin user and the yaffw user it became. linked: a yaffw user of that name existed before
-- the migration; it keeps its own password and flags, and receives the Jellyfin user's play state.
CREATE TABLE jellyfin_users (
    jellyfin_id     uuid PRIMARY KEY,
    internal_id     bigint NOT NULL,  -- Jellyfin's Users.InternalId (library.db's UserDatas.userId)
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    linked          boolean NOT NULL,
    migrated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jellyfin_users_user ON jellyfin_users (user_id);

-- A Jellyfin library (virtual folder, by name) and the yaffw library it became or joined.
CREATE TABLE jellyfin_libraries (
    name            text PRIMARY KEY,
    library_id      uuid NOT NULL REFERENCES libraries (id) ON DELETE CASCADE,
    migrated_at     timestamptz NOT NULL DEFAULT now()
);

-- A Jellyfin item with a path, and the yaffw item at that path (after --path-map); item_id is NULL
-- while no yaffw item has that path (not scanned yet, or the file is gone).
CREATE TABLE jellyfin_items (
    jellyfin_id     uuid PRIMARY KEY,
    path            text NOT NULL,
    item_id         uuid REFERENCES media_items (id) ON DELETE SET NULL
);
CREATE INDEX jellyfin_items_item ON jellyfin_items (item_id);
