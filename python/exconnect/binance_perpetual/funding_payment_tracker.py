"""Detects funding payments (income FUNDING_FEE) and announces each exactly once.

Triggers: an ACCOUNT_UPDATE with reason FUNDING_FEE, the periodic poll, and start-up (payments made
while the connector was down). Every trigger runs the same income poll; a trigger during a running
poll schedules one more run after it, so nothing is missed and polls never overlap.

Each payment is recorded (``FundingPaymentStore``) before FundingPaymentCompletedEvent is
emitted. The poll window starts at the connector's first start with this data folder (earlier
payments are history, not news) and moves forward only after a complete poll of every pair; pages
of 1000 rows are followed so a long outage cannot hide payments.
"""
from __future__ import annotations

import asyncio
import logging
from decimal import Decimal
from typing import Any, Awaitable, Callable, Dict, List, Optional

from exconnect.events import FundingPaymentCompletedEvent, MarketEvent

from . import binance_perpetual_constants as CONSTANTS
from .funding_payments import FundingPaymentStore

__all__ = ["FundingPaymentTracker"]

_log = logging.getLogger(__name__)
_PAGE = 1000
_CLOCK_MARGIN_MS = 60_000
_WINDOW_KEEP_MS = 24 * 3600 * 1000     # the window trails "now" by a day: late income rows still seen


class FundingPaymentTracker:
    def __init__(self, *, store: FundingPaymentStore, market: str, trading_pairs: List[str],
                 api_get: Callable[..., Awaitable[Any]], symbol_for: Callable[[str], str],
                 server_time_ms: Callable[[], float], current_rate: Callable[[str], Optional[Decimal]],
                 trigger_event: Callable[[Any, Any], None],
                 spawn: Callable[[Awaitable[Any]], asyncio.Task]) -> None:
        self._store = store
        self._market = market
        self._pairs = list(trading_pairs)
        self._api_get = api_get
        self._symbol_for = symbol_for
        self._now_ms = server_time_ms
        self._current_rate = current_rate
        self._trigger = trigger_event
        self._spawn = spawn
        self._task: Optional[asyncio.Task] = None
        self._again = False

    def mark_start(self) -> None:
        """At the first start with this data folder, payments from now on are ours to announce."""
        if self._store.since_ms() is None:
            # a minute early: our clock may be ahead of the exchange's before the first time sample
            self._store.set_since_ms(int(self._now_ms()) - _CLOCK_MARGIN_MS)

    @property
    def payments(self) -> List[Dict[str, Any]]:
        return self._store.payments()

    def request_update(self) -> None:
        """Poll the income endpoint now (or right after the running poll)."""
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = self._spawn(self._poll_until_quiet())

    async def _poll_until_quiet(self) -> None:
        while True:
            self._again = False
            try:
                await self.update()
            except asyncio.CancelledError:
                raise
            except Exception as e:
                _log.warning("Unexpected error while fetching last fee payment (%s).", e)
            if not self._again:
                return

    async def update(self) -> None:
        store = self._store
        now_ms = int(self._now_ms())
        self.mark_start()
        since = store.since_ms()
        complete = True
        for pair in self._pairs:
            try:
                await self._update_pair(pair, since)
            except asyncio.CancelledError:
                raise
            except Exception as e:
                complete = False
                _log.warning("Unexpected error while fetching last fee payment for %s. (%s)", pair, e)
        if complete and now_ms - _WINDOW_KEEP_MS > since:
            store.set_since_ms(now_ms - _WINDOW_KEEP_MS)

    async def _update_pair(self, pair: str, start_ms: int) -> None:
        symbol = self._symbol_for(pair)
        while True:
            rows = await self._api_get(CONSTANTS.INCOME_PATH, {
                "symbol": symbol, "incomeType": "FUNDING_FEE", "startTime": start_ms, "limit": _PAGE},
                is_auth_required=True)
            rows = sorted(rows, key=lambda r: (int(r["time"]), str(r.get("tranId"))))
            for row in rows:
                await self._process_row(pair, row)
            if len(rows) < _PAGE or int(rows[-1]["time"]) <= start_ms:
                return
            start_ms = int(rows[-1]["time"])       # next page (overlap is de-duplicated by id)

    async def _process_row(self, pair: str, row: Dict[str, Any]) -> None:
        store = self._store
        payment_id = f"{row.get('tranId')}:{row.get('symbol')}"
        amount = Decimal(row["income"])
        if amount == 0 or store.has(payment_id):
            return
        time_ms = int(row["time"])
        rate = await self._rate_at(pair, time_ms)
        timestamp = time_ms / 1000.0
        if not store.record(payment_id, pair, amount, rate, row.get("asset"), timestamp):
            return
        _log.info("Funding payment of %s %s %s for %s.", abs(amount), row.get("asset", ""),
                  "paid" if amount < 0 else "received", pair)
        self._trigger(MarketEvent.FundingPaymentCompleted, FundingPaymentCompletedEvent(
            timestamp, self._market, pair, amount, rate if rate is not None else Decimal("NaN")))

    async def _rate_at(self, pair: str, time_ms: int) -> Optional[Decimal]:
        """The rate settled at ``time_ms`` (fundingRate history), else the current estimate."""
        try:
            rows = await self._api_get(CONSTANTS.FUNDING_RATE_PATH, {
                "symbol": self._symbol_for(pair), "startTime": time_ms - 1000, "endTime": time_ms + 1000,
                "limit": 10})
            if rows:
                best = min(rows, key=lambda r: abs(int(r["fundingTime"]) - time_ms))
                return Decimal(best["fundingRate"])
        except asyncio.CancelledError:
            raise
        except Exception as e:
            _log.warning("Could not fetch the funding rate of %s at %s (%s).", pair, time_ms, e)
        return self._current_rate(pair)
