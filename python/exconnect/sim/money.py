"""Exact money for the simulator: fixed-point ``int`` with 8 decimals.

Binance prints every price, quantity and balance with at most 8 decimals, so the simulator keeps
all of them as Python ints in units of 1e-8 ("atoms"). Ints are exact and several times faster than
``Decimal`` in the matching loop. A quote amount ``price * qty`` has 16 decimals; it is floored
back to 8 (Binance's quote precision is 8 as well), and commissions are floored the same way.
"""
from __future__ import annotations

import re
from decimal import Decimal

SCALE = 8
ONE = 10**SCALE
#: Largest accepted magnitude (9.2e10 units): keeps products far inside what Binance itself accepts
#: and refuses "huge numbers" instead of computing with them.
MAX_ATOMS = 2**63 - 1

_NUMBER = re.compile(r"^\s*([+-]?)(\d*)(?:\.(\d*))?\s*$")


class NumberError(ValueError):
    """Raised for malformed (``kind='malformed'``) or over-precise (``kind='precision'``) text."""

    def __init__(self, kind: str, text: str):
        super().__init__(f"{kind}: {text!r}")
        self.kind = kind
        self.text = text


def parse(text: str | int | Decimal) -> int:
    """Parse decimal text (``"0.1"``, ``"1e-3"`` is refused) to atoms; exact or NumberError."""
    if isinstance(text, int) and not isinstance(text, bool):
        value = text * ONE
    elif isinstance(text, Decimal):
        if not text.is_finite():
            raise NumberError("malformed", str(text))
        scaled = text.scaleb(SCALE)
        if scaled != scaled.to_integral_value():
            raise NumberError("precision", str(text))
        value = int(scaled)
    elif isinstance(text, str):
        m = _NUMBER.match(text)
        if m is None or (not m.group(2) and not m.group(3)):
            raise NumberError("malformed", text)
        sign, whole, frac = m.group(1), m.group(2) or "0", (m.group(3) or "")
        frac = frac.rstrip("0")
        if len(frac) > SCALE:
            raise NumberError("precision", text)
        if len(whole) > 20:
            raise NumberError("malformed", text)
        value = int(whole) * ONE + (int(frac.ljust(SCALE, "0")) if frac else 0)
        if sign == "-":
            value = -value
    else:
        raise NumberError("malformed", repr(text))
    if abs(value) > MAX_ATOMS:
        raise NumberError("malformed", str(text))
    return value


def text(atoms: int) -> str:
    """Atoms → Binance's 8-decimal string (``"0.10000000"``)."""
    sign = "-" if atoms < 0 else ""
    a = -atoms if atoms < 0 else atoms
    return f"{sign}{a // ONE}.{a % ONE:08d}"


def trimmed(atoms: int) -> str:
    """Atoms → shortest exact decimal string (``"0.1"``), for places Binance prints that way."""
    s = text(atoms).rstrip("0")
    return s[:-1] if s.endswith(".") else s


def to_decimal(atoms: int) -> Decimal:
    return Decimal(atoms).scaleb(-SCALE)


def mul(price: int, qty: int) -> int:
    """Quote amount of ``qty`` at ``price`` (both atoms), floored to 8 decimals."""
    return price * qty // ONE


def floor_to(value: int, step: int) -> int:
    """Floor ``value`` to a multiple of ``step`` (step 0 disables)."""
    return value - value % step if step > 0 else value
