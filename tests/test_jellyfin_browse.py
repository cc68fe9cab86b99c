"""Browsing on the Jellyfin surface (issue 12): views, /Items with its parents, types, filters, sorting,
paging and fields, item detail with media sources, ancestors, latest, resume, next up, seasons and
episodes, counts and filters, and the features yaffw lacks answered empty. Every answer is validated
against Jellyfin's OpenAPI document; other users' libraries are 404 or absent; bad parameters are 400.
"""
# ruff: noqa: F811  (pytest fixtures imported from tests.api_fixtures are redefined as arguments)

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest
from yaffw.settings import Settings

from tests import jellyfin_support as jf
from tests.api_fixtures import data, http, no_login_limits  # noqa: F401
from tests.api_seed import PASSWORD, Seed, bearer

pytestmark = pytest.mark.usefixtures("no_login_limits")


def hx(value: str) -> str:
    """A yaffw UUID as a Jellyfin id."""
    return value.replace("-", "")


class Client:
    """A logged-in Jellyfin client: GETs that check the status and validate the body."""

    def __init__(self, http: httpx.AsyncClient, url: str, token: str) -> None:
        self.http, self.url, self.headers = http, url, jf.client_headers(token=token)

    async def get(self, path: str, status: int = 200, *, as_path: str | None = None, **params: Any) -> Any:
        r = await self.http.get(self.url + path, params=params or None, headers=self.headers)
        assert r.status_code == status, (path, params, r.status_code, r.text[:500])
        if status in (400, 404) or (status >= 400 and as_path is None and path.lower().startswith("/users/")):
            return None  # no 400/404 documented for most reads, nor legacy paths; yaffw answers them clearly
        return jf.validate(r, path=as_path)


async def client(http: httpx.AsyncClient, url: str, name: str) -> Client:
    return Client(http, url, await jf.login(http, url, name, PASSWORD, device=f"browse-{name}"))


def names(result: dict[str, Any]) -> list[str]:
    return [i["Name"] for i in result["Items"]]


