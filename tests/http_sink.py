"""A real HTTP server in a thread that records the CloudEvents POSTed to it (dispatcher tests).

It can be told to fail (status 500) for chosen event types, or to answer slowly.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Sink:
    """Records ``(path, headers, body)`` of every POST."""

    def __init__(self, fail_types: frozenset[str] = frozenset(), delay: float = 0.0, fail_status: int = 500):
        self.received: list[tuple[str, dict[str, str], bytes]] = []
        self.fail_types = fail_types
        self.delay = delay
        self.fail_status = fail_status
        self.lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                if sink.delay:
                    time.sleep(sink.delay)
                with sink.lock:
                    sink.received.append((self.path, headers, body))
                status = sink.fail_status if headers.get("ce-type") in sink.fail_types else 204
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def ids(self) -> list[str]:
        with self.lock:
            return [h.get("ce-id", "") for _, h, _ in self.received]

    def __enter__(self) -> Sink:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
