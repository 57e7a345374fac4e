"""Binance spot market data: depth snapshots over REST, diff/trade frames over one WebSocket.

Frames are handed to the tracker as raw bytes; diffs go straight into the compiled book
(``OrderBook.apply_binance_depth``) — no JSON decoding in Python on the hot path.
"""
from __future__ import annotations

import asyncio
import logging
import re
from decimal import Decimal
from typing import Callable, Dict, List, Optional, Tuple

import aiohttp
import orjson

from exconnect.connector.order_book_tracker import (APPLIED, DIFF, GAP, NOT_SYNCED, STALE, TRADE,
                                                    OrderBookTrackerDataSource)
from exconnect.connector.web import ReconnectBackoff, RestClient
from exconnect.events import OrderBookTradeEvent
from exconnect.types import TradeType

from . import binance_constants as CONSTANTS

__all__ = ["BinanceAPIOrderBookDataSource"]

_log = logging.getLogger(__name__)


_EVENT_TIME = re.compile(rb'"E":\s*(\d+)')


def _native():
    from exconnect.native import order_book
    return order_book


async def forward_frames(ws: aiohttp.ClientWebSocketResponse, on_frame: Callable[[bytes], None]) -> None:
    """Hand every text/binary frame of ``ws`` to ``on_frame`` (as bytes) until the socket closes."""
    async for msg in ws:
        if msg.type == aiohttp.WSMsgType.TEXT:
            on_frame(msg.data.encode())
        elif msg.type == aiohttp.WSMsgType.BINARY:
            on_frame(msg.data)
        elif msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED,
                          aiohttp.WSMsgType.ERROR):
            break


