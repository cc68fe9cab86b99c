"""The scan function (functions-framework, CloudEvent): ``yaffw function scan``."""

from __future__ import annotations

import functions_framework
from cloudevents.http import CloudEvent


@functions_framework.cloud_event
def handle(event: CloudEvent) -> None:
    """Handle ``io.yaffw.library.scan.requested`` (placeholder until the scan issue)."""
