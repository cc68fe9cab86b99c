-- Multi-part and multi-version films (issue 16): one film item, several files.
--
-- The film item is the row of one of its files: part 1 of a film split in parts (cd1, part1...), or
-- the main version of a film with versions (- 1080p, - Director's Cut). Every other file of the
-- film keeps a row of its own (type 'video', so it is never listed as a film) with ``film_id``
-- pointing at the film, so the scan still tracks it (moves, changes) and the player can pick it.
-- A versioned film with parts is not joined (out of scope): its files stay films of their own.
ALTER TABLE media_items ADD COLUMN film_id uuid REFERENCES media_items (id) ON DELETE SET NULL;
CREATE INDEX media_items_film ON media_items (film_id) WHERE film_id IS NOT NULL;
-- Ordinal of a part (1, 2, ...): the film row has 1, the others 2... (NULL: not a part).
ALTER TABLE media_items ADD COLUMN part_number integer CHECK (part_number >= 1);
-- The version's label ("1080p", "Director's Cut"); NULL for a file named like the film itself.
ALTER TABLE media_items ADD COLUMN version_label text;
-- The file's own length. A multi-part film's duration_seconds is the sum of its parts; this keeps
-- each part's (the transcode's concat list gives each part its length, so seeks land right).
ALTER TABLE media_items ADD COLUMN file_duration_seconds double precision;
