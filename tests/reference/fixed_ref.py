"""Plain-Python reference for exconnect.native.fixed: exact integer arithmetic on
the digits, no C, no int64 tricks.  Errors are returned as a category name so
tests can check that the compiled code fails for the same reason."""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Union

INT64_MAX = 2**63 - 1
MAX_SCALE = 18
FLOOR, CEIL, NEAREST = 0, 1, 2

GRAMMAR = re.compile(rb"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\Z")

# category -> a phrase the compiled error message must contain
MESSAGES = {
    "syntax": "not a decimal number",
    "empty": "empty number",
    "overflow": "too large",
    "precision": "more decimal places",
    "scale": "scale outside",
}


class RefError(ValueError):
    def __init__(self, category: str):
        super().__init__(category)
        self.category = category


def _split(text: bytes, scale: int):
    """(negative, coefficient without trailing zeros, exponent) of the text's exact value."""
    if not 0 <= scale <= MAX_SCALE:
        raise RefError("scale")
    if len(text) == 0:
        raise RefError("empty")
    if GRAMMAR.match(text) is None:
        raise RefError("syntax")
    body = text.decode("ascii")
    neg = body.startswith("-")
    body = body.lstrip("+-")
    mantissa, _, exponent = body.lower().partition("e")
    whole, _, frac = mantissa.partition(".")
    coefficient = int((whole + frac).lstrip("0") or "0")  # leading zeros: no int() digit limit
    exp = (int(exponent) if exponent else 0) - len(frac)
    while coefficient and coefficient % 10 == 0:
        coefficient //= 10
        exp += 1
    return neg, coefficient, exp


def parse(text: Union[bytes, str], scale: int) -> int:
    if isinstance(text, str):
        text = text.encode("utf-8")
    neg, c, exp = _split(text, scale)
    if c == 0:
        return 0
    e = exp + scale
    if e < 0:
        raise RefError("precision")  # c ends in a non-zero digit
    if e > 19:
        raise RefError("overflow")
    v = c * 10**e
    if v > INT64_MAX:
        raise RefError("overflow")
    return -v if neg else v


def parse_round(text: Union[bytes, str], scale: int, mode: int) -> int:
    if isinstance(text, str):
        text = text.encode("utf-8")
    neg, c, exp = _split(text, scale)
    e = exp + scale
    if c == 0:
        return 0
    if e >= 0:
        if e > 19 or c * 10**e > INT64_MAX:
            raise RefError("overflow")
        mag = c * 10**e
        return -mag if neg else mag
    n = len(str(c))
    if -e > n + 1:
        q, exact = 0, False  # |value| < 0.1: below one half
        half_cmp = -1
    else:
        q, r = divmod(c, 10**-e)
        exact = r == 0
        half_cmp = (2 * r > 10**-e) - (2 * r < 10**-e)
    if not exact:
        if mode == FLOOR:
            q += 1 if neg else 0
        elif mode == CEIL:
            q += 0 if neg else 1
        elif half_cmp > 0 or (half_cmp == 0 and q % 2 == 1):
            q += 1
    if q > INT64_MAX:
        raise RefError("overflow")
    return -q if neg else q


def text(v: int, scale: int, trim: bool = False) -> str:
    neg = v < 0
    digits = str(abs(v)).rjust(scale + 1, "0")
    whole, frac = digits[: len(digits) - scale], digits[len(digits) - scale:]
    if trim:
        frac = frac.rstrip("0")
    out = whole + ("." + frac if frac else "")
    return "-" + out if neg else out


def decimal(v: int, scale: int) -> Decimal:
    return Decimal(v).scaleb(-scale) if scale else Decimal(v)


def quantize(v: int, inc: int, mode: int) -> int:
    if inc <= 0:
        raise RefError("arg")
    q, r = divmod(v, inc)  # floor division
    if r:
        if mode == CEIL:
            q += 1
        elif mode == NEAREST:
            if 2 * r > inc or (2 * r == inc and q % 2 == 1):
                q += 1
    out = q * inc
    if not -(2**63) <= out <= INT64_MAX:
        raise RefError("overflow")
    return out


def rescale(v: int, from_scale: int, to_scale: int) -> int:
    if to_scale >= from_scale:
        out = v * 10 ** (to_scale - from_scale)
        if not -(2**63) <= out <= INT64_MAX:
            raise RefError("overflow")
        return out
    f = 10 ** (from_scale - to_scale)
    if v % f:
        raise RefError("precision")
    return v // f if v >= 0 else -((-v) // f)
