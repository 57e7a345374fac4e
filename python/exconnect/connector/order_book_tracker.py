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

Metrics (``metrics()``): per-pair counters kept in plain lists (the hot path only increments
them) and feed-latency samples of every 128th applied diff; see ``connector/README.md``.
"""
from __future__ import annotations

import asyncio
import logging
import time
from abc import ABC, abstractmethod
from collections import deque
from typing import Any, Callable, Deque, Dict, Iterable, List, Optional, Set, Tuple

from .tasks import cancel_and_wait
from .web import ReconnectBackoff

__all__ = ["OrderBookTrackerDataSource", "OrderBookTracker", "DIFF", "TRADE"]

_log = logging.getLogger(__name__)

DIFF = 1
TRADE = 2

# Status codes returned by ``apply_diff`` (the compiled book's constants share these meanings).
APPLIED, STALE, GAP, NOT_SYNCED = "applied", "stale", "gap", "not_synced"

# Per-pair counters: a plain list, indexed by these positions (the hot path does ``c[i] += 1``).
_PROCESSED, _STALE, _GAP, _MALFORMED, _QUEUED, _SNAPSHOTS, _TRADES = range(7)
_SAMPLE_MASK = 127      # every 128th applied diff of a pair is a latency sample (a power of two minus 1)
_COUNTER_NAMES = ("diffs_processed", "diffs_rejected_stale", "diffs_rejected_gap", "diffs_rejected_malformed",
                  "diffs_queued", "snapshots", "trades")


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

    def event_time_ms(self, frame: bytes) -> Optional[float]:
        """The exchange's event time of a diff frame (ms since the epoch), for latency samples;
        None: not available (no latency metrics). Called on sampled frames only."""
        return None

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
    LATENCY_SAMPLE_EVERY = _SAMPLE_MASK + 1     # one applied diff in this many per pair is sampled
    LATENCY_WINDOW = 1024                       # latency stats cover the last this many samples

    def __init__(self, data_source: OrderBookTrackerDataSource, trading_pairs: Iterable[str], *,
                 metrics_clock: Callable[[], float] = time.monotonic,
                 wall_clock_ms: Callable[[], float] = lambda: time.time() * 1000.0) -> None:
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
        self.reconnect_count = 0
        #: book or trade frames of a pair this tracker does not follow (e.g. still arriving just
        #: after remove_trading_pair): rejected, and counted here (catalogue OB-28)
        self.unrouted_count = 0
        # Metrics (see ``metrics()``): per-pair counter lists; the totals of removed pairs are kept
        # in ``_retired`` so global counts never go down.
        self._clock = metrics_clock
        self._counts: Dict[str, List[int]] = {p: [0] * len(_COUNTER_NAMES) for p in self._trading_pairs}
        self._since: Dict[str, float] = {p: metrics_clock() for p in self._trading_pairs}
        self._retired: List[int] = [0] * len(_COUNTER_NAMES)
        self._metrics_since = metrics_clock()
        self._wall_clock_ms = wall_clock_ms
        self._latency_ms: Deque[float] = deque(maxlen=self.LATENCY_WINDOW)
        self._latency_samples = 0

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

    # ------------------------------------------------------------------------- metrics
    def _total(self, index: int) -> int:
        return self._retired[index] + sum(c[index] for c in self._counts.values())

    @property
    def diff_count(self) -> int:
        """Diffs applied to a book in sync (all pairs, ever)."""
        return self._total(_PROCESSED)

    @property
    def gap_count(self) -> int:
        """Diffs that broke the sequence of a book in sync (each starts a resync)."""
        return self._total(_GAP)

    @property
    def snapshot_count(self) -> int:
        return self._total(_SNAPSHOTS)

    @staticmethod
    def _counter_dict(counts: List[int], minutes: float) -> Dict[str, Any]:
        out: Dict[str, Any] = dict(zip(_COUNTER_NAMES, counts))
        out["diffs_rejected"] = counts[_STALE] + counts[_GAP] + counts[_MALFORMED]
        per_min = (lambda n: n / minutes) if minutes > 0 else (lambda n: 0.0)
        out["diffs_processed_per_min"] = per_min(counts[_PROCESSED])
        out["diffs_rejected_per_min"] = per_min(out["diffs_rejected"])
        out["snapshots_per_min"] = per_min(counts[_SNAPSHOTS])
        out["trades_per_min"] = per_min(counts[_TRADES])
        out["elapsed_s"] = minutes * 60.0
        return out

    def latency_stats(self) -> Dict[str, Any]:
        """Feed latency of sampled diffs: local wall clock when the diff was applied minus the
        exchange's event time (``E``), in ms, over the last ``LATENCY_WINDOW`` samples; all 0 when
        there is no sample yet. It includes the clock offset between exchange and host (so it can
        be slightly negative); ``min``/``max``/``mean`` are of the window, ``samples`` is lifetime."""
        window = self._latency_ms
        n = len(window)
        return {"samples": self._latency_samples, "window": n, "sample_every": self.LATENCY_SAMPLE_EVERY,
                "min_ms": min(window) if n else 0, "max_ms": max(window) if n else 0,
                "mean_ms": sum(window) / n if n else 0.0}

    def metrics(self) -> Dict[str, Any]:
        """Plain-dict export: ``global`` and ``pairs`` (counts, per-minute rates since the tracker /
        the pair started; 0 when no time has elapsed), ``latency``, ``reconnects``, ``frames``.
        A removed pair's entry is dropped (its counts stay in ``global``)."""
        now = self._clock()
        totals = [self._total(i) for i in range(len(_COUNTER_NAMES))]
        return {
            "global": self._counter_dict(totals, (now - self._metrics_since) / 60.0),
            "pairs": {p: self._counter_dict(list(c), (now - self._since[p]) / 60.0) for p, c in self._counts.items()},
            "latency": self.latency_stats(),
            "reconnects": self.reconnect_count,
            "unrouted_frames": self.unrouted_count,
        }

    def _sample_latency(self, frame: bytes) -> None:
        try:
            event_ms = self.data_source.event_time_ms(frame)
        except Exception:
            return
        if event_ms is not None:
            self._latency_samples += 1
            self._latency_ms.append(self._wall_clock_ms() - event_ms)

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
        self._counts[trading_pair] = [0] * len(_COUNTER_NAMES)
        self._since[trading_pair] = self._clock()
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
        counts = self._counts.pop(trading_pair, None)
        if counts is not None:
            self._retired = [a + b for a, b in zip(self._retired, counts)]
        self._since.pop(trading_pair, None)
        self._syncing.discard(trading_pair)
        self._ever_synced.discard(trading_pair)
        if trading_pair in self._trading_pairs:
            self._trading_pairs.remove(trading_pair)

    def start(self) -> None:
        if self._listen_task is None or self._listen_task.done():
            self._listen_task = asyncio.get_running_loop().create_task(
                self.data_source.listen_for_subscriptions(self._trading_pairs, self._on_frame, self._on_connected))

    async def stop(self) -> None:
        await cancel_and_wait([self._listen_task, *self._resync_tasks.values()])
        self._listen_task = None
        self._resync_tasks.clear()

    # --------------------------------------------------------------------------- hot path
    def _on_frame(self, frame: bytes) -> None:
        # Metrics here are integer increments only (+ a latency sample every 128th applied diff).
        kind, pair = self.data_source.route(frame)
        try:
            counts = self._counts[pair]        # same keys as _order_books
        except KeyError:                       # None (not a book/trade frame) or an untracked pair
            if kind:
                self.unrouted_count += 1
            return
        if kind == DIFF:
            if pair in self._syncing:
                counts[4] += 1                                  # _QUEUED
                self._buffers[pair].append(frame)
                return
            book = self._order_books[pair]
            try:
                status = self.data_source.apply_diff(book, frame)
            except ValueError:
                counts[3] += 1                                  # _MALFORMED
                _log.error("Unexpected error when processing public order book updates from exchange "
                           "(malformed frame for %s); resynchronising", pair)
                self._request_resync(pair)
                return
            if status == APPLIED:
                n = counts[0] + 1                               # _PROCESSED
                counts[0] = n
                if not n & _SAMPLE_MASK:
                    self._sample_latency(frame)
                for listener in self._update_listeners:
                    try:
                        listener(pair, book)
                    except Exception:
                        _log.exception("Order book update listener failed")
            elif status == GAP or status == NOT_SYNCED:
                counts[2] += 1                                  # _GAP
                _log.warning("Order book of %s lost sequence; resynchronising from a new snapshot", pair)
                self._buffers[pair].append(frame)
                self._request_resync(pair)
            else:
                counts[1] += 1                                  # _STALE
        elif kind == TRADE:
            counts[6] += 1                                      # _TRADES
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
        counts = self._counts[pair]
        counts[_SNAPSHOTS] += 1
        while buffer:
            frame = buffer.popleft()
            try:
                status = self.data_source.apply_diff(book, frame)
            except ValueError:
                counts[_MALFORMED] += 1
                continue
            if status == GAP or status == NOT_SYNCED:
                # Snapshot older than the buffered diffs: keep them and fetch a newer one.
                buffer.appendleft(frame)
                return False
            counts[_PROCESSED if status == APPLIED else _STALE] += 1
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
