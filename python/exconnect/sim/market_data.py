"""Public market data from the books: diff/partial depth, trades, aggTrades, bookTicker, history.

:class:`MarketDataPublisher` runs a ``tick_ms`` timer: each tick it drains every book's level
changes (``Book.drain_changes``) into one accumulator per depth interval and flushes an interval's
accumulator when it is due, so ``<s>@depth@100ms`` and ``<s>@depth`` (1000 ms) both chain
``U = previous u + 1`` (futures: ``pu = previous u``). Trades and bookTicker are published at once
by the venue calling :meth:`publish_fills` / :meth:`book_changed` after each book operation.

Work is skipped for streams nobody subscribes to. ``inject_gap`` (fault) throws the next drained
batch away, so subscribers see a sequence gap exactly like a lost message.

:class:`TradeTape` keeps recent trades per symbol for REST trades/aggTrades/klines/ticker.
"""
from __future__ import annotations

import logging

import orjson
from collections import deque
from typing import Callable

from . import money
from .clock import Periodic
from .matching_engine import Book, Fill

log = logging.getLogger(__name__)

#: interval (ms) → stream-name suffix(es) served at that interval
SPOT_DEPTH_INTERVALS = {100: "@100ms", 1000: ("", "@1000ms")}
FUTURES_DEPTH_INTERVALS = {100: "@100ms", 250: "", 500: "@500ms"}
PARTIAL_LEVELS = (5, 10, 20)


class TradeRecord:
    __slots__ = ("trade_id", "price", "qty", "quote", "time", "buyer_maker")

    def __init__(self, trade_id, price, qty, quote, time, buyer_maker):
        self.trade_id, self.price, self.qty = trade_id, price, qty
        self.quote, self.time, self.buyer_maker = quote, time, buyer_maker


class AggRecord:
    __slots__ = ("agg_id", "price", "qty", "first_id", "last_id", "time", "buyer_maker")

    def __init__(self, agg_id, price, qty, first_id, last_id, time, buyer_maker):
        self.agg_id, self.price, self.qty = agg_id, price, qty
        self.first_id, self.last_id, self.time, self.buyer_maker = first_id, last_id, time, buyer_maker


KLINE_INTERVALS = {"1s": 1000, "1m": 60000, "3m": 180000, "5m": 300000, "15m": 900000, "30m": 1800000,
                   "1h": 3600000, "2h": 7200000, "4h": 14400000, "6h": 21600000, "8h": 28800000,
                   "12h": 43200000, "1d": 86400000, "3d": 259200000, "1w": 604800000}


class WindowStats:
    """OHLCV of the trades in [start, end] (ints in atoms); ``last`` is the fallback price."""

    __slots__ = ("open", "high", "low", "close", "volume", "quote_volume", "taker_buy_volume",
                 "taker_buy_quote", "first_id", "last_id", "count", "last_qty")

    def __init__(self, trades, last: int):
        self.count = len(trades)
        if trades:
            self.open, self.close = trades[0].price, trades[-1].price
            self.high = max(t.price for t in trades)
            self.low = min(t.price for t in trades)
            self.volume = sum(t.qty for t in trades)
            self.quote_volume = sum(t.quote for t in trades)
            buys = [t for t in trades if not t.buyer_maker]
            self.taker_buy_volume = sum(t.qty for t in buys)
            self.taker_buy_quote = sum(t.quote for t in buys)
            self.first_id, self.last_id = trades[0].trade_id, trades[-1].trade_id
            self.last_qty = trades[-1].qty
        else:
            self.open = self.high = self.low = self.close = last
            self.volume = self.quote_volume = self.taker_buy_volume = self.taker_buy_quote = 0
            self.first_id = self.last_id = -1
            self.last_qty = 0


class TradeTape:
    """Recent public trades and aggregated trades of one symbol (bounded)."""

    def __init__(self, maxlen: int = 20000):
        self.trades: deque[TradeRecord] = deque(maxlen=maxlen)
        self.aggs: deque[AggRecord] = deque(maxlen=maxlen)
        self.next_agg_id = 1

    def window(self, start_ms: int, end_ms: int, last: int) -> WindowStats:
        return WindowStats([t for t in self.trades if start_ms <= t.time <= end_ms], last)


