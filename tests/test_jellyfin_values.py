"""Jellyfin's encodings (GUID blobs and strings, ticks, dates), --path-map, and the progress bar."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime

import pytest
from yaffw.errors import BadInput
from yaffw.jellyfin.pathmap import PathMap
from yaffw.jellyfin.progress import Progress
from yaffw.jellyfin.values import format_date, guid, guid_blob, guid_text, parse_date, ticks_to_seconds

GUID = uuid.UUID("3f2504e0-4f89-11d3-9a0c-0305e82c3301")


def test_guid_forms() -> None:
    # .NET's Guid.ToByteArray: the first three fields little-endian
    blob = bytes.fromhex("E004253F894FD3119A0C0305E82C3301")
    assert guid(blob) == GUID and guid_blob(GUID) == blob
    for text in ("3F2504E0-4F89-11D3-9A0C-0305E82C3301", "3f2504e04f8911d39a0c0305e82c3301",
                 "{3f2504e0-4f89-11d3-9a0c-0305e82c3301}"):  # fmt: skip
        assert guid(text) == GUID
    assert guid(None) is None and guid(b"short") is None and guid("tt0133093") is None and guid(12) is None
    # the readers' fast form: text PostgreSQL accepts, same value
    assert uuid.UUID(guid_text(blob)) == GUID
    assert uuid.UUID(guid_text("3F2504E0-4F89-11D3-9A0C-0305E82C3301")) == GUID
    assert uuid.UUID(guid_text("{3f2504e0-4f89-11d3-9a0c-0305e82c3301}")) == GUID
    for bad in (None, b"short", "tt0133093", "3F2504E0-4F89-11D3-9A0C-0305E82C330Z", 12):
        assert guid_text(bad) is None


def test_ticks() -> None:
    assert ticks_to_seconds(6_125_000_000) == 612.5
    assert ticks_to_seconds(None) == 0.0 and ticks_to_seconds(-5) == 0.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01 20:15:30.1234567Z", datetime(2024, 5, 1, 20, 15, 30, 123456, tzinfo=UTC)),
        ("2024-05-01 20:15:30.1234567", datetime(2024, 5, 1, 20, 15, 30, 123456, tzinfo=UTC)),
        ("2024-05-01 20:15:30Z", datetime(2024, 5, 1, 20, 15, 30, tzinfo=UTC)),
        ("2024-05-01T22:15:30+02:00", datetime(2024, 5, 1, 20, 15, 30, tzinfo=UTC)),
        ("2024-05-01", datetime(2024, 5, 1, tzinfo=UTC)),
        ("0001-01-01 00:00:00Z", None),  # DateTime.MinValue
        ("0001-01-01 00:00:00+02:00", None),
        ("yesterday", None),
        ("2024-13-01 00:00:00", None),
        (None, None),
    ],
)
def test_parse_date(text: str | None, expected: datetime | None) -> None:
    assert parse_date(text) == expected


def test_format_date_round_trips() -> None:
    value = datetime(2024, 5, 1, 20, 15, 30, 123450, tzinfo=UTC)
    assert format_date(value) == "2024-05-01 20:15:30.12345Z"
    assert format_date(value, zone=False) == "2024-05-01 20:15:30.12345"
    assert parse_date(format_date(value)) == value


def test_path_map() -> None:
    m = PathMap.parse(["/media=/srv/media", "/media/tv/=/mnt/tv", "D:\\Movies=/srv/movies"])
    assert m.apply("/media/movies/a.mkv") == "/srv/media/movies/a.mkv"
    assert m.apply("/media/tv/Show/S01E01.mkv") == "/mnt/tv/Show/S01E01.mkv"  # longest prefix wins
    assert m.apply("/mediax/a.mkv") == "/mediax/a.mkv"  # whole components only
    assert m.apply("/media") == "/srv/media"
    assert m.apply("d:\\movies\\Film (2000)\\Film.mkv") == "/srv/movies/Film (2000)/Film.mkv"
    assert m.apply("/other/a.mkv") == "/other/a.mkv"
    assert PathMap.parse([]).apply("/a/b") == "/a/b"
    for bad in ("nothing", "=/x", "/x="):
        with pytest.raises(BadInput):
            PathMap.parse([bad])


def test_progress_without_a_terminal_prints_tenths_and_the_end() -> None:
    out = io.StringIO()
    bar = Progress("items", 100, stream=out)
    for _ in range(100):
        bar.advance(1)
    bar.finish()
    lines = out.getvalue().splitlines()
    assert len(lines) == 11  # the first row (0 %), 10 % ... 90 %, then the final line
    assert lines[-1].startswith("items      [##############################] 100/100")
    quiet = io.StringIO()
    Progress("x", 5, stream=quiet, enabled=False).finish()
    assert quiet.getvalue() == ""
