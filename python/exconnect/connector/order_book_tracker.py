"""Local order books kept in sync with the exchange, one per trading pair, by themselves.

The data source (exchange specific) owns the socket and the wire format; this tracker owns the
synchronisation protocol, which is the same on every venue that publishes sequenced diffs:

1. diffs of a pair whose book is not in sync are buffered (bounded);
2. a REST snapshot is fetched and loaded, then the buffer is replayed on top (the book drops
   stale diffs and detects the first overlapping one);
3. a diff that breaks the sequence (gap) or a socket reconnect puts the book out of sync and
   starts again at 1 — immediately, not at the next hourly snapshot;
4. a snapshot older than the buffered diffs (gap while replaying) is simply fetched again.

Applying a diff is a single compiled call on the raw frame bytes (``data_source.apply_diff``);
no Python object is made per price level. A book that is out of sync reports ``in_sync`` False,
so a stale book is never served silently.
"""
from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections import deque
from typing import Any, Callable, Deque, Dict, Iterable, List, Optional, Set, Tuple

from .web import ReconnectBackoff

__all__ = ["OrderBookTrackerDataSource", "OrderBookTracker", "DIFF", "TRADE"]

_log = logging.getLogger(__name__)

DIFF = 1
TRADE = 2

# Status codes returned by ``apply_diff`` (the compiled book's constants share these meanings).
APPLIED, STALE, GAP, NOT_SYNCED = "applied", "stale", "gap", "not_synced"


class OrderBookTrackerDataSource(ABC):
    """Exchange-specific half of order book tracking."""

    @abstractmethod
    def new_order_book(self, trading_pair: str) -> Any: ...

    @abstractmethod
    async def fetch_snapshot(self, trading_pair: str) -> bytes:
        """Raw REST snapshot body for ``trading_pair``."""

    @abstractmethod
    def apply_snapshot(self, book: Any, body: bytes) -> None: ...

    @abstractmethod
    def apply_diff(self, book: Any, frame: bytes) -> str:
        """Apply one raw diff frame; returns APPLIED / STALE / GAP / NOT_SYNCED."""

    @abstractmethod
    def route(self, frame: bytes) -> Tuple[int, Optional[str]]:
        """(DIFF | TRADE | 0, trading pair or None) for a raw frame."""

    @abstractmethod
    def parse_trade(self, frame: bytes, trading_pair: str) -> Any: ...

    @abstractmethod
    async def listen_for_subscriptions(self, trading_pairs: List[str], on_frame: Callable[[bytes], None],
                                       on_connected: Callable[[], None]) -> None:
        """Connect, subscribe and feed frames forever, reconnecting with back-off."""


