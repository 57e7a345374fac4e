"""Server clock offset estimation (for signed requests' ``timestamp``).

Each sample is ``server_time - midpoint(local_before, local_after)``. With several samples the
offset is the mean of their median and a linearly weighted average (newer samples weigh more:
1, 3, 5, …), as Hummingbot's TimeSynchronizer does — robust to one slow round trip, quick to follow
a real drift.
"""
from __future__ import annotations

import asyncio
import logging
import statistics
import time
from collections import deque
from typing import Awaitable, Callable, Deque

__all__ = ["TimeSynchronizer"]

_log = logging.getLogger(__name__)


class TimeSynchronizer:
    def __init__(self, max_samples: int = 5, time_provider: Callable[[], float] = time.time) -> None:
        self._samples: Deque[float] = deque(maxlen=max_samples)   # ms
        self._time = time_provider
        self._offset_ms = 0.0
        self._lock = asyncio.Lock()

    @property
    def time_offset_ms(self) -> float:
        return self._offset_ms

    @property
    def has_samples(self) -> bool:
        return bool(self._samples)

    def add_time_offset_ms_sample(self, offset_ms: float) -> None:
        self._samples.append(float(offset_ms))
        samples = list(self._samples)
        if len(samples) == 1:
            self._offset_ms = samples[0]
            return
        median = statistics.median(samples)
        weights = [2 * i + 1 for i in range(len(samples))]
        weighted = sum(w * s for w, s in zip(weights, samples)) / sum(weights)
        self._offset_ms = (median + weighted) / 2

    def clear_time_offset_ms_samples(self) -> None:
        self._samples.clear()
        self._offset_ms = 0.0

    def time(self) -> float:
        """Estimated server time in seconds."""
        return self._time() + self._offset_ms / 1000.0

    def time_ms(self) -> int:
        return int(self._time() * 1000 + self._offset_ms)

    async def update_server_time_offset_with_time_provider(
            self, server_time_ms: Callable[[], Awaitable[float]]) -> None:
        """Take one sample by calling ``server_time_ms()`` (a coroutine returning server ms)."""
        async with self._lock:
            before = self._time()
            server_ms = await server_time_ms()
            after = self._time()
            self.add_time_offset_ms_sample(float(server_ms) - (before + after) * 500.0)
            _log.debug("Server time offset %.1f ms", self._offset_ms)
