"""The lease-reaper function (functions-framework, CloudEvent): ``yaffw function lease-reaper``."""

from __future__ import annotations

import functions_framework
from cloudevents.http import CloudEvent


@functions_framework.cloud_event
def handle(event: CloudEvent) -> None:
    """Handle ``io.yaffw.lease.tick`` (placeholder until the transcode issue)."""
