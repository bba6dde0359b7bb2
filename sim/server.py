"""Sockets: HTTP/1.1 JSON-RPC and WebSocket PubSub on one port (asyncio streams).

A small HTTP/1.1 reader handles POST JSON-RPC, `GET /health` and keep-alive; a request with
`Upgrade: websocket` is handed to websockets' sans-I/O `ServerProtocol`. Outbound notifications
are framed here and written in one batch per connection after each node step; a client whose
unsent backlog passes `ws_max_buffer` bytes is disconnected, as agave disconnects a lagging
subscriber.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import structlog
from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.protocol import State
from websockets.server import ServerProtocol

from sim.node import Node

log = structlog.get_logger("sim.server")

MAX_HEADER_BYTES = 16 * 1024
MAX_BODY_BYTES = 50 * 1024  # agave MAX_REQUEST_BODY_SIZE
MAX_WS_INBOUND = 4096  # agave pubsub set_max_message_size(4_096)
_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    411: "Length Required",
    413: "Payload Too Large",
    429: "Too Many Requests",
}


class WsConnection:
    """One WebSocket client; the pubsub `Sink` the node sends notifications to. Frames are
    queued and written together by `flush()` (after each node step and each request)."""

    def __init__(self, server: SimServer, proto: ServerProtocol, writer: asyncio.StreamWriter) -> None:
        self.server = server
        self.proto = proto
        self.writer = writer
        self.last_rx = time.monotonic()
        self.closed = False
        self._out: list[bytes] = []

    def send(self, frame: bytes) -> None:
        """Queue one text frame (the server does not mask, fragment or compress)."""
        if self.closed or self.proto.state is not State.OPEN:
            return
        self._out += (_text_header(len(frame)), frame)

    def flush(self) -> None:
        """Write the queued frames, then what the protocol queued (pongs, the closing
        handshake); an empty chunk from the protocol means "close the TCP connection now"."""
        transport = self.writer.transport
        if transport.is_closing():
            self._out.clear()
            return
        if self._out:
            self.writer.write(b"".join(self._out))
            self._out.clear()
        chunks = self.proto.data_to_send()
        if chunks:
            self.writer.write(b"".join(chunks))
            if chunks[-1] == b"":
                transport.close()
                return
        if transport.get_write_buffer_size() > self.server.ws_max_buffer:
            log.info("disconnecting lagging websocket client", buffered=transport.get_write_buffer_size())
            self.close(1008, "client has lagged behind (notification is gone)", abort=True)

    def close(self, code: int, reason: str, *, abort: bool = False) -> None:
        if self.closed:
            return
        self.closed = True
        self.server.node.registry.drop_sink(self)
        if abort:
            self._out.clear()
            self.writer.transport.abort()
            return
        with contextlib.suppress(Exception):
            self.proto.send_close(code, reason)
            self.flush()
        self.writer.transport.close()

    def abort(self) -> None:
        self.close(1006, "", abort=True)


def _text_header(size: int) -> bytes:
    if size < 126:
        return bytes((0x81, size))
    if size < 65536:
        return b"\x81\x7e" + size.to_bytes(2, "big")
    return b"\x81\x7f" + size.to_bytes(8, "big")


class SimServer:
    """Binds the port, serves connections and drives `node.step()`."""

    def __init__(self, node: Node, host: str, port: int, *, ws_max_buffer: int = 64 * 1024 * 1024) -> None:
        self.node = node
        self.host = host
        self.port = port
        self.ws_max_buffer = ws_max_buffer
        self.connections: set[WsConnection] = set()
        self._server: asyncio.Server | None = None
        self._ticker: asyncio.Task[None] | None = None
        node.drop_all = self._drop_all

    async def start(self) -> int:
        self._server = await asyncio.start_server(
            self._serve, self.host, self.port, limit=MAX_HEADER_BYTES * 4
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ticker = asyncio.create_task(self._tick(), name="sim-tick")
        log.info("listening", host=self.host, port=self.port)
        return self.port

    async def close(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        for conn in list(self.connections):
            conn.close(1001, "shutting down")
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    def _drop_all(self, reason: str) -> None:
        for conn in list(self.connections):
            conn.abort()
        log.info("dropped websocket connections", reason=reason, count=len(self.connections))
        self.connections.clear()

    async def _tick(self) -> None:
        idle = self.node.faults.idle_timeout_s
        while True:
            wait = self.node.step()
            for conn in self.connections:
                conn.flush()
            if idle is not None:
                cutoff = time.monotonic() - idle
                for conn in [c for c in self.connections if c.last_rx < cutoff]:
                    log.info("fault: idle timeout close")
                    conn.close(1001, "idle timeout")
                    self.connections.discard(conn)
            await asyncio.sleep(max(0.001, wait))

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                method, path, version, headers = _parse_head(head)
                if method is None:
                    await _respond(writer, 400, b"bad request", "text/plain", close=True)
                    return
                if headers.get("upgrade", "").lower() == "websocket":
                    await self._websocket(head, reader, writer)
                    return
                keep = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
                if method == "GET":
                    if path.split("?")[0] == "/health":
                        await _respond(writer, 200, b"ok", "text/plain", close=not keep)
                    else:
                        await _respond(
                            writer,
                            405,
                            b"Used HTTP Method is not allowed. POST or OPTIONS is required",
                            "text/plain",
                            close=not keep,
                        )
                elif method == "POST":
                    length = headers.get("content-length")
                    if length is None or not length.isdigit():
                        await _respond(writer, 411, b"", "text/plain", close=True)
                        return
                    if int(length) > MAX_BODY_BYTES:
                        await _respond(writer, 413, b"", "text/plain", close=True)
                        return
                    body = await reader.readexactly(int(length))
                    reply = self.node.handle_http(body)
                    if reply.delay_s:
                        await asyncio.sleep(reply.delay_s)
                    await _respond(
                        writer, reply.status, reply.body, "application/json", reply.headers, close=not keep
                    )
                else:
                    await _respond(writer, 405, b"", "text/plain", close=not keep)
                if not keep:
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        except asyncio.CancelledError:
            # Shutdown cancels the open connections' handlers. Ending quietly: on 3.11 the stream
            # protocol's done-callback calls exception() on a cancelled handler and logs a traceback.
            return
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _websocket(
        self, head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        proto = ServerProtocol(max_size=MAX_WS_INBOUND)
        proto.receive_data(head)
        events = proto.events_received()
        if not events or not isinstance(events[0], Request):
            return
        response = proto.accept(events[0])
        proto.send_response(response)
        writer.write(b"".join(proto.data_to_send()))
        if response.status_code != 101:
            return
        conn = WsConnection(self, proto, writer)
        self.connections.add(conn)
        fragments: list[bytes] = []
        try:
            while not conn.closed:
                data = await reader.read(65536)
                if not data:
                    proto.receive_eof()
                    break
                conn.last_rx = time.monotonic()
                proto.receive_data(data)
                for event in proto.events_received():
                    if not isinstance(event, Frame):
                        continue
                    if event.opcode in (Opcode.TEXT, Opcode.BINARY, Opcode.CONT):
                        fragments.append(bytes(event.data))
                        if not event.fin:
                            continue
                        message, fragments = b"".join(fragments), []
                        for frame in self.node.pubsub.handle(conn, message):
                            conn.send(frame)
                conn.flush()
                if proto.state is State.CLOSED:
                    break
        except ConnectionError:
            pass
        finally:
            self.connections.discard(conn)
            conn.closed = True
            self.node.registry.drop_sink(conn)


def _parse_head(head: bytes) -> tuple[str | None, str, str, dict[str, str]]:
    try:
        text = head.decode("latin-1")
        request_line, *lines = text.split("\r\n")
        method, path, version = request_line.split(" ", 2)
    except ValueError:
        return None, "", "", {}
    headers: dict[str, str] = {}
    for line in lines:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return method.upper(), path, version.strip(), headers


async def _respond(
    writer: asyncio.StreamWriter,
    status: int,
    body: bytes,
    content_type: str,
    extra: list[tuple[str, str]] | None = None,
    *,
    close: bool = False,
) -> None:
    lines = [
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}",
        f"Content-Type: {content_type}",
        f"Content-Length: {len(body)}",
    ]
    lines += [f"{k}: {v}" for k, v in extra or ()]
    if close:
        lines.append("Connection: close")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    await writer.drain()
