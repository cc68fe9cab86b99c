"""Driving yaffw with ``jellyfin-apiclient-python`` (the library of Kodi's Jellyfin add-on and
jellyfin-mpv-shim) in tests: a browser DeviceProfile as Jellyfin Web sends it from Chrome, every
response the library receives validated against Jellyfin's own OpenAPI document, and a logged-in
client made through the library's own connect and login calls.
"""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import httpx
import requests
from jellyfin_apiclient_python import JellyfinClient
from jellyfin_apiclient_python.connection_manager import CONNECTION_STATE
from openapi_schema_validator import OAS30Validator
from yaffw_api.jellyfin.routing import rewrite

from tests import jellyfin_support as jf

# What Jellyfin Web 10.11 (browserDeviceProfile.js) sends from desktop Chrome: MP4/WebM direct play
# with H.264/VP9/AV1 and AAC/Opus, HLS (MPEG-TS, H.264 + AAC) when that is not possible, and the
# usual codec conditions. HEVC and AC-3 are not in it: Chrome plays neither without platform help.
CHROME_PROFILE: dict[str, Any] = {
    "Name": "Chrome (Jellyfin Web)",
    "MaxStreamingBitrate": 120_000_000,
    "MaxStaticBitrate": 100_000_000,
    "MusicStreamingTranscodingBitrate": 384_000,
    "DirectPlayProfiles": [
        {"Container": "webm", "Type": "Video", "VideoCodec": "vp8,vp9,av1", "AudioCodec": "vorbis,opus"},
        {"Container": "mp4,m4v", "Type": "Video", "VideoCodec": "h264,vp9,av1",
         "AudioCodec": "aac,mp3,mp2,opus,flac,vorbis"},
        {"Container": "mov", "Type": "Video", "VideoCodec": "h264", "AudioCodec": "aac,mp3,mp2,opus,flac,vorbis"},
        {"Container": "opus", "Type": "Audio"},
        {"Container": "mp3", "Type": "Audio", "AudioCodec": "mp3"},
        {"Container": "aac", "Type": "Audio"},
        {"Container": "m4a", "Type": "Audio", "AudioCodec": "aac"},
        {"Container": "flac", "Type": "Audio"},
        {"Container": "webma,webm", "Type": "Audio"},
        {"Container": "wav", "Type": "Audio"},
    ],
    "TranscodingProfiles": [
        {"Container": "ts", "Type": "Audio", "AudioCodec": "aac", "Context": "Streaming", "Protocol": "hls",
         "MaxAudioChannels": "2", "MinSegments": 1, "BreakOnNonKeyFrames": True},
        {"Container": "aac", "Type": "Audio", "AudioCodec": "aac", "Context": "Streaming", "Protocol": "http",
         "MaxAudioChannels": "2"},
        {"Container": "ts", "Type": "Video", "AudioCodec": "aac,mp3,mp2", "VideoCodec": "h264",
         "Context": "Streaming", "Protocol": "hls", "MaxAudioChannels": "2", "MinSegments": 1,
         "BreakOnNonKeyFrames": True},
        {"Container": "webm", "Type": "Video", "AudioCodec": "vorbis", "VideoCodec": "vpx", "Context": "Streaming",
         "Protocol": "http", "MaxAudioChannels": "2"},
        {"Container": "mp4", "Type": "Video", "AudioCodec": "aac,mp3,mp2", "VideoCodec": "h264", "Context": "Static",
         "Protocol": "http"},
    ],
    "ContainerProfiles": [],
    "CodecProfiles": [
        {"Type": "VideoAudio", "Codec": "aac", "Conditions": [
            {"Condition": "Equals", "Property": "IsSecondaryAudio", "Value": "false", "IsRequired": False}]},
        {"Type": "VideoAudio", "Conditions": [
            {"Condition": "Equals", "Property": "IsSecondaryAudio", "Value": "false", "IsRequired": False}]},
        {"Type": "Video", "Codec": "h264", "Conditions": [
            {"Condition": "NotEquals", "Property": "IsAnamorphic", "Value": "true", "IsRequired": False},
            {"Condition": "EqualsAny", "Property": "VideoProfile", "Value": "high|main|baseline|constrained baseline",
             "IsRequired": False},
            {"Condition": "EqualsAny", "Property": "VideoRangeType", "Value": "SDR", "IsRequired": False},
            {"Condition": "LessThanEqual", "Property": "VideoLevel", "Value": "52", "IsRequired": False},
            {"Condition": "NotEquals", "Property": "IsInterlaced", "Value": "true", "IsRequired": False}]},
        {"Type": "Video", "Codec": "vp9", "Conditions": [
            {"Condition": "EqualsAny", "Property": "VideoRangeType", "Value": "SDR|HDR10|HLG", "IsRequired": False}]},
        {"Type": "Video", "Codec": "av1", "Conditions": [
            {"Condition": "NotEquals", "Property": "IsAnamorphic", "Value": "true", "IsRequired": False},
            {"Condition": "EqualsAny", "Property": "VideoProfile", "Value": "main", "IsRequired": False},
            {"Condition": "EqualsAny", "Property": "VideoRangeType", "Value": "SDR|HDR10|HLG", "IsRequired": False},
            {"Condition": "LessThanEqual", "Property": "VideoLevel", "Value": "19", "IsRequired": False}]},
    ],
    "SubtitleProfiles": [
        {"Format": "vtt", "Method": "External"},
        {"Format": "ass", "Method": "External"},
        {"Format": "ssa", "Method": "External"},
    ],
}  # fmt: skip


