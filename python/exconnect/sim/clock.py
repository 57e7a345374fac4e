"""The simulator's clock: wall time in ms plus a fault-injectable skew.

Everything that stamps or checks time (``serverTime``, ``transactTime``, recvWindow checks, event
``E`` fields, rate-limit windows) reads this one clock, so ``faults.clock_skew_ms`` moves the
whole exchange's notion of "now" the way a real client/server clock drift would look.
"""
from __future__ import annotations

import time


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
