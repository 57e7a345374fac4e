"""Mark price, index price, premium index and funding rates for the simulated perpetuals.

Model (exact fixed point, ``numbers`` atoms; documented so tests can predict every value):

* **Mark price** follows the book: the venue calls :meth:`SymbolFunding.update_mark` with the mid
  of best bid and ask (floored to the tick) whenever it samples the market.
* **Index price** = mark / (1 + ``index_premium``) — ``index_premium`` is 0 by default (index ==
  mark) and can be set per symbol (config or at run time) to push the funding rate up or down.
* **Premium index** P = (mark − index) / index, sampled at every mark update; the funding rate
  uses the average of the samples taken since the last settlement (the current P if none).
* **Funding rate** F = P̄ + clamp(I − P̄, −0.05 %, +0.05 %), then clamped to ±``rate_cap``;
  I (``interest_rate``) is 0.01 % **per funding interval** whatever the interval length (Binance
  scales I to the interval; we keep it fixed so a seconds-long test interval still pays visibly).
  With index == mark, F = 0.01 % (Binance's usual resting rate).
* **Funding times** are the multiples of the interval since the epoch (8 h → 00:00, 08:00,
  16:00 UTC, like Binance). ``nextFundingTime`` is the next multiple after now.
* **Settlement** (see ``FuturesAccount.apply_funding``): payment = −position notional at mark ×
  rate (positive rate ⇒ longs pay, shorts receive).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional

from .money import ONE, parse

DEFAULT_INTERVAL_MS = 8 * 3600 * 1000
INTEREST_RATE = parse("0.0001")
INTEREST_CLAMP = parse("0.0005")
RATE_CAP = parse("0.02")


def next_funding_time(now_ms: int, interval_ms: int) -> int:
    """First funding time strictly after ``now_ms``."""
    return (now_ms // interval_ms + 1) * interval_ms


def _clamp(value: int, low: int, high: int) -> int:
    return low if value < low else high if value > high else value


@dataclass
class FundingRecord:
    symbol: str
    rate: int
    time: int
    mark: int


@dataclass
class SymbolFunding:
    symbol: str
    interval_ms: int = DEFAULT_INTERVAL_MS
    index_premium: int = 0  # atoms: index = mark / (1 + index_premium)
    interest_rate: int = INTEREST_RATE
    rate_cap: int = RATE_CAP
    mark: int = 0
    index: int = 0
    last_settled_rate: int = 0
    history: List[FundingRecord] = field(default_factory=list)
    _premium_sum: int = 0
    _mark_sum: int = 0
    _samples: int = 0

    def update_mark(self, mark: int) -> None:
        """New mark sample (atoms > 0); recomputes index and accumulates the premium."""
        if mark <= 0:
            return
        self.mark = mark
        self.index = mark * ONE // (ONE + self.index_premium)
        self._premium_sum += self.premium()
        self._mark_sum += mark
        self._samples += 1

    def premium(self) -> int:
        if self.index <= 0:
            return 0
        return (self.mark - self.index) * ONE // self.index

    def average_premium(self) -> int:
        if self._samples == 0:
            return self.premium()
        return self._premium_sum // self._samples

    def mark_average(self) -> int:
        """Binance's ``ap`` (mark-price moving average over the current interval)."""
        if self._samples == 0:
            return self.mark
        return self._mark_sum // self._samples

    def estimated_rate(self) -> int:
        """The rate that would settle now (premiumIndex ``lastFundingRate`` / markPrice ``r``)."""
        p = self.average_premium()
        rate = p + _clamp(self.interest_rate - p, -INTEREST_CLAMP, INTEREST_CLAMP)
        return _clamp(rate, -self.rate_cap, self.rate_cap)

    def next_time(self, now_ms: int) -> int:
        return next_funding_time(now_ms, self.interval_ms)

    def settle(self, time_ms: int) -> FundingRecord:
        """Fix the rate for the funding time ``time_ms``, record it, start a new interval."""
        rec = FundingRecord(self.symbol, self.estimated_rate(), time_ms, self.mark)
        self.history.append(rec)
        self.last_settled_rate = rec.rate
        self._premium_sum = self._mark_sum = self._samples = 0
        if self.mark:
            self.update_mark(self.mark)  # the new interval starts from the current sample
        return rec

    def query_history(
        self, start: Optional[int] = None, end: Optional[int] = None, limit: int = 100
    ) -> List[FundingRecord]:
        """Ascending; with startTime the first ``limit`` from it, otherwise the most recent."""
        rows = [r for r in self.history if (start is None or r.time >= start) and (end is None or r.time <= end)]
        return rows[:limit] if start is not None else rows[-limit:]
