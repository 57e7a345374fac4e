"""The book `exconnect replay` drives: the compiled one when built, else the plain-Python one.

Both are wrapped to one small interface (apply the REST snapshot body, apply a raw frame and get a
status string back, top-n levels as text) so the view and the loop need not care which is live.
"""
from __future__ import annotations

from itertools import islice
from typing import List, Optional, Tuple

from .python_book import APPLIED, GAP, NOT_SYNCED, STALE, PythonDepthBook

TextLevels = List[Tuple[str, str]]


class NativeBook:
    """exconnect.native.order_book.OrderBook behind the replay interface."""

    name = "exconnect.native.order_book.OrderBook (C)"

    def __init__(self, module, futures: bool = False) -> None:
        self._book = module.OrderBook(price_scale=8, size_scale=8, futures=futures)
        self._status = {module.DEPTH_APPLIED: APPLIED, module.DEPTH_STALE: STALE,
                        module.DEPTH_GAP: GAP, module.DEPTH_NOT_SYNCED: NOT_SYNCED}
        self.apply_snapshot = self._book.apply_binance_snapshot
        self._apply = self._book.apply_binance_depth

    def apply_depth(self, frame: bytes) -> str:
        return self._status[self._apply(frame)]

    @property
    def in_sync(self) -> bool:
        return bool(self._book.in_sync)

    def top(self, n: int) -> Tuple[TextLevels, TextLevels]:
        def text(rows) -> TextLevels:
            return [(str(row.price), str(row.amount)) for row in islice(rows, n)]
        return text(self._book.bid_entries()), text(self._book.ask_entries())


class PythonBook:
    """The plain-Python fallback (orjson + SortedDict) behind the same interface."""

    name = "plain Python fallback (orjson + sortedcontainers)"

    def __init__(self, futures: bool = False) -> None:
        self._book = PythonDepthBook(futures=futures)
        self.apply_snapshot = self._book.apply_snapshot
        self.apply_depth = self._book.apply_depth

    @property
    def in_sync(self) -> bool:
        return self._book.in_sync

    def top(self, n: int) -> Tuple[TextLevels, TextLevels]:
        bids, asks = self._book.top(n)
        return [(repr(p), q) for p, q in bids], [(repr(p), q) for p, q in asks]


def native_order_book_module() -> Optional[object]:
    """exconnect.native.order_book if it is built and has the Binance fast path, else None."""
    try:
        from exconnect.native import order_book
    except ImportError:
        return None
    needed = ("OrderBook", "DEPTH_APPLIED", "DEPTH_STALE", "DEPTH_GAP", "DEPTH_NOT_SYNCED")
    if not all(hasattr(order_book, name) for name in needed):
        return None
    return order_book


def make_book(prefer: str = "auto", futures: bool = False):
    """prefer: "auto" (compiled if available), "native" (required), or "python"."""
    if prefer not in ("auto", "native", "python"):
        raise ValueError(f"unknown book {prefer!r}: use auto, native or python")
    if prefer != "python":
        module = native_order_book_module()
        if module is not None:
            return NativeBook(module, futures=futures)
        if prefer == "native":
            raise RuntimeError("exconnect.native.order_book is not built (run tools/build.sh order_book)")
    return PythonBook(futures=futures)
