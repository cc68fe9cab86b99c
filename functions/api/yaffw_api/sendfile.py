"""Send part of a file as a response body, zero-copy where the connection allows.

Sanic (25.x) has no sendfile: ``sanic.response.file`` reads the whole range into memory and
``file_stream`` copies it through aiofiles in small chunks. For direct play of films that is the
bottleneck (loadtests/bench_direct_play.py), so on a plain-TCP connection the body goes from the
page cache to the socket with ``os.sendfile(2)``:

1. Sanic sends the status line and headers (with ``Content-Length``) through its own response
   stream, so keep-alive, HEAD and access logging behave as for any response;
2. once those bytes have left the transport's buffer, the body is written by ``os.sendfile`` on a
   duplicate of the socket's descriptor, waiting for writability with ``loop.add_writer`` on that
   duplicate, registered once per transfer (uvloop refuses watchers on a descriptor its transport
   owns, and does not implement ``loop.sendfile``);
3. Sanic's byte accounting is told what was sent (``response_bytes_left``), and an empty final
   ``send`` ends the response and refreshes Sanic's response-timeout clock.

TLS connections, or transports that expose no socket, fall back to reading 1 MiB at a time in the
default executor and writing through Sanic (back-pressure via its ``send``).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import socket
from typing import Any

from prometheus_client import Counter
from sanic import Request

log = logging.getLogger(__name__)

SENT = Counter("yaffw_api_file_bytes_total", "File bytes sent as response bodies", ["mode"])

_SENDFILE_CHUNK = 2 * 1024 * 1024  # per syscall, as nginx's sendfile_max_chunk: keeps clients fair
_CLOCK_EVERY = 64 * 1024 * 1024
_READ_CHUNK = 1024 * 1024
_SEND_BUFFER = 4 * 1024 * 1024


async def send_file_body(request: Request, response: Any, fd: int, offset: int, length: int) -> None:
    """Write ``length`` bytes of ``fd`` from ``offset`` as the body of ``response`` and end it.

    ``response`` comes from ``request.respond(...)`` with a ``Content-Length`` of ``length``.
    A client that goes away ends the transfer quietly.
    """
    transport = request.transport
    sock = transport.get_extra_info("socket") if transport is not None else None
    stream = getattr(request, "stream", None)
    zero_copy = (
        sock is not None
        and transport.get_extra_info("sslcontext") is None
        # A slot on Sanic's HTTP/1 stream; unset until the headers go, so look at the class.
        and hasattr(type(stream), "response_bytes_left")
        and hasattr(os, "sendfile")
    )
    try:
        if zero_copy and length > 0:
            await _sendfile(request, response, sock.fileno(), fd, offset, length)
            SENT.labels("sendfile").inc(length)
        else:
            await _copy(response, fd, offset, length)
            SENT.labels("copy").inc(length)
        await response.send(b"", end_stream=True)
    except (ConnectionError, asyncio.CancelledError) as exc:
        log.debug("client left during %s: %s", request.path, exc)
        if isinstance(exc, asyncio.CancelledError):
            raise


async def _copy(response: Any, fd: int, offset: int, length: int) -> None:
    loop = asyncio.get_running_loop()
    end = offset + length
    while offset < end:
        chunk = await loop.run_in_executor(None, os.pread, fd, min(_READ_CHUNK, end - offset), offset)
        if not chunk:
            raise ConnectionAbortedError("file shrank while sending")
        offset += len(chunk)
        await response.send(chunk)


class _Writable:
    """Waits for a socket to accept more bytes, registered once per transfer.

    (Adding and removing a watcher at every full socket buffer would create and free a libuv
    poll handle and make two epoll_ctl calls each time, for every client.)
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, fd: int):
        self.loop, self.fd = loop, fd
        self.waiter: asyncio.Future[None] | None = None
        self.registered = False

    def _ready(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    async def wait(self) -> None:
        if not self.registered:
            self.loop.add_writer(self.fd, self._ready)
            self.registered = True
        self.waiter = self.loop.create_future()
        await self.waiter

    def close(self) -> None:
        if self.registered:
            self.loop.remove_writer(self.fd)


def _grow_send_buffer(fd: int) -> None:
    """Ask for a large socket send buffer: fewer wake-ups per megabyte for this process."""
    try:
        with socket.socket(fileno=os.dup(fd)) as s:
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) < _SEND_BUFFER:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, _SEND_BUFFER)
    except OSError as exc:
        log.debug("SO_SNDBUF not changed: %s", exc)


async def _sendfile(request: Request, response: Any, sock_fd: int, fd: int, offset: int, length: int) -> None:
    loop = asyncio.get_running_loop()
    transport = request.transport
    stream = request.stream
    await response.send(b"")  # the headers, through Sanic
    # Our bytes must not overtake what is still queued in the transport.
    while transport.get_write_buffer_size():
        if transport.is_closing():
            raise ConnectionResetError("client closed")
        await asyncio.sleep(0.001)
    out = os.dup(sock_fd)
    _grow_send_buffer(out)
    writable = _Writable(loop, out)
    since_send = 0
    try:
        end = offset + length
        while offset < end:
            if transport.is_closing():
                raise ConnectionResetError("client closed")
            try:
                sent = os.sendfile(out, fd, offset, min(_SENDFILE_CHUNK, end - offset))
            except BlockingIOError:
                await writable.wait()
                continue
            except OSError as exc:
                if exc.errno in (errno.EPIPE, errno.ECONNRESET):
                    raise ConnectionResetError(str(exc)) from exc
                raise
            if sent == 0:
                raise ConnectionAbortedError("file shrank while sending")
            offset += sent
            stream.response_bytes_left -= sent
            # A fast reader never makes sendfile block, so without this one download would hold the
            # event loop to its end and serve concurrent downloads one after another.
            await asyncio.sleep(0)
            since_send += sent
            if since_send >= _CLOCK_EVERY:
                since_send = 0
                await response.send(b"")  # refreshes Sanic's response-timeout clock
    finally:
        writable.close()
        os.close(out)
