"""Language codes as media files spell them: ISO 639-1 (``en``), 639-2/B (``fre``, Matroska's) or
639-2/T (``fra``), and region tags (``pt-br``). :func:`canonical` folds them to one three-letter
code so that a sidecar's ``Film.fr.srt``, a Matroska track's ``fre`` and a user's preference ``fra``
compare equal.
"""

from __future__ import annotations

import re

# ISO 639-1 → 639-2/T for the languages films are subtitled in most often.
_TWO = {
    "ar": "ara", "bg": "bul", "bn": "ben", "ca": "cat", "cs": "ces", "cy": "cym", "da": "dan", "de": "deu",
    "el": "ell", "en": "eng", "es": "spa", "et": "est", "eu": "eus", "fa": "fas", "fi": "fin", "fr": "fra",
    "ga": "gle", "gl": "glg", "he": "heb", "hi": "hin", "hr": "hrv", "hu": "hun", "hy": "hye", "id": "ind",
    "is": "isl", "it": "ita", "ja": "jpn", "ka": "kat", "ko": "kor", "lt": "lit", "lv": "lav", "mk": "mkd",
    "ms": "msa", "nb": "nob", "nl": "nld", "nn": "nno", "no": "nor", "pl": "pol", "pt": "por", "ro": "ron",
    "ru": "rus", "sk": "slk", "sl": "slv", "sq": "sqi", "sr": "srp", "sv": "swe", "ta": "tam", "te": "tel",
    "th": "tha", "tr": "tur", "uk": "ukr", "ur": "urd", "vi": "vie", "zh": "zho",
}  # fmt: skip
# ISO 639-2/B (bibliographic, Matroska's and Jellyfin's) → 639-2/T.
_BIBLIOGRAPHIC = {
    "alb": "sqi", "arm": "hye", "baq": "eus", "bur": "mya", "chi": "zho", "cze": "ces", "dut": "nld",
    "fre": "fra", "geo": "kat", "ger": "deu", "gre": "ell", "ice": "isl", "mac": "mkd", "mao": "mri",
    "may": "msa", "per": "fas", "rum": "ron", "slo": "slk", "tib": "bod", "wel": "cym",
}  # fmt: skip
_CODE = re.compile(r"^([a-z]{2,3})(?:[-_][a-z0-9]{2,8})*$")
_UNKNOWN = frozenset({"und", "unk", "xx", "zxx", "mis", "mul"})


def canonical(code: str | None) -> str | None:
    """The ISO 639-2/T code for ``code`` (``en``, ``eng``, ``fre``, ``pt-BR``), or None when it is no
    language code (or "undetermined")."""
    match = _CODE.match((code or "").strip().lower())
    if match is None:
        return None
    base = match.group(1)
    if base in _UNKNOWN:
        return None
    if len(base) == 2:
        return _TWO.get(base)
    return _BIBLIOGRAPHIC.get(base, base)


def same(a: str | None, b: str | None) -> bool:
    """True when ``a`` and ``b`` name the same (known) language."""
    ca = canonical(a)
    return ca is not None and ca == canonical(b)


def parse_list(value: str | list[str] | None) -> list[str]:
    """A preference list (``"fr,en"`` or ``["fre", "eng"]``) as canonical codes, in order, without
    duplicates or unknown entries."""
    items = value.split(",") if isinstance(value, str) else list(value or [])
    out: list[str] = []
    for item in items:
        code = canonical(item)
        if code is not None and code not in out:
            out.append(code)
    return out


_NAMES = {
    "ara": "Arabic", "bul": "Bulgarian", "ces": "Czech", "dan": "Danish", "deu": "German", "ell": "Greek",
    "eng": "English", "spa": "Spanish", "fin": "Finnish", "fra": "French", "heb": "Hebrew", "hin": "Hindi",
    "hrv": "Croatian", "hun": "Hungarian", "ind": "Indonesian", "ita": "Italian", "jpn": "Japanese", "kor": "Korean",
    "nld": "Dutch", "nor": "Norwegian", "nob": "Norwegian Bokmål", "pol": "Polish", "por": "Portuguese",
    "ron": "Romanian", "rus": "Russian", "slk": "Slovak", "slv": "Slovenian", "srp": "Serbian", "swe": "Swedish",
    "tha": "Thai", "tur": "Turkish", "ukr": "Ukrainian", "vie": "Vietnamese", "zho": "Chinese",
}  # fmt: skip
_TWO_OF = {three: two for two, three in _TWO.items()}


def display(code: str | None) -> str | None:
    """A language's English name (``fre`` → ``French``), else the code as given; None without one."""
    canon = canonical(code)
    if canon is None:
        return code or None
    return _NAMES.get(canon, canon)


def tag(code: str | None) -> str | None:
    """An RFC 5646 tag for HLS ``LANGUAGE`` (``fre`` → ``fr``; three letters where no two exist)."""
    canon = canonical(code)
    return None if canon is None else _TWO_OF.get(canon, canon)
