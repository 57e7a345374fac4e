"""USDⓈ-M user data over a listenKey stream.

POST /fapi/v1/listenKey → key; connect ``<ws>/ws/<key>``; PUT keepalive every
``keepalive_interval`` (Binance expires a key after 60 min without one). Any of: the socket
closing, ``listenKeyExpired``, or a keepalive the exchange refuses (-1125: the key is gone) ends
the session, and the next one starts with a *new* key — a field bug was resubscribing with the
expired key forever. Every (re)connection calls ``on_connected`` so the connector reconciles by
polling what it may have missed.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Optional

import aiohttp

from exconnect.binance.binance_auth import BinanceAuth
from exconnect.connector.user_stream_tracker import UserStreamTrackerDataSource
from exconnect.connector.web import ReconnectBackoff, RestClient

from . import binance_perpetual_constants as CONSTANTS

__all__ = ["BinancePerpetualUserStreamDataSource"]

_log = logging.getLogger(__name__)


class BinancePerpetualUserStreamDataSource(UserStreamTrackerDataSource):
    TERMINAL_EVENTS = frozenset({"listenKeyExpired"})

    def __init__(self, auth: BinanceAuth, rest: RestClient, urls: CONSTANTS.BinancePerpetualUrls,
                 keepalive_interval: float = CONSTANTS.LISTEN_KEY_KEEPALIVE_S) -> None:
        super().__init__()
        self._auth = auth
        self._rest = rest
        self._urls = urls
        self.keepalive_interval = float(keepalive_interval)
        self._keepalive_task: Optional[asyncio.Task] = None
        self.listen_key: Optional[str] = None
        #: set while a listen key is held (Hummingbot's "listen key initialized" flag)
        self.listen_key_initialized = asyncio.Event()
        self.subscription_count = 0
        self.keepalive_count = 0

    async def _listen_key_request(self, method: str) -> dict:
        query = f"listenKey={self.listen_key}" if method == "PUT" and self.listen_key else ""
        return await self._rest.request(method, self._urls.rest_url(CONSTANTS.LISTEN_KEY_PATH), query=query,
                                        headers=self._auth.header_for_authentication(),
                                        limit_id=CONSTANTS.LISTEN_KEY_PATH)

    async def get_listen_key(self) -> str:
        answer = await self._listen_key_request("POST")
        key = answer.get("listenKey") if isinstance(answer, dict) else None
        if not key:
            raise IOError(f"Error fetching user stream listen key: unexpected answer {answer!r}")
        return str(key)

    async def _keepalive_loop(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        while True:
            await asyncio.sleep(self.keepalive_interval)
            try:
                await self._listen_key_request("PUT")
                self.keepalive_count += 1
            except asyncio.CancelledError:
                raise
            except Exception as e:
                # The key may be gone: a new session with a new key is the only safe way on.
                _log.warning("listenKey keepalive failed (%s); reconnecting with a new key.", e)
                await ws.close()
                return

    async def listen_for_user_stream(self, output: asyncio.Queue) -> None:
        backoff = ReconnectBackoff(initial=0.2, maximum=30.0)
        while True:
            try:
                self.listen_key = await self.get_listen_key()
                self.listen_key_initialized.set()
                session = await self._rest.session()
                async with session.ws_connect(self._urls.user_stream_url(self.listen_key),
                                              heartbeat=CONSTANTS.HEARTBEAT_S, autoping=True,
                                              max_msg_size=0) as ws:
                    self._ws = ws
                    self.last_recv_time = time.time()
                    self.subscription_count += 1
                    _log.info("Successfully connected to the user data stream (listenKey).")
                    self._keepalive_task = asyncio.get_running_loop().create_task(self._keepalive_loop(ws))
                    backoff.reset()
                    if self.on_connected is not None:
                        self.on_connected()
                    await self._pump_events(ws, output)
            except asyncio.CancelledError:
                raise
            except Exception as e:
                # the listenKey reads the account's private events: keep it out of the logs
                text = str(e).replace(self.listen_key, "<listenKey>") if self.listen_key else str(e)
                _log.error("Unexpected error while listening to user stream (%s: %s). Retrying soon...",
                           type(e).__name__, text)
            finally:
                await self._on_user_stream_interruption()
            await asyncio.sleep(backoff.next_delay())

    async def _on_user_stream_interruption(self) -> None:
        """The session ended (closed, failed, expired or cancelled): its keepalive stops and its
        socket is closed and forgotten; the next session takes a new key."""
        task, self._keepalive_task = self._keepalive_task, None
        if task is not None:
            task.cancel()
        ws, self._ws = self._ws, None
        if ws is not None and not ws.closed:
            await ws.close()

    async def stop(self) -> None:
        """USR-36: cancel the keepalive, forget the listen key ("initialized" cleared), close and
        forget the socket."""
        task, self._keepalive_task = self._keepalive_task, None
        if task is not None:
            task.cancel()
        self.listen_key = None
        self.listen_key_initialized.clear()
        ws, self._ws = self._ws, None
        if ws is not None and not ws.closed:
            await ws.close()
