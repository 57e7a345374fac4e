"""Fan-out of WebSocket stream messages to subscribed connections.

A :class:`WsConnection` wraps one aiohttp WebSocketResponse with an outgoing queue and a writer
task, so publishing never awaits: :meth:`StreamHub.publish` serialises a payload once and appends it
to every subscriber's queue (wrapped as ``{"stream":..,"data":..}`` for combined connections). A
consumer that falls ``MAX_QUEUE`` messages behind is disconnected, like Binance does with slow
clients, instead of growing memory without bound.

Stream names are lower case market streams (``btcusdt@depth@100ms``) or listen keys (legacy user
data). Venues validate names with their own ``is_valid_stream`` callback.
"""
from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Callable

import orjson
from aiohttp import web

log = logging.getLogger(__name__)

MAX_QUEUE = 20000
MAX_STREAMS_PER_CONNECTION = 1024


class WsConnection:
    """One client WebSocket: its subscriptions, mode (raw/combined) and outgoing queue."""

    def __init__(self, ws: web.WebSocketResponse, request: web.Request, combined: bool, kind: str = "market"):
        self.ws = ws
        self.request = request
        self.combined = combined
        self.kind = kind                 # "market", "user" (listenKey) or "api" (ws-api)
        self.streams: set[str] = set()
        self._queue: deque = deque()
        self._wakeup = asyncio.Event()
        self.closed = False
        self._writer: asyncio.Task | None = None

    def start(self) -> None:
        """Start writing (call after ``ws.prepare``). Messages queued before are sent first, so a
        connection can be subscribed before its handshake answer leaves: a client that has its
        socket open is guaranteed to be subscribed already."""
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._write_loop())

    def send(self, text: str) -> None:
        if self.closed:
            return
        if len(self._queue) >= MAX_QUEUE:
            log.warning("slow WebSocket consumer dropped (%d messages queued)", len(self._queue))
            self.abort()
            return
        self._queue.append(text)
        self._wakeup.set()

    def send_json(self, obj) -> None:
        self.send(orjson.dumps(obj).decode())

    async def _write_loop(self) -> None:
        try:
            while not self.closed:
                await self._wakeup.wait()
                self._wakeup.clear()
                while self._queue and not self.closed:
                    await self.ws.send_str(self._queue.popleft())
        except (ConnectionError, RuntimeError, asyncio.CancelledError):
            pass
        except Exception:  # never let a writer crash the server
            log.exception("WebSocket writer failed")
        finally:
            self.closed = True

    def abort(self) -> None:
        """Drop the connection like a network failure (no close frame)."""
        self.closed = True
        self._wakeup.set()
        transport = self.request.transport
        if transport is not None:
            transport.abort()

    async def close(self, code: int = 1000, message: bytes = b"") -> None:
        """Close cleanly: what is already queued is sent first (up to ~1 s), then the close frame."""
        for _ in range(100):
            if not self._queue or self.closed or self._writer is None:
                break
            await asyncio.sleep(0.01)
        self.closed = True
        self._wakeup.set()
        try:
            await self.ws.close(code=code, message=message)
        except Exception:
            pass

    def finish(self) -> None:
        self.closed = True
        self._wakeup.set()
        if self._writer is not None:
            self._writer.cancel()


class StreamHub:
    """stream name → subscribed connections; plus the set of all live connections."""

    def __init__(self, is_valid_stream: Callable[[str], bool] = lambda name: True):
        self.is_valid_stream = is_valid_stream
        self.subscribers: dict[str, set[WsConnection]] = {}
        self.connections: set[WsConnection] = set()
        self.messages_published = 0

    def register(self, conn: WsConnection) -> None:
        self.connections.add(conn)

    def unregister(self, conn: WsConnection) -> None:
        self.connections.discard(conn)
        for name in list(conn.streams):
            self.unsubscribe(conn, name)
        conn.finish()

    def subscribe(self, conn: WsConnection, name: str) -> bool:
        """Add a subscription; False if the connection already has the maximum."""
        if name in conn.streams:
            return True
        if len(conn.streams) >= MAX_STREAMS_PER_CONNECTION:
            return False
        conn.streams.add(name)
        self.subscribers.setdefault(name, set()).add(conn)
        return True

    def unsubscribe(self, conn: WsConnection, name: str) -> None:
        conn.streams.discard(name)
        subs = self.subscribers.get(name)
        if subs is not None:
            subs.discard(conn)
            if not subs:
                del self.subscribers[name]

    def has_subscribers(self, name: str) -> bool:
        return name in self.subscribers

    def publish(self, name: str, payload) -> int:
        """Send ``payload`` (dict or pre-serialised bytes/str) to subscribers; returns how many."""
        subs = self.subscribers.get(name)
        if not subs:
            return 0
        if isinstance(payload, (dict, list)):
            body = orjson.dumps(payload).decode()
        elif isinstance(payload, bytes):
            body = payload.decode()
        else:
            body = payload
        wrapped = None
        for conn in tuple(subs):
            if conn.combined:
                if wrapped is None:
                    wrapped = '{"stream":"' + name + '","data":' + body + "}"
                conn.send(wrapped)
            else:
                conn.send(body)
        self.messages_published += len(subs)
        return len(subs)

    def drop_all(self, kind: str | None = None) -> int:
        """Abort every connection (of one ``kind`` if given); returns how many."""
        victims = [c for c in self.connections if kind is None or c.kind == kind]
        for c in victims:
            c.abort()
        return len(victims)