def chrome_profile(max_width: int) -> dict[str, Any]:
    """:data:`CHROME_PROFILE` for a player no wider than ``max_width`` (Jellyfin Web adds this H.264
    condition when it knows the player's size): the transcode stays small on a busy test machine."""
    profile = copy.deepcopy(CHROME_PROFILE)
    h264 = next(p for p in profile["CodecProfiles"] if p.get("Codec") == "h264")
    h264["Conditions"].append({"Condition": "LessThanEqual", "Property": "Width", "Value": str(max_width),
                               "IsRequired": False})  # fmt: skip
    return profile


# The legacy ``/Users/{userId}/…`` paths this library calls. Jellyfin 10.11 still serves them but
# leaves them out of its document; each answers exactly what its documented successor does.
_LEGACY = [
    (r"/Users/[^/]+/Views", "/UserViews"),
    (r"/Users/[^/]+/Items/Latest", "/Items/Latest"),
    (r"/Users/[^/]+/Items/Resume", "/UserItems/Resume"),
    (r"/Users/[^/]+/Items/([^/]+)/UserData", r"/UserItems/\1/UserData"),
    (r"/Users/[^/]+/Items/([^/]+)", r"/Items/\1"),
    (r"/Users/[^/]+/Items", "/Items"),
    (r"/Users/[^/]+/PlayedItems/([^/]+)", r"/UserPlayedItems/\1"),
    (r"/Users/[^/]+/FavoriteItems/([^/]+)", r"/UserFavoriteItems/\1"),
]
_LEGACY_RE = [(re.compile(f"^(?:/emby|/mediabrowser)?{p}$", re.IGNORECASE), r) for p, r in _LEGACY]


def documented_path(path: str) -> str:
    """``path`` as Jellyfin's document has it: a legacy alias becomes the operation it duplicates."""
    for pattern, replacement in _LEGACY_RE:
        if pattern.match(path):
            return pattern.sub(replacement, path)
    return path


def validate_media_aware(response: requests.Response | httpx.Response) -> None:
    """Check a ``requests`` or ``httpx`` response against the operation Jellyfin documents for it.

    JSON bodies are validated against the schema; for media and images only the status must be
    documented (their bodies are binary, and a streamed body must stay unread for the caller). A
    206 answers a range of what the documented 200 is (Jellyfin's generated document lists only
    the 200 of its file endpoints, which honour ranges all the same), and a 304 has no body.
    """
    method = response.request.method or "GET"
    path = documented_path(urlsplit(str(response.url)).path)
    if "json" in response.headers.get("content-type", ""):
        jf.validate(response, method=method, path=path)  # type: ignore[arg-type]  # same attributes
    elif response.status_code != 304:
        jf.response_schema(method, path, 200 if response.status_code == 206 else response.status_code)


class ResponseAudit:
    """A ``requests`` response hook recording every Jellyfin answer and any that breaks the document.

    The library swallows exceptions in some calls (``login`` answers ``{}``, ``connect_to_address``
    answers "Unavailable"), so failures are collected and checked by :meth:`assert_clean`.
    """

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.failures: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        if rewrite(urlsplit(response.url).path, {"accept": "application/json"}) is None:
            return response  # not Jellyfin's API (an image redirected to the object store, say)
        what = f"{response.request.method} {urlsplit(response.url).path} -> {response.status_code}"
        try:
            validate_media_aware(response)
        except AssertionError as exc:
            with self._lock:
                self.failures.append(f"{what}: {exc}")
        with self._lock:
            self.seen.append(what)
        return response

    def assert_clean(self) -> None:
        """Fail with every response that did not match Jellyfin's document."""
        assert not self.failures, "responses not as Jellyfin documents them:\n" + "\n".join(self.failures)


@contextmanager
def audited_requests() -> Iterator[ResponseAudit]:
    """While active, every ``requests.Session`` (the library's own, and the throwaway one behind
    ``requests.get``/``post``, which its login and connect use) validates what it receives."""
    audit = ResponseAudit()
    original = requests.Session.__init__

    def init(self: requests.Session, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.hooks["response"].append(audit)

    requests.Session.__init__ = init  # type: ignore[method-assign]
    try:
        yield audit
    finally:
        requests.Session.__init__ = original  # type: ignore[method-assign]


def new_client(device_id: str, device: str = "pytest") -> JellyfinClient:
    """A library client configured as an app would do it (no TLS here)."""
    client = JellyfinClient()
    client.config.app("yaffw e2e", "1.0.0", device, device_id)
    client.config.data["auth.ssl"] = False
    return client


def connect_and_login(url: str, name: str, password: str, device_id: str) -> JellyfinClient:
    """Connect (``System/Info/Public``) and log in through the library; the started client."""
    client = new_client(device_id)
    state = client.auth.connect_to_address(url)
    assert state.get("State") == CONNECTION_STATE.ServerSignIn, state
    result = client.auth.login(url, name, password)
    assert result.get("AccessToken"), f"login as {name} failed"
    client.logged_in = True
    client.start(websocket=False)
    return client


def check_request_body(schema_name: str, body: Any) -> None:
    """Check a body we send against one of the document's component schemas (so the DeviceProfile
    used here is one Jellyfin itself would accept)."""
    doc = jf.openapi()
    validator = OAS30Validator({"$ref": f"#/components/schemas/{schema_name}", "components": doc["components"]})
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in validator.iter_errors(body)]
    assert not errors, errors
