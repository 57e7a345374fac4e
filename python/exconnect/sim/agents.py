"""Market activity: built-in agents that keep a deep book around a drifting mid price.

The mid follows a seeded random walk (``volatility``: relative standard deviation per sqrt
second). About ``activity_rate`` times per second per symbol an agent acts: it places a limit
order near the mid (crossing the spread now and then, which trades against whatever rests there,
user orders included), cancels one of its resting orders, or sends a small market order.
Agents trade as "the outside market": owner None, no balances.

The initial book has ``book_levels`` levels per side (≥ 1000 so ``depth?limit=1000`` is full),
spaced about 0.001 % of the price apart (at least one tick).

Same seed → same initial books and the same sequence of agent decisions.
"""
from __future__ import annotations

import logging
import math

from . import money
from .clock import Periodic

log = logging.getLogger(__name__)

STEP_S = 0.05


class _SymbolState:
    __slots__ = ("mid", "spacing", "orders", "base_qty")

    def __init__(self, mid, spacing, base_qty):
        self.mid = mid
        self.spacing = spacing            # atoms between levels
        # agent order ids per side (True = bids); some may be filled already
        self.orders: dict[bool, list[int]] = {True: [], False: []}
        self.base_qty = base_qty          # typical order size, atoms

    def all_orders(self) -> list[int]:
        return self.orders[True] + self.orders[False]


class MarketAgents:
    def __init__(self, venue, cfg, rng):
        self.venue = venue
        self.cfg = cfg
        self.rng = rng
        self.state: dict[str, _SymbolState] = {}
        self._timer = Periodic(STEP_S, lambda: self.step(STEP_S), "market agents step", log)
        self.actions = 0

    # -- seeding ---------------------------------------------------------------------------------
    def _qty(self, info, st: _SymbolState) -> int:
        q = int(st.base_qty * self.rng.uniform(0.2, 3.0))
        q -= q % info.step
        return max(q, info.min_qty, info.step)

    def seed_books(self) -> None:
        for sym, info in self.venue.symbols.items():
            self.reseed(sym, info.initial_price, None)
            # the initial book is the state a snapshot starts from, not a diff anyone must receive
            self.venue.books[sym].drain_changes()

    def reseed(self, symbol: str, mid: int, levels: int | None) -> None:
        info = self.venue.symbols[symbol]
        levels = levels or self.cfg.book_levels
        old = self.state.get(symbol)
        if old is not None:
            for oid in old.all_orders():
                self.venue.books[symbol].cancel(oid)
        spacing = max(info.tick, (mid // 100000) // info.tick * info.tick)
        # typical order ~ 2,000 quote units, at least the minimum notional
        base_qty = max(info.min_qty, money.parse("2000") * money.ONE // mid)
        st = self.state[symbol] = _SymbolState(mid, spacing, base_qty)
        for i in range(levels):
            off = spacing * (i + 1)
            for is_buy in (True, False):
                price = mid - off if is_buy else mid + off
                if price < info.min_price or price > info.max_price:
                    continue
                self._place(symbol, info, st, is_buy, price)
        self.venue._after_book_op(symbol, (), True)

    def _place(self, symbol, info, st, is_buy, price) -> None:
        order, _ = self.venue.external_order(symbol, is_buy, price, self._qty(info, st))
        if order.remaining and order.order_id in self.venue.books[symbol].orders:
            st.orders[is_buy].append(order.order_id)

    # -- activity --------------------------------------------------------------------------------
    def start(self) -> None:
        self._timer.start()

    async def stop(self) -> None:
        await self._timer.stop()

    def step(self, dt: float) -> None:
        """Advance the market by ``dt`` seconds (also callable directly for deterministic tests)."""
        rate = self.cfg.activity_rate * dt
        for sym, st in self.state.items():
            info = self.venue.symbols[sym]
            shock = self.rng.gauss(0.0, self.cfg.volatility * math.sqrt(dt))
            mid = int(st.mid * (1.0 + shock))
            mid -= mid % info.tick
            st.mid = min(max(mid, info.min_price + st.spacing * 10), info.max_price - st.spacing * 10)
            self._arbitrage(sym, st)
            self._refill_depth(sym, info, st)
            n = int(rate) + (1 if self.rng.random() < rate - int(rate) else 0)
            for _ in range(n):
                self._act(sym, info, st)

    def _arbitrage(self, sym, st, max_levels: int = 5) -> None:
        """Fair value moved: traders hit bids above the mid / lift asks below it (a few levels per
        step), so the book follows the mid instead of lagging behind it. User orders there fill."""
        book = self.venue.books[sym]
        for _ in range(max_levels):
            bb = book.best_bid()
            if bb is None or bb[0] <= st.mid + st.spacing:
                break
            self.venue.external_order(sym, False, bb[0], bb[1], tif="IOC")
        for _ in range(max_levels):
            ba = book.best_ask()
            if ba is None or ba[0] >= st.mid - st.spacing:
                break
            self.venue.external_order(sym, True, ba[0], ba[1], tif="IOC")

    def _refill_depth(self, sym, info, st, per_step: int = 5) -> None:
        """Liquidity providers extend a side's tail when it has fewer than ``book_levels`` levels."""
        book = self.venue.books[sym]
        for is_buy, side in ((True, book.bids), (False, book.asks)):
            deficit = self.cfg.book_levels - len(side)
            for _ in range(min(per_step, max(0, deficit))):
                if side:
                    worst = -side.peekitem(-1)[0] if is_buy else side.peekitem(-1)[0]
                else:
                    worst = st.mid
                step = st.spacing * self.rng.randint(1, 3)
                price = worst - step if is_buy else worst + step
                price -= price % info.tick
                if not info.min_price <= price <= info.max_price:
                    break
                self._place(sym, info, st, is_buy, price)

    def _act(self, sym, info, st) -> None:
        """One agent action. Each side is kept near ``book_levels`` levels: the emptier a side,
        the likelier a placement (else a cancel), so depth stays ≥ 1000 however long it runs."""
        self.actions += 1
        book = self.venue.books[sym]
        rng = self.rng
        if rng.random() < 0.12:
            qty = max(info.min_qty, self._qty(info, st) // 4 // info.step * info.step)
            self.venue.external_order(sym, rng.random() < 0.5, 0, qty, market=True)
            return
        is_buy = rng.random() < 0.5
        target = self.cfg.book_levels * 1.1
        levels = len(book.bids if is_buy else book.asks)
        place_p = min(0.95, max(0.1, 0.5 + 2.0 * (1.0 - levels / target)))
        if rng.random() < place_p:
            # mostly near the mid (sometimes across it: that trades), else anywhere in the depth
            if rng.random() < 0.6:
                off = st.spacing * rng.randint(-2, 20)
            else:
                off = st.spacing * rng.randint(1, int(target))
            price = st.mid - off if is_buy else st.mid + off
            price -= price % info.tick
            if info.min_price <= price <= info.max_price:
                self._place(sym, info, st, is_buy, price)
            return
        ids = st.orders[is_buy]
        while ids:
            i = rng.randrange(len(ids))
            ids[i], ids[-1] = ids[-1], ids[i]
            oid = ids.pop()
            if oid in book.orders:
                self.venue.external_cancel(sym, oid)
                return
