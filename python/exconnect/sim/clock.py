"""The simulator's clock: wall time in ms plus a fault-injectable skew.

Everything that stamps or checks time (``serverTime``, ``transactTime``, recvWindow checks, event
``E`` fields, rate-limit windows) reads this one clock, so ``faults.clock_skew_ms`` moves the
whole exchange's notion of "now" the way a real client/server clock drift would look.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Callable, Optional


class Clock:
    def __init__(self, skew_ms: int = 0):
        self.skew_ms = int(skew_ms)

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000 + self.skew_ms

    def now_us(self) -> int:
        return time.time_ns() // 1_000 + self.skew_ms * 1000

    @staticmethod
    def monotonic() -> float:
        """Seconds for rate-limit windows and lifetimes (unaffected by skew)."""
        return time.monotonic()


class Periodic:
    """A background loop calling ``step()`` every ``interval_s`` seconds (the market agents, the
    market-data timer). A failing step is logged with ``what`` and the loop goes on."""

    def __init__(self, interval_s: float, step: Callable[[], None], what: str, logger: logging.Logger):
        self.interval_s = interval_s
        self._step = step
        self._what = what
        self._log = logger
        self._task: Optional[asyncio.Task] = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                self._step()
            except Exception:
                self._log.exception("%s failed", self._what)
