"""Request-weight and order-count limits, Binance style.

Fixed windows like Binance's: request weight per IP per minute, raw requests per IP per 5 minutes,
unfilled orders per account per 10 s and per day (spot) or per minute (futures: ``long_window="1m"``). Past a limit the answer is HTTP 429 with
``Retry-After`` (seconds to the window's end); an IP that keeps sending while limited
(``requests_past_limit_before_ban`` more requests) gets HTTP 418 for ``ban_seconds``, doubling for
each further ban (Binance escalates from minutes to days).

One RateLimiter per port (spot and futures count separately, as on Binance).
"""
from __future__ import annotations

import math
import time

from . import errors
from .config import RateLimitConfig


class _Window:
    __slots__ = ("length", "index", "count")

    def __init__(self, length_s: float):
        self.length = length_s
        self.index = -1
        self.count = 0

    def current(self, now: float) -> int:
        idx = int(now // self.length)
        if idx != self.index:
            self.index, self.count = idx, 0
        return self.count

    def retry_after(self, now: float) -> int:
        return max(1, math.ceil((self.index + 1) * self.length - now))


#: the second order-count window per venue: (seconds, exchangeInfo interval, header suffix)
_LONG_WINDOWS = {"1d": (86400.0, "DAY", "1d"), "1m": (60.0, "MINUTE", "1m")}


class RateLimiter:
    def __init__(self, cfg: RateLimitConfig, monotonic=time.monotonic, long_window: str = "1d"):
        """``long_window``: "1d" (spot: orders per day) or "1m" (futures: orders per minute)."""
        self.cfg = cfg
        self._now = monotonic
        self._long_s, self._long_interval, suffix = _LONG_WINDOWS[long_window]
        self._long_limit = cfg.orders_per_day if long_window == "1d" else cfg.orders_per_minute
        #: response headers carrying the two order counts (lower case, as Binance sends them)
        self.order_count_headers = ("x-mbx-order-count-10s", f"x-mbx-order-count-{suffix}")
        self._weight: dict[str, _Window] = {}
        self._raw: dict[str, _Window] = {}
        self._orders_10s: dict[int, _Window] = {}
        self._orders_1d: dict[int, _Window] = {}
        self._strikes: dict[str, int] = {}
        self._banned_until: dict[str, float] = {}
        self._bans: dict[str, int] = {}

    # -- per IP ----------------------------------------------------------------------------------
    def used_weight(self, ip: str) -> int:
        w = self._weight.get(ip)
        return w.current(self._now()) if w else 0

    def charge(self, ip: str, weight: int) -> int:
        """Count one request of ``weight``; returns the IP's used weight, or raises 429/418."""
        now = self._now()
        until = self._banned_until.get(ip, 0.0)
        if until > now:
            raise self._ban_error(until, now)
        w = self._weight.setdefault(ip, _Window(60.0))
        r = self._raw.setdefault(ip, _Window(300.0))
        used = w.current(now)
        raw = r.current(now)
        if used + weight > self.cfg.weight_per_minute or raw + 1 > self.cfg.raw_requests_per_5m:
            strikes = self._strikes.get(ip, 0) + 1
            self._strikes[ip] = strikes
            if strikes > self.cfg.requests_past_limit_before_ban:
                n = self._bans.get(ip, 0)
                self._bans[ip] = n + 1
                self._strikes[ip] = 0
                until = now + self.cfg.ban_seconds * (2 ** n)
                self._banned_until[ip] = until
                raise self._ban_error(until, now)
            window = w if used + weight > self.cfg.weight_per_minute else r
            limit = self.cfg.weight_per_minute
            raise errors.BinanceError(
                -1003,
                f"Too much request weight used; current limit is {limit} request weight per 1 MINUTE. "
                "Please use WebSocket Streams for live updates to avoid polling the API.",
                429,
                {"Retry-After": str(window.retry_after(now)), "X-MBX-USED-WEIGHT-1M": str(used)},
            )
        self._strikes[ip] = 0
        w.count = used + weight
        r.count = raw + 1
        return w.count

    def refund(self, ip: str, weight: int) -> None:
        """Give weight back (successful order calls cost 0 since 2026-04-02)."""
        w = self._weight.get(ip)
        if w is not None:
            w.count = max(0, w.count - weight)

    def _ban_error(self, until: float, now: float) -> errors.BinanceError:
        wall_until = int((time.time() + (until - now)) * 1000)
        return errors.BinanceError(
            -1003,
            f"Way too much request weight used; IP banned until {wall_until}. "
            "Please use WebSocket Streams for live updates to avoid bans.",
            418,
            {"Retry-After": str(max(1, math.ceil(until - now)))},
        )

    # -- per account orders ----------------------------------------------------------------------
    def order_counts(self, account_id: int) -> tuple[int, int]:
        now = self._now()
        a = self._orders_10s.get(account_id)
        b = self._orders_1d.get(account_id)
        return (a.current(now) if a else 0, b.current(now) if b else 0)

    def charge_order(self, account_id: int) -> tuple[int, int]:
        """Count one new order; returns (count 10 s, count in the long window: 1 d spot, 1 min
        futures) or raises -1015 (429)."""
        now = self._now()
        a = self._orders_10s.setdefault(account_id, _Window(10.0))
        b = self._orders_1d.setdefault(account_id, _Window(self._long_s))
        ca, cb = a.current(now), b.current(now)
        if ca + 1 > self.cfg.orders_per_10s:
            raise errors.BinanceError(
                -1015, f"Too many new orders; current limit is {self.cfg.orders_per_10s} orders per 10 SECOND.",
                429, {"Retry-After": str(a.retry_after(now))})
        if cb + 1 > self._long_limit:
            raise errors.BinanceError(
                -1015, f"Too many new orders; current limit is {self._long_limit} orders per 1 {self._long_interval}.",
                429, {"Retry-After": str(b.retry_after(now))})
        a.count, b.count = ca + 1, cb + 1
        return a.count, b.count

    def order_filled(self, account_id: int) -> None:
        """Binance's unfilled-order count: an order's first fill gives its count back."""
        for windows in (self._orders_10s, self._orders_1d):
            w = windows.get(account_id)
            if w is not None and w.count > 0:
                w.count -= 1

    def exchange_info_limits(self) -> list[dict]:
        c = self.cfg
        return [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": c.weight_per_minute},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": c.orders_per_10s},
            {"rateLimitType": "ORDERS", "interval": self._long_interval, "intervalNum": 1, "limit": self._long_limit},
            {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": c.raw_requests_per_5m},
        ]