async def test_views_items_sort_page_fields(http: httpx.AsyncClient, api_url: str, data: Seed) -> None:
    alice, root = await client(http, api_url, "alice"), await client(http, api_url, "root")
    movies, shows = hx(data.libraries["Movies"]), hx(data.libraries["Shows"])
    me = hx(data.users["alice"])

    views = await alice.get("/UserViews", userId=me)
    assert [(v["Name"], v["Type"], v.get("CollectionType")) for v in views["Items"]] == [
        ("Movies", "CollectionFolder", "movies"), ("Shows", "CollectionFolder", "tvshows")]  # fmt: skip
    assert views["Items"][0]["ChildCount"] == 49 and views["Items"][0]["IsFolder"] is True
    legacy = await alice.get(f"/Users/{me}/Views", as_path="/UserViews")
    assert legacy["Items"] == views["Items"]
    assert names(await alice.get("/Items")) == ["Movies", "Shows"]  # the root's children
    root_folder = await alice.get("/Items/Root")
    assert root_folder["Type"] == "UserRootFolder" and root_folder["ChildCount"] == 2
    assert (await alice.get(f"/Users/{me}/Items/Root", as_path="/Items/Root"))["Id"] == root_folder["Id"]
    assert names(await alice.get("/Items", ParentId=root_folder["Id"])) == ["Movies", "Shows"]
    assert (await alice.get(f"/Items/{root_folder['Id']}"))["Type"] == "UserRootFolder"
    assert len((await root.get("/UserViews"))["Items"]) == 3

    # Jellyfin Web's movie grid, paged: every movie once.
    seen: list[str] = []
    for start in (0, 20, 40):
        page = await alice.get("/Items", ParentId=movies, Recursive="true", IncludeItemTypes="Movie",
                               SortBy="SortName,ProductionYear", SortOrder="Ascending", StartIndex=start, Limit=20,
                               Fields="PrimaryImageAspectRatio,MediaSourceCount")  # fmt: skip
        assert page["TotalRecordCount"] == 49 and page["StartIndex"] == start
        seen += [i["Id"] for i in page["Items"]]
        first = page["Items"][0]
        assert first["Type"] == "Movie" and first["MediaType"] == "Video" and first["MediaSourceCount"] == 1
        assert "Overview" not in first and "MediaSources" not in first and "Path" not in first
    assert len(seen) == 49 == len(set(seen))
    newest = await alice.get("/Items", ParentId=movies, Recursive="true", SortBy="DateCreated",
                             SortOrder="Descending", Limit=1)  # fmt: skip
    assert names(newest) == ["Hevc Sample"]
    oldest = await alice.get("/Items", IncludeItemTypes="Movie", Recursive="true", SortBy="ProductionYear", Limit=1)
    assert names(oldest) == ["Filler 000"] and oldest["Items"][0]["PremiereDate"].startswith("1950-01-01T")
    rated = await alice.get("/Items", IncludeItemTypes="movie", Recursive="true", SortBy="CommunityRating",
                            SortOrder="Descending", Limit=2)  # fmt: skip
    assert names(rated) == ["Amélie – Ünïcode", "Big Buck Test"] and rated["Items"][0]["CommunityRating"] == 8.3
    assert names(await alice.get("/Items", SearchTerm="buck", Recursive="true")) == ["Big Buck Test"]
    assert (await alice.get("/Items", Recursive="true", IncludeItemTypes="BoxSet,MusicAlbum"))["Items"] == []
    everything = await alice.get("/Items", Recursive="true", ExcludeItemTypes="Movie", Limit=100)
    assert sorted({i["Type"] for i in everything["Items"]}) == ["Episode", "Season", "Series"]
    assert everything["TotalRecordCount"] == 6
    folders = await alice.get("/Items", ParentId=shows, Recursive="true", Filters="IsFolder")
    assert sorted(names(folders)) == ["Season 1", "Season 2", "Test Show"]
    leaves = await alice.get("/Items", ParentId=shows, Recursive="true", Filters="IsNotFolder", MediaTypes="Video")
    assert leaves["TotalRecordCount"] == 3

    # A series' children are its seasons; a season's, its episodes (legacy path too).
    seasons = await alice.get("/Items", ParentId=hx(data.items["show"]), Fields="ChildCount,RecursiveItemCount")
    assert names(seasons) == ["Season 1", "Season 2"]
    assert seasons["Items"][0]["ChildCount"] == 2 and seasons["Items"][0]["SeriesName"] == "Test Show"
    episodes = await alice.get(f"/Users/{me}/Items", as_path="/Items", ParentId=hx(data.items["s1"]))
    assert [(e["ParentIndexNumber"], e["IndexNumber"]) for e in episodes["Items"]] == [(1, 1), (1, 2)]
    first_episode = episodes["Items"][0]
    assert first_episode["SeasonId"] == hx(data.items["s1"]) and first_episode["RunTimeTicks"] == 500_000_000
    show_eps = await alice.get("/Items", ParentId=hx(data.items["show"]), Recursive="true", IncludeItemTypes="Episode")
    assert show_eps["TotalRecordCount"] == 3

    # Ids keep their order and may name a library; Fields adds the details.
    ids = ",".join([hx(data.items["zebra"]), hx(data.items["big"]), movies])
    by_ids = await alice.get("/Items", Ids=ids, Fields="Overview,Genres,Path,MediaSources,MediaStreams,DateCreated,"
                                                     "SortName,ParentId,ProviderIds,People")  # fmt: skip
    assert names(by_ids) == ["Movies", "Zebra Night", "Big Buck Test"]
    big = by_ids["Items"][2]
    assert big["Genres"] == ["Test"] and big["ParentId"] == movies and big["SortName"] == "big buck test"
    assert "Path" not in big and "Path" not in big["MediaSources"][0]
    assert [s["Type"] for s in big["MediaStreams"]] == ["Video", "Audio"]
    assert big["MediaSources"][0]["Id"] == big["Id"] and big["MediaSources"][0]["DefaultAudioStreamIndex"] == 1
    admin_view = await root.get("/Items", Ids=hx(data.items["big"]), Fields="Path,MediaSources")
    assert admin_view["Items"][0]["Path"] == "/media/movies/Big Buck Test.mp4"

    # Bad parameters are 400; other users' libraries are 404 or absent.
    for params in ({"Limit": "abc"}, {"StartIndex": "-1"}, {"ParentId": "zzz"}, {"Ids": "nope"},
                   {"Recursive": "maybe"}, {"SearchTerm": "a\x00b"}):  # fmt: skip
        await alice.get("/Items", 400, **params)
    # Another user's id is forbidden, as in Jellyfin.
    await alice.get("/Items", 403, userId=hx(data.users["bob"]))
    await alice.get(f"/Users/{hx(data.users['bob'])}/Items", 403)
    secret, private = hx(data.items["secret"]), hx(data.libraries["Private"])
    await alice.get("/Items", 404, ParentId=private)
    await alice.get("/Items", 404, ParentId=secret)
    for path in (f"/Items/{secret}", f"/Items/{private}", f"/Items/{secret}/Ancestors", f"/Items/{secret}/Similar",
                 f"/Items/{secret}/ThemeMedia", f"/Items/{secret}/SpecialFeatures", "/Items/not-an-id"):  # fmt: skip
        await alice.get(path, 404)
    assert (await alice.get("/Items", Ids=f"{secret},{private}"))["Items"] == []
    hidden = await alice.get("/Items", Recursive="true", SearchTerm="secret")
    assert hidden["TotalRecordCount"] == 0
    bob = await client(http, api_url, "bob")
    assert (await bob.get("/UserViews"))["Items"] == []
    assert (await bob.get("/Items", Recursive="true"))["TotalRecordCount"] == 0


