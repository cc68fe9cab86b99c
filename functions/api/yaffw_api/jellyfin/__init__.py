"""The Jellyfin 10.11 HTTP surface (DESIGN §10): an adapter over yaffw's domain code, so the apps of
the Jellyfin ecosystem connect to yaffw. Only the wire format is Jellyfin's (``wire``); routing
rules are in ``routing``, credentials in ``jfauth``. Each module below defines ``bp``.
"""

BLUEPRINTS = [
    "yaffw_api.jellyfin.system",
    "yaffw_api.jellyfin.users",
    "yaffw_api.jellyfin.user_configuration",
    "yaffw_api.jellyfin.browse",
    "yaffw_api.jellyfin.shows",
    "yaffw_api.jellyfin.images",
    "yaffw_api.jellyfin.userdata",
    "yaffw_api.jellyfin.display_prefs",
    "yaffw_api.jellyfin.socket",
    "yaffw_api.jellyfin.playback_info",
    "yaffw_api.jellyfin.streams",
    "yaffw_api.jellyfin.hls",
    "yaffw_api.jellyfin.subtitles",
    "yaffw_api.jellyfin.reporting",
    "yaffw_api.jellyfin.unsupported",
]
