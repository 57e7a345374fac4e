"""Account-agnostic price-time-priority matching: one :class:`Book` per symbol.

The engine only matches. It knows orders (id, owner, side, price, quantity), never balances,
margin or positions: a venue (spot balances in ``spot.py``, futures margin in ``futures*.py``) does
pre-trade checks, calls :meth:`Book.submit` / :meth:`Book.cancel`, and settles the returned
:class:`Fill` list and STP-expired makers.

Numbers are ints in atoms (1e-8, see ``money.py``). Fills happen at the resting (maker) price.
Self-trade prevention compares ``Order.owner``; ``owner=None`` (market agents, external takers)
never self-trades. Modes: ``NONE``, ``EXPIRE_MAKER`` (Binance's default), ``EXPIRE_TAKER``,
``EXPIRE_BOTH``.

Depth feed: every change of a price level's total bumps ``Book.update_id`` by one and records the
level's new total; :meth:`Book.drain_changes` hands the net changes since the previous drain to the
diff-depth publisher with first/last update ids, so consecutive events chain ``U = prev u + 1``.
"""
from __future__ import annotations

from sortedcontainers import SortedDict

from .money import ONE

STP_MODES = ("NONE", "EXPIRE_MAKER", "EXPIRE_TAKER", "EXPIRE_BOTH")


class Order:
    """A resting or incoming order. ``tag`` is the venue's own record (opaque to the engine)."""

    __slots__ = ("order_id", "owner", "is_buy", "price", "qty", "remaining", "tag")

    def __init__(self, order_id: int, owner, is_buy: bool, price: int, qty: int, tag=None):
        self.order_id = order_id
        self.owner = owner
        self.is_buy = is_buy
        self.price = price          # 0 for market orders
        self.qty = qty
        self.remaining = qty
        self.tag = tag

    def __repr__(self):
        side = "BUY" if self.is_buy else "SELL"
        return f"Order({self.order_id}, {side} {self.remaining}/{self.qty} @ {self.price}, owner={self.owner!r})"


class Fill:
    __slots__ = ("trade_id", "price", "qty", "quote", "maker", "taker", "maker_done")

    def __init__(self, trade_id, price, qty, quote, maker, taker, maker_done):
        self.trade_id = trade_id
        self.price = price
        self.qty = qty
        self.quote = quote          # floor(price * qty), atoms
        self.maker = maker
        self.taker = taker
        self.maker_done = maker_done  # maker fully filled by this fill (removed from the book)


class MatchResult:
    """What happened to one submitted order.

    ``rejected``: None, ``"WOULD_TAKE"`` (post-only crossing) or ``"FOK"`` (not fully fillable) —
    nothing changed in the book. ``rested``: the remainder is now on the book. ``taker_stp``: the
    remainder was expired by self-trade prevention (EXPIRE_TAKER/BOTH).
    """

    __slots__ = ("fills", "expired_makers", "rested", "rejected", "taker_stp", "quote_filled")

    def __init__(self):
        self.fills: list[Fill] = []
        self.expired_makers: list[Order] = []
        self.rested = False
        self.rejected: str | None = None
        self.taker_stp = False
        self.quote_filled = 0


class _Level:
    __slots__ = ("orders", "total")

    def __init__(self):
        self.orders: dict[int, Order] = {}   # insertion order == time priority
        self.total = 0


