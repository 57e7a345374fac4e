"""Binance spot user data via the WebSocket API (``userDataStream.subscribe.signature``).

The legacy listenKey endpoints are gone on real Binance (2026-02-20). Events arrive wrapped as
``{"subscriptionId": n, "event": {...}}``; request answers (``id`` + ``status``) are not events.
``eventStreamTerminated`` or any socket loss leads to a reconnect with back-off, and every
(re)subscription calls ``on_connected`` so the connector reconciles what it may have missed.

State: ``last_recv_time`` is 0 while there is no socket, else the time of the socket's last frame
(or of its subscription); ``is_subscribed`` is the "initialized" flag. An interruption (socket
lost, error, stream terminated, cancellation) closes and forgets the socket; ``stop`` also cancels
the listening task.
"""
from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Awaitable, Callable, Optional

import aiohttp
import orjson

from exconnect.connector.tasks import cancel_and_wait
from exconnect.connector.user_stream_tracker import UserStreamTrackerDataSource
from exconnect.connector.web import ReconnectBackoff, RestClient

from . import binance_constants as CONSTANTS
from .binance_auth import BinanceAuth

__all__ = ["BinanceAPIUserStreamDataSource"]

_log = logging.getLogger(__name__)


class BinanceAPIUserStreamDataSource(UserStreamTrackerDataSource):
    TERMINAL_EVENTS = frozenset({"eventStreamTerminated"})

    def __init__(self, auth: BinanceAuth, rest: RestClient, urls: CONSTANTS.BinanceUrls,
                 resync_time: Optional[Callable[[], Awaitable[None]]] = None) -> None:
        super().__init__()
        self._auth = auth
        self._rest = rest
        self._urls = urls
        self._resync_time = resync_time
        self._subscribed = False
        self._listen_task: Optional[asyncio.Task] = None
        self.subscription_count = 0

    @property
    def is_subscribed(self) -> bool:
        """Subscribed to the user data stream on the current socket."""
        return self._subscribed and self._ws is not None

    async def _subscribe(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        request_id = str(uuid.uuid4())
        await ws.send_str(orjson.dumps({"id": request_id, "method": "userDataStream.subscribe.signature",
                                        "params": self._auth.ws_signed_params()}).decode())
        while True:
            msg = await ws.receive(timeout=10)
            if msg.type != aiohttp.WSMsgType.TEXT:
                raise IOError(f"user stream closed while subscribing ({msg.type.name})")
            data = orjson.loads(msg.data)
            if isinstance(data, dict) and data.get("id") == request_id:
                break
        if data.get("status") != 200:
            error = data.get("error") or {}
            if error.get("code") == CONSTANTS.TIMESTAMP_ERROR_CODE and self._resync_time is not None:
                await self._resync_time()
            raise IOError(f"Error subscribing to the user data stream: {error}")
        self.last_recv_time = time.time()
        self._subscribed = True
        self.subscription_count += 1
        _log.info("Successfully subscribed to user data stream via WebSocket API")

    async def listen_for_user_stream(self, output: asyncio.Queue) -> None:
        self._listen_task = asyncio.current_task()
        backoff = ReconnectBackoff(initial=0.2, maximum=30.0)
        while True:
            ws: Optional[aiohttp.ClientWebSocketResponse] = None
            try:
                session = await self._rest.session()
                await self._rest.throttler.acquire(CONSTANTS.WS_API_PATH)
                ws = await session.ws_connect(self._urls.api_url, heartbeat=CONSTANTS.HEARTBEAT_S,
                                              autoping=True, max_msg_size=0)
                self._last_recv = 0.0
                self._ws = ws
                await self._subscribe(ws)
                backoff.reset()
                if self.on_connected is not None:
                    self.on_connected()
                await self._pump_events(ws, output)
            except asyncio.CancelledError:
                raise
            except Exception as e:
                _log.error("Unexpected error while listening to user stream (%s: %s). Retrying soon...",
                           type(e).__name__, e)
            finally:
                await self._on_user_stream_interruption(ws)
            await asyncio.sleep(backoff.next_delay())

    async def _on_user_stream_interruption(self, ws: Optional[aiohttp.ClientWebSocketResponse]) -> None:
        """The socket is done for (lost, failed, terminated or cancelled): forget and close it."""
        if ws is None or self._ws is ws:
            self._ws = None
            self._subscribed = False
            self._last_recv = 0.0
        if ws is not None and not ws.closed:
            await ws.close()

    async def stop(self) -> None:
        """Cancel the listening task, clear the subscribed state, close and forget the socket."""
        task, self._listen_task = self._listen_task, None
        await cancel_and_wait([task])
        ws = self._ws
        self._ws = None
        self._subscribed = False
        self._last_recv = 0.0
        if ws is not None and not ws.closed:
            await ws.close()
