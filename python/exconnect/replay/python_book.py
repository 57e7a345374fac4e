"""A plain-Python Binance depth book: orjson + sortedcontainers, float price keys.

Two jobs: the peer the replay benchmark compares the compiled book against (what a typical Python
connector does per frame: `orjson.loads`, then one dict operation per level, with the same U/u/pu
sequence checks), and the fallback view of `exconnect replay` while the compiled book is absent.
Float keys are what such code usually uses; quantities are kept as Binance's text, so nothing
shown is rounded.
"""
from __future__ import annotations

from typing import List, Optional, Tuple

import orjson
from sortedcontainers import SortedDict

# Same meaning as exconnect.native.order_book's DEPTH_* statuses.
APPLIED, STALE, GAP, NOT_SYNCED = "applied", "stale", "gap", "not_synced"


class PythonDepthBook:
    def __init__(self, futures: bool = False) -> None:
        self.futures = futures
        self.bids: SortedDict = SortedDict()     # ascending: best bid is the last key
        self.asks: SortedDict = SortedDict()     # ascending: best ask is the first key
        self.last_update_id: Optional[int] = None
        self.in_sync = False
        self._first_after_snapshot = True

    def apply_snapshot(self, body: bytes) -> None:
        snapshot = orjson.loads(body)
        bids = SortedDict()
        asks = SortedDict()
        for price, qty in snapshot["bids"]:
            bids[float(price)] = qty
        for price, qty in snapshot["asks"]:
            asks[float(price)] = qty
        self.bids, self.asks = bids, asks
        self.last_update_id = int(snapshot["lastUpdateId"])
        self.in_sync = True
        self._first_after_snapshot = True

    def apply_depth(self, frame: bytes) -> str:
        event = orjson.loads(frame)
        data = event.get("data")
        if data is not None:              # combined-stream envelope
            event = data
        if not self.in_sync:
            return NOT_SYNCED
        first, last, book_id = event["U"], event["u"], self.last_update_id
        if self._first_after_snapshot:
            # spot: U <= id+1 <= u ; futures: U <= id <= u (futures drops u < id only).
            if last < book_id or (not self.futures and last == book_id):
                return STALE
            if first > book_id + (0 if self.futures else 1):
                self.in_sync = False
                return GAP
        elif self.futures:
            if last <= book_id:
                return STALE
            if event["pu"] != book_id:
                self.in_sync = False
                return GAP
        else:
            if last <= book_id:
                return STALE
            if first != book_id + 1:
                self.in_sync = False
                return GAP
        bids, asks = self.bids, self.asks
        for price, qty in event["b"]:
            if float(qty):
                bids[float(price)] = qty
            else:
                bids.pop(float(price), None)
        for price, qty in event["a"]:
            if float(qty):
                asks[float(price)] = qty
            else:
                asks.pop(float(price), None)
        self.last_update_id = last
        self._first_after_snapshot = False
        return APPLIED

    def best_bid(self) -> float:
        return self.bids.peekitem(-1)[0]

    def best_ask(self) -> float:
        return self.asks.peekitem(0)[0]

    def top(self, n: int) -> Tuple[List[Tuple[float, str]], List[Tuple[float, str]]]:
        """(bids, asks), best first, at most n levels each."""
        if n <= 0:
            return [], []
        # Slicing the items view walks the sorted key list once (peekitem per level would
        # search the index each time).
        return self.bids.items()[-n:][::-1], self.asks.items()[:n]

    def __len__(self) -> int:
        return len(self.bids) + len(self.asks)
