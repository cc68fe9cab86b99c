"""The api function: JSON API, web UI, SSE notifications, direct play and the HLS proxy."""
