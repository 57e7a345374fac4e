"""Plain-Python reference for TradingRule quantization and checks.

Exact rational arithmetic (fractions.Fraction), written from the spec in
bindings/trading_rule.pyx's docstring, independent of the compiled code's
fixed-point and Decimal paths.  Returns Fractions; tests compare by value."""
from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from typing import Optional

DEFAULT_MAX = Decimal("1e56")
DEFAULT_MIN = Decimal("1e-56")
SIG_UNLIMITED = 1000


class TradingRuleRef:
    def __init__(self, min_order_size=Decimal(0), max_order_size=DEFAULT_MAX,
                 min_price_increment=DEFAULT_MIN, min_base_amount_increment=DEFAULT_MIN,
                 min_notional_size=Decimal(0), min_order_value=Decimal(0),
                 max_price_significant_digits=DEFAULT_MAX,
                 supports_limit_orders=True, supports_market_orders=True):
        self.min_size = Fraction(Decimal(min_order_size))
        self.max_size = Fraction(Decimal(max_order_size))
        self.tick = Fraction(Decimal(min_price_increment))
        self.step = Fraction(Decimal(min_base_amount_increment))
        self.min_notional = max(Fraction(Decimal(min_notional_size)), Fraction(Decimal(min_order_value)))
        n = Decimal(max_price_significant_digits)
        self.sig = None if n >= SIG_UNLIMITED else int(n)
        self.limit_ok = supports_limit_orders
        self.market_ok = supports_market_orders

    @staticmethod
    def _floor(x: Fraction, q: Fraction) -> Fraction:
        return x if q == 0 else math.floor(x / q) * q

    @staticmethod
    def _lcm(a: Fraction, b: Fraction) -> Fraction:
        den = math.lcm(a.denominator, b.denominator)
        return Fraction(math.lcm(int(a * den), int(b * den)), den)

    def price_quantum(self, price: Optional[Decimal]) -> Fraction:
        if price is None or self.sig is None or price <= 0:
            return self.tick
        # 10^k is the smallest unit of the price's first `sig` digits
        k = Decimal(price).adjusted() + 1 - self.sig
        unit = Fraction(10) ** k
        return unit if self.tick == 0 else self._lcm(self.tick, unit)

    def quantize_order_price(self, price: Decimal) -> Fraction:
        return self._floor(Fraction(price), self.price_quantum(price))

    def quantize_order_amount(self, amount: Decimal, price: Optional[Decimal] = None) -> Fraction:
        if amount < 0:
            raise ValueError("negative amount")
        if price is not None and price < 0:
            raise ValueError("negative price")
        q = self._floor(Fraction(amount), self.step)
        if q < self.min_size:
            return Fraction(0)
        if price is not None and price > 0 and Fraction(price) * q < self.min_notional:
            return Fraction(0)
        return q

    def check_order(self, price: Optional[Decimal], amount: Decimal, kind: str) -> Optional[str]:
        """None or the phrase the compiled reason must contain."""
        if kind == "MARKET" and not self.market_ok:
            return "market orders are not supported"
        if kind != "MARKET" and not self.limit_ok:
            return "limit orders are not supported"
        a = Fraction(amount)
        p = None if price is None else Fraction(price)
        if a <= 0:
            return "is not positive"
        if p is None:
            if kind != "MARKET":
                return "a price is required"
        elif p < 0 or (p == 0 and kind != "MARKET"):
            return "is not positive"
        if a < self.min_size:
            return "below the minimum order size"
        if a > self.max_size:
            return "above the maximum order size"
        if self._floor(a, self.step) != a:
            return "not a multiple of the step size"
        if p is not None and p > 0 and kind != "MARKET":
            if self._floor(p, self.tick) != p:
                return "not a multiple of the tick size"
            if self.sig is not None and self._floor(p, self.price_quantum(price)) != p:
                return "significant digits"
        if p is not None and p > 0 and p * a < self.min_notional:
            return "below the minimum notional"
        return None
