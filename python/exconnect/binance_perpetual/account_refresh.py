"""Prompt, coalesced, throttled re-read of the account (available margin, positions).

Why: ACCOUNT_UPDATE carries the wallet balance (``wb``) but not the available margin, which
also moves when an order rests, fills or is cancelled (``cw`` is the cross wallet balance, not
what can be used). Without a re-read the available balance would wait for the next REST poll and
could be shown above the wallet total while a position holds margin.

``request()`` may be called for every event: a burst becomes one refresh after ``settle_delay``,
and refreshes are at least ``min_interval`` apart (the account endpoints weigh 5 each). A request
made while a refresh is running leads to one more refresh, so the last event is always followed by
a read that started after it: staleness is bounded by ``settle_delay + min_interval`` plus one
round trip.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Awaitable, Callable, Optional

__all__ = ["AccountRefresher"]

_log = logging.getLogger("exconnect.binance_perpetual.binance_perpetual_derivative")


class AccountRefresher:
    def __init__(self, refresh: Callable[[], Awaitable[None]], spawn: Callable[[Awaitable[None]], asyncio.Task],
                 settle_delay: float = 0.1, min_interval: float = 1.0) -> None:
        if settle_delay < 0 or min_interval < 0:
            raise ValueError("settle_delay and min_interval must not be negative")
        self._refresh = refresh
        self._spawn = spawn
        self.settle_delay = float(settle_delay)
        self.min_interval = float(min_interval)
        self._wanted = False
        self._task: Optional[asyncio.Task] = None
        self._last_start = float("-inf")
        self.refresh_count = 0          # refreshes started (observable in tests)

    def request(self) -> None:
        self._wanted = True
        if self._task is None or self._task.done():
            self._task = self._spawn(self._run())

    async def _run(self) -> None:
        while self._wanted:
            delay = max(self.settle_delay, self._last_start + self.min_interval - time.monotonic())
            await asyncio.sleep(delay)
            self._wanted = False            # requests from here on need a read that starts later
            self._last_start = time.monotonic()
            self.refresh_count += 1
            try:
                await self._refresh()
            except asyncio.CancelledError:
                raise
            except Exception as e:
                _log.warning("Could not refresh the account after an update (%s); the next poll will.", e)