class Book:
    """One symbol's book. ``step`` (atoms) quantises quote-quantity market orders."""

    def __init__(self, symbol: str, step: int, first_update_id: int = 1):
        self.symbol = symbol
        self.step = step
        self.bids = SortedDict()    # key: -price (best first)
        self.asks = SortedDict()    # key: price
        self.orders: dict[int, Order] = {}
        self.update_id = first_update_id - 1
        self._drained_id = self.update_id
        self._bid_changes: dict[int, int] = {}
        self._ask_changes: dict[int, int] = {}
        self.next_trade_id = 1
        self.last_price = 0
        self.last_qty = 0

    # -- queries -------------------------------------------------------------------------------
    def best_bid(self) -> tuple[int, int] | None:
        if not self.bids:
            return None
        k, lvl = self.bids.peekitem(0)
        return -k, lvl.total

    def best_ask(self) -> tuple[int, int] | None:
        if not self.asks:
            return None
        k, lvl = self.asks.peekitem(0)
        return k, lvl.total

    def depth(self, limit: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """Top ``limit`` levels per side as (price, total) atoms, best first."""
        bids = [(-k, lvl.total) for k, lvl in self.bids.items()[:limit]]
        asks = [(k, lvl.total) for k, lvl in self.asks.items()[:limit]]
        return bids, asks

    def would_take(self, is_buy: bool, price: int) -> bool:
        if is_buy:
            return bool(self.asks) and self.asks.peekitem(0)[0] <= price
        return bool(self.bids) and -self.bids.peekitem(0)[0] >= price

    def fillable(self, is_buy: bool, price: int | None, owner, limit_qty: int) -> int:
        """Quantity available to a taker up to ``limit_qty`` (own orders excluded)."""
        side = self.asks if is_buy else self.bids
        got = 0
        for key, lvl in side.items():
            lp = key if is_buy else -key
            if price is not None and (lp > price if is_buy else lp < price):
                break
            for o in lvl.orders.values():
                if owner is None or o.owner != owner:
                    got += o.remaining
                    if got >= limit_qty:
                        return got
        return got

    def sweep(self, is_buy: bool, qty: int, owner, quote_qty: int = 0) -> tuple[int, int]:
        """What a market taker would get without changing anything: (base filled, quote amount).

        Own orders (``owner``) are skipped as EXPIRE_MAKER would; ``quote_qty`` > 0 sweeps by quote.
        Venues use it for pre-trade balance checks of market orders.
        """
        side = self.asks if is_buy else self.bids
        got = quote = 0
        step = self.step
        for key, lvl in side.items():
            lp = key if is_buy else -key
            for o in lvl.orders.values():
                if owner is not None and o.owner == owner:
                    continue
                take = o.remaining
                if quote_qty:
                    afford = (quote_qty - quote) * ONE // lp
                    if step:
                        afford -= afford % step
                    take = min(take, afford)
                    if take <= 0:
                        return got, quote
                else:
                    take = min(take, qty - got)
                got += take
                quote += lp * take // ONE
                if (not quote_qty and got >= qty) or (quote_qty and quote >= quote_qty):
                    return got, quote
        return got, quote

    # -- mutations -----------------------------------------------------------------------------
    def _touch(self, is_buy: bool, price: int, total: int) -> None:
        self.update_id += 1
        (self._bid_changes if is_buy else self._ask_changes)[price] = total

    def _add_resting(self, order: Order) -> None:
        side = self.bids if order.is_buy else self.asks
        key = -order.price if order.is_buy else order.price
        lvl = side.get(key)
        if lvl is None:
            lvl = side[key] = _Level()
        lvl.orders[order.order_id] = order
        lvl.total += order.remaining
        self.orders[order.order_id] = order
        self._touch(order.is_buy, order.price, lvl.total)

    def add_resting(self, order: Order) -> None:
        """Put an order on the book without matching (used to seed books; caller avoids crossing)."""
        if order.order_id in self.orders:
            raise ValueError(f"order id {order.order_id} already on the book")
        self._add_resting(order)

    def cancel(self, order_id: int) -> Order | None:
        """Remove a resting order; returns it, or None if it is not on the book."""
        order = self.orders.pop(order_id, None)
        if order is None:
            return None
        side = self.bids if order.is_buy else self.asks
        key = -order.price if order.is_buy else order.price
        lvl = side[key]
        del lvl.orders[order_id]
        lvl.total -= order.remaining
        if not lvl.orders:
            del side[key]
        self._touch(order.is_buy, order.price, lvl.total if lvl.orders else 0)
        return order

    def submit(self, order: Order, *, tif: str = "GTC", market: bool = False, post_only: bool = False,
               quote_qty: int = 0, stp: str = "EXPIRE_MAKER") -> MatchResult:
        """Match ``order`` (a taker) and rest its remainder if GTC limit.

        ``market``: no price limit, never rests. ``quote_qty`` > 0 (market only): spend/receive this
        much quote instead of a base quantity (``order.qty`` is then an upper bound, e.g. huge).
        ``tif``: GTC, IOC, FOK (GTX == post_only).
        """
        res = MatchResult()
        is_buy = order.is_buy
        limit = None if market else order.price
        if post_only and self.would_take(is_buy, order.price):
            res.rejected = "WOULD_TAKE"
            return res
        if tif == "FOK" and not quote_qty:
            if self.fillable(is_buy, limit, order.owner if stp != "NONE" else None, order.qty) < order.qty:
                res.rejected = "FOK"
                return res
        opp = self.asks if is_buy else self.bids
        owner = order.owner
        quote_left = quote_qty
        step = self.step
        stop = False
        while opp and order.remaining > 0 and not stop:
            key, lvl = opp.peekitem(0)
            lp = key if is_buy else -key
            if limit is not None and (lp > limit if is_buy else lp < limit):
                break
            orders = lvl.orders
            while orders and order.remaining > 0:
                maker = orders[next(iter(orders))]
                if owner is not None and maker.owner == owner and stp != "NONE":
                    if stp in ("EXPIRE_MAKER", "EXPIRE_BOTH"):
                        del orders[maker.order_id]
                        del self.orders[maker.order_id]
                        lvl.total -= maker.remaining
                        res.expired_makers.append(maker)
                    if stp in ("EXPIRE_TAKER", "EXPIRE_BOTH"):
                        res.taker_stp = True
                        stop = True
                        break
                    continue
                qty = maker.remaining if maker.remaining < order.remaining else order.remaining
                if quote_left:
                    affordable = quote_left * ONE // lp
                    if step:
                        affordable -= affordable % step
                    if affordable < qty:
                        qty = affordable
                    if qty <= 0:
                        stop = True
                        break
                quote = lp * qty // ONE
                maker.remaining -= qty
                order.remaining -= qty
                lvl.total -= qty
                done = maker.remaining == 0
                if done:
                    del orders[maker.order_id]
                    del self.orders[maker.order_id]
                tid = self.next_trade_id
                self.next_trade_id = tid + 1
                res.fills.append(Fill(tid, lp, qty, quote, maker, order, done))
                res.quote_filled += quote
                if quote_left:
                    quote_left -= quote
                    if quote_left <= 0:
                        stop = True
                        break
            if not orders:
                del opp[key]
                self._touch(not is_buy, lp, 0)
            else:
                self._touch(not is_buy, lp, lvl.total)
        if res.fills:
            last = res.fills[-1]
            self.last_price, self.last_qty = last.price, last.qty
        if order.remaining > 0 and not market and tif == "GTC" and not res.taker_stp:
            self._add_resting(order)
            res.rested = True
        return res

    def drain_changes(self):
        """Net level changes since the last drain → (U, u, bids, asks) or None if nothing changed.

        bids/asks are lists of (price, new total) atoms; total 0 means the level is gone.
        """
        if self.update_id == self._drained_id:
            return None
        first = self._drained_id + 1
        self._drained_id = self.update_id
        bids = sorted(self._bid_changes.items(), reverse=True)
        asks = sorted(self._ask_changes.items())
        self._bid_changes = {}
        self._ask_changes = {}
        return first, self.update_id, bids, asks


class MatchingEngine:
    """The books of one venue, by symbol."""

    def __init__(self):
        self.books: dict[str, Book] = {}

    def add_symbol(self, symbol: str, step: int) -> Book:
        book = self.books[symbol] = Book(symbol, step)
        return book

    def book(self, symbol: str) -> Book:
        return self.books[symbol]
