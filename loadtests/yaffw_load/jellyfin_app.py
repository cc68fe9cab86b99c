"""A Jellyfin app of a household (a TV or phone app) talking Jellyfin's HTTP API to yaffw.

What it calls, and in which order, follows what Jellyfin Android TV, Findroid and Jellyfin Web do
(docs/jellyfin-clients.md):

- **Start**: ``GET /System/Info/Public`` (server check), ``POST /Users/AuthenticateByName`` with the
  ``Authorization: MediaBrowser Client=…, Device=…, DeviceId=…, Version=…`` header, then the same
  header with ``Token=…`` on every call; ``POST /Sessions/Capabilities/Full``.
- **Home screen** (on start and now and then): ``/Users/Me``, ``/DisplayPreferences/usersettings``,
  ``/UserViews``, ``/UserItems/Resume``, ``/Shows/NextUp``, ``/Items/Latest?ParentId=<view>`` per
  library, and the posters of those rows at the size an app asks
  (``/Items/{id}/Images/Primary?fillHeight=446&fillWidth=297&quality=96&tag=…``).
- **Library grid**: ``/Items?ParentId=<view>&Recursive=true&IncludeItemTypes=Movie,Series&SortBy=…``
  in pages of 100 (what apps load per grid page), with the posters of the cards on screen.
- **Item page**: ``/Items/{id}``, its backdrop, and for a series ``/Shows/{id}/Seasons`` and
  ``/Shows/{id}/Episodes?SeasonId=…``.
- **Play** (``LOADTEST_APP_PLAY_CHANCE`` of item pages end in playback): ``POST
  /Items/{id}/PlaybackInfo`` with the device's ``DeviceProfile`` (``LOADTEST_APP_DEVICE``: ``tv``
  plays H.264 and HEVC files itself, ``web`` is Chrome's Jellyfin Web, ``phone`` wants H.264 no wider
  than 1280, so a 1080p film is transcoded; a list such as ``tv,phone`` is dealt out round robin),
  ``POST /Sessions/Playing``; then either a direct stream (``/Videos/{id}/stream?static=true&…`` read in
  byte ranges at the file's bitrate) or the ``TranscodingUrl`` (``master.m3u8`` → ``main.m3u8`` →
  ``hls1/main/{n}.ts`` at playback pace, with no header: the URL carries its ``ApiKey``);
  ``POST /Sessions/Playing/Progress`` every ``LOADTEST_PROGRESS_EVERY_S`` (10 s, as the apps do);
  ``POST /Sessions/Playing/Stopped`` at the end, and ``DELETE /Videos/ActiveEncodings`` after a
  transcode.

Images are requested with their ``tag``, which makes them cacheable for a year: like the apps' image
caches, each user fetches an image once. Requests are named ``[app] <route with {id}>`` so Locust's
statistics group them by route.
"""

from __future__ import annotations

import copy
import itertools
import random
import time
import uuid
from typing import Any
from urllib.parse import parse_qs, urlencode

from locust import between, task
from locust.exception import StopUser

from yaffw_load import metrics, options, playlists
from yaffw_load.direct import ranges
from yaffw_load.hls import RETRY_FOR_S, TS_SYNC
from yaffw_load.viewer import Piece, Viewer

TICKS = 10_000_000  # Jellyfin's 100 ns ticks per second
CLIENT_VERSION = "0.18.3"
# The fields Jellyfin Android TV asks for on its home rows and grids.
CARD_FIELDS = "PrimaryImageAspectRatio,Overview,ChildCount,MediaSourceCount"
IMAGE_TYPES = "Primary,Backdrop,Thumb"
# Card sizes apps ask for (Android TV's poster card at 1080p; a phone's smaller grid).
POSTER = {"fillHeight": 446, "fillWidth": 297, "quality": 96}
BACKDROP = {"maxWidth": 1920, "quality": 80}