class BinanceAPIOrderBookDataSource(OrderBookTrackerDataSource):
    SNAPSHOT_PATH = CONSTANTS.SNAPSHOT_PATH         # subclasses on another wire override these
    SNAPSHOT_LIMIT = CONSTANTS.SNAPSHOT_LIMIT

    def __init__(self, trading_pairs: List[str], rest: RestClient, urls: CONSTANTS.BinanceUrls,
                 price_scale: int = 8, size_scale: int = 8) -> None:
        self._rest = rest
        self._urls = urls
        self._price_scale = price_scale
        self._size_scale = size_scale
        self._symbol_to_pair: Dict[str, str] = {p.replace("-", ""): p for p in trading_pairs}
        ob = _native()
        self._status = {ob.DEPTH_APPLIED: APPLIED, ob.DEPTH_STALE: STALE, ob.DEPTH_GAP: GAP,
                        ob.DEPTH_NOT_SYNCED: NOT_SYNCED}
        self._peek = ob.peek_binance_symbol
        self._ws: Optional[aiohttp.ClientWebSocketResponse] = None
        self._next_request_id = 3           # 1 and 2: the subscriptions sent on connect
        self.last_recv_time = 0.0

    supports_dynamic_pairs = True

    # ---------------------------------------------------------------- tracker interface
    def new_order_book(self, trading_pair: str):
        return _native().OrderBook(self._price_scale, self._size_scale, symbol=trading_pair.replace("-", ""))

    async def fetch_snapshot(self, trading_pair: str) -> bytes:
        symbol = trading_pair.replace("-", "")
        session = await self._rest.session()
        await self._rest.throttler.acquire(self.SNAPSHOT_PATH)
        url = self._urls.rest_url(self.SNAPSHOT_PATH)
        async with session.get(url, params={"symbol": symbol, "limit": str(self.SNAPSHOT_LIMIT)},
                               timeout=aiohttp.ClientTimeout(total=10)) as resp:
            body = await resp.read()
            if resp.status != 200:
                if resp.status in (418, 429):
                    self._rest.throttler.backoff(float(resp.headers.get("Retry-After", "60")))
                raise IOError(f"Error fetching market snapshot for {trading_pair}. "
                              f"HTTP status is {resp.status}. Error: {body[:200].decode(errors='replace')}")
            return body

    def apply_snapshot(self, book, body: bytes) -> None:
        book.apply_binance_snapshot(body)

    def apply_diff(self, book, frame: bytes) -> str:
        return self._status[book.apply_binance_depth(frame)]

    def route(self, frame: bytes) -> Tuple[int, Optional[str]]:
        if frame.find(b'"depthUpdate"', 0, 120) >= 0:
            kind = DIFF
        elif frame.find(b'"trade"', 0, 120) >= 0:
            kind = TRADE
        else:
            return 0, None
        symbol = self._peek(frame)
        return kind, self._symbol_to_pair.get(symbol) if symbol else None

    def event_time_ms(self, frame: bytes) -> Optional[float]:
        i = frame.find(b'"E":', 0, 200)
        if i < 0:
            return None
        j = frame.find(b",", i)
        try:
            return float(frame[i + 4:j if j > 0 else None].strip(b" }"))
        except ValueError:
            m = _EVENT_TIME.search(frame, 0, 200)
            return float(m.group(1)) if m else None

    def parse_trade(self, frame: bytes, trading_pair: str) -> OrderBookTradeEvent:
        msg = orjson.loads(frame)
        data = msg.get("data", msg)
        # m: buyer is maker -> the aggressor sold
        return OrderBookTradeEvent(trading_pair, data["T"] / 1000.0,
                                   TradeType.SELL if data["m"] else TradeType.BUY,
                                   Decimal(data["p"]), Decimal(data["q"]), str(data["t"]))

    # ------------------------------------------------------------- pairs at runtime
    def _request_id(self) -> int:
        self._next_request_id += 1
        return self._next_request_id

    async def subscribe_to_trading_pair(self, trading_pair: str) -> bool:
        ws = self._ws
        if ws is None or ws.closed:
            _log.warning("Cannot subscribe to %s: WebSocket not connected", trading_pair)
            return False
        symbol = trading_pair.replace("-", "")
        self._symbol_to_pair[symbol] = trading_pair       # route its frames from the first one
        try:
            await ws.send_str(orjson.dumps({"method": "SUBSCRIBE", "id": self._request_id(),
                                            "params": [f"{symbol.lower()}@trade"]}).decode())
            await ws.send_str(orjson.dumps({"method": "SUBSCRIBE", "id": self._request_id(),
                                            "params": [f"{symbol.lower()}@depth@100ms"]}).decode())
        except asyncio.CancelledError:
            raise
        except Exception:
            _log.exception("Unexpected error subscribing to %s channels", trading_pair)
            self._symbol_to_pair.pop(symbol, None)
            return False
        _log.info("Subscribed to %s order book and trade channels", trading_pair)
        return True

    async def unsubscribe_from_trading_pair(self, trading_pair: str) -> bool:
        ws = self._ws
        symbol = trading_pair.replace("-", "")
        if ws is None or ws.closed:
            _log.warning("Cannot unsubscribe from %s: WebSocket not connected", trading_pair)
            return False
        try:
            await ws.send_str(orjson.dumps({"method": "UNSUBSCRIBE", "id": self._request_id(), "params": [
                f"{symbol.lower()}@trade", f"{symbol.lower()}@depth@100ms"]}).decode())
        except asyncio.CancelledError:
            raise
        except Exception:
            _log.exception("Unexpected error unsubscribing from %s channels", trading_pair)
            return False
        self._symbol_to_pair.pop(symbol, None)
        _log.info("Unsubscribed from %s order book and trade channels", trading_pair)
        return True

    # --------------------------------------------------------------------- socket
    async def listen_for_subscriptions(self, trading_pairs: List[str], on_frame: Callable[[bytes], None],
                                       on_connected: Callable[[], None]) -> None:
        backoff = ReconnectBackoff(initial=0.2, maximum=30.0)
        while True:
            # Read at every (re)connect: pairs may have been added or removed meanwhile.
            symbols = [p.replace("-", "").lower() for p in trading_pairs]
            self._symbol_to_pair = {p.replace("-", ""): p for p in trading_pairs}
            try:
                session = await self._rest.session()
                async with session.ws_connect(self._urls.stream_url, heartbeat=CONSTANTS.HEARTBEAT_S,
                                              autoping=True, max_msg_size=0) as ws:
                    self._ws = ws
                    await ws.send_str(orjson.dumps({"method": "SUBSCRIBE", "id": 1,
                                                    "params": [f"{s}@trade" for s in symbols]}).decode())
                    await ws.send_str(orjson.dumps({"method": "SUBSCRIBE", "id": 2,
                                                    "params": [f"{s}@depth@100ms" for s in symbols]}).decode())
                    _log.info("Subscribed to public order book and trade channels...")
                    on_connected()
                    backoff.reset()
                    await forward_frames(ws, on_frame)
                    _log.warning("Order book stream closed by the server; reconnecting.")
            except asyncio.CancelledError:
                raise
            except Exception as e:
                _log.error("Unexpected error occurred when listening to order book streams (%s: %s). "
                           "Retrying soon...", type(e).__name__, e)
            finally:
                self._ws = None
            await asyncio.sleep(backoff.next_delay())
