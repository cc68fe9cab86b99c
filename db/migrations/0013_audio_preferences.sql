-- A user's preferred audio languages (issue 13), most wanted first, as ISO 639-2 codes: the default
-- audio track of an item without a remembered choice is the first in one of these languages
-- (yaffw.media.tracks). Set by the user (PATCH /api/users/me/audio-preferences, Jellyfin's
-- UserConfiguration.AudioLanguagePreference). Expand-only: a column with a default, which the
-- previous release never names.
ALTER TABLE users
    ADD COLUMN audio_languages text[] NOT NULL DEFAULT '{}' CHECK (cardinality(audio_languages) <= 16);