_COMMON_TRANSCODING = [
    {"Container": "ts", "Type": "Video", "VideoCodec": "h264", "AudioCodec": "aac,mp3", "Context": "Streaming",
     "Protocol": "hls", "MaxAudioChannels": "2", "MinSegments": 1, "BreakOnNonKeyFrames": True},
]  # fmt: skip

# DeviceProfiles, shortened from what the apps send (the parts yaffw's decision reads).
DEVICE_PROFILES: dict[str, dict[str, Any]] = {
    # Jellyfin Android TV (ExoPlayer): plays H.264 and HEVC in MP4/MKV itself: direct stream.
    "tv": {
        "Name": "Jellyfin Android TV", "MaxStreamingBitrate": 120_000_000, "MaxStaticBitrate": 100_000_000,
        "DirectPlayProfiles": [
            {"Container": "mp4,m4v,mkv,webm,mov,ts", "Type": "Video", "VideoCodec": "h264,hevc,vp9,av1",
             "AudioCodec": "aac,mp3,ac3,eac3,opus,flac,vorbis"},
        ],
        "TranscodingProfiles": _COMMON_TRANSCODING,
        "CodecProfiles": [
            {"Type": "Video", "Codec": "h264", "Conditions": [
                {"Condition": "LessThanEqual", "Property": "VideoLevel", "Value": "52", "IsRequired": False}]},
        ],
        "SubtitleProfiles": [{"Format": "srt", "Method": "External"}],
    },
    # Jellyfin Web in Chrome: H.264/VP9/AV1 in MP4 played directly, HEVC and MKV transcoded.
    "web": {
        "Name": "Chrome (Jellyfin Web)", "MaxStreamingBitrate": 120_000_000, "MaxStaticBitrate": 100_000_000,
        "DirectPlayProfiles": [
            {"Container": "webm", "Type": "Video", "VideoCodec": "vp8,vp9,av1", "AudioCodec": "vorbis,opus"},
            {"Container": "mp4,m4v", "Type": "Video", "VideoCodec": "h264,vp9,av1",
             "AudioCodec": "aac,mp3,mp2,opus,flac,vorbis"},
        ],
        "TranscodingProfiles": _COMMON_TRANSCODING,
        "CodecProfiles": [
            {"Type": "Video", "Codec": "h264", "Conditions": [
                {"Condition": "EqualsAny", "Property": "VideoProfile",
                 "Value": "high|main|baseline|constrained baseline", "IsRequired": False},
                {"Condition": "LessThanEqual", "Property": "VideoLevel", "Value": "52", "IsRequired": False}]},
        ],
        "SubtitleProfiles": [{"Format": "vtt", "Method": "External"}],
    },
    # A phone app on a small screen: H.264 in MP4 up to 1280 wide; a 1080p film is transcoded to 720p.
    "phone": {
        "Name": "Jellyfin phone", "MaxStreamingBitrate": 20_000_000, "MaxStaticBitrate": 20_000_000,
        "DirectPlayProfiles": [
            {"Container": "mp4,m4v", "Type": "Video", "VideoCodec": "h264", "AudioCodec": "aac,mp3"},
        ],
        "TranscodingProfiles": _COMMON_TRANSCODING,
        "CodecProfiles": [
            {"Type": "Video", "Codec": "h264", "Conditions": [
                {"Condition": "LessThanEqual", "Property": "Width", "Value": "1280", "IsRequired": False},
                {"Condition": "LessThanEqual", "Property": "VideoLevel", "Value": "41", "IsRequired": False}]},
        ],
        "SubtitleProfiles": [{"Format": "vtt", "Method": "External"}],
    },
}  # fmt: skip
_next_device = itertools.count()
DEVICE_NAMES = {"tv": ("Android TV", "Living room TV"), "web": ("Jellyfin Web", "Chrome"),
                "phone": ("Jellyfin Android", "Phone")}  # fmt: skip


