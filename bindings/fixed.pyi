"""Fixed-point conversions (int64 value v at scale s means v * 10**-s)."""
from decimal import Decimal
from typing import Union

Number = Union[Decimal, str, bytes, int]  # float is refused with TypeError

FLOOR: int
CEIL: int
NEAREST: int  # half to even
MAX_SCALE: int  # 18
DECIMAL_FAST_PATH: bool  # Decimal read/built via CPython's layout (probed at import)

def parse(value: Number, scale: int) -> int:
    """Exact: ValueError (naming the text) on syntax, overflow, or non-zero digits beyond `scale`."""
def parse_round(value: Number, scale: int, mode: int = ...) -> int:
    """Digits beyond `scale` rounded by `mode` (FLOOR, CEIL, NEAREST); syntax/overflow still raise."""
def decimal(v: int, scale: int) -> Decimal:
    """Exact Decimal with exponent -scale (cached, shared immutable object)."""
def text(v: int, scale: int, trim: bool = False) -> str: ...
def quantize(v: int, increment: int, mode: int = ...) -> int: ...
def rescale(v: int, from_scale: int, to_scale: int) -> int: ...
def mul_div(a: int, b: int, d: int, mode: int = ...) -> int: ...
def mul_cmp(a: int, b: int, ab_scale: int, c: int, c_scale: int) -> int: ...
def parse_many(texts: list[bytes], scale: int) -> int:
    """Sum of parse(t, scale) over texts in one C loop (benchmarks: per-number cost without call overhead)."""
def clear_cache() -> None: ...
def use_decimal_fast_path(on: bool) -> bool: ...
