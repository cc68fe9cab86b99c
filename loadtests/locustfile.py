"""Locust load test for yaffw: people browsing, watching directly, watching transcoded, and an admin.

Run it through ``loadtests/run.py`` (starts ``yaffw up``, runs headless, summarises; docs/loadtest.md),
or by hand::

    locust -f loadtests/locustfile.py --host http://127.0.0.1:8096 --headless -u 20 -r 2 -t 5m --csv out/yaffw

User classes (weights below; a weight of 0 leaves that class out):

- ``BrowserUser``: logs in once and reuses its token; home (resume, latest, posters), library pages
  with paging, search as you type, item pages (with children for series), favourites.
- ``DirectPlayViewer``: playback decision with a capable client (direct play), then byte ranges of
  the file at its bitrate's pace, progress every 10 s, a seek now and then, stop.
- ``HlsViewer``: playback decision with an H.264-only, height-limited client (forces a transcode),
  master and media playlist, segments at real-time pace, progress, seeks, stop.
- ``JellyfinAppUser``: a household's Jellyfin app (TV, phone) over Jellyfin's API: login by name with
  the ``MediaBrowser`` header, home screen (views, resume, next up, latest per library, posters at app
  sizes), grids of 100, item pages, and now and then PlaybackInfo with the device's DeviceProfile and
  playback (direct stream in ranges, or the TranscodingUrl's segments) with a progress report every 10 s.
- ``AdminUser`` (fixed count): sessions page, activity log, a library scan every few minutes.

Settings, as Locust arguments (``locust -f loadtests/locustfile.py --help``) or environment variables:

==============================  =========  =========================================================
variable                        default    meaning
==============================  =========  =========================================================
LOADTEST_WEIGHT_BROWSE          10         weight of browsing users
LOADTEST_WEIGHT_DIRECT          3          weight of direct-play viewers
LOADTEST_WEIGHT_HLS             1          weight of HLS (transcode) viewers
LOADTEST_WEIGHT_APP             0          weight of Jellyfin app users (run.py's mixed profile: 5)
LOADTEST_ADMINS                 1          admins (fixed count)
LOADTEST_ACCOUNTS               10         accounts the admin creates (loadtest-000...); users share them
LOADTEST_ACCOUNT_PASSWORD       (fixed)    their password
LOADTEST_ADMIN_USER             admin      the admin's name
LOADTEST_ADMIN_PASSWORD         $YAFFW_ADMIN_PASSWORD   the admin's password
LOADTEST_THINK_MIN/_MAX         2 / 8      browsers: pause between actions (s)
LOADTEST_PAGE_SIZE              24         browsers: items per library page
LOADTEST_IMAGE_CACHE_S          300        browsers: image cache lifetime before an ETag revalidation (s)
LOADTEST_WATCH_MAX_S            600        viewers: longest watch of one item (s)
LOADTEST_PAUSE_BETWEEN_S        5          viewers: pause between items (s)
LOADTEST_BUFFER_S               30         viewers: media seconds buffered ahead (hls.js default)
LOADTEST_PROGRESS_EVERY_S       10         viewers: progress report interval (s)
LOADTEST_SEEK_CHANCE            0.05       viewers: chance of a seek after each segment/chunk
LOADTEST_CHUNK_S                4          direct play: media seconds per range request
LOADTEST_PLAY_FILTER            (none)     viewers: extra query for the items they pick from (q=Feature)
LOADTEST_HLS_HEIGHT             720        HLS viewers: max_height (kept below the source's height)
LOADTEST_HLS_VARIANT            top        HLS viewers: play the top or the bottom variant
LOADTEST_APP_DEVICE             tv         app users' DeviceProfile: tv (direct stream), web, phone (H.264 up to
                                           1280 wide: transcodes 1080p), or a list dealt round robin (tv,phone)
LOADTEST_APP_PLAY_FILTER        (none)     app users: what they play (q=Alpha: a search); default LOADTEST_PLAY_FILTER
LOADTEST_APP_PLAY_CHANCE        0.25       app users: chance that an item page ends in playback
LOADTEST_ADMIN_THINK_S          20         admin: mean pause between actions (s)
LOADTEST_SCAN_EVERY_S           120        admin: seconds between scans
==============================  =========  =========================================================

Custom measurements (request type ``METRIC`` in the CSV; see ``yaffw_load/metrics.py``):
``[hls] time to first segment``, ``[hls] seek to segment``, ``[hls] stall``, ``[hls] segment retry``,
``[direct] time to first chunk``, ``[direct] seek to chunk``, ``[direct] stall``, and the same for
``[app]`` (``chunk`` for a direct stream, ``segment`` for a transcode). With ``--csv PREFIX``
the file ``PREFIX_groups.csv`` adds one row per group (``browse api``, ``hls media``...) with its
percentiles over all of its requests (``yaffw_load/groups.py``).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from locust import events
from locust.env import Environment

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the yaffw_load package beside this file

from yaffw_load import accounts, groups, options
from yaffw_load.admin import AdminUser
from yaffw_load.browse import BrowserUser
from yaffw_load.direct import DirectPlayViewer
from yaffw_load.hls import HlsViewer
from yaffw_load.jellyfin_app import JellyfinAppUser

__all__ = ["AdminUser", "BrowserUser", "DirectPlayViewer", "HlsViewer", "JellyfinAppUser"]

log = logging.getLogger("yaffw_load")


@events.init_command_line_parser.add_listener
def _arguments(parser, **_kw) -> None:  # type: ignore[no-untyped-def]
    options.add_arguments(parser)


@events.init.add_listener
def _configure(environment: Environment, **_kw) -> None:  # type: ignore[no-untyped-def]
    """Apply the weights: drop classes weighted 0, fix the admin count."""
    opts = options.load(environment.parsed_options)
    BrowserUser.weight, DirectPlayViewer.weight, HlsViewer.weight, JellyfinAppUser.weight = (
        opts.weight_browse, opts.weight_direct, opts.weight_hls, opts.weight_app)  # fmt: skip
    AdminUser.fixed_count = opts.admins
    wanted = {BrowserUser: opts.weight_browse, DirectPlayViewer: opts.weight_direct, HlsViewer: opts.weight_hls,
              JellyfinAppUser: opts.weight_app, AdminUser: opts.admins}  # fmt: skip
    chosen = [cls for cls in environment.user_classes if wanted.get(cls, 1) > 0]
    if not chosen:
        raise SystemExit("every user class has weight 0")
    environment.user_classes = chosen
    groups.install(environment)


@events.test_start.add_listener
def _accounts(environment: Environment, **_kw) -> None:  # type: ignore[no-untyped-def]
    """Create the accounts once (on the master, or the only process); workers just use them."""
    if environment.parsed_options and getattr(environment.parsed_options, "worker", False):
        return
    try:
        accounts.ensure((environment.host or "").rstrip("/"), options.get())
    except (accounts.SetupError, OSError) as exc:
        log.error("load test set-up failed: %s", exc)
        if environment.runner is not None:
            environment.runner.quit()
        raise
