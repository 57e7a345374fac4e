"""User stream tracker: one data source feeding one queue of private events."""
from __future__ import annotations

import asyncio
import logging
import time
from abc import ABC, abstractmethod
from typing import Any, Callable, FrozenSet, Optional

import aiohttp
import orjson

from .tasks import cancel_and_wait

__all__ = ["UserStreamTrackerDataSource", "UserStreamTracker"]

_log = logging.getLogger(__name__)


class UserStreamTrackerDataSource(ABC):
    """Exchange-specific: connects, authenticates, subscribes, puts event dicts on ``output``.

    The shared part is the frame loop (:meth:`_pump_events`): every text frame counts as a receive,
    bad frames are logged and skipped (dropping the session for one would lose the events sent while
    a new one is set up), and an event type in :attr:`TERMINAL_EVENTS` ends the session."""

    #: event types after which the exchange sends nothing more on this session (``e`` values)
    TERMINAL_EVENTS: FrozenSet[str] = frozenset()

    def __init__(self) -> None:
        self._ws: Optional[aiohttp.ClientWebSocketResponse] = None
        self._last_recv = 0.0
        self.on_connected: Optional[Callable[[], None]] = None

    # USR-36: the receive time is the current socket's (0 without one: the stream is not live, so
    # the connector polls at the short interval and is not "user_stream_initialized").
    @property
    def last_recv_time(self) -> float:
        """0 without a socket, else time.time() of the socket's last frame (or subscription)."""
        return self._last_recv if self._ws is not None else 0.0

    @last_recv_time.setter
    def last_recv_time(self, value: float) -> None:
        self._last_recv = value

    @abstractmethod
    async def listen_for_user_stream(self, output: asyncio.Queue) -> None: ...

    async def stop(self) -> None:
        return None

    @staticmethod
    def decode_event(text: Any) -> Optional[dict]:
        """The event in one text frame — bare, WebSocket-API ``{"subscriptionId", "event"}`` or
        combined-stream ``{"stream", "data"}`` — or None for frames to skip: empty, not JSON, an
        answer to a request (``id`` + ``status``), not an event object (no string ``e``)."""
        if not text:
            return None
        try:
            msg = orjson.loads(text)
        except orjson.JSONDecodeError as e:
            _log.warning("Skipping a user stream frame that is not JSON (%s): %.200r", e, text)
            return None
        if not isinstance(msg, dict):
            _log.warning("Skipping a user stream frame that is not an event: %.200r", text)
            return None
        if "id" in msg and "status" in msg:
            return None                                   # an answer to a request, not an event
        for wrapper in ("event", "data"):
            if isinstance(msg.get(wrapper), dict):
                msg = msg[wrapper]
                break
        if not isinstance(msg.get("e"), str):
            if msg:
                _log.warning("Skipping a user stream frame that is not an event: %.200r", text)
            return None
        return msg

    async def _pump_events(self, ws: aiohttp.ClientWebSocketResponse, output: asyncio.Queue) -> None:
        """Put the socket's events on ``output`` until it closes or sends a terminal event."""
        async for msg in ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                    return
                continue
            self._last_recv = time.time()
            event = self.decode_event(msg.data)
            if event is None:
                continue
            if event["e"] in self.TERMINAL_EVENTS:
                _log.warning("User data stream ended by the exchange (%s); starting a new session.", event["e"])
                return
            output.put_nowait(event)


class UserStreamTracker:
    def __init__(self, data_source: UserStreamTrackerDataSource) -> None:
        self.data_source = data_source
        self.user_stream: asyncio.Queue = asyncio.Queue()
        self._task: Optional[asyncio.Task] = None

    @property
    def last_recv_time(self) -> float:
        return self.data_source.last_recv_time

    def start(self) -> None:
        if self._task is not None and not self._task.done():
            return
        self._task = asyncio.get_running_loop().create_task(self.data_source.listen_for_user_stream(self.user_stream))

    async def stop(self) -> None:
        await self.data_source.stop()
        task, self._task = self._task, None
        await cancel_and_wait([task])