async def put_userdata(http: httpx.AsyncClient, url: str, headers: dict[str, str], item: str, **body: Any) -> None:
    r = await http.put(f"{url}/api/items/{item}/userdata", json=body, headers=headers)
    assert r.status_code == 200, r.text


async def test_detail_home_rows_and_shows(http: httpx.AsyncClient, api_url: str, data: Seed, settings: Settings,
                                          clean_db: asyncpg.Pool) -> None:  # fmt: skip
    alice = await client(http, api_url, "alice")
    me, it = hx(data.users["alice"]), {k: hx(v) for k, v in data.items.items()}
    movies, shows = hx(data.libraries["Movies"]), hx(data.libraries["Shows"])

    # Detail: everything, media sources for playables, counts for folders, libraries too.
    big = await alice.get(f"/Items/{it['big']}", userId=me)
    assert big["Type"] == "Movie" and big["ServerId"] and big["RunTimeTicks"] == 300_000_000
    assert big["MediaSources"][0]["Container"] == "mp4" and len(big["MediaStreams"]) == 2
    assert big["UserData"]["Played"] is False and big["ImageTags"] == {} and big["LocationType"] == "FileSystem"
    legacy = await alice.get(f"/Users/{me}/Items/{it['big']}", as_path=f"/Items/{it['big']}")
    assert legacy["Id"] == big["Id"]
    show = await alice.get(f"/Items/{it['show']}")
    assert show["IsFolder"] and show["ChildCount"] == 2 and show["RecursiveItemCount"] == 3
    assert show["UserData"]["UnplayedItemCount"] == 3 and show["MediaType"] == "Unknown"
    library = await alice.get(f"/Items/{shows}")
    assert library["Type"] == "CollectionFolder" and library["CollectionType"] == "tvshows"
    chain = await alice.get(f"/Items/{it['s1e2']}/Ancestors")
    assert [(a["Type"], a["Name"]) for a in chain] == [("Season", "Season 1"), ("Series", "Test Show"),
                                                       ("CollectionFolder", "Shows")]  # fmt: skip

    # Watch state set through yaffw's own /api shows on the Jellyfin surface.
    own = bearer(settings, data, "alice")
    await put_userdata(http, api_url, own, data.items["s1e1"], played=True)
    await put_userdata(http, api_url, own, data.items["s1e2"], position_seconds=10.0)
    await put_userdata(http, api_url, own, data.items["zebra"], position_seconds=30.0)
    await put_userdata(http, api_url, own, data.items["big"], favorite=True)

    resume = await alice.get("/UserItems/Resume", Limit=10, MediaTypes="Video", Fields="PrimaryImageAspectRatio")
    assert names(resume) == ["Zebra Night", "Episode 2"] and resume["TotalRecordCount"] == 2
    assert resume["Items"][0]["UserData"]["PlaybackPositionTicks"] == 300_000_000
    assert resume["Items"][0]["UserData"]["PlayedPercentage"] == 30.0
    only_eps = await alice.get(f"/Users/{me}/Items/Resume", as_path="/UserItems/Resume", IncludeItemTypes="Episode")
    assert names(only_eps) == ["Episode 2"]
    paged = await alice.get("/UserItems/Resume", StartIndex=1, Limit=1, ParentId=movies)
    assert paged["Items"] == [] and paged["TotalRecordCount"] == 1

    favourites = await alice.get("/Items", Recursive="true", Filters="IsFavorite")
    assert names(favourites) == ["Big Buck Test"]
    assert names(await alice.get("/Items", Recursive="true", IsPlayed="true")) == ["Episode 1"]
    assert names(await alice.get("/Items", Recursive="true", Filters="IsResumable", SortBy="Name")) == [
        "Episode 2", "Zebra Night"]  # fmt: skip
    assert (await alice.get("/Items", Recursive="true", Filters="IsPlayed,IsUnplayed"))["Items"] == []
    unplayed_shows = await alice.get("/Items", ParentId=shows, IncludeItemTypes="Series", Filters="IsUnplayed")
    assert names(unplayed_shows) == ["Test Show"]
    assert unplayed_shows["Items"][0]["UserData"]["UnplayedItemCount"] == 2
    counts = await alice.get("/Items/Counts")
    assert (counts["MovieCount"], counts["SeriesCount"], counts["EpisodeCount"]) == (49, 1, 3)
    assert (await alice.get("/Items/Counts", IsFavorite="true"))["MovieCount"] == 1

    # Next up: the episode after the last played one (resumable or not, as asked).
    next_up = await alice.get("/Shows/NextUp", Fields="MediaSourceCount", Limit=5)
    assert [i["Id"] for i in next_up["Items"]] == [it["s1e2"]] and next_up["TotalRecordCount"] == 1
    assert (await alice.get("/Shows/NextUp", EnableResumable="false"))["Items"] == []
    assert names(await alice.get("/Shows/NextUp", SeriesId=it["show"], ParentId=shows)) == ["Episode 2"]
    await put_userdata(http, api_url, own, data.items["s1e2"], played=True)
    after = await alice.get("/Shows/NextUp", NextUpDateCutoff="2020-01-01T00:00:00Z")
    assert [i["Id"] for i in after["Items"]] == [it["s2e1"]]
    assert after["Items"][0]["SeriesName"] == "Test Show" and after["Items"][0]["ParentIndexNumber"] == 2
    assert (await alice.get("/Shows/NextUp", NextUpDateCutoff="2999-01-01"))["Items"] == []
    await alice.get("/Shows/NextUp", 400, NextUpDateCutoff="yesterday")
    season1 = await alice.get(f"/Items/{it['s1']}")
    assert season1["UserData"]["Played"] is True and season1["UserData"]["UnplayedItemCount"] == 0

    # Seasons and episodes of a show.
    seasons = await alice.get(f"/Shows/{it['show']}/Seasons", userId=me, Fields="ItemCounts")
    assert names(seasons) == ["Season 1", "Season 2"] and seasons["Items"][0]["IndexNumber"] == 1
    episodes = await alice.get(f"/Shows/{it['show']}/Episodes", Fields="Overview,MediaSources")
    assert [i["Id"] for i in episodes["Items"]] == [it["s1e1"], it["s1e2"], it["s2e1"]]
    assert (await alice.get(f"/Shows/{it['show']}/Episodes", Season=2))["TotalRecordCount"] == 1
    assert names(await alice.get(f"/Shows/{it['show']}/Episodes", SeasonId=it["s1"])) == ["Episode 1", "Episode 2"]
    from_e2 = await alice.get(f"/Shows/{it['show']}/Episodes", StartItemId=it["s1e2"], Limit=1)
    assert [i["Id"] for i in from_e2["Items"]] == [it["s1e2"]] and from_e2["TotalRecordCount"] == 2
    await alice.get(f"/Shows/{it['big']}/Seasons", 404)
    await alice.get(f"/Shows/{it['show']}/Episodes", 404, SeasonId=it["big"])
    await alice.get(f"/Shows/{it['secret']}/Episodes", 404)
    await alice.get(f"/Shows/{it['show']}/Episodes", 400, Season="x")

    # Recently added: a bare array; a show's new episodes grouped as the series.
    latest = await alice.get("/Items/Latest", ParentId=shows, Limit=16, Fields="PrimaryImageAspectRatio,Path")
    assert [(i["Type"], i["Name"], i.get("ChildCount")) for i in latest] == [("Series", "Test Show", 3)]
    flat = await alice.get(f"/Users/{me}/Items/Latest", as_path="/Items/Latest", ParentId=shows, GroupItems="false")
    assert [i["Id"] for i in flat] == [it["s2e1"], it["s1e2"], it["s1e1"]]
    newest_movies = await alice.get("/Items/Latest", ParentId=movies, Limit=2)
    assert [i["Name"] for i in newest_movies] == ["Hevc Sample", "Zebra Night"]
    assert [i["Name"] for i in await alice.get("/Items/Latest", IncludeItemTypes="Movie", IsPlayed="false",
                                              Limit=1)] == ["Hevc Sample"]  # fmt: skip
    await alice.get("/Items/Latest", 404, ParentId=hx(data.libraries["Private"]))

    # Facets and the empty extras.
    facets = await alice.get("/Items/Filters", ParentId=movies, IncludeItemTypes="Movie")
    assert facets["Genres"] == ["Test"] and 1950 in facets["Years"] and 2021 in facets["Years"]
    facets2 = await alice.get("/Items/Filters2", ParentId=movies)
    assert [g["Name"] for g in facets2["Genres"]] == ["Test"]
    assert (await alice.get(f"/Items/{it['big']}/Similar", Limit=12))["Items"] == []
    theme = await alice.get(f"/Items/{it['big']}/ThemeMedia")
    assert theme["ThemeSongsResult"]["Items"] == [] and theme["ThemeVideosResult"]["OwnerId"] == it["big"]
    assert await alice.get(f"/Items/{it['big']}/SpecialFeatures") == []
    assert await alice.get(f"/Items/{it['big']}/LocalTrailers") == []

    # Extras the scan linked to a film: trailers, special features, theme videos.
    for name, kind in (("Big Trailer", "trailer"), ("Making Of", "behind_the_scenes"), ("Theme", "theme_video")):
        await clean_db.execute(
            "INSERT INTO media_items (library_id, type, name, sort_name, owner_id, extra_kind, duration_seconds, "
            "date_added) VALUES ($1, 'video', $2, lower($2), $3, $4, 5.0, '2000-01-01')",
            data.libraries["Movies"], name, data.items["big"], kind,
        )  # fmt: skip
    trailers = await alice.get(f"/Items/{it['big']}/LocalTrailers")
    assert [(t["Name"], t["Type"], t["ExtraType"]) for t in trailers] == [("Big Trailer", "Video", "Trailer")]
    features = await alice.get(f"/Users/{me}/Items/{it['big']}/SpecialFeatures",
                               as_path=f"/Items/{it['big']}/SpecialFeatures")  # fmt: skip
    assert [(f["Name"], f["ExtraType"]) for f in features] == [("Making Of", "BehindTheScenes")]
    theme = await alice.get(f"/Items/{it['big']}/ThemeMedia")
    assert [v["Name"] for v in theme["ThemeVideosResult"]["Items"]] == ["Theme"]


