-- Jellyfin clients' display preferences (GET/POST /DisplayPreferences/{id}?client=), one
-- DisplayPreferencesDto per user, client and preferences id, kept as the client sent it.
CREATE TABLE display_preferences (
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client          text NOT NULL,
    prefs_id        text NOT NULL,  -- Jellyfin's id for it: a GUID, or the MD5 GUID of the name (usersettings)
    prefs           jsonb NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, client, prefs_id)
);
