-- Names as people write them (issue 16): extras, air dates, and which naming rules read a file.

-- An extra (trailer, featurette, behind the scenes, deleted scene, interview, scene, short, clip,
-- other) is a playable media file of type 'video' that belongs to a film, series or season instead
-- of being a library item of its own. The owner may go (a film deleted) while its extras stay on
-- disk: the link is cleared, and the next scan links them again when the owner comes back.
ALTER TABLE media_items ADD COLUMN extra_kind text CHECK (extra_kind IN (
    'trailer', 'featurette', 'behind_the_scenes', 'deleted_scene', 'interview', 'scene', 'short', 'clip',
    'extra', 'theme_video'));
ALTER TABLE media_items ADD COLUMN owner_id uuid REFERENCES media_items (id) ON DELETE SET NULL;
CREATE INDEX media_items_owner ON media_items (owner_id) WHERE owner_id IS NOT NULL;

-- Daily shows are keyed by air date ("Show 2023-07-14"), not by episode number.
ALTER TABLE media_items ADD COLUMN air_date date;

-- The version of the naming rules a file was identified with (yaffw.naming.NAMING_VERSION). A scan
-- reads again, once, every file identified by older rules, so an upgraded library is re-identified
-- (a trailer that was a film becomes its film's extra) while each row keeps its id and user data.
ALTER TABLE media_items ADD COLUMN naming_version integer;
