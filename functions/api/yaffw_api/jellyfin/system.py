"""Discovery and server-wide answers: ``/System/Info[/Public]``, ``/System/Ping``,
``/Branding/Configuration``, ``/QuickConnect/Enabled``, ``/System/Endpoint``.

``ProductName`` is exactly ``Jellyfin Server`` and ``Version`` 10.11.x: the TypeScript and Kotlin
SDKs (Jellyfin Web, Findroid, the Android TV app) refuse any other; ``ServerName`` says yaffw.
"""

from __future__ import annotations

import platform

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, text

from yaffw_api.jellyfin import jfauth
from yaffw_api.jellyfin.routing import PREFIX
from yaffw_api.jellyfin.server import SERVER_NAME, local_address, server_id
from yaffw_api.jellyfin.wire import PRODUCT_NAME, SERVER_VERSION, reply

bp = Blueprint("jf_system", url_prefix=PREFIX)


async def _public(request: Request) -> dict:
    return {
        "LocalAddress": local_address(request), "ServerName": SERVER_NAME, "Version": SERVER_VERSION,
        "ProductName": PRODUCT_NAME, "OperatingSystem": platform.system(), "Id": await server_id(request),
        "StartupWizardCompleted": True,
    }  # fmt: skip


@bp.get("/system/info/public")
async def info_public(request: Request) -> HTTPResponse:
    """What a client needs to recognise the server, without logging in."""
    return reply(await _public(request))


@bp.get("/system/info")
async def info(request: Request) -> HTTPResponse:
    """The public info plus what a logged-in client may know (no server paths are disclosed)."""
    await jfauth.require_user(request)
    body = await _public(request)
    body.update({
        "OperatingSystemDisplayName": platform.platform(terse=True), "PackageName": "yaffw",
        "HasPendingRestart": False, "IsShuttingDown": False, "SupportsLibraryMonitor": False,
        "WebSocketPortNumber": request.server_port, "CompletedInstallations": [], "CanSelfRestart": False,
        "CanLaunchWebBrowser": False, "CastReceiverApplications": [], "HasUpdateAvailable": False,
        "EncoderLocation": "System", "SystemArchitecture": _architecture(),
    })  # fmt: skip
    return reply(body)


def _architecture() -> str:
    machine = platform.machine().lower()
    return {"x86_64": "X64", "amd64": "X64", "aarch64": "Arm64", "arm64": "Arm64"}.get(machine, "X64")


@bp.route("/system/ping", methods=["GET", "POST", "HEAD"])
async def ping(request: Request) -> HTTPResponse:
    """Jellyfin answers its product name as a JSON string."""
    return text('"Jellyfin Server"', content_type="application/json")


@bp.get("/system/endpoint")
async def endpoint(request: Request) -> HTTPResponse:
    """Whether the caller is local: yaffw runs behind proxies, so it never claims so."""
    await jfauth.require_user(request)
    return reply({"IsLocal": False, "IsInNetwork": False})


@bp.get("/branding/configuration")
async def branding(request: Request) -> HTTPResponse:
    """No custom login message or CSS."""
    return reply({"LoginDisclaimer": "", "CustomCss": "", "SplashscreenEnabled": False})


@bp.get("/branding/css")
@bp.get("/branding/css.css", name="branding_css_file")
async def branding_css(request: Request) -> HTTPResponse:
    """Empty custom CSS."""
    return text("", content_type="text/css")


@bp.get("/quickconnect/enabled")
async def quick_connect_enabled(request: Request) -> HTTPResponse:
    """Quick Connect is off: apps fall back to the name and password form."""
    return reply(False)
