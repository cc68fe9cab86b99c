"""The pure parts of subtitle delivery (issue 13): language codes, which stream comes on by default,
WebVTT parsing and slicing into segments, and the master playlist's subtitle renditions."""

from __future__ import annotations

import math

import pytest
from yaffw.errors import BadInput
from yaffw.media import languages
from yaffw.media import subtitles as subs
from yaffw.media.subtitle_pick import OFF, choose


def test_language_codes_fold_to_one_spelling() -> None:
    assert [languages.canonical(c) for c in ("en", "eng", "EN", "fre", "fra", "fr", "pt-BR", "ger")] == [
        "eng", "eng", "eng", "fra", "fra", "fra", "por", "deu"]  # fmt: skip
    assert [languages.canonical(c) for c in ("und", "", None, "english", "x1", "sdh")] == [None] * 5 + ["sdh"]
    assert languages.same("fre", "fr") and not languages.same(None, None) and not languages.same("en", "fr")
    assert languages.parse_list("fr, en ,fre,zz-top,und") == ["fra", "eng"]
    assert (languages.tag("fre"), languages.tag("eng"), languages.tag("sdh")) == ("fr", "en", "sdh")
    assert (languages.display("ger"), languages.display(None)) == ("German", None)


def _s(index: int, language: str | None, *, forced: bool = False, codec: str = "subrip") -> dict:
    return {"stream_index": index, "type": "subtitle", "language": language, "is_forced": forced, "codec": codec}


STREAMS = [_s(3, "fre", forced=True, codec="ass"), _s(4, "eng", codec="hdmv_pgs_subtitle"), _s(5, "eng"),
           _s(6, "fre"), {"stream_index": 1, "type": "audio", "language": "eng", "is_forced": False}]  # fmt: skip


@pytest.mark.parametrize(
    ("audio", "saved", "wanted", "mode", "expected"),
    [
        ("eng", None, [], "default", None),  # forced subtitles only in the audio's language
        ("fra", None, [], "default", 3),
        ("fre", None, [], "only_forced", 3),
        ("eng", None, ["eng"], "always", 5),  # text before the picture track of the same language
        ("eng", None, ["deu", "fra"], "always", 6),  # a full track before the forced one
        ("eng", None, ["fra"], "smart", 6),  # English audio is not among the wanted languages
        ("fra", None, ["fra"], "smart", 3),  # it is: as default (the forced French)
        ("fra", None, ["fra"], "none", None),
        ("eng", 4, [], "none", 4),  # a saved choice wins over everything
        ("fra", OFF, ["fra"], "always", None),  # "off" is a choice too
        ("fra", 99, [], "default", 3),  # a saved stream that is gone is ignored
    ],
)
def test_default_subtitle(audio, saved, wanted, mode, expected) -> None:
    assert choose(STREAMS, audio_language=audio, saved=saved, languages=wanted, mode=mode) == expected


VTT = """WEBVTT

00:01.000 --> 00:04.000 line:90%
<b>one</b>

1
01:00:05.500 --> 01:00:07.000
two
lines
"""


def test_cues_are_sliced_into_segments_with_the_timestamp_map() -> None:
    cues = subs.parse(VTT)
    assert cues == [subs.Cue(1.0, 4.0, "line:90%", "<b>one</b>"), subs.Cue(3605.5, 3607.0, "", "two\nlines")]
    first = subs.segment(cues, 0.0, 2.0)
    assert first.startswith("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n\n")
    assert "00:00:01.000 --> 00:00:04.000 line:90%\n<b>one</b>" in first
    assert "one" in subs.segment(cues, 2.0, 4.0) and "one" not in subs.segment(cues, 4.0, 6.0)
    across = [subs.segment(cues, a, b) for a, b in ((3600.0, 3606.0), (3606.0, math.inf))]
    assert all("01:00:05.500 --> 01:00:07.000\ntwo\nlines" in s for s in across)  # in both segments
    assert subs.parse(subs.document(cues)) == cues
    assert subs.check_index("12") == 12
    for bad in ("-1", "1e3", "", "1234567", "٣"):
        with pytest.raises(BadInput):
            subs.check_index(bad)


def test_master_playlist_gets_renditions_and_every_variant_the_group() -> None:
    master = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-STREAM-INF:BANDWIDTH=1\na.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=2\nb.m3u8\n"
    streams = [{"stream_index": 3, "language": "fre", "title": 'Say "hi"', "is_forced": True},
               {"stream_index": 5, "language": None, "title": None, "is_forced": False},
               {"stream_index": 6, "language": None, "title": None, "is_forced": False}]  # fmt: skip
    out = subs.master_with_subtitles(master, [(s, f"subtitles/{s['stream_index']}/index.m3u8") for s in streams], 5)
    lines = out.splitlines()
    assert lines[2] == ("#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"French · Say 'hi' · Forced\","
                        'LANGUAGE="fr",DEFAULT=NO,AUTOSELECT=NO,FORCED=YES,URI="subtitles/3/index.m3u8"')  # fmt: skip
    assert lines[3].startswith('#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="Unknown",DEFAULT=YES,AUTOSELECT=YES')
    assert 'NAME="Unknown (6)"' in lines[4]  # names are unique in the group
    assert [line for line in lines if line.startswith("#EXT-X-STREAM-INF")] == [
        '#EXT-X-STREAM-INF:BANDWIDTH=1,SUBTITLES="subs"', '#EXT-X-STREAM-INF:BANDWIDTH=2,SUBTITLES="subs"']  # fmt: skip
    assert subs.master_with_subtitles(master, [], None) == master
