"""A small two-sided market maker, just enough to exercise a connector end to end.

It quotes one bid and one ask: one tick inside the best prices, but never further than
`spread_bps` from the mid, and replaces them when the mid moves more than `move_bps` from the mid
they were quoted at, or when they are older than `refresh_seconds`. It reacts to book updates (no polling of the book) and never holds more than
one order per side: a replacement is sent only once the previous order has left the tracker.
"""
from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from typing import Dict, Optional

from exconnect.events import MarketEvent
from exconnect.types import OrderType, PositionAction

from .metrics import DemoMetrics


class QuotingStrategy:
    def __init__(self, connector, trading_pair: str, metrics: DemoMetrics, *, order_amount: Decimal,
                 spread_bps: Decimal = Decimal("4"), move_bps: Decimal = Decimal("1.5"),
                 refresh_seconds: float = 5.0,
                 derivative: bool = False) -> None:
        self.connector = connector
        self.pair = trading_pair
        self.metrics = metrics
        self.order_amount = order_amount
        self.spread = spread_bps / Decimal(10_000)
        self.move = move_bps / Decimal(10_000)
        self.refresh_seconds = refresh_seconds
        self.derivative = derivative
        self._wake = asyncio.Event()
        self._quoted_mid: Optional[Decimal] = None
        self._quoted_at = 0.0
        self._live: Dict[str, str] = {}          # side -> client order id
        self._sent_at: Dict[str, int] = {}       # client order id -> perf_counter_ns at buy()/sell()
        self._register_listeners()

    # ------------------------------------------------------------------ events
    def _register_listeners(self) -> None:
        c = self.connector
        for tag in MarketEvent:
            c.add_listener(tag, self._count(tag))
        c.add_listener(MarketEvent.BuyOrderCreated, self._on_created)
        c.add_listener(MarketEvent.SellOrderCreated, self._on_created)
        c.add_listener(MarketEvent.OrderFilled, self._on_filled)
        c.order_book_tracker.add_update_listener(self._on_book)

    def _count(self, tag):
        def listener(_event) -> None:
            self.metrics.events[tag.name] += 1
        return listener

    def _on_created(self, event) -> None:
        t0 = self._sent_at.pop(event.order_id, None)
        if t0 is not None:
            self.metrics.sent_to_ack.add(time.perf_counter_ns() - t0)

    def _on_filled(self, event) -> None:
        order = self.connector.in_flight_orders.get(event.order_id)
        fill = order.order_fills.get(event.exchange_trade_id) if order is not None else None
        if fill is not None and fill.fill_timestamp:
            self.metrics.fill_to_event.add(int((time.time() - float(fill.fill_timestamp)) * 1e9))
        fee = ", ".join(f"{f.amount.normalize():f} {f.token}" for f in event.trade_fee.flat_fees) or "-"
        self.metrics.fills.appendleft((time.strftime("%H:%M:%S"), event.trade_type.name, event.price,
                                       event.amount, fee))
        self._wake.set()

    def _on_book(self, pair: str, _book) -> None:
        if pair == self.pair:
            self._wake.set()

    # ------------------------------------------------------------------ loop
    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=0.5)
            except asyncio.TimeoutError:
                pass
            self._wake.clear()
            if stop.is_set():
                break
            self._step()

    def _top(self):
        """(best bid, best ask) of a synchronised book, else None."""
        book = self.connector.order_books.get(self.pair)
        if book is None or not getattr(book, "in_sync", True):
            return None
        try:
            return book.get_price(False), book.get_price(True)
        except (EnvironmentError, ValueError):
            return None

    def _step(self) -> None:
        top = self._top()
        rule = self.connector.trading_rules.get(self.pair)
        if top is None or rule is None:
            return
        mid = (top[0] + top[1]) / 2
        tracked = self.connector.in_flight_orders
        for side, oid in list(self._live.items()):
            if oid not in tracked:
                del self._live[side]              # filled, cancelled or failed: free the slot
        tick = rule.min_price_increment
        stale = (self._quoted_mid is None
                 or abs(mid - self._quoted_mid) > mid * self.move
                 or time.monotonic() - self._quoted_at > self.refresh_seconds)
        if stale and self._live:
            for oid in self._live.values():
                order = tracked.get(oid)
                if order is not None and not order.is_pending_cancel_confirmation and order.exchange_order_id:
                    self.connector.cancel(self.pair, oid)
                    self.metrics.cancels_sent += 1
            return                                # re-quote once the cancels are confirmed
        if not self._live:
            self._quote(top, mid, rule)

    def _quote(self, top, mid: Decimal, rule) -> None:
        c = self.connector
        tick = rule.min_price_increment
        best_bid, best_ask = top
        # One tick inside the best prices (so takers meet us first), bounded by the spread limit,
        # and never crossing: LIMIT_MAKER would be rejected.
        bid = max(best_bid + tick, c.quantize_order_price(self.pair, mid * (1 - self.spread)))
        ask = min(best_ask - tick, c.quantize_order_price(self.pair, mid * (1 + self.spread)) + tick)
        bid = min(bid, best_ask - tick)
        ask = max(ask, best_bid + tick)
        if ask <= bid:
            bid, ask = best_bid, best_ask
        amount = c.quantize_order_amount(self.pair, self.order_amount)
        if amount <= 0:
            return
        kwargs = {"position_action": PositionAction.OPEN} if self.derivative else {}
        now = time.perf_counter_ns()
        bid_id = c.buy(self.pair, amount, OrderType.LIMIT_MAKER, bid, **kwargs)
        ask_id = c.sell(self.pair, amount, OrderType.LIMIT_MAKER, ask, **kwargs)
        self._sent_at[bid_id] = now
        self._sent_at[ask_id] = now
        self._live = {"BUY": bid_id, "SELL": ask_id}
        self._quoted_mid = mid
        self._quoted_at = time.monotonic()
        self.metrics.orders_sent += 2
        self.metrics.quote_refreshes += 1
