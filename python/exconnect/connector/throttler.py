"""Request rate limiting with weights and linked pools, O(1) amortised per request.

Each limit (an endpoint id or a shared pool such as REQUEST_WEIGHT / ORDERS) keeps a sliding
window as a deque of (time, weight) buckets plus the running sum of the weights in the window.
Expiring entries pops from the left, so each entry is added once and removed once: constant
amortised cost per request however long the bot runs (Hummingbot's throttler re-scanned its whole
log on every acquire — issue #7621). Requests within 1/1000 of the interval share a bucket, so a
day-long pool holds ~1,000 entries, not one per order; a bucket expires with its newest request
(it may over-count by 0.1% of the interval, never under-count).

A request acquires its own limit and every linked pool (with the link's weight) atomically: it
waits until all of them have room, sleeping exactly until the oldest blocking entry expires instead
of polling. On HTTP 429/418 the caller reports ``backoff(retry_after)``; every acquire then waits
until that moment (Binance escalates repeated 429s into IP bans).
"""
from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import AsyncIterator, Callable, Deque, Dict, Iterable, List, Optional, Tuple

__all__ = ["RateLimit", "LinkedLimitWeightPair", "AsyncThrottler"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LinkedLimitWeightPair:
    limit_id: str
    weight: int = 1


@dataclass
class RateLimit:
    """``limit`` units of weight per ``time_interval`` seconds for ``limit_id``.

    ``weight`` is what one request to this id costs against its own limit; ``linked_limits`` are
    the pools the request also counts against, each with its own weight.
    """
    limit_id: str
    limit: int
    time_interval: float
    weight: int = 1
    linked_limits: List[LinkedLimitWeightPair] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.limit < 0 or self.time_interval <= 0 or self.weight < 0:
            raise ValueError(f"invalid rate limit {self.limit_id}: limit={self.limit} "
                             f"interval={self.time_interval} weight={self.weight}")


#: a window keeps at most about this many entries: requests within interval/BUCKETS of a bucket's
#: first one share its entry (a day-long ORDERS window would otherwise hold every order of the day)
BUCKETS = 1000


class _Window:
    """Entries are (expiry stamp, weight, bucket start). A bucket's weight is stamped with its
    newest request, so it expires at most interval/BUCKETS late: the window over-counts slightly,
    never under-counts (the safe side for a ban)."""
    __slots__ = ("limit", "interval", "entries", "used", "bucket")

    def __init__(self, limit: int, interval: float) -> None:
        self.limit = limit
        self.interval = interval
        self.entries: Deque[Tuple[float, int, float]] = deque()
        self.used = 0
        self.bucket = interval / BUCKETS

    def expire(self, now: float) -> None:
        entries = self.entries
        horizon = now - self.interval
        while entries and entries[0][0] <= horizon:
            self.used -= entries.popleft()[1]

    def wait_time(self, now: float, weight: int) -> float:
        """Seconds until ``weight`` more fits (0 if it fits now). Assumes ``expire(now)`` ran."""
        if self.used + weight <= self.limit:
            return 0.0
        if weight > self.limit:
            # Would never fit: let it through alone once the window is empty rather than hang.
            if not self.entries:
                return 0.0
            return self.entries[-1][0] + self.interval - now
        need = self.used + weight - self.limit
        freed = 0
        for stamp, w, _ in self.entries:   # only runs while over capacity
            freed += w
            if freed >= need:
                return stamp + self.interval - now
        return self.interval

    def add(self, now: float, weight: int) -> None:
        if weight:
            entries = self.entries
            if entries and now - entries[-1][2] < self.bucket:
                _, w, start = entries[-1]
                entries[-1] = (now, w + weight, start)
            else:
                entries.append((now, weight, now))
            self.used += weight


class AsyncThrottler:
    """Shared by every REST caller of one connector (``connector.throttler``).

    ``limits_share_percentage`` lets several bots share one IP budget: each limit becomes
    ``max(1, floor(limit * pct / 100))``. Unknown limit ids are not throttled (logged once).
    """

    def __init__(self, rate_limits: Iterable[RateLimit] = (), limits_share_percentage: float = 100,
                 time_provider: Callable[[], float] = time.monotonic) -> None:
        if not 0 < limits_share_percentage <= 100:
            raise ValueError("limits_share_percentage must be in (0, 100]")
        self._share = limits_share_percentage
        self._time = time_provider
        self._limits: Dict[str, RateLimit] = {}
        self._windows: Dict[str, _Window] = {}
        self._plans: Dict[str, List[Tuple[_Window, int]]] = {}
        self._blocked_until = 0.0
        self._lock = asyncio.Lock()
        self._unknown_warned: set = set()
        self.set_rate_limits(rate_limits)

    # -- configuration -------------------------------------------------------------------------
    @property
    def rate_limits(self) -> List[RateLimit]:
        return list(self._limits.values())

    def set_rate_limits(self, rate_limits: Iterable[RateLimit]) -> None:
        """Replace all limits, keeping the recorded usage of ids that stay."""
        new = {rl.limit_id: rl for rl in rate_limits}
        windows: Dict[str, _Window] = {}
        for limit_id, rl in new.items():
            scaled = max(1, math.floor(rl.limit * self._share / 100)) if rl.limit else 0
            old = self._windows.get(limit_id)
            if old is not None and old.interval == rl.time_interval:
                old.limit = scaled
                windows[limit_id] = old
            else:
                windows[limit_id] = _Window(scaled, rl.time_interval)
        self._limits, self._windows = new, windows
        self._plans = {}

    def update_pool_limit(self, limit_id: str, limit: int, time_interval: Optional[float] = None) -> None:
        """Adjust one pool (e.g. from exchangeInfo ``rateLimits``); creates it if missing."""
        old = self._limits.get(limit_id)
        rl = RateLimit(limit_id, limit, time_interval or (old.time_interval if old else 60.0),
                       old.weight if old else 1, list(old.linked_limits) if old else [])
        self.set_rate_limits([*(v for k, v in self._limits.items() if k != limit_id), rl])

    def limit(self, limit_id: str) -> Optional[RateLimit]:
        return self._limits.get(limit_id)

    def used(self, limit_id: str) -> int:
        window = self._windows.get(limit_id)
        if window is None:
            return 0
        window.expire(self._time())
        return window.used

    def capacity(self, limit_id: str) -> int:
        window = self._windows.get(limit_id)
        return window.limit if window else 0

    def _plan(self, limit_id: str) -> List[Tuple[_Window, int]]:
        plan = self._plans.get(limit_id)
        if plan is None:
            plan = []
            rl = self._limits.get(limit_id)
            if rl is None:
                if limit_id not in self._unknown_warned:
                    self._unknown_warned.add(limit_id)
                    _log.debug("No rate limit configured for %s; not throttled", limit_id)
            else:
                plan.append((self._windows[limit_id], rl.weight))
                for link in rl.linked_limits:
                    window = self._windows.get(link.limit_id)
                    if window is not None:
                        plan.append((window, link.weight))
            self._plans[limit_id] = plan
        return plan

    # -- use -----------------------------------------------------------------------------------
    def within_capacity(self, limit_id: str) -> bool:
        now = self._time()
        if now < self._blocked_until:
            return False
        for window, weight in self._plan(limit_id):
            window.expire(now)
            if window.wait_time(now, weight) > 0:
                return False
        return True

    def backoff(self, retry_after: float) -> None:
        """Block every request for ``retry_after`` seconds (after HTTP 429 / 418)."""
        until = self._time() + max(0.0, retry_after)
        if until > self._blocked_until:
            self._blocked_until = until
            _log.warning("Rate limited by the exchange: pausing all requests for %.1f s", retry_after)

    @property
    def blocked_for(self) -> float:
        return max(0.0, self._blocked_until - self._time())

    async def acquire(self, limit_id: str) -> None:
        plan = self._plan(limit_id)
        # Fast path: no waiting needed and nobody queued ahead of us.
        if not self._lock.locked():
            now = self._time()
            if now >= self._blocked_until:
                ok = True
                for window, weight in plan:
                    window.expire(now)
                    if window.wait_time(now, weight) > 0:
                        ok = False
                        break
                if ok:
                    for window, weight in plan:
                        window.add(now, weight)
                    return
        # Slow path: FIFO through the lock so a heavy request is not starved by light ones.
        async with self._lock:
            while True:
                now = self._time()
                delay = self._blocked_until - now
                if delay <= 0:
                    delay = 0.0
                    for window, weight in plan:
                        window.expire(now)
                        delay = max(delay, window.wait_time(now, weight))
                if delay <= 0:
                    for window, weight in plan:
                        window.add(now, weight)
                    return
                await asyncio.sleep(delay + 0.001)

    @asynccontextmanager
    async def execute_task(self, limit_id: str) -> AsyncIterator[None]:
        """Hummingbot-style: ``async with throttler.execute_task(limit_id): <request>``."""
        await self.acquire(limit_id)
        yield
