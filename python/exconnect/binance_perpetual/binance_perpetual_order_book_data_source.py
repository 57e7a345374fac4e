"""USDⓈ-M market data: depth (pu chain) on the /public route, aggregate trades and mark price on /market.

Reuses the spot data source's compiled-book plumbing; differs in the REST snapshot path, the
books (``futures=True``: the ``pu`` chain decides continuity, not ``U``), the subscribed streams,
and ``markPriceUpdate`` frames, which are handed to ``on_mark_price`` (funding info) instead of
the book tracker.
"""
from __future__ import annotations

import asyncio
import logging
from decimal import Decimal
from typing import Any, Callable, Dict, List, Optional, Tuple

import aiohttp
import orjson

from exconnect.binance.binance_order_book_data_source import BinanceAPIOrderBookDataSource, forward_frames
from exconnect.connector.order_book_tracker import DIFF, TRADE
from exconnect.connector.web import ReconnectBackoff, RestClient
from exconnect.events import OrderBookTradeEvent
from exconnect.types import TradeType

from . import binance_perpetual_constants as CONSTANTS

__all__ = ["BinancePerpetualAPIOrderBookDataSource"]

_log = logging.getLogger(__name__)


class BinancePerpetualAPIOrderBookDataSource(BinanceAPIOrderBookDataSource):
    SNAPSHOT_PATH = CONSTANTS.SNAPSHOT_PATH
    SNAPSHOT_LIMIT = CONSTANTS.SNAPSHOT_LIMIT

    def __init__(self, trading_pairs: List[str], rest: RestClient, urls: CONSTANTS.BinancePerpetualUrls,
                 on_mark_price: Optional[Callable[[Dict[str, Any]], None]] = None,
                 price_scale: int = 8, size_scale: int = 8) -> None:
        super().__init__(trading_pairs, rest, urls, price_scale, size_scale)
        self.on_mark_price = on_mark_price
        self.subscription_count = 0
        self._sockets: set = set()
        # the routed sockets while connected (None before connecting / while reconnecting)
        self._public_ws: Optional[aiohttp.ClientWebSocketResponse] = None
        self._market_ws: Optional[aiohttp.ClientWebSocketResponse] = None

    def new_order_book(self, trading_pair: str):
        from exconnect.native.order_book import OrderBook
        return OrderBook(self._price_scale, self._size_scale, symbol=trading_pair.replace("-", ""), futures=True)

    def route(self, frame: bytes) -> Tuple[int, Optional[str]]:
        head = frame[:120]
        if b'"depthUpdate"' in head:
            kind = DIFF
        elif b'"aggTrade"' in head or b'"trade"' in head:
            kind = TRADE
        else:
            if b'"markPriceUpdate"' in head and self.on_mark_price is not None:
                self._mark_price(frame)
            return 0, None
        symbol = self._peek(frame)
        return kind, self._symbol_to_pair.get(symbol) if symbol else None

    def _mark_price(self, frame: bytes) -> None:
        try:
            msg = orjson.loads(frame)
            data = msg.get("data", msg)
            pair = self._symbol_to_pair.get(data.get("s"))
            if pair is not None:
                self.on_mark_price(dict(data, trading_pair=pair))
        except Exception:
            _log.exception("Unexpected error updating funding info.")

    def parse_trade(self, frame: bytes, trading_pair: str) -> OrderBookTradeEvent:
        msg = orjson.loads(frame)
        data = msg.get("data", msg)
        trade_id = data.get("a", data.get("t"))
        return OrderBookTradeEvent(trading_pair, data["T"] / 1000.0,
                                   TradeType.SELL if data["m"] else TradeType.BUY,
                                   Decimal(data["p"]), Decimal(data["q"]), str(trade_id))

    # ------------------------------------------------------------- pairs at runtime
    @staticmethod
    def _streams(symbol: str) -> Tuple[List[str], List[str]]:
        """(streams on /public, streams on /market) of one exchange symbol."""
        s = symbol.lower()
        return [f"{s}@depth@100ms"], [f"{s}@aggTrade", f"{s}@markPrice@1s"]

    async def subscribe_to_trading_pair(self, trading_pair: str) -> bool:
        """OB-23: one SUBSCRIBE on /public (depth), two on /market (aggTrade, markPrice)."""
        symbol = trading_pair.replace("-", "")
        depth, market = self._streams(symbol)
        self._symbol_to_pair[symbol] = trading_pair       # route its frames from the first one
        if await self._send_control(trading_pair, "subscribe to", "Subscribed to", "SUBSCRIBE",
                                    [depth], [[stream] for stream in market]):
            return True
        self._symbol_to_pair.pop(symbol, None)
        return False

    async def unsubscribe_from_trading_pair(self, trading_pair: str) -> bool:
        """One UNSUBSCRIBE per socket; frames of the pair are ignored from now on."""
        symbol = trading_pair.replace("-", "")
        depth, market = self._streams(symbol)
        if not await self._send_control(trading_pair, "unsubscribe from", "Unsubscribed from", "UNSUBSCRIBE",
                                        [depth], [market]):
            return False
        self._symbol_to_pair.pop(symbol, None)
        return True

    async def _send_control(self, trading_pair: str, action: str, done: str, method: str,
                            public_frames: List[List[str]], market_frames: List[List[str]]) -> bool:
        """Send ``method`` frames (one per params list) on both routed sockets. False with a WARNING
        if either socket is not connected, with an ERROR if sending fails; cancellation propagates."""
        public, market = self._public_ws, self._market_ws
        if public is None or public.closed or market is None or market.closed:
            _log.warning("Cannot %s %s: the public and market WebSockets are not both connected",
                         action, trading_pair)
            return False
        try:
            for ws, frames in ((public, public_frames), (market, market_frames)):
                for params in frames:
                    await ws.send_str(orjson.dumps({"method": method, "id": self._request_id(),
                                                    "params": params}).decode())
        except asyncio.CancelledError:
            raise
        except Exception:
            _log.exception("Error %s %s", "subscribing to" if method == "SUBSCRIBE" else "unsubscribing from",
                           trading_pair)
            return False
        _log.info("%s %s order book, trade and funding info channels", done, trading_pair)
        return True

    # --------------------------------------------------------------------- sockets
    async def listen_for_subscriptions(self, trading_pairs: List[str], on_frame: Callable[[bytes], None],
                                       on_connected: Callable[[], None]) -> None:
        """Two routed sockets: depth on /public (a reconnect resynchronises the books), aggTrade and
        markPrice on /market. Each (re)connect subscribes the tracker's live pair list."""
        await asyncio.gather(
            self._listen("public", trading_pairs, on_frame, on_connected, "order book"),
            self._listen("market", trading_pairs, on_frame, None, "trade and mark price"))

    async def _listen(self, route: str, trading_pairs: List[str], on_frame: Callable[[bytes], None],
                      on_connected: Optional[Callable[[], None]], what: str) -> None:
        url = self._urls.public_stream_url if route == "public" else self._urls.market_stream_url
        backoff = ReconnectBackoff(initial=0.2, maximum=30.0)
        while True:
            try:
                session = await self._rest.session()
                async with session.ws_connect(url, heartbeat=CONSTANTS.HEARTBEAT_S, autoping=True,
                                              max_msg_size=0) as ws:
                    # read at every (re)connect: pairs may have been added or removed meanwhile
                    symbols = [p.replace("-", "") for p in trading_pairs]
                    self._symbol_to_pair = {p.replace("-", ""): p for p in trading_pairs}
                    streams = [x for s in symbols for x in self._streams(s)[0 if route == "public" else 1]]
                    setattr(self, f"_{route}_ws", ws)
                    self._sockets.add(ws)
                    await ws.send_str(orjson.dumps({"method": "SUBSCRIBE", "id": 1, "params": streams}).decode())
                    self.subscription_count += 1
                    _log.info("Subscribed to public %s channels...", what)
                    if on_connected is not None:
                        on_connected()
                    backoff.reset()
                    await forward_frames(ws, on_frame)
                    _log.warning("Public %s stream closed by the server; reconnecting.", what)
            except asyncio.CancelledError:
                raise
            except Exception as e:
                _log.error("Unexpected error occurred when listening to %s streams (%s: %s). Retrying soon...",
                           what, type(e).__name__, e)
            finally:
                setattr(self, f"_{route}_ws", None)
                self._sockets = {w for w in self._sockets if not w.closed}
            await asyncio.sleep(backoff.next_delay())
