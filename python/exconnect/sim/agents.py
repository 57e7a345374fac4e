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

import asyncio
import logging
import math

from . import money

log = logging.getLogger(__name__)

STEP_S = 0.05


class _SymbolState:
    __slots__ = ("mid", "spacing", "orders", "base_qty")

    def __init__(self, mid, spacing, base_qty):
        self.mid = mid
        self.spacing = spacing            # atoms between levels
        self.orders: list[int] = []       # agent order ids (some may be filled already)
        self.base_qty = base_qty          # typical order size, atoms


class MarketAgents:
    def __init__(self, venue, cfg, rng):
        self.venue = venue
        self.cfg = cfg
        self.rng = rng
        self.state: dict[str, _SymbolState] = {}
        self._task: asyncio.Task | None = None
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
            for oid in old.orders:
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
            st.orders.append(order.order_id)

    # -- activity --------------------------------------------------------------------------------
    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(STEP_S)
            try:
                self.step(STEP_S)
            except Exception:
                log.exception("market agents step failed")

    def step(self, dt: float) -> None:
        """Advance the market by ``dt`` seconds (also callable directly for deterministic tests)."""
        rate = self.cfg.activity_rate * dt
        for sym, st in self.state.items():
            info = self.venue.symbols[sym]
            shock = self.rng.gauss(0.0, self.cfg.volatility * math.sqrt(dt))
            mid = int(st.mid * (1.0 + shock))
            mid -= mid % info.tick
            st.mid = min(max(mid, info.min_price + st.spacing * 10), info.max_price - st.spacing * 10)
            n = int(rate) + (1 if self.rng.random() < rate - int(rate) else 0)
            for _ in range(n):
                self._act(sym, info, st)

    def _act(self, sym, info, st) -> None:
        self.actions += 1
        r = self.rng.random()
        book = self.venue.books[sym]
        if r < 0.45:
            is_buy = self.rng.random() < 0.5
            # mostly behind the mid; sometimes across it (takes liquidity)
            near = self.rng.random() < 0.6
            off = st.spacing * (self.rng.randint(-2, 20) if near else self.rng.randint(1, self.cfg.book_levels))
            price = st.mid - off if is_buy else st.mid + off
            price -= price % info.tick
            if info.min_price <= price <= info.max_price:
                self._place(sym, info, st, is_buy, price)
        elif r < 0.85:
            if st.orders:
                i = self.rng.randrange(len(st.orders))
                st.orders[i], st.orders[-1] = st.orders[-1], st.orders[i]
                oid = st.orders.pop()
                if oid in book.orders:
                    self.venue.external_cancel(sym, oid)
        else:
            qty = max(info.min_qty, self._qty(info, st) // 4 // info.step * info.step)
            self.venue.external_order(sym, self.rng.random() < 0.5, 0, qty, market=True)
        if len(st.orders) > 4 * self.cfg.book_levels:
            st.orders = [o for o in st.orders if o in book.orders]
