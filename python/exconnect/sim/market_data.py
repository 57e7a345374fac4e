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

import asyncio
import logging

import orjson
from collections import deque
from typing import Callable

from . import money
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


class TradeTape:
    """Recent public trades and aggregated trades of one symbol (bounded)."""

    def __init__(self, maxlen: int = 20000):
        self.trades: deque[TradeRecord] = deque(maxlen=maxlen)
        self.aggs: deque[AggRecord] = deque(maxlen=maxlen)
        self.next_agg_id = 1


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
        self._task: asyncio.Task | None = None
        self.depth_events = 0
        self._names = {s: s.lower() for s in books}

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.tick_ms / 1000)
            try:
                self.tick()
            except Exception:
                log.exception("market data tick failed")

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
