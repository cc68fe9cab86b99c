"""Names as people write them: a table of file paths and what they mean, written from Jellyfin's
naming conventions (its docs on movies and shows, ``Emby.Naming``'s test cases' kinds) and Kodi's
where Jellyfin is silent. Every row states the whole reading: kind, series, season, episode range,
air date, film name and year, extra kind, part and version (None where the name has none)."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

import pytest
from yaffw.naming import identify

ROOT = "/lib"


@dataclass(frozen=True)
class Case:
    """A path under the library root, the library kind, and the expected reading."""

    path: str
    kind: str
    type: str
    name: str | None = None  # checked for films and extras; for episodes only when ``title`` is set
    year: int | None = None
    series: str | None = None
    season: int | None = None
    episode: int | None = None
    episode_end: int | None = None
    air_date: str | None = None
    extra_kind: str | None = None
    owner: str | None = None  # an extra's owner folder, relative to the root
    part: int | None = None
    version: str | None = None
    title: bool = False

    def __str__(self) -> str:
        return f"{self.kind}:{self.path}"


def movie(path: str, name: str, year: int | None = None, *, part: int | None = None, version: str | None = None,
          kind: str = "movies") -> Case:  # fmt: skip
    return Case(path, kind, "movie", name, year, part=part, version=version)


def episode(path: str, series: str, season: int | None, ep: int | None, end: int | None = None, *,
            air: str | None = None, title: str | None = None, kind: str = "shows",
            part: int | None = None) -> Case:  # fmt: skip
    return Case(path, kind, "episode", title, None, series, season, ep, end, air, part=part, title=title is not None)


def extra(path: str, kind_of_extra: str, owner: str, *, name: str | None = None, kind: str = "movies",
          series: str | None = None, season: int | None = None) -> Case:  # fmt: skip
    return Case(path, kind, "extra", name, None, series, season, extra_kind=kind_of_extra, owner=owner)


CASES: list[Case] = [
    # --- Films: folders, loose files, scene names, years ---
    movie("Big Buck Bunny (2008)/Big Buck Bunny (2008).mkv", "Big Buck Bunny", 2008),
    movie("Big Buck Bunny (2008).mp4", "Big Buck Bunny", 2008),
    movie("The.Matrix.1999.1080p.BluRay.x264-GRP.mkv", "The Matrix", 1999),
    movie("The_Matrix_1999_720p.mkv", "The Matrix", 1999),
    movie("Blade Runner 2049 (2017).mkv", "Blade Runner 2049", 2017),
    movie("2001 A Space Odyssey (1968)/movie.mkv", "2001 A Space Odyssey", 1968),
    movie("1917 (2019).mkv", "1917", 2019),
    movie("Heat.mkv", "Heat"),
    movie("Heat (1995)/heat.mkv", "Heat", 1995),
    movie("Heat (1995)/Heat.1995.REMUX.mkv", "Heat", 1995),
    movie("Amélie (2001).mkv", "Amélie", 2001),
    movie("Léon The Professional [1994].mkv", "Léon The Professional", 1994),
    movie("Mission Impossible - Fallout (2018).mkv", "Mission Impossible - Fallout", 2018),
    movie("Charlotte's Web (1973).mkv", "Charlotte's Web", 1973),
    movie("Step Up 3D (2010).mkv", "Step Up 3D", 2010),
    movie("Collection/Alien (1979).mkv", "Alien", 1979),
    movie("Sci-Fi/Classics/Metropolis (1927).mkv", "Metropolis", 1927),
    movie("Dune.Part.Two.2024.2160p.WEB-DL.DDP5.1.Atmos.mkv", "Dune Part Two", 2024),
    movie("Movie.Title.2010.DVDRip.XviD.avi", "Movie Title", 2010),
    movie("Movie Title (2010) HDTV.mkv", "Movie Title", 2010),
    # Tags that are not title.
    movie("Movie.2019.MULTi.UltraHD.x265.mkv", "Movie", 2019),
    movie("Movie UltraHD.mkv", "Movie"),
    movie("Movie MULTi 1080p.mkv", "Movie"),
    movie("Movie HDR10 2160p.mkv", "Movie"),
    movie("Movie (2012) [tmdbid=1234].mkv", "Movie", 2012),
    movie("Movie (2012) [tmdbid-1234].mkv", "Movie", 2012),
    movie("Movie [tmdbid=1234]/Movie [tmdbid=1234].mkv", "Movie"),
    movie("Movie (2012) {imdb-tt0133093}.mkv", "Movie", 2012),
    movie("Movie (2012) [imdbid-tt0133093]/Movie (2012) [imdbid-tt0133093].mkv", "Movie", 2012),
    movie("Movie (2012) {tmdb-603}/Movie (2012) {tmdb-603}.mkv", "Movie", 2012),
    movie("Movie [1080p] [x265].mkv", "Movie"),
    movie("[Group] Movie (2015) [1080p].mkv", "Movie", 2015),
    # Dates that are not years.
    movie("Movie 2013.12.09.mkv", "Movie 2013.12.09"),
    movie("Concert 2013-12-09.mkv", "Concert 2013-12-09"),
    movie("Live 1999 12 31.mkv", "Live 1999 12 31"),
    # The file's year wins over the folder's.
    movie("Film (2000)/Film (2001).mkv", "Film", 2001),
    movie("Film (2000)/Film.2001.1080p.mkv", "Film", 2001),
    movie("Film (2000)/Film.mkv", "Film", 2000),
    movie("Film (2000)/Other Name.mkv", "Film", 2000),
    movie("Films/Film (2001).mkv", "Film", 2001),
    # In a films library even an SxxEyy-looking name is a film.
    movie("Dark.S01E01.mkv", "Dark S01E01"),
    # DVD and Blu-ray folders: the film is the folder holding them.
    movie("Disc Film (1999)/VIDEO_TS/VTS_01_1.VOB", "Disc Film", 1999),
    movie("Disc Film (1999)/video_ts/vts_02_1.vob", "Disc Film", 1999),
    movie("Blu Film (2012)/BDMV/STREAM/00001.m2ts", "Blu Film", 2012),
    movie("Blu.Film.2012.COMPLETE.BLURAY/BDMV/STREAM/00800.m2ts", "Blu Film", 2012),
    movie("Disc Film (1999)/VIDEO_TS/VTS_01_1.VOB", "Disc Film", 1999, kind="mixed"),
    # Mixed libraries: films unless something says "episode".
    movie("Heat (1995)/Heat (1995).mkv", "Heat", 1995, kind="mixed"),
    movie("Alien.1979.mkv", "Alien", 1979, kind="mixed"),
    movie("Home Videos/Birthday.mkv", "Birthday", kind="mixed"),
    movie("Rocky 2.mkv", "Rocky 2", kind="mixed"),
    movie("Se7en (1995).mkv", "Se7en", 1995, kind="mixed"),
    movie("Star Wars Episode IV (1977).mkv", "Star Wars Episode IV", 1977),
    movie("Movie (1080p).mkv", "Movie"),
    # --- Parts of one film ---
    movie("Film (2000)/Film (2000) - cd2.mkv", "Film", 2000, part=2),
    movie("Film (2000)/Film (2000)-part1.mkv", "Film", 2000, part=1),
    movie("Film (2000)/Film (2000) part 3.mkv", "Film", 2000, part=3),
    movie("Film (2000)/Film (2000).disc1.mkv", "Film", 2000, part=1),
    movie("Film (2000)/Film (2000) - disk2.mkv", "Film", 2000, part=2),
    movie("Film (2000)/Film (2000)_dvd1.mkv", "Film", 2000, part=1),
    movie("Film (2000)/Film (2000).pt2.mkv", "Film", 2000, part=2),
    movie("Film (2000)/Film (2000) [cd1].mkv", "Film", 2000, part=1),
    movie("Film (2000)/Film (2000) (part2).mkv", "Film", 2000, part=2),
    movie("Film (2000)/Film (2000)-cdb.mkv", "Film", 2000, part=2),
    movie("Film.2000.cd1.mkv", "Film", 2000, part=1),
    movie("Film - pt 1.mkv", "Film", part=1),
    # --- Versions of one film ---
    movie("Film (2010)/Film (2010) - 1080p.mkv", "Film", 2010, version="1080p"),
    movie("Film (2010)/Film (2010) - 720p.mkv", "Film", 2010, version="720p"),
    movie("Film (2010)/Film (2010) - Director's Cut.mkv", "Film", 2010, version="Director's Cut"),
    movie("Film (2010)/Film (2010) - Theatrical.mkv", "Film", 2010, version="Theatrical"),
    movie("Film (2010)/Film (2010) - Any Label.mkv", "Film", 2010, version="Any Label"),
    movie("Film (2010)/Film (2010) [4K].mkv", "Film", 2010, version="4K"),
    movie("Film (2010)/Film (2010) {edition-Extended Cut}.mkv", "Film", 2010, version="Extended Cut"),
    movie("Film {edition-Final Cut}.mkv", "Film", version="Final Cut"),
    movie("Iron Man - 720p.mkv", "Iron Man", version="720p"),
    movie("Iron Man - 1080p.mkv", "Iron Man", version="1080p"),
    movie("Iron Man (2008) - Extended Edition.mkv", "Iron Man", 2008, version="Extended Edition"),
    movie("Iron Man (2008) - IMAX.mkv", "Iron Man", 2008, version="IMAX"),
    movie("Mission - Impossible.mkv", "Mission - Impossible"),
    # --- Episodes: SxxEyy and its cousins ---
    episode("Show/Season 01/Show S01E02.mkv", "Show", 1, 2),
    episode("Show/Season 01/Show.S01E02.720p.HDTV.x264-GRP.mkv", "Show", 1, 2),
    episode("Show/Season 01/show s01e02 - The Title.mkv", "Show", 1, 2, title="The Title"),
    episode("Show/Season 01/Show - S01E02 - The Title.mkv", "Show", 1, 2, title="The Title"),
    episode("Show/Season 01/Show.S01.E02.mkv", "Show", 1, 2),
    episode("Show/Season 01/Show S01 E02.mkv", "Show", 1, 2),
    episode("Show/Season 01/Show_S01_E02.mkv", "Show", 1, 2),
    episode("Show/Season 01/S01E02.mkv", "Show", 1, 2),
    episode("Show/Season 01/Show S01x02.mkv", "Show", 1, 2),
    episode("Show/Season 01/Show S01xE02.mkv", "Show", 1, 2),
    episode("Show/Season 01/Show 1x02.mkv", "Show", 1, 2),
    episode("Show/Season 01/Show 01x02 - Title.mkv", "Show", 1, 2, title="Title"),
    episode("Show/Show 2009x02.mkv", "Show", 2009, 2),
    episode("Show/Show S2009E02.mkv", "Show", 2009, 2),
    episode("Show/Season 01/Show Season 1 Episode 9.mkv", "Show", 1, 9),
    episode("Show/Show Season 3 Episode 9.mkv", "Show", 3, 9),
    episode("Show/Show s3 e9.mkv", "Show", 3, 9),
    episode("Show (2010)/Show 1x03 - Pilot.mkv", "Show", 1, 3, title="Pilot"),
    # Ranges.
    episode("Show/Season 01/Show S01E23-E24-E26.mkv", "Show", 1, 23, 26),
    episode("Show/Season 01/Show S01E01-E02.mkv", "Show", 1, 1, 2),
    episode("Show/Season 01/Show S01E01E02.mkv", "Show", 1, 1, 2),
    episode("Show/Season 01/Show S01E01-02.mkv", "Show", 1, 1, 2),
    episode("Show/Season 01/Show S01E01 - E02 - Title.mkv", "Show", 1, 1, 2, title="Title"),
    episode("Show/Season 01/Show S01E01-720p.mkv", "Show", 1, 1),
    episode("Show/Season 02/Show 02x03-04-15.mkv", "Show", 2, 3, 15),
    episode("Show/Season 02/Show 02x03 - x04 - x15.mkv", "Show", 2, 3, 15),
    episode("Show/Season 02/Show 02x03x04.mkv", "Show", 2, 3, 4),
    episode("Show/Season 02/02-04.mkv", "Show", 2, 2, 4),
    episode("Show/Season 02/02-04 - Three in one.mkv", "Show", 2, 2, 4, title="Three in one"),
    # Bare, absolute and worded numbers.
    episode("Show/Season 2/02 - Title.mkv", "Show", 2, 2, title="Title"),
    episode("Show/Season 2/02.mkv", "Show", 2, 2),
    episode("Show/Season 2/02 Title.mkv", "Show", 2, 2, title="Title"),
    episode("Show/Season 2/02.Title.mkv", "Show", 2, 2, title="Title"),
    episode("Show/Show 12.mkv", "Show", None, 12),
    episode("Show/Episode 16.mkv", "Show", None, 16),
    episode("Show/Episode 16 - Title.mkv", "Show", None, 16, title="Title"),
    episode("Show/Season 1/Episode 16.mkv", "Show", 1, 16),
    episode("Show/Show.E07.Title.mkv", "Show", None, 7, title="Title"),
    episode("Show/Season 3/Show.E07.mkv", "Show", 3, 7),
    episode("Show/Show Ep 5.mkv", "Show", None, 5),
    episode("Show/Show EP05.mkv", "Show", None, 5),
    episode("One Piece/One Piece 1001.mkv", "One Piece", None, 1001),
    episode("One Piece/One Piece - 1001.mkv", "One Piece", None, 1001),
    episode("Anime/Anime - 012.mkv", "Anime", None, 12),
    episode("Anime/Anime - 012 - The Duel.mkv", "Anime", None, 12, title="The Duel"),
    episode("Anime/Anime - 01v2.mkv", "Anime", None, 1),
    episode("Anime/Anime - 1001 (2021).mkv", "Anime", None, 1001),
    # Release-group brackets.
    episode("Anime/[Group] Anime - 136 [720p].mkv", "Anime", None, 136),
    episode("Anime/[Group] Anime - 136 [720p][ABCD1234].mkv", "Anime", None, 136),
    episode("Anime/[Group] Anime [21][BDRip].mkv", "Anime", None, 21),
    episode("Anime/[Group][Anime][21][1080p][FLAC].mkv", "Anime", None, 21),
    episode("Anime/[Group] Anime - 05 (1080p) [HASH].mkv", "Anime", None, 5),
    episode("[Group] Anime - 07 [720p].mkv", "Anime", None, 7),
    episode("Anime/[Group] Anime S02E03 [1080p].mkv", "Anime", 2, 3),
    # A number of season and episode: 102 is season 1 episode 2 in a shows library.
    episode("Show/Show.102.HDTV.mkv", "Show", 1, 2),
    episode("Show/show.1012.hdtv.mkv", "Show", 10, 12),
    episode("Show/102.mkv", "Show", 1, 2),
    episode("Show/102 - Title.mkv", "Show", 1, 2, title="Title"),
    episode("Show/Season 1/102.mkv", "Show", 1, 2),
    episode("Show/Season 1/Show 102.mkv", "Show", 1, 2),
    episode("Show/Season 2/102.mkv", "Show", 2, 102),
    # Daily shows, by air date: a season per year, one series across years.
    episode("Daily/Daily 2023-07-14.mkv", "Daily", 2023, None, air="2023-07-14"),
    episode("Daily/Daily 2023 07 14.mkv", "Daily", 2023, None, air="2023-07-14"),
    episode("Daily/Daily.2023.07.14.mkv", "Daily", 2023, None, air="2023-07-14"),
    episode("Daily/Daily_2023_07_14.mkv", "Daily", 2023, None, air="2023-07-14"),
    episode("Daily/Daily 2024-01-02 - Guest Name.mkv", "Daily", 2024, None, air="2024-01-02", title="Guest Name"),
    episode("Daily/Daily 14.07.2023.mkv", "Daily", 2023, None, air="2023-07-14"),
    episode("Daily/Daily.2023.07.14.Guest.720p.WEB.mkv", "Daily", 2023, None, air="2023-07-14", title="Guest"),
    episode("Daily/Season 2023/Daily 2023-12-31.mkv", "Daily", 2023, None, air="2023-12-31"),
    episode("Daily/2023/Daily 2023-12-31.mkv", "Daily", 2023, None, air="2023-12-31"),
    episode("Daily 2023-07-14.mkv", "Daily", 2023, None, air="2023-07-14"),
    # Season folders: Specials, localised names, years and titles after the number.
    episode("Show/Specials/Show S00E01.mkv", "Show", 0, 1),
    episode("Show/Specials/Making of.mkv", "Show", 0, None),
    episode("Show/Special/Show S00E02.mkv", "Show", 0, 2),
    episode("Show/Season 00/Show S00E01.mkv", "Show", 0, 1),
    episode("Show/Season 0/Some Special.mkv", "Show", 0, None),
    episode("Show/Season 7 (2016)/Show S07E01.mkv", "Show", 7, 1),
    episode("Show/Season 7 (2016)/01 - Title.mkv", "Show", 7, 1, title="Title"),
    episode("Show/Season 1 - The Beginning/Show S01E01.mkv", "Show", 1, 1),
    episode("Show/3.Staffel/Show 3x01.mkv", "Show", 3, 1),
    episode("Show/2nd Season/Show - 01.mkv", "Show", 2, 1),
    episode("Show/2/Show S02E05.mkv", "Show", 2, 5),
    episode("Show/2/05.mkv", "Show", 2, 5),
    episode("Show/02/05.mkv", "Show", 2, 5),
    episode("Show/S01/Show S01E03.mkv", "Show", 1, 3),
    episode("Show/s2/03.mkv", "Show", 2, 3),
    episode("The Show/The.Show.S04.PDTV.x264-GRP/the.show.s04e02.pdtv.mkv", "The Show", 4, 2),
    episode("The Show/The.Show.S04.PDTV.x264-GRP/the.show.402.pdtv.mkv", "The Show", 4, 2),
    episode("The Show/The Show Season 2/The Show - 2x05.mkv", "The Show", 2, 5),
    episode("Show/Season 02 [1080p]/Show 2x05.mkv", "Show", 2, 5),
    # Series folders named like releases.
    episode("The.Show.S01/The.Show.S01E01.720p.mkv", "The Show", 1, 1),
    episode("The.Show.S02/The.Show.S02E01.720p.mkv", "The Show", 2, 1),
    episode("Show.Name.S01.1080p.WEB/Show.Name.S01E03.1080p.WEB.mkv", "Show Name", 1, 3),
    episode("Show.Name.S01.1080p.WEB-DL.DDP5.1.H.264-GRP/Show.Name.S01E04.mkv", "Show Name", 1, 4),
    episode("Show.Name.2019.S02.720p/Show.Name.2019.S02E01.mkv", "Show Name", 2, 1),
    episode("Show (2019) [tvdbid-12345]/Season 01/Show S01E01.mkv", "Show", 1, 1),
    episode("Show.Name.2019.1080p.WEB/Show.Name.S01E01.mkv", "Show Name", 1, 1),
    # Series whose names look like numbers, seasons or tags.
    episode("24/Season 1/24 S01E01.mkv", "24", 1, 1),
    episode("24/24 S01E02.mkv", "24", 1, 2),
    episode("Babylon 5/Season 1/Babylon 5 S01E01.mkv", "Babylon 5", 1, 1),
    episode("The Office (US)/Season 2/The Office (US) S02E01.mkv", "The Office (US)", 2, 1),
    episode("The Office (US) S02E01.mkv", "The Office (US)", 2, 1),
    episode("M.A.S.H/Season 1/M.A.S.H S01E01.mkv", "M.A.S.H", 1, 1),
    episode("Doctor Who (2005)/Series 3/Doctor Who S03E01.mkv", "Doctor Who", 3, 1),
    episode("Show/Season 10/1012.mkv", "Show", 10, 12),
    # Episodes lying loose in the library root: the series is named by the file.
    episode("Show S01E03.mkv", "Show", 1, 3),
    episode("The.Show.S01E03.720p.mkv", "The Show", 1, 3),
    episode("Show 1x03.mkv", "Show", 1, 3),
    # Parts of an episode (Jellyfin's docs).
    episode("Show/Season 02/Show S02E03 Part 1.mkv", "Show", 2, 3, part=1),
    episode("Show/Season 02/Show S02E03 Part 2.mkv", "Show", 2, 3, part=2),
    # Mixed libraries: episodes when the name or the folder says so.
    episode("TV/Firefly/Season 1/ep.mkv", "Firefly", 1, None, kind="mixed"),
    episode("Dark.S01E01.720p.mkv", "Dark", 1, 1, kind="mixed"),
    episode("TV/Dark/Dark S01E02.mkv", "Dark", 1, 2, kind="mixed"),
    episode("TV/Dark/Season 2/02 - Title.mkv", "Dark", 2, 2, title="Title", kind="mixed"),
    episode("TV/Dark/Staffel 3/Dark 3x04.mkv", "Dark", 3, 4, kind="mixed"),
    # --- Extras by suffix ---
    extra("300 (2006)/300 (2006)-trailer.mkv", "trailer", "300 (2006)", name="Trailer"),
    extra("300 (2006)-trailer.mkv", "trailer", "", name="Trailer"),
    extra("300 (2006).trailer.mkv", "trailer", ""),
    extra("300 (2006)_trailer.mkv", "trailer", ""),
    extra("300 (2006) - trailer.mkv", "trailer", ""),
    extra("300 (2006)-trailer2.mkv", "trailer", ""),
    extra("Film (2000)/Film (2000)-featurette.mkv", "featurette", "Film (2000)", name="Featurette"),
    extra("Film (2000)/Film (2000)-behindthescenes.mkv", "behind_the_scenes", "Film (2000)"),
    extra("Film (2000)/Film (2000)-deleted.mkv", "deleted_scene", "Film (2000)"),
    extra("Film (2000)/Film (2000)-deletedscene.mkv", "deleted_scene", "Film (2000)"),
    extra("Film (2000)/Film (2000)-interview.mkv", "interview", "Film (2000)"),
    extra("Film (2000)/Film (2000)-scene.mkv", "scene", "Film (2000)"),
    extra("Film (2000)/Film (2000)-short.mkv", "short", "Film (2000)"),
    extra("Film (2000)/Film (2000)-clip.mkv", "clip", "Film (2000)"),
    extra("Film (2000)/Film (2000)-extra.mkv", "extra", "Film (2000)"),
    extra("Film (2000)/Film (2000)-other.mkv", "extra", "Film (2000)"),
    extra("Film (2000)/Film (2000)-Trailer.mkv", "trailer", "Film (2000)"),
    extra("Film (2000)/Film (2000)-trailer.mkv", "trailer", "Film (2000)", kind="mixed"),
    # Not extras: the kind's word as a title word.
    movie("The Trailer (2019).mkv", "The Trailer", 2019),
    movie("The Short (2019).mkv", "The Short", 2019),
    movie("Deleted (2010).mkv", "Deleted", 2010),
    movie("Interview with the Vampire (1994).mkv", "Interview with the Vampire", 1994),
]

# --- Extras by folder, in a film's folder, a series and a season, for every kind of folder ---
_FOLDERS = {
    "trailers": "trailer", "Trailers": "trailer", "featurettes": "featurette", "Featurettes": "featurette",
    "behind the scenes": "behind_the_scenes", "Behind The Scenes": "behind_the_scenes",
    "deleted scenes": "deleted_scene", "Deleted Scenes": "deleted_scene", "interviews": "interview",
    "Interviews": "interview", "scenes": "scene", "shorts": "short", "Shorts": "short", "clips": "clip",
    "extras": "extra", "Extras": "extra", "extra": "extra", "other": "extra", "backdrops": "theme_video",
}  # fmt: skip
for folder, kind_of_extra in _FOLDERS.items():
    CASES.append(extra(f"Film (2000)/{folder}/Some Clip.mkv", kind_of_extra, "Film (2000)", name="Some Clip"))
    CASES.append(extra(f"Film (2000)/{folder}/x.mkv", kind_of_extra, "Film (2000)", kind="mixed"))
    CASES.append(extra(f"Show/{folder}/Behind.mkv", kind_of_extra, "Show", kind="shows", series="Show"))
    CASES.append(extra(f"Show/Season 1/{folder}/x.mkv", kind_of_extra, "Show/Season 1", kind="shows",
                       series="Show", season=1))  # fmt: skip
# An extras folder in the library root belongs to nothing: what lies in it is read as usual.
CASES.append(movie("trailers/Film (2000).mkv", "Film", 2000))

# --- Season folders in the languages Jellyfin knows, with the season's number before or after ---
_SEASON_WORDS = ["Season", "season", "SEASON", "Staffel", "Saison", "Säsong", "Kausi", "Seizoen", "Sezon", "Сезон",
                 "시즌", "Temporada", "Stagione", "Sæson", "Sezona", "Series", "Serie"]  # fmt: skip
for word, number in product(_SEASON_WORDS, (1, 4, 12)):
    CASES.append(episode(f"Show/{word} {number}/Show - E03.mkv", "Show", number, 3))
for word, number in product(["Season", "Staffel", "Saison", "Seizoen", "Sezon", "Сезон", "시즌"], (2, 10)):
    CASES.append(episode(f"Show/{word} {number:02d}/Show {number}x07.mkv", "Show", number, 7))
    CASES.append(episode(f"Show/{word}.{number}/07.mkv", "Show", number, 7))
for folder, number in [("1.Staffel", 1), ("3.Staffel", 3), ("3. Staffel", 3), ("1st Season", 1), ("2nd Season", 2),
                       ("3rd Season", 3), ("4th Season", 4), ("5 сезон", 5), ("Season 5 (2020)", 5),
                       ("Staffel 2 (2019)", 2), ("Saison 3 - 2008", 3), ("Season_06", 6),
                       ("Season-07", 7)]:  # fmt: skip
    CASES.append(episode(f"Show/{folder}/Show S{number:02d}E01.mkv", "Show", number, 1))
    CASES.append(episode(f"Show/{folder}/01 - Title.mkv", "Show", number, 1, title="Title"))

# --- Extras suffix forms beside loose films, clean and scene-named ---
for word in ("featurette", "interview", "scene", "short", "clip"):
    CASES.append(extra(f"Film (2001)-{word}.mp4", word, ""))
    CASES.append(extra(f"Film.2001.1080p-{word}.mkv", word, ""))

# --- Every SxxEyy spelling × a few series-name styles ---
for spelling, style in product(["S03E04", "s03e04", "S3E4", "S03.E04", "S03 E04", "S03_E04", "S03x04", "S03xE04",
                                "3x04", "03x04"],
                               ["Show Name {}", "Show.Name.{}.720p.WEB-DL", "Show Name - {} - Title"]):  # fmt: skip
    CASES.append(episode(f"Show Name/Season 03/{style.format(spelling)}.mkv", "Show Name", 3, 4))


@pytest.mark.parametrize("case", CASES, ids=str)
def test_name(case: Case):
    guess = identify(f"{ROOT}/{case.path}", root=ROOT, kind=case.kind)
    got = {
        "type": guess.type, "year": guess.year, "series": guess.series, "season": guess.season,
        "episode": guess.episode, "episode_end": guess.episode_end, "air_date": guess.air_date,
        "extra_kind": guess.extra_kind, "part": guess.part, "version": guess.version,
    }  # fmt: skip
    want = {
        "type": case.type, "year": case.year, "series": case.series, "season": case.season,
        "episode": case.episode, "episode_end": case.episode_end, "air_date": case.air_date,
        "extra_kind": case.extra_kind, "part": case.part, "version": case.version,
    }  # fmt: skip
    if case.type == "movie" or case.name is not None:
        got["name"], want["name"] = guess.name, case.name
    if case.type == "extra":
        got["owner"] = guess.owner_path
        want["owner"] = f"{ROOT}/{case.owner}".rstrip("/")
    assert got == want


def test_there_are_enough_cases_of_every_kind():
    kinds = {(c.type, c.kind) for c in CASES}
    assert len(CASES) >= 300 and len({str(c) for c in CASES}) == len(CASES)  # no duplicates
    assert {("movie", "movies"), ("episode", "shows"), ("extra", "movies"), ("extra", "shows")} <= kinds
    assert {c.extra_kind for c in CASES if c.extra_kind} >= {"trailer", "featurette", "behind_the_scenes",
                                                            "deleted_scene", "interview", "scene", "short"}  # fmt: skip
    assert any(c.air_date for c in CASES) and any(c.part for c in CASES) and any(c.version for c in CASES)
    assert any(c.episode_end for c in CASES)
