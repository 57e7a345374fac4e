"""Peer books the replay benchmark runs beside exconnect's, fed the same raw frames.

- `PythonDepthBook` (exconnect.replay.python_book): orjson.loads + sortedcontainers.SortedDict,
  float price keys — what a typical Python connector does.
- `OrderBookPackageBook`: orjson.loads + the `order-book` package from PyPI (a C book keyed by
  float), when it is installed.
Both do the same Binance U/u sequence checks as exconnect's book, so all do the same work.
"""
from __future__ import annotations

from typing import List, Optional, Tuple

import orjson

from exconnect.replay.python_book import APPLIED, GAP, NOT_SYNCED, STALE, PythonDepthBook

try:
    import order_book as _order_book_package
except ImportError:  # optional peer
    _order_book_package = None


def order_book_package_available() -> bool:
    return _order_book_package is not None


class OrderBookPackageBook:
    """Spot depth book on top of PyPI's `order-book` (import order_book)."""

    def __init__(self) -> None:
        if _order_book_package is None:
            raise RuntimeError("the order-book package is not installed (pip install order-book)")
        self._book = _order_book_package.OrderBook()
        self.last_update_id: Optional[int] = None
        self.in_sync = False
        self._first = True

    def apply_snapshot(self, body: bytes) -> None:
        snapshot = orjson.loads(body)
        book = _order_book_package.OrderBook()
        bids, asks = book.bids, book.asks
        for price, qty in snapshot["bids"]:
            bids[float(price)] = float(qty)
        for price, qty in snapshot["asks"]:
            asks[float(price)] = float(qty)
        self._book = book
        self.last_update_id = snapshot["lastUpdateId"]
        self.in_sync = True
        self._first = True

    def apply_depth(self, frame: bytes) -> str:
        event = orjson.loads(frame)
        data = event.get("data")
        if data is not None:
            event = data
        if not self.in_sync:
            return NOT_SYNCED
        book_id = self.last_update_id
        if event["u"] <= book_id:
            return STALE
        if (event["U"] > book_id + 1) if self._first else (event["U"] != book_id + 1):
            self.in_sync = False
            return GAP
        bids, asks = self._book.bids, self._book.asks
        for price, qty in event["b"]:
            price = float(price)
            qty = float(qty)
            if qty:
                bids[price] = qty
            elif price in bids:        # the package raises KeyError on absent keys
                del bids[price]
        for price, qty in event["a"]:
            price = float(price)
            qty = float(qty)
            if qty:
                asks[price] = qty
            elif price in asks:
                del asks[price]
        self.last_update_id = event["u"]
        self._first = False
        return APPLIED

    def best_bid(self) -> float:
        return self._book.bids.index(0)[0]

    def best_ask(self) -> float:
        return self._book.asks.index(0)[0]

    def top(self, n: int) -> Tuple[List[Tuple[float, float]], List[Tuple[float, float]]]:
        bids, asks = self._book.bids, self._book.asks
        return ([bids.index(i) for i in range(min(n, len(bids)))],
                [asks.index(i) for i in range(min(n, len(asks)))])

    def price_sets(self):
        return set(self._book.bids.keys()), set(self._book.asks.keys())

    def __len__(self) -> int:
        return len(self._book.bids) + len(self._book.asks)


__all__ = ["PythonDepthBook", "OrderBookPackageBook", "order_book_package_available",
           "APPLIED", "STALE", "GAP", "NOT_SYNCED"]
