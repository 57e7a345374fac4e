"""Latency and event bookkeeping for the demo: bounded samples, percentiles on demand."""
from __future__ import annotations

from collections import Counter, deque
from typing import Deque, Dict, Optional


class LatencySeries:
    """The last `maxlen` samples of one latency, in nanoseconds."""

    __slots__ = ("name", "unit", "_samples", "count")

    def __init__(self, name: str, unit: str = "µs", maxlen: int = 20_000) -> None:
        self.name = name
        self.unit = unit                      # display unit: "µs" or "ms"
        self._samples: Deque[int] = deque(maxlen=maxlen)
        self.count = 0

    def add(self, ns: int) -> None:
        if ns >= 0:                            # a clock step backwards is not a latency
            self._samples.append(ns)
            self.count += 1

    def percentile(self, q: float) -> Optional[float]:
        """q in [0, 100]; nearest-rank on the retained samples, in the display unit."""
        if not self._samples:
            return None
        ordered = sorted(self._samples)
        rank = min(len(ordered) - 1, max(0, int(round(q / 100.0 * (len(ordered) - 1)))))
        scale = 1_000.0 if self.unit == "µs" else 1_000_000.0
        return ordered[rank] / scale

    def describe(self) -> str:
        p50, p99 = self.percentile(50), self.percentile(99)
        if p50 is None:
            return "n/a"
        return f"p50 {p50:,.1f} {self.unit}  p99 {p99:,.1f} {self.unit}  (n={self.count:,})"


class DemoMetrics:
    """Everything the live view and the final summary show, gathered in one place."""

    def __init__(self) -> None:
        self.frame_to_book = LatencySeries("depth frame → book (parse+check+apply)", "µs")
        self.sent_to_ack = LatencySeries("order sent → ack (created event)", "ms")
        self.fill_to_event = LatencySeries("exchange fill → fill event", "ms")
        self.events: Counter = Counter()
        self.orders_sent = 0
        self.cancels_sent = 0
        self.quote_refreshes = 0
        self.fills: Deque[tuple] = deque(maxlen=12)   # (time, side, price, amount, fee text)
        self.filled_base: Dict[str, object] = {}

    def series(self):
        return (self.frame_to_book, self.sent_to_ack, self.fill_to_event)
