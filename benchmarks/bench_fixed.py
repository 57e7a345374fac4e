"""Fixed point, TradingRule quantizers and client ids:
`python -m pytest benchmarks/bench_fixed.py --benchmark-enable -p no:cacheprovider`

Targets (issue 2): quantize price/amount with Decimal in and out <= 100 ns; client id <= 0.3 us.
Each benchmark runs a batch of N calls over varied inputs (so no single value is
measured in a hot loop) and records `ns_per_op` = batch time / N in extra_info
(shown by --benchmark-columns or the JSON).  The batch includes the Python loop
itself; `test_baseline_loop` measures that floor (a loop calling a builtin).
"""
import random
from decimal import Decimal

import pytest

from exconnect.native import fixed
from exconnect.native.client_order_id import get_new_client_order_id
from exconnect.native.trading_rule import TradingRule

N = 1000
rng = random.Random(7)
PRICE_TEXTS = [f"{rng.randint(2_000_000, 7_000_000) / 100:.2f}".encode() + b"000000" for _ in range(N)]
QTY_TEXTS = [f"0.{rng.randint(1, 99_999_999):08d}".encode() for _ in range(N)]
PRICES = [Decimal(t.decode()) for t in PRICE_TEXTS]
# off the tick grid: the quantizer really has to floor
PRICES_OFF_GRID = [p + Decimal("0.0042") for p in PRICES]
AMOUNTS = [Decimal(t.decode()) for t in QTY_TEXTS]
MANY_DECIMALS = [Decimal(i).scaleb(-8) + Decimal("1000") for i in range(20_000)]  # > cache size: misses
# 20,000 distinct ticks, off the grid: every quantized result misses the Decimal cache
PRICES_MISS = [Decimal(2_000_000 + 7 * i).scaleb(-2) + Decimal("0.004") for i in range(20_000)]

RULE = TradingRule("BTC-USDT", min_order_size=Decimal("0.00001000"), max_order_size=Decimal("9000.00000000"),
                   min_price_increment=Decimal("0.01000000"), min_base_amount_increment=Decimal("0.00001000"),
                   min_notional_size=Decimal("5.00000000"))
assert RULE.price_fast and RULE.size_fast and RULE.notional_fast


def per_op(benchmark, fn, items):
    def run():
        for x in items:
            fn(x)
    benchmark(run)
    if benchmark.stats is not None:        # None with --benchmark-disable (the default)
        benchmark.extra_info["ns_per_op"] = round(benchmark.stats.stats.median / len(items) * 1e9, 1)


def test_baseline_loop(benchmark):
    per_op(benchmark, abs, list(range(N)))


# ---- fixed ------------------------------------------------------------------------------
def test_parse_bytes_to_fixed(benchmark):
    """From Python: one call per number (call overhead dominates)."""
    per_op(benchmark, lambda b: fixed.parse(b, 8), PRICE_TEXTS)


def test_parse_bytes_to_fixed_in_c_loop(benchmark):
    """What Cython callers pay per number: parse_bytes in one C loop."""
    assert fixed.parse_many(PRICE_TEXTS, 8) == sum(fixed.parse(b, 8) for b in PRICE_TEXTS)
    benchmark(fixed.parse_many, PRICE_TEXTS, 8)
    if benchmark.stats is not None:        # None with --benchmark-disable (the default)
        benchmark.extra_info["ns_per_op"] = round(benchmark.stats.stats.median / len(PRICE_TEXTS) * 1e9, 1)


@pytest.fixture(params=["layout", "portable"])
def decimal_path(request):
    """layout: Decimal read/built through CPython's PyDecObject (default when the probe
    passes); portable: str() + C parser, Decimal(str) + bounded cache."""
    on = fixed.use_decimal_fast_path(request.param == "layout")
    if request.param == "layout" and not on:
        pytest.skip("Decimal layout probe failed on this interpreter")
    fixed.clear_cache()
    yield request.param
    fixed.use_decimal_fast_path(True)


def test_decimal_to_fixed(benchmark, decimal_path):
    per_op(benchmark, lambda d: fixed.parse(d, 8), PRICES)


def test_decimal_to_fixed_to_decimal(benchmark, decimal_path):
    per_op(benchmark, lambda d: fixed.decimal(fixed.parse(d, 8), 8), PRICES)


def test_decimal_to_fixed_to_decimal_20k_distinct(benchmark, decimal_path):
    """More distinct values than the portable path's cache holds: all misses there."""
    per_op(benchmark, lambda d: fixed.decimal(fixed.parse(d, 8), 8), MANY_DECIMALS)


# The alternatives measured to choose the Decimal edge (see bindings/fixed.pyx).
@pytest.mark.parametrize("how", ["str", "as_tuple", "scaleb_int", "Decimal(str)", "Decimal(int).scaleb"])
def test_candidate_decimal_paths(benchmark, how):
    fn = {
        "str": str,
        "as_tuple": Decimal.as_tuple,
        "scaleb_int": lambda d: int(d.scaleb(8)),
        "Decimal(str)": lambda d: Decimal("29999.99000000"),
        "Decimal(int).scaleb": lambda d: Decimal(2999999000000).scaleb(-8),
    }[how]
    per_op(benchmark, fn, PRICES)


# ---- TradingRule ---------------------------------------------------------------------------
def test_quantize_order_price_on_grid(benchmark, decimal_path):
    per_op(benchmark, RULE.quantize_order_price, PRICES)


def test_quantize_order_price_off_grid(benchmark, decimal_path):
    per_op(benchmark, RULE.quantize_order_price, PRICES_OFF_GRID)


def test_quantize_order_price_20k_distinct(benchmark, decimal_path):
    per_op(benchmark, RULE.quantize_order_price, PRICES_MISS)


def test_quantize_order_amount(benchmark, decimal_path):
    per_op(benchmark, RULE.quantize_order_amount, AMOUNTS)


def test_quantize_order_amount_with_notional(benchmark, decimal_path):
    pairs = list(zip(AMOUNTS, PRICES))
    q = RULE.quantize_order_amount
    per_op(benchmark, lambda ap: q(ap[0], ap[1]), pairs)


def test_check_order_valid(benchmark):
    """Orders that pass: the fixed-point accept path."""
    pairs = [(RULE.quantize_order_amount(a + Decimal("0.001"), p), p) for a, p in zip(AMOUNTS, PRICES)]
    assert all(RULE.check_order(p, a, "LIMIT") is None for a, p in pairs)
    check = RULE.check_order
    per_op(benchmark, lambda ap: check(ap[1], ap[0], "LIMIT"), pairs)


def test_check_order_rejected(benchmark):
    """Amounts off the step grid: the exact Decimal path builds the reason."""
    pairs = list(zip(AMOUNTS, PRICES))
    check = RULE.check_order
    per_op(benchmark, lambda ap: check(ap[1], ap[0], "LIMIT"), pairs)


# ---- client order ids ------------------------------------------------------------------------
def test_client_order_id(benchmark):
    sides = [i % 2 == 0 for i in range(N)]
    per_op(benchmark, lambda b: get_new_client_order_id(b, "BTC-USDT", "x-XEKWYICX", 32), sides)
