-- The library scan (issue 3).

-- Folder rows (series, season) have no header_hash, so UNIQUE (path, header_hash) does not stop two
-- of them for one folder (NULLs are distinct). The scan upserts folders on this index instead, so two
-- scans racing for the same library cannot duplicate a series or a season.
CREATE UNIQUE INDEX media_items_folder_path ON media_items (library_id, type, path) WHERE header_hash IS NULL;

-- Fingerprint of the sidecar files (nfo, images, subtitles) the item was last read with: a rescan
-- re-reads an item whose nfo or poster changed although the video did not.
ALTER TABLE media_items ADD COLUMN sidecar_hash text;

-- The scan loads every file row of a library by path; index the library's rows.
CREATE INDEX media_items_library_path ON media_items (library_id, path);