EMPTY_FOR_USERS = [
    "/LiveTv/Channels", "/LiveTv/Programs", "/LiveTv/Programs/Recommended", "/LiveTv/Recordings", "/LiveTv/Info",
    "/LiveTv/Timers", "/LiveTv/GuideInfo", "/SyncPlay/List", "/Studios", "/Genres", "/Persons", "/Artists",
    "/Artists/AlbumArtists", "/MusicGenres", "/Channels", "/Trailers", "/Years", "/Items/Suggestions",
    "/Movies/Recommendations", "/Shows/Upcoming", "/Localization/Cultures", "/Localization/Countries",
    "/Localization/ParentalRatings", "/Localization/Options",
]  # fmt: skip
ADMIN_ONLY = [
    "/Library/VirtualFolders", "/Library/MediaFolders", "/Library/PhysicalPaths", "/Startup/Configuration",
    "/Plugins", "/Packages", "/Repositories", "/ScheduledTasks", "/Devices", "/Auth/Providers",
    "/Auth/PasswordResetProviders",
]  # fmt: skip


async def test_what_yaffw_lacks_is_answered_empty(http: httpx.AsyncClient, api_url: str, data: Seed) -> None:
    alice, root = await client(http, api_url, "alice"), await client(http, api_url, "root")
    for path in EMPTY_FOR_USERS:
        body = await alice.get(path)
        if isinstance(body, dict) and "Items" in body:
            assert body["Items"] == [] and body["TotalRecordCount"] == 0, path
    assert (await alice.get("/LiveTv/Info"))["IsEnabled"] is False
    big = data.items["big"].replace("-", "")
    assert (await alice.get(f"/Items/{big}/Intros"))["Items"] == []
    assert (await alice.get(f"/MediaSegments/{big}"))["Items"] == []
    await alice.get(f"/MediaSegments/{hx(data.items['secret'])}", 404)
    for path in ADMIN_ONLY:
        await alice.get(path, 403)
        await root.get(path)
    folders = await root.get("/Library/VirtualFolders")
    assert {(f["Name"], f["CollectionType"]) for f in folders} == {
        ("Movies", "movies"), ("Shows", "tvshows"), ("Private", "movies")}  # fmt: skip
    assert "/media/movies" in await root.get("/Library/PhysicalPaths")
    assert (await http.get(api_url + "/LiveTv/Channels")).status_code == 401