def play_query(play_filter: str) -> dict[str, str]:
    """``LOADTEST_PLAY_FILTER`` (written for ``/api/items``: ``q=Feature``) as ``/Items`` parameters."""
    parsed = {k: v[-1] for k, v in parse_qs(play_filter).items()}
    out = {}
    if parsed.get("q"):
        out["SearchTerm"] = parsed["q"]
    return out


def _think(user: Any) -> float:
    opts = options.get()
    return between(opts.think_min, opts.think_max)(user)


class JellyfinAppUser(Viewer):
    """A household's Jellyfin app: home screen, library grids, item pages, and now and then a film."""

    group = "app"
    wait_time = _think
    device = "tv"

    # ---- connection -------------------------------------------------------------------------------

    def header(self, token: str | None = None) -> dict[str, str]:
        """The ``Authorization: MediaBrowser …`` header of this device (with the token once logged in)."""
        client, device = DEVICE_NAMES[self.device]
        value = (f'MediaBrowser Client="{client}", Device="{device}", DeviceId="{self.device_id}", '
                 f'Version="{CLIENT_VERSION}"')  # fmt: skip
        if token:
            value += f', Token="{token}"'
        return {"Authorization": value}

    @property
    def auth(self) -> dict[str, str]:
        """The MediaBrowser header with the token (used by :meth:`call`)."""
        return self.header(self.token)

    def on_start(self) -> None:
        """Server check, login by name, capabilities, then the home screen."""
        opts = options.get()
        devices = [d.strip() for d in opts.app_device.split(",") if d.strip()]
        self.device = devices[next(_next_device) % len(devices)]  # a household's TV, phones...
        self.device_id = uuid.uuid4().hex
        self.images: set[str] = set()  # tagged images fetched (the app's image cache)
        self.seen: list[dict[str, Any]] = []
        self.views: list[dict[str, Any]] = []
        self.call("GET", "/System/Info/Public", "/System/Info/Public")
        name, password = self.credentials()
        with self.client.post("/Users/AuthenticateByName", json={"Username": name, "Pw": password},
                              headers=self.header(), name="[app] /Users/AuthenticateByName",
                              catch_response=True) as r:  # fmt: skip
            if r.status_code != 200:
                r.failure(f"login as {name}: {r.status_code} {(r.text or '')[:200]}")
                raise StopUser()
            body = r.json()
            self.token, self.user_id = body["AccessToken"], body["User"]["Id"]
        self.call(
            "POST",
            "/Sessions/Capabilities/Full",
            "/Sessions/Capabilities/Full",
            expect=(204,),
            json={"PlayableMediaTypes": ["Video"], "SupportedCommands": [], "SupportsMediaControl": False},
        )
        self.home()

    # ---- browsing ---------------------------------------------------------------------------------

    def _remember(self, items: list[dict[str, Any]]) -> None:
        self.seen = (items + self.seen)[:300]

    def image(self, item_id: str, kind: str, tag: str | None, size: dict[str, int]) -> None:
        """A tagged image at an app's card size, fetched once (then served from the app's cache)."""
        if not tag:
            return
        url = f"/Items/{item_id}/Images/{kind}?{urlencode({**size, 'tag': tag})}"
        if url in self.images:
            return
        with self.client.get(url, name=f"[app] /Items/{{id}}/Images/{kind}", catch_response=True) as r:
            if r.status_code not in (200, 302):
                r.failure(f"{r.status_code}: {(r.text or '')[:200]}")
                return
        self.images.add(url)

    def posters(self, items: list[dict[str, Any]], count: int = 8) -> None:
        """The posters of the cards on screen (an episode's is its series' or its own thumb)."""
        for item in items[:count]:
            tags = item.get("ImageTags") or {}
            if tags.get("Primary"):
                self.image(item["Id"], "Primary", tags["Primary"], POSTER)
            elif item.get("SeriesPrimaryImageTag") and item.get("SeriesId"):
                self.image(item["SeriesId"], "Primary", item["SeriesPrimaryImageTag"], POSTER)

    def list_call(self, path: str, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """A GET answering ``{Items: [...]}`` (or a bare list, as ``/Items/Latest``); the items."""
        body = self.call("GET", f"{path}?{urlencode(params)}", name)
        if isinstance(body, list):
            return body
        return (body or {}).get("Items", []) if isinstance(body, dict) else []

    @task(3)
    def home(self) -> None:
        """The home screen: who am I, display settings, libraries, continue watching, next up, latest."""
        self.call("GET", "/Users/Me", "/Users/Me")
        self.call("GET", f"/DisplayPreferences/usersettings?{urlencode({'userId': self.user_id, 'client': 'emby'})}",
                  "/DisplayPreferences/usersettings")  # fmt: skip
        self.views = self.list_call("/UserViews", "/UserViews", {"userId": self.user_id}) or self.views
        common = {"userId": self.user_id, "Fields": CARD_FIELDS, "ImageTypeLimit": 1, "EnableImageTypes": IMAGE_TYPES}
        rows = self.list_call(
            "/UserItems/Resume",
            "/UserItems/Resume",
            {**common, "Limit": 12, "MediaTypes": "Video", "EnableTotalRecordCount": "false"},
        )
        rows += self.list_call("/Shows/NextUp", "/Shows/NextUp",
                               {**common, "Limit": 24, "EnableTotalRecordCount": "false"})  # fmt: skip
        for view in self.views:
            rows += self.list_call("/Items/Latest", "/Items/Latest?ParentId",
                                   {**common, "ParentId": view["Id"], "Limit": 16})  # fmt: skip
        self._remember(rows)
        self.posters(rows, count=24)

    @task(3)
    def library(self) -> None:
        """A library's grid, a page of 100 cards sorted as the app's default, scrolled now and then."""
        if not self.views:
            return
        view = random.choice(self.views)
        sort = random.choice(("SortName", "SortName", "DateCreated,SortName", "ProductionYear,SortName"))
        kinds = {"movies": "Movie", "tvshows": "Series"}.get(view.get("CollectionType") or "", "Movie,Series")
        for page in range(random.choice((1, 1, 2))):
            if page:
                time.sleep(random.uniform(2.0, 5.0))  # scrolling down the grid
            items = self.list_call("/Items", "/Items?ParentId (grid)", {
                "userId": self.user_id, "ParentId": view["Id"], "Recursive": "true", "IncludeItemTypes": kinds,
                "SortBy": sort, "SortOrder": "Ascending", "StartIndex": page * 100, "Limit": 100,
                "Fields": "PrimaryImageAspectRatio,MediaSourceCount", "ImageTypeLimit": 1,
                "EnableImageTypes": IMAGE_TYPES, "EnableTotalRecordCount": "true"})  # fmt: skip
            self._remember(items)
            self.posters(items, count=random.choice((12, 18, 24)))
            if len(items) < 100:
                break

    @task(3)
    def item(self) -> None:
        """An item page; a series lists seasons and a season's episodes. Sometimes it ends in playback."""
        if not self.seen:
            self.home()
            return
        summary = random.choice(self.seen)
        detail = self.detail(summary["Id"])
        if not detail:
            return
        tags = detail.get("BackdropImageTags") or []
        if tags:
            self.image(detail["Id"], "Backdrop", tags[0], BACKDROP)
        if detail.get("Type") == "Series":
            seasons = self.list_call(f"/Shows/{detail['Id']}/Seasons", "/Shows/{id}/Seasons",
                                     {"userId": self.user_id, "Fields": "PrimaryImageAspectRatio"})  # fmt: skip
            if seasons:
                season = random.choice(seasons)
                episodes = self.list_call(
                    f"/Shows/{detail['Id']}/Episodes",
                    "/Shows/{id}/Episodes",
                    {"userId": self.user_id, "SeasonId": season["Id"], "Fields": "Overview,PrimaryImageAspectRatio"},
                )
                self._remember(episodes)
                self.posters(episodes)
        elif random.random() < options.get().app_play_chance and self.playable(detail):
            self.watch_one()

    def detail(self, item_id: str) -> dict[str, Any] | None:
        """``GET /Items/{id}`` (the item page's data)."""
        body = self.call("GET", f"/Items/{item_id}?{urlencode({'userId': self.user_id})}", "/Items/{id}")
        return body if isinstance(body, dict) else None

    # ---- playback (Viewer's clock, buffer and progress pacing) ------------------------------------

    @staticmethod
    def playable(detail: dict[str, Any]) -> bool:
        """A film or episode longer than a second, with a media source."""
        return (detail.get("Type") in ("Movie", "Episode", "Video") and (detail.get("RunTimeTicks") or 0) > TICKS
                and bool(detail.get("MediaSources") or detail.get("MediaSourceCount", 1)))  # fmt: skip

    def pick_playable(self) -> dict[str, Any] | None:
        """With ``LOADTEST_APP_PLAY_FILTER`` (or ``LOADTEST_PLAY_FILTER``) set, an item found by it (a
        search: ``q=Alpha`` is ``SearchTerm=Alpha``); else the item page's item."""
        opts = options.get()
        query = play_query(opts.app_play_filter or opts.play_filter)
        if not query:
            return self._picked
        found = self.list_call(
            "/Items",
            "/Items?SearchTerm (play)",
            {"userId": self.user_id, "Recursive": "true", "IncludeItemTypes": "Movie,Episode", "Limit": 20, **query},
        )
        found = [i for i in found if (i.get("RunTimeTicks") or 0) > TICKS]
        return self.detail(random.choice(found)["Id"]) if found else None

    _picked: dict[str, Any] | None = None
    _session: dict[str, Any] = {}

    def watch_one(self, detail: dict[str, Any] | None = None) -> None:  # type: ignore[override]
        """Play the item of the page (or one the play filter finds)."""
        self._picked = detail
        super().watch_one()

    def open(self, detail: dict[str, Any]) -> tuple[dict[str, Any], list[Piece]] | None:
        """PlaybackInfo with the device's profile; ``/Sessions/Playing``; the pieces to fetch."""
        opts = options.get()
        item_id = detail["Id"]
        profile = copy.deepcopy(DEVICE_PROFILES[self.device])
        query = urlencode(
            {
                "UserId": self.user_id,
                "StartTimeTicks": 0,
                "IsPlayback": "true",
                "AutoOpenLiveStream": "true",
                "MaxStreamingBitrate": profile["MaxStreamingBitrate"],
            }
        )
        info = self.call("POST", f"/Items/{item_id}/PlaybackInfo?{query}", "/Items/{id}/PlaybackInfo",
                         json={"DeviceProfile": profile})  # fmt: skip
        sources = (info or {}).get("MediaSources") or []
        if not info or not sources:
            return None
        source, sid = sources[0], info["PlaySessionId"]
        duration = (source.get("RunTimeTicks") or detail.get("RunTimeTicks") or 0) / TICKS
        if source.get("SupportsDirectPlay") or source.get("SupportsDirectStream"):
            method, self.piece_word = "DirectStream", "chunk"
            size = int(source.get("Size") or 0)
            if not size or duration <= 0:
                return None
            url = f"/Videos/{item_id}/stream?" + urlencode({
                "static": "true", "MediaSourceId": source["Id"], "PlaySessionId": sid, "DeviceId": self.device_id,
                "Tag": source.get("ETag") or "", "api_key": self.token})  # fmt: skip
            pieces = ranges(url, size, duration, opts.chunk_s)
        elif source.get("TranscodingUrl"):
            method, self.piece_word = "Transcode", "segment"
            pieces = self._hls_pieces(source["TranscodingUrl"])
            if not pieces:
                return None
        else:
            metrics.record(
                self.environment,
                "[app] playback decision",
                0,
                RuntimeError("PlaybackInfo offered neither a direct stream nor a TranscodingUrl"),
            )
            return None
        self._session = {"ItemId": item_id, "MediaSourceId": source["Id"], "PlaySessionId": sid,
                         "PlayMethod": method, "CanSeek": True}  # fmt: skip
        self.call(
            "POST",
            "/Sessions/Playing",
            "/Sessions/Playing",
            expect=(204,),
            json={**self._session, "PositionTicks": 0, "IsPaused": False},
        )
        return {"session_id": sid, "method": method}, pieces

    def _hls_pieces(self, transcoding_url: str) -> list[Piece] | None:
        """Master playlist, the first variant's ``main.m3u8``: its segments (URIs resolved against the
        playlist's own URL, as a player does)."""
        master = self._text(transcoding_url, "/videos/{id}/master.m3u8")
        try:
            if master is None:
                return None
            variant = playlists.variants(master, transcoding_url)[0]
            media = self._text(variant.uri, "/videos/{id}/main.m3u8")
            if media is None:
                return None
            return [Piece(s.uri, s.start, s.seconds) for s in playlists.segments(media, variant.uri)]
        except ValueError as exc:
            metrics.record(self.environment, "[app] playlist", 0, exc)
            return None

    def _text(self, url: str, name: str) -> str | None:
        # The player fetches these without any header: the URL carries its own ApiKey.
        with self.client.get(url, name=f"[app] {name}", catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"{r.status_code}: {(r.text or '')[:200]}")
                return None
            return r.text

    def fetch(self, piece: Piece) -> bool:
        """A byte range of the direct stream, or an HLS segment (503 + Retry-After waited out)."""
        if piece.last_byte:
            want = piece.last_byte - piece.first_byte + 1
            with self.client.get(piece.url, name="[app] /Videos/{id}/stream (range)",
                                 headers={"Range": f"bytes={piece.first_byte}-{piece.last_byte}"},
                                 catch_response=True) as r:  # fmt: skip
                if r.status_code != 206 or len(r.content or b"") != want:
                    r.failure(f"{r.status_code}, {len(r.content or b'')} of {want} bytes")
                    return False
            return True
        deadline = time.monotonic() + RETRY_FOR_S
        while True:
            with self.client.get(piece.url, name="[app] /videos/{id}/hls1/{playlist}/{n}.ts",
                                 catch_response=True) as r:  # fmt: skip
                if r.status_code == 200 and r.content and r.content[0] == TS_SYNC:
                    return True
                if r.status_code == 503 and time.monotonic() < deadline:
                    wait = float(r.headers.get("retry-after") or 1)
                    r.success()
                    metrics.record(self.environment, "[app] segment retry", wait * 1000)
                    time.sleep(wait)
                    continue
                r.failure(f"{r.status_code}: {(r.text or '')[:200]}")
                return False

    def report(self, sid: str, position: float) -> None:
        """``POST /Sessions/Playing/Progress`` (every 10 s, as the apps do)."""
        self.call("POST", "/Sessions/Playing/Progress", "/Sessions/Playing/Progress", expect=(204,),
                  json={**self._session, "PositionTicks": int(position * TICKS), "IsPaused": False,
                        "EventName": "TimeUpdate"})  # fmt: skip

    def stop(self, sid: str, position: float) -> None:
        """``/Sessions/Playing/Stopped``; after a transcode also ``DELETE /Videos/ActiveEncodings``."""
        self.call(
            "POST",
            "/Sessions/Playing/Stopped",
            "/Sessions/Playing/Stopped",
            expect=(204,),
            json={**self._session, "PositionTicks": int(position * TICKS)},
        )
        if self._session.get("PlayMethod") == "Transcode":
            query = urlencode({"DeviceId": self.device_id, "PlaySessionId": sid})
            self.call("DELETE", f"/Videos/ActiveEncodings?{query}", "/Videos/ActiveEncodings", expect=(204,))
