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
        """Connect, subscribe and feed frames forever, reconnecting with back-off.

        ``trading_pairs`` is the tracker's live list: pairs added or removed at runtime are in it
        at the next (re)connect."""

    # Optional: adding/removing pairs while connected. A source that cannot returns False.
    supports_dynamic_pairs = False

    async def subscribe_to_trading_pair(self, trading_pair: str) -> bool:
        _log.warning("%s cannot subscribe to %s at runtime", type(self).__name__, trading_pair)
        return False

    async def unsubscribe_from_trading_pair(self, trading_pair: str) -> bool:
        _log.warning("%s cannot unsubscribe from %s at runtime", type(self).__name__, trading_pair)
        return False


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

    # ------------------------------------------------------------------ pairs at runtime
    @property
    def _running(self) -> bool:
        return self._listen_task is not None and not self._listen_task.done()

    async def add_trading_pair(self, trading_pair: str) -> bool:
        """Track one more pair: subscribe, load a first snapshot. False (nothing kept) if already
        tracked, unsupported, the subscription is refused or the snapshot cannot be fetched."""
        if trading_pair in self._order_books:
            return False
        if not self.data_source.supports_dynamic_pairs:
            _log.warning("Cannot add %s: the order book data source does not support it", trading_pair)
            return False
        self._order_books[trading_pair] = self.data_source.new_order_book(trading_pair)
        self._buffers[trading_pair] = deque(maxlen=self.BUFFER_SIZE)
        self._syncing.add(trading_pair)
        self._trading_pairs.append(trading_pair)
        if not self._running:
            return True                     # subscribed and synced when the stream connects
        subscribed = synced = False
        try:
            subscribed = await self.data_source.subscribe_to_trading_pair(trading_pair)
            if subscribed:
                synced = self._load_snapshot(trading_pair, await self.data_source.fetch_snapshot(trading_pair))
        except asyncio.CancelledError:
            self._forget(trading_pair)
            raise
        except Exception as e:
            _log.error("Could not start tracking %s: %s", trading_pair, e)
            self._forget(trading_pair)
            if subscribed:
                await self._quiet_unsubscribe(trading_pair)
            return False
        if not subscribed:
            self._forget(trading_pair)
            return False
        if not synced:
            self._request_resync(trading_pair)      # diffs overtook the snapshot: the usual path
        return True

    async def remove_trading_pair(self, trading_pair: str) -> bool:
        """Stop tracking a pair. False if not tracked or the unsubscribe request failed; a refused
        unsubscribe still drops everything local (its frames are ignored from now on)."""
        if trading_pair not in self._order_books:
            return False
        if self._running:
            try:
                if not await self.data_source.unsubscribe_from_trading_pair(trading_pair):
                    _log.warning("Unsubscribe from %s refused; dropping its book anyway", trading_pair)
            except asyncio.CancelledError:
                raise
            except Exception as e:
                _log.error("Could not unsubscribe from %s: %s", trading_pair, e)
                return False
        self._forget(trading_pair)
        return True

    async def _quiet_unsubscribe(self, trading_pair: str) -> None:
        try:
            await self.data_source.unsubscribe_from_trading_pair(trading_pair)
        except asyncio.CancelledError:
            raise
        except Exception:
            pass

    def _forget(self, trading_pair: str) -> None:
        task = self._resync_tasks.pop(trading_pair, None)
        if task is not None:
            task.cancel()
        self._order_books.pop(trading_pair, None)
        self._buffers.pop(trading_pair, None)
        self._syncing.discard(trading_pair)
        self._ever_synced.discard(trading_pair)
        if trading_pair in self._trading_pairs:
            self._trading_pairs.remove(trading_pair)

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
                if self._load_snapshot(pair, body):
                    return
            except ValueError as e:
                _log.error("Malformed order book snapshot for %s (%s); retrying.", pair, e)
            await asyncio.sleep(backoff.next_delay())

    def _load_snapshot(self, pair: str, body: bytes) -> bool:
        """Snapshot, then the buffered diffs on top; True once the book is in sync."""
        book = self._order_books[pair]
        buffer = self._buffers[pair]
        try:
            self.data_source.apply_snapshot(book, body)
        except Exception as e:
            raise ValueError(str(e)) from e
        self.snapshot_count += 1
        while buffer:
            frame = buffer.popleft()
            try:
                status = self.data_source.apply_diff(book, frame)
            except ValueError:
                continue
            if status == GAP or status == NOT_SYNCED:
                # Snapshot older than the buffered diffs: keep them and fetch a newer one.
                buffer.appendleft(frame)
                return False
        if not getattr(book, "in_sync", True):
            return False
        self._syncing.discard(pair)
        self._ever_synced.add(pair)
        for listener in self._update_listeners:
            try:
                listener(pair, book)
            except Exception:
                _log.exception("Order book update listener failed")
        return True