class OrderBookTracker:
    BUFFER_SIZE = 5000

    def __init__(self, data_source: OrderBookTrackerDataSource, trading_pairs: Iterable[str]) -> None:
        self.data_source = data_source
        self._trading_pairs: List[str] = list(dict.fromkeys(trading_pairs))
        self._order_books: Dict[str, Any] = {p: data_source.new_order_book(p) for p in self._trading_pairs}
        self._buffers: Dict[str, Deque[bytes]] = {p: deque(maxlen=self.BUFFER_SIZE) for p in self._trading_pairs}
        self._syncing: Set[str] = set(self._trading_pairs)
        self._resync_tasks: Dict[str, asyncio.Task] = {}
        self._listen_task: Optional[asyncio.Task] = None
        self._ever_synced: Set[str] = set()
        self._update_listeners: List[Callable[[str, Any], None]] = []
        self._trade_listeners: List[Callable[[Any], None]] = []
        self._ready = asyncio.Event() if not self._trading_pairs else None
        self.snapshot_count = 0
        self.gap_count = 0
        self.diff_count = 0
        self.reconnect_count = 0

    # --------------------------------------------------------------------------------- API
    @property
    def order_books(self) -> Dict[str, Any]:
        return self._order_books

    @property
    def trading_pairs(self) -> List[str]:
        return list(self._trading_pairs)

    @property
    def ready(self) -> bool:
        return len(self._ever_synced) == len(self._trading_pairs)

    def is_in_sync(self, trading_pair: str) -> bool:
        return trading_pair not in self._syncing

    def add_update_listener(self, listener: Callable[[str, Any], None]) -> None:
        """``listener(trading_pair, book)`` after every applied diff or snapshot (synchronous)."""
        self._update_listeners.append(listener)

    def remove_update_listener(self, listener: Callable[[str, Any], None]) -> None:
        if listener in self._update_listeners:
            self._update_listeners.remove(listener)

    def add_trade_listener(self, listener: Callable[[Any], None]) -> None:
        self._trade_listeners.append(listener)

    def start(self) -> None:
        if self._listen_task is None or self._listen_task.done():
            self._listen_task = asyncio.get_running_loop().create_task(
                self.data_source.listen_for_subscriptions(self._trading_pairs, self._on_frame, self._on_connected))

    async def stop(self) -> None:
        tasks = [t for t in (self._listen_task, *self._resync_tasks.values()) if t is not None]
        for t in tasks:
            t.cancel()
        for t in tasks:
            try:
                await t
            except (asyncio.CancelledError, Exception):
                pass
        self._listen_task = None
        self._resync_tasks.clear()

    # --------------------------------------------------------------------------- hot path
    def _on_frame(self, frame: bytes) -> None:
        kind, pair = self.data_source.route(frame)
        if pair is None or pair not in self._order_books:
            return
        if kind == DIFF:
            if pair in self._syncing:
                self._buffers[pair].append(frame)
                return
            book = self._order_books[pair]
            try:
                status = self.data_source.apply_diff(book, frame)
            except ValueError:
                _log.error("Unexpected error when processing public order book updates from exchange "
                           "(malformed frame for %s); resynchronising", pair)
                self._request_resync(pair)
                return
            if status == APPLIED:
                self.diff_count += 1
                for listener in self._update_listeners:
                    try:
                        listener(pair, book)
                    except Exception:
                        _log.exception("Order book update listener failed")
            elif status == GAP or status == NOT_SYNCED:
                self.gap_count += 1
                _log.warning("Order book of %s lost sequence; resynchronising from a new snapshot", pair)
                self._buffers[pair].append(frame)
                self._request_resync(pair)
        elif kind == TRADE:
            if not self._trade_listeners:
                return
            try:
                trade = self.data_source.parse_trade(frame, pair)
            except Exception:
                _log.error("Unexpected error when processing public trade updates from exchange")
                return
            for listener in self._trade_listeners:
                try:
                    listener(trade)
                except Exception:
                    _log.exception("Trade listener failed")

    def _on_connected(self) -> None:
        # Frames may have been missed while disconnected: every book must resynchronise.
        self.reconnect_count += 1
        for pair in self._trading_pairs:
            self._buffers[pair].clear()
            self._request_resync(pair, restart=True)

    # ---------------------------------------------------------------------- resynchronise
    def _request_resync(self, pair: str, restart: bool = False) -> None:
        self._syncing.add(pair)
        task = self._resync_tasks.get(pair)
        if task is not None and not task.done():
            if not restart:
                return
            task.cancel()
        self._resync_tasks[pair] = asyncio.get_running_loop().create_task(self._resync(pair))

    async def _resync(self, pair: str) -> None:
        backoff = ReconnectBackoff(initial=0.05, maximum=10.0)
        book = self._order_books[pair]
        buffer = self._buffers[pair]
        while True:
            try:
                body = await self.data_source.fetch_snapshot(pair)
            except asyncio.CancelledError:
                raise
            except Exception as e:
                _log.error("Unexpected error fetching order book snapshot for %s (%s); retrying.", pair, e)
                await asyncio.sleep(backoff.next_delay())
                continue
            try:
                self.data_source.apply_snapshot(book, body)
            except Exception as e:
                _log.error("Malformed order book snapshot for %s (%s); retrying.", pair, e)
                await asyncio.sleep(backoff.next_delay())
                continue
            self.snapshot_count += 1
            in_sync = True
            while buffer:
                frame = buffer.popleft()
                try:
                    status = self.data_source.apply_diff(book, frame)
                except ValueError:
                    continue
                if status == GAP or status == NOT_SYNCED:
                    # Snapshot older than the buffered diffs: keep them and fetch a newer one.
                    buffer.appendleft(frame)
                    in_sync = False
                    break
            if in_sync and getattr(book, "in_sync", True):
                self._syncing.discard(pair)
                self._ever_synced.add(pair)
                for listener in self._update_listeners:
                    try:
                        listener(pair, book)
                    except Exception:
                        _log.exception("Order book update listener failed")
                return
            await asyncio.sleep(backoff.next_delay())