class MarketDataPublisher:
    def __init__(self, hub, books: dict[str, Book], clock, *, futures: bool = False,
                 intervals: dict[int, str] | None = None, tick_ms: int = 100,
                 fmt_price: Callable[[int], str] = money.text, fmt_qty: Callable[[int], str] = money.text):
        self.hub = hub
        self.books = books
        self.clock = clock
        self.futures = futures
        raw = intervals or (FUTURES_DEPTH_INTERVALS if futures else SPOT_DEPTH_INTERVALS)
        self.intervals = {iv: (sfx,) if isinstance(sfx, str) else tuple(sfx) for iv, sfx in raw.items()}
        self.tick_ms = tick_ms
        self.fmt_price = fmt_price
        self.fmt_qty = fmt_qty
        self.tapes = {s: TradeTape() for s in books}
        self._acc: dict[tuple[str, int], list] = {}     # (symbol, interval) → [U, bids{}, asks{}]
        self._last_u: dict[tuple[str, int], int] = {}
        self._gaps: set[str] = set()
        self._top: dict[str, tuple] = {}
        self._ticks = 0
        self._timer: Periodic | None = None
        self.depth_events = 0
        self._names = {s: s.lower() for s in books}

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        self._timer = Periodic(self.tick_ms / 1000, self.tick, "market data tick", log)
        self._timer.start()

    async def stop(self) -> None:
        if self._timer is not None:
            await self._timer.stop()

    def inject_gap(self, symbol: str) -> None:
        self._gaps.add(symbol)

    # -- depth -----------------------------------------------------------------------------------
    def _wanted(self, lname: str, suffixes: tuple) -> bool:
        return any(self.hub.has_subscribers(f"{lname}@depth{sfx}") for sfx in suffixes)

    def tick(self) -> None:
        """One timer step: drain books, flush due depth streams, publish partial books."""
        self._ticks += 1
        now_ms = self._ticks * self.tick_ms   # timer time: intervals flush on multiples
        for sym, book in self.books.items():
            lname = self._names[sym]
            wanted = [iv for iv, suffix in self.intervals.items() if self._wanted(lname, suffix)]
            drained = book.drain_changes()
            if drained is not None:
                first, last, bids, asks = drained
                if sym in self._gaps:
                    self._gaps.discard(sym)
                    for iv in self.intervals:
                        self._acc.pop((sym, iv), None)
                        self._last_u[(sym, iv)] = last
                    drained = None
                else:
                    for iv in wanted:
                        acc = self._acc.get((sym, iv))
                        if acc is None:
                            acc = self._acc[(sym, iv)] = [first, {}, {}, last]
                        acc[1].update(bids)
                        acc[2].update(asks)
                        acc[3] = last
            for iv in wanted:
                if now_ms % iv:
                    continue
                acc = self._acc.pop((sym, iv), None)
                if acc is None:
                    continue
                self._publish_diff(sym, lname, iv, acc)
            self._publish_partials(sym, lname, book, now_ms)
            if not self.futures and now_ms % 1000 == 0:
                self._publish_tickers(sym, lname, book)

    def _publish_diff(self, sym: str, lname: str, iv: int, acc: list) -> None:
        first, bids, asks, last = acc
        fp, fq = self.fmt_price, self.fmt_qty
        now = self.clock.now_ms()
        ev = {"e": "depthUpdate", "E": now}
        if self.futures:
            ev["T"] = now
        ev["s"] = sym
        ev["U"] = first
        ev["u"] = last
        if self.futures:
            ev["pu"] = self._last_u.get((sym, iv), first - 1)
        ev["b"] = [[fp(p), fq(q)] for p, q in sorted(bids.items(), reverse=True)]
        ev["a"] = [[fp(p), fq(q)] for p, q in sorted(asks.items())]
        self._last_u[(sym, iv)] = last
        self.depth_events += 1
        body = None
        for sfx in self.intervals[iv]:
            name = f"{lname}@depth{sfx}"
            if self.hub.has_subscribers(name):
                body = body or orjson.dumps(ev).decode()
                self.hub.publish(name, body)

    def _publish_partials(self, sym: str, lname: str, book: Book, now_ms: int) -> None:
        for suffix, iv in (("@100ms", 100), ("", 1000 if not self.futures else 250), ("@500ms", 500),
                           ("@1000ms", 1000)):
            if now_ms % iv:
                continue
            for n in PARTIAL_LEVELS:
                name = f"{lname}@depth{n}{suffix}"
                if not self.hub.has_subscribers(name):
                    continue
                bids, asks = book.depth(n)
                fp, fq = self.fmt_price, self.fmt_qty
                b = [[fp(p), fq(q)] for p, q in bids]
                a = [[fp(p), fq(q)] for p, q in asks]
                if self.futures:
                    now = self.clock.now_ms()
                    u = book.update_id
                    payload = {"e": "depthUpdate", "E": now, "T": now, "s": sym, "U": u, "u": u,
                               "pu": u, "b": b, "a": a}
                else:
                    payload = {"lastUpdateId": book.update_id, "bids": b, "asks": a}
                self.hub.publish(name, payload)

    def _publish_tickers(self, sym: str, lname: str, book: Book) -> None:
        """Spot ``@ticker`` / ``@miniTicker`` (24 h rolling) and ``@kline_<iv>``, once a second."""
        hub = self.hub
        want_t, want_m = hub.has_subscribers(lname + "@ticker"), hub.has_subscribers(lname + "@miniTicker")
        now = self.clock.now_ms()
        fp, fq = self.fmt_price, self.fmt_qty
        tape = self.tapes[sym]
        if want_t or want_m:
            w = tape.window(now - 86400000, now, book.last_price)
            if want_m:
                hub.publish(lname + "@miniTicker", {
                    "e": "24hrMiniTicker", "E": now, "s": sym, "c": fp(w.close), "o": fp(w.open), "h": fp(w.high),
                    "l": fp(w.low), "v": fq(w.volume), "q": fq(w.quote_volume)})
            if want_t:
                (bp, bq), (ap, aq) = book.best_bid() or (0, 0), book.best_ask() or (0, 0)
                change = w.close - w.open
                pct = change * 100 * money.ONE // w.open if w.open else 0
                hub.publish(lname + "@ticker", {
                    "e": "24hrTicker", "E": now, "s": sym, "p": fp(change), "P": money.trimmed(pct),
                    "w": fp(w.quote_volume * money.ONE // w.volume if w.volume else w.close), "x": fp(w.open),
                    "c": fp(w.close), "Q": fq(w.last_qty), "b": fp(bp), "B": fq(bq), "a": fp(ap), "A": fq(aq),
                    "o": fp(w.open), "h": fp(w.high), "l": fp(w.low), "v": fq(w.volume), "q": fq(w.quote_volume),
                    "O": now - 86400000, "C": now, "F": w.first_id, "L": w.last_id, "n": w.count})
        for iv_name, iv in KLINE_INTERVALS.items():
            name = f"{lname}@kline_{iv_name}"
            if not hub.has_subscribers(name):
                continue
            start = now - now % iv
            w = tape.window(start, start + iv - 1, book.last_price)
            hub.publish(name, {"e": "kline", "E": now, "s": sym, "k": {
                "t": start, "T": start + iv - 1, "s": sym, "i": iv_name, "f": w.first_id, "L": w.last_id,
                "o": fp(w.open), "c": fp(w.close), "h": fp(w.high), "l": fp(w.low), "v": fq(w.volume),
                "n": w.count, "x": False, "q": fq(w.quote_volume), "V": fq(w.taker_buy_volume),
                "Q": fq(w.taker_buy_quote), "B": "0"}})

    # -- trades and top of book ------------------------------------------------------------------
    def publish_fills(self, sym: str, fills: list[Fill], taker_is_buy: bool) -> None:
        """Record fills on the tape and publish @trade / @aggTrade (one agg per price)."""
        if not fills:
            return
        tape = self.tapes[sym]
        lname = self._names[sym]
        now = self.clock.now_ms()
        buyer_maker = not taker_is_buy
        want_trade = self.hub.has_subscribers(lname + "@trade")
        want_agg = self.hub.has_subscribers(lname + "@aggTrade")
        fp, fq = self.fmt_price, self.fmt_qty
        agg = None
        for f in fills:
            tape.trades.append(TradeRecord(f.trade_id, f.price, f.qty, f.quote, now, buyer_maker))
            if want_trade:
                ev = {"e": "trade", "E": now, "s": sym, "t": f.trade_id, "p": fp(f.price),
                      "q": fq(f.qty), "T": now, "m": buyer_maker, "M": True}
                self.hub.publish(lname + "@trade", ev)
            if agg is not None and agg.price == f.price:
                agg.qty += f.qty
                agg.last_id = f.trade_id
            else:
                if agg is not None:
                    self._emit_agg(sym, lname, agg, want_agg)
                agg = AggRecord(tape.next_agg_id, f.price, f.qty, f.trade_id, f.trade_id, now, buyer_maker)
                tape.next_agg_id += 1
        self._emit_agg(sym, lname, agg, want_agg)

    def _emit_agg(self, sym, lname, agg: AggRecord, want: bool) -> None:
        self.tapes[sym].aggs.append(agg)
        if want:
            ev = {"e": "aggTrade", "E": agg.time, "s": sym, "a": agg.agg_id, "p": self.fmt_price(agg.price),
                  "q": self.fmt_qty(agg.qty), "f": agg.first_id, "l": agg.last_id, "T": agg.time,
                  "m": agg.buyer_maker}
            if not self.futures:
                ev["M"] = True
            self.hub.publish(lname + "@aggTrade", ev)

    def book_changed(self, sym: str) -> None:
        """Publish @bookTicker if the best bid/ask (price or size) changed."""
        book = self.books[sym]
        top = (book.best_bid(), book.best_ask())
        if self._top.get(sym) == top:
            return
        self._top[sym] = top
        name = self._names[sym] + "@bookTicker"
        if not self.hub.has_subscribers(name):
            return
        (bp, bq), (ap, aq) = top[0] or (0, 0), top[1] or (0, 0)
        fp, fq = self.fmt_price, self.fmt_qty
        ev = {"u": book.update_id, "s": sym, "b": fp(bp), "B": fq(bq), "a": fp(ap), "A": fq(aq)}
        if self.futures:
            now = self.clock.now_ms()
            ev = {"e": "bookTicker", **ev, "E": now, "T": now}
        self.hub.publish(name, ev)
