-- Subtitle preferences (issue 13). users.subtitle_languages: ISO 639-2/T codes, most wanted first;
-- users.subtitle_mode: when subtitles come on by themselves (yaffw.media.subtitle_pick: 'default' =
-- forced subtitles in the audio's language only, 'always', 'smart' = when the audio is in none of the
-- languages, 'only_forced', 'none'). Checked by the api, not by a CHECK, so the values can grow.
-- user_item_data.subtitle_stream_index (0001) keeps a user's choice per item; -1 there means "chosen
-- off" (NULL: never chosen, so the preferences decide). Expand-only: new columns with defaults that
-- the previous release never names.
ALTER TABLE users ADD COLUMN subtitle_languages text[] NOT NULL DEFAULT '{}';
ALTER TABLE users ADD COLUMN subtitle_mode text NOT NULL DEFAULT 'default';
