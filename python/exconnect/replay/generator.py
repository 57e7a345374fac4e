"""Deterministic random process behind the replay workload, in integer ticks and steps.

It produces what a Binance spot BTCUSDT diff-depth stream describes: a ~1,000-level-a-side book,
then events of ~12 level changes each around a mid price that random-walks, with ~30% deletes.
Everything here is integers (price in ticks of 0.01, quantity in steps of 0.00001) so that the
text encoding (`encoding.py`) and the pre-parsed forms are exact views of the same numbers.

Invariants the generator keeps, so every consumer can rely on them:
- bids are <= mid and asks are >= mid + 1 (never crossed, never locked);
- within one event a price appears at most once per side;
- every delete (quantity 0) targets a level that exists just before the event (Binance also
  sends deletes of absent levels; consumers must accept those, but this workload has none);
- the result depends only on the seed (Python's `random.Random`, stable across versions for the
  calls used: random(), randrange(), expovariate(), gauss() with a seeded instance).
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import List, Tuple

from bisect import bisect_left, insort

# Bump when the process changes, so caches written by older code are not reused.
GENERATOR_VERSION = 1

# (price_ticks, qty_steps); qty_steps == 0 removes the level.
Level = Tuple[int, int]


@dataclass
class GeneratedEvent:
    first_update_id: int      # Binance "U"
    last_update_id: int       # Binance "u"
    previous_update_id: int   # futures "pu" (previous event's u)
    event_time_ms: int        # "E"
    bids: List[Level]         # best (highest) first
    asks: List[Level]         # best (lowest) first


class _Side:
    """One side of the generator's book: a sorted price list plus qty by price.

    ~1,000 levels: list insert/delete (a short memmove) beats a tree here, and indexing by rank is
    O(1), which is what the generator does most.
    """

    __slots__ = ("prices", "qty")

    def __init__(self) -> None:
        self.prices: List[int] = []      # ascending
        self.qty: dict = {}

    def __len__(self) -> int:
        return len(self.prices)

    def __contains__(self, price: int) -> bool:
        return price in self.qty

    def __setitem__(self, price: int, qty: int) -> None:
        if price not in self.qty:
            insort(self.prices, price)
        self.qty[price] = qty

    def __delitem__(self, price: int) -> None:
        del self.qty[price]
        del self.prices[bisect_left(self.prices, price)]

    def pop_at(self, index: int) -> int:
        price = self.prices.pop(index)
        del self.qty[price]
        return price


class DepthProcess:
    """Generates a snapshot then events; call `snapshot()` once, then `next_event()` repeatedly."""

    def __init__(self, seed: int, *, levels_per_side: int, changes_per_frame: int,
                 delete_ratio: float, start_price_ticks: int, first_update_id: int,
                 start_time_ms: int, futures: bool, deep_fraction: float = 0.10) -> None:
        if levels_per_side < 1:
            raise ValueError(f"levels_per_side must be >= 1, got {levels_per_side}")
        if changes_per_frame < 1:
            raise ValueError(f"changes_per_frame must be >= 1, got {changes_per_frame}")
        if not 0.0 <= delete_ratio < 1.0:
            raise ValueError(f"delete_ratio must be in [0, 1), got {delete_ratio}")
        if not 0.0 <= deep_fraction <= 1.0:
            raise ValueError(f"deep_fraction must be in [0, 1], got {deep_fraction}")
        if start_price_ticks <= 4 * levels_per_side:
            raise ValueError("start price too low for the requested depth")
        self._rng = random.Random(seed)
        self._levels_per_side = levels_per_side
        self._changes = changes_per_frame
        self._delete_ratio = delete_ratio
        self._mid = start_price_ticks          # bids <= mid < asks
        self._futures = futures
        self._near = 1.0 - deep_fraction        # share of changes near the top of the book
        self._bids = _Side()
        self._asks = _Side()
        self._update_id = first_update_id
        self._time_ms = start_time_ms
        self._started = False

    # -- quantities -------------------------------------------------------------------------------
    def _qty(self) -> int:
        # Log-normal sizes: median ~0.02 BTC, long tail to tens of BTC; at least one step.
        steps = int(math.exp(self._rng.gauss(7.6, 1.8)))
        return min(max(steps, 1), 5_000_000)

    # -- snapshot ---------------------------------------------------------------------------------
    def snapshot(self) -> Tuple[int, List[Level], List[Level]]:
        """(lastUpdateId, bids best first, asks best first)."""
        rng = self._rng
        price = self._mid
        for _ in range(self._levels_per_side):
            self._bids[price] = self._qty()
            price -= 1 + int(rng.expovariate(1.5))   # mostly adjacent ticks, some gaps
        price = self._mid + 1
        for _ in range(self._levels_per_side):
            self._asks[price] = self._qty()
            price += 1 + int(rng.expovariate(1.5))
        bids = [(p, self._bids.qty[p]) for p in reversed(self._bids.prices)]
        asks = [(p, self._asks.qty[p]) for p in self._asks.prices]
        return self._update_id, bids, asks

    # -- events -----------------------------------------------------------------------------------
    def next_event(self) -> GeneratedEvent:
        rng = self._rng
        bids, asks = self._bids, self._asks
        # Mid walk: about a tick per 100 ms event, symmetric.
        self._mid += int(rng.gauss(0.0, 1.2))
        mid = self._mid
        bid_changes: dict = {}
        ask_changes: dict = {}
        # Levels the walk crossed are consumed first (a real book never crosses).
        while bids and bids.prices[-1] > mid:
            bid_changes[bids.pop_at(-1)] = 0
        while asks and asks.prices[0] <= mid:
            ask_changes[asks.pop_at(0)] = 0
        # ~changes_per_frame level changes in this event (±4): a delete_ratio share are deletes
        # (the crossed levels above count), as many new levels as deletes (nudged toward the
        # target depth), and the rest are size changes on existing levels.
        wanted = max(1, self._changes + rng.randrange(-4, 5))
        crossed = len(bid_changes) + len(ask_changes)
        deletes = max(0, self._stochastic_round(wanted * self._delete_ratio) - crossed)
        bid_deletes = sum(1 for _ in range(deletes) if rng.random() < 0.5)
        plan = []
        for is_bid, side, changes, side_deletes in (
                (True, bids, bid_changes, bid_deletes), (False, asks, ask_changes, deletes - bid_deletes)):
            removed = len(changes) + side_deletes
            # Each side refills what it lost, nudged toward the target depth.
            inserts = self._stochastic_round(removed * self._levels_per_side / max(len(side) - side_deletes, 1))
            plan.append((is_bid, side, changes, side_deletes, inserts))
        budget = wanted - crossed
        for is_bid, side, changes, side_deletes, _ in plan:
            for _ in range(min(side_deletes, budget)):
                self._touch(side, changes, is_bid, delete=True)
                budget -= 1
        for is_bid, side, changes, _, inserts in plan:
            for _ in range(min(inserts, budget)):
                self._insert(side, changes, is_bid)
                budget -= 1
        for _ in range(budget):
            is_bid = rng.random() < 0.5
            self._touch(bids if is_bid else asks, bid_changes if is_bid else ask_changes, is_bid, delete=False)
        return self._emit(bid_changes, ask_changes)

    def _stochastic_round(self, value: float) -> int:
        whole = int(value)
        return whole + (1 if self._rng.random() < value - whole else 0)

    def _rank(self, side: _Side) -> int:
        # Mostly near the top (exponential in rank, mean 12), else anywhere in the book.
        if self._rng.random() < self._near:
            return min(int(self._rng.expovariate(1 / 12.0)), len(side) - 1)
        return self._rng.randrange(len(side))

    def _touch(self, side: _Side, changes: dict, is_bid: bool, *, delete: bool) -> None:
        """Delete or resize an existing level not yet changed in this event."""
        if len(side) <= (self._levels_per_side // 4 if delete else 0):
            return  # never let a side run dry
        for _ in range(8):
            rank = self._rank(side)
            price = side.prices[-1 - rank if is_bid else rank]
            if price not in changes:
                break
        else:
            return
        if delete:
            del side[price]
            changes[price] = 0
        else:
            qty = self._qty()
            side[price] = qty
            changes[price] = qty

    def _insert(self, side: _Side, changes: dict, is_bid: bool) -> None:
        """Add a level at a free price: mostly near the mid, sometimes anywhere in the range."""
        rng = self._rng
        mid = self._mid
        for attempt in range(16):
            if rng.random() < self._near:
                offset = int(rng.expovariate(1 / (10.0 + 10 * attempt)))
            else:
                span = (side.prices[-1] - side.prices[0]) if side else 1000
                offset = rng.randrange(max(span, 1))
            price = mid - offset if is_bid else mid + 1 + offset
            if price > 0 and price not in side and price not in changes:
                qty = self._qty()
                side[price] = qty
                changes[price] = qty
                return

    def _emit(self, bid_changes: dict, ask_changes: dict) -> GeneratedEvent:
        rng = self._rng
        count = len(bid_changes) + len(ask_changes)
        previous = self._update_id
        if not self._started:
            # The first event overlaps the snapshot id, as Binance's live stream does
            # (spot: U <= lastUpdateId+1 <= u; futures: U <= lastUpdateId <= u).
            first = previous - rng.randrange(1, 4)
            previous = first - 1 - rng.randrange(0, 6)   # its pu: an event before the snapshot
            self._started = True
        elif self._futures:
            first = previous + 1 + rng.randrange(0, 6)   # futures ids are not contiguous
        else:
            first = previous + 1
        # Several internal updates may coalesce into one event: u - U + 1 >= number of levels.
        last = max(first + count - 1 + rng.randrange(0, 8), self._update_id + 1)
        self._update_id = last
        self._time_ms += 100
        return GeneratedEvent(
            first_update_id=first, last_update_id=last, previous_update_id=previous,
            event_time_ms=self._time_ms,
            bids=sorted(bid_changes.items(), reverse=True),
            asks=sorted(ask_changes.items()),
        )

    @property
    def depth(self) -> Tuple[int, int]:
        """Current number of (bid, ask) levels."""
        return len(self._bids), len(self._asks)

    @property
    def book(self) -> Tuple[dict, dict]:
        """Copies of the generator's own book (price_ticks -> qty_steps): the expected end state."""
        return dict(self._bids.qty), dict(self._asks.qty)
