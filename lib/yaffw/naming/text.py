"""Names from file and folder names: release junk, ids, brackets and years taken out, sort keys.

Pure string work shared by every naming rule (films, series, episodes, extras). The junk words
follow Jellyfin's ``CleanStringRegexes`` (``Emby.Naming/Common/NamingOptions.cs``), less the short
ones that are also ordinary title words ("se", "ts", "dc", "cam", "pal", "web", "3d"...).
"""

from __future__ import annotations

import re
import unicodedata

# Release-name words after which nothing belongs to the title. "Web", "3D", "Dual" stay out:
# "Charlotte's Web", "Step Up 3D" are titles.
_JUNK = re.compile(
    r"(?<![a-z0-9])(2160p|1080[pi]|720[pi]|576[pi]|480[pi]|4k|uhd|ultrahd|hdr10?|hdr|sdr|hsbs|htab|"
    r"bluray|blu-ray|bdrip|brrip|bd25|bd50|remux|web-?dl|webrip|hdtv|pdtv|hdtvrip|hdrip|dvdrip|dvdscr|"
    r"dvdscreener|screener|dvd5|dvd9|hddvd|telesync|telecine|x26[45]|h\.?26[45]|hevc|avc|xvid|divx5?|10bit|8bit|"
    r"aac(?:2\.0|5\.1)?|ac3|eac3|dd5\.1|ddp5\.1|dts(?:-hd)?|truehd|atmos|flac|multi|multisubs|proper|repack|"
    r"rerip|extended|unrated|read\.nfo|nfofix|ntsc)(?![a-z0-9])",
    re.I,
)
# Provider ids and editions in brackets or braces: [tmdbid=603], [tmdbid-603], {imdb-tt0133093}, {edition-X}.
_IDS = re.compile(r"[\[{(]\s*(?:tmdb|imdb|tvdb|anidb|tvmaze)(?:id)?\s*[=-]\s*[^\]})]*[\]})]", re.I)
_EDITION = re.compile(r"\{\s*edition\s*-\s*(?P<edition>[^}]*)\}", re.I)
# A leading release-group tag: "[Group] Show - 01", "[Group]Show".
_GROUP = re.compile(r"^\s*\[[^\]]*\]\s*(?=\S)")
# Trailing bracket groups with no title in them: [720p], [BDRip], [ABCD1234]; in parentheses only release
# words and numbers, (1080p), (1) — "The Office (US)" keeps its "(US)".
_TRAILING_TAGS = re.compile(r"(?:\s*\[[^\[\]]*\])+\s*$")
_TRAILING_PAREN = re.compile(r"\s*\((?P<inner>[^()]*)\)\s*$")
_ABBREVIATION = re.compile(r"^(?:\w\.){2,}\w?\.?$")
_YEAR_PAREN = re.compile(r"[(\[]\s*((?:18|19|20)\d{2})\s*[)\]]")
# A bare year: not the first word, and not the start of a date ("2013.12.09" is a date, not a year).
_YEAR_BARE = re.compile(r"(?<=[\s._-])((?:18|19|20)\d{2})(?![0-9]|[._ -]\d{2}[._ -]\d{2}(?!\d))(?=$|[\s._)\]-])")
_ARTICLES = ("the ", "a ", "an ")


def strip_ids(text: str) -> str:
    """Drop provider ids (``[tmdbid=603]``, ``{imdb-tt0133093}``) and ``{edition-…}`` tags."""
    return _EDITION.sub(" ", _IDS.sub(" ", text))


def edition(text: str) -> str | None:
    """The edition named by a ``{edition-Director's Cut}`` tag, if any."""
    match = _EDITION.search(text)
    return match.group("edition").strip() or None if match else None


def strip_group(text: str) -> str:
    """Drop a leading ``[Group]`` release tag (kept when it is all there is)."""
    return _GROUP.sub("", text, count=1)


def spaced(text: str) -> str:
    """Dots and underscores as spaces when the name has no spaces (``The.Matrix`` → ``The Matrix``), but
    not in an abbreviation (``M.A.S.H``)."""
    if " " not in text.strip() and ("." in text or "_" in text) and not _ABBREVIATION.match(text.strip()):
        text = text.replace(".", " ").replace("_", " ")
    return text


def clean(text: str, *, junk_only_is_empty: bool = False) -> str:
    """A display name from a file or folder name: no ids, group tags, release junk or stray punctuation.

    A name that is all junk (``1080p.WEB``) is kept as it is, unless ``junk_only_is_empty`` (for what
    follows an episode number, which is a title or nothing).
    """
    text = strip_ids(text)
    stripped = strip_group(text)
    text = stripped if stripped.strip(" -._") else text
    text = spaced(text)
    junk = _JUNK.search(text)
    if junk and (junk_only_is_empty or text[: junk.start()].strip(" -._[](){}")):
        text = text[: junk.start()]
    text = _TRAILING_TAGS.sub("", text) or text
    paren = _TRAILING_PAREN.search(text)
    if paren and paren.start() > 0 and (_JUNK.search(paren.group("inner")) or paren.group("inner").strip().isdigit()):
        text = text[: paren.start()]
    text = re.sub(r"\s+", " ", text).strip(" -._,").rstrip(" -._,([{").lstrip(" -._,)]}")
    # Stray brackets go, balanced ones stay: "The Office (US)", but not "Title [" or "(Title".
    while text and text[-1] in ")]}" and text.count(text[-1]) > text.count({")": "(", "]": "[", "}": "{"}[text[-1]]):
        text = text[:-1].rstrip(" -._,")
    while text and text[0] in "([{" and text.count(text[0]) > text.count({"(": ")", "[": "]", "{": "}"}[text[0]]):
        text = text[1:].lstrip(" -._,")
    return text.strip(" -._,")


def find_year(text: str) -> re.Match[str] | None:
    """Where the year is: ``(2020)``/``[2020]`` first, else the last bare year that is not a date."""
    match = _YEAR_PAREN.search(text)
    if match is not None:
        return match
    bare = [m for m in _YEAR_BARE.finditer(text) if m.start() > 0]
    return bare[-1] if bare else None


def split_year(text: str) -> tuple[str, int | None]:
    """``"Title (2020) 1080p"`` → ``("Title", 2020)``; a year at the very start stays in the title."""
    text = strip_ids(text)
    match = find_year(text)
    if match is None:
        return clean(text), None
    title = clean(text[: match.start()])
    return (title, int(match.group(1))) if title else (clean(text), None)


def sort_name(name: str) -> str:
    """Sort key: lower case, accents folded, a leading article dropped, numbers zero-padded."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode() or name
    key = folded.lower().strip()
    for article in _ARTICLES:
        if key.startswith(article) and len(key) > len(article):
            key = key[len(article) :]
            break
    return re.sub(r"\d+", lambda m: m.group(0).zfill(6), key)


def same_title(a: str, b: str) -> bool:
    """Two names for one title, ignoring case, accents and punctuation."""

    def key(s: str) -> str:
        s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode() or s
        return re.sub(r"[\W_]+", "", s.lower())

    return key(a) == key(b)
