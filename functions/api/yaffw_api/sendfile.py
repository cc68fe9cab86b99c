"""Send part of a file as a response body, zero-copy where the connection allows.

Sanic (25.x) has no sendfile: ``sanic.response.file`` reads the whole range into memory and
``file_stream`` copies it through aiofiles in small chunks. For direct play of films that is the
bottleneck (loadtests/bench_direct_play.py), so on a plain-TCP connection the body goes from the
page cache to the socket with ``os.sendfile(2)``:

1. Sanic sends the status line and headers (with ``Content-Length``) through its own response
   stream, so keep-alive, HEAD and access logging behave as for any response;
2. once those bytes have left the transport's buffer, the body is written by ``os.sendfile`` on a
   duplicate of the socket's descriptor, waiting for writability with ``loop.add_writer`` on that
   duplicate (uvloop refuses watchers on a descriptor its transport owns, and does not implement
   ``loop.sendfile``);
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
from typing import Any

from sanic import Request

log = logging.getLogger(__name__)

_SENDFILE_CHUNK = 8 * 1024 * 1024  # per syscall; between chunks Sanic's clock is refreshed
_READ_CHUNK = 1024 * 1024


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
        and hasattr(stream, "response_bytes_left")
        and hasattr(os, "sendfile")
    )
    try:
        if zero_copy and length > 0:
            await _sendfile(request, response, sock.fileno(), fd, offset, length)
        else:
            await _copy(response, fd, offset, length)
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


async def _writable(loop: asyncio.AbstractEventLoop, fd: int) -> None:
    ready = loop.create_future()
    loop.add_writer(fd, lambda: ready.done() or ready.set_result(None))
    try:
        await ready
    finally:
        loop.remove_writer(fd)


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
    try:
        end = offset + length
        while offset < end:
            if transport.is_closing():
                raise ConnectionResetError("client closed")
            try:
                sent = os.sendfile(out, fd, offset, min(_SENDFILE_CHUNK, end - offset))
            except BlockingIOError:
                await _writable(loop, out)
                continue
            except OSError as exc:
                if exc.errno in (errno.EPIPE, errno.ECONNRESET):
                    raise ConnectionResetError(str(exc)) from exc
                raise
            if sent == 0:
                raise ConnectionAbortedError("file shrank while sending")
            offset += sent
            stream.response_bytes_left -= sent
            if sent == _SENDFILE_CHUNK:
                await response.send(b"")  # refreshes Sanic's response-timeout clock
    finally:
        os.close(out)
