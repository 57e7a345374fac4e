"""InFlightOrder hot paths: `python -m pytest benchmarks/bench_in_flight_order.py --benchmark-enable`.

Target: full lifecycle (create -> ack -> 3 fills with fees -> FILLED) <= 1.5 us.
The reference (plain Decimal) lifecycle is measured too, for scale.
"""
import os
import sys
from decimal import Decimal

import pytest

from exconnect.native.in_flight_order import InFlightOrder
from exconnect.types import (DeductedFromReturnsTradeFee, OrderState, OrderType, OrderUpdate, TokenAmount,
                             TradeType, TradeUpdate)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from reference.in_flight_order_ref import InFlightOrderRef  # noqa: E402

PAIR = "BTC-USDT"
AMOUNT = Decimal("0.03000000")
PRICE = Decimal("64123.45")
LIMIT, BUY = OrderType.LIMIT, TradeType.BUY
ACK = OrderUpdate(PAIR, 1700000000.5, OrderState.OPEN, "OID1", "4242")
FEE = DeductedFromReturnsTradeFee(percent_token="BNB", flat_fees=[TokenAmount("BNB", Decimal("0.00001234"))])
FILLS = [
    TradeUpdate(str(100 + i), "OID1", "4242", PAIR, 1700000001.0 + i, PRICE, Decimal(q), PRICE * Decimal(q), FEE)
    for i, q in enumerate(("0.01000000", "0.00500000", "0.01500000"))
]


def lifecycle(cls=InFlightOrder):
    o = cls("OID1", PAIR, LIMIT, BUY, AMOUNT, 1700000000.0, PRICE)
    o.update_with_order_update(ACK)
    o.update_with_trade_update(FILLS[0])
    o.update_with_trade_update(FILLS[1])
    o.update_with_trade_update(FILLS[2])
    return o


def test_lifecycle_result_is_right():
    o = lifecycle()
    assert o.is_filled and o.current_state is OrderState.FILLED
    assert o.executed_amount_quote == PRICE * AMOUNT
    assert o.cumulative_fees == {"BNB": Decimal("0.00003702")}


def test_full_lifecycle(benchmark):
    benchmark(lifecycle)


def test_full_lifecycle_reference(benchmark):
    benchmark(lifecycle, InFlightOrderRef)


def test_create(benchmark):
    benchmark(InFlightOrder, "OID1", PAIR, LIMIT, BUY, AMOUNT, 1700000000.0, PRICE)


def test_single_trade_update(benchmark):
    # fresh order per round (setup not timed); one partial fill each
    def setup():
        return (InFlightOrder("OID1", PAIR, LIMIT, BUY, AMOUNT, 1700000000.0, PRICE, "4242", OrderState.OPEN),
                FILLS[0]), {}
    benchmark.pedantic(lambda o, t: o.update_with_trade_update(t), setup=setup, rounds=20000)


def test_duplicate_trade_update(benchmark):
    o = InFlightOrder("OID1", PAIR, LIMIT, BUY, AMOUNT, 1700000000.0, PRICE, "4242", OrderState.OPEN)
    o.update_with_trade_update(FILLS[0])
    assert benchmark(o.update_with_trade_update, FILLS[0]) is False


def test_order_update_ack(benchmark):
    def setup():
        return (InFlightOrder("OID1", PAIR, LIMIT, BUY, AMOUNT, 1700000000.0, PRICE), ACK), {}
    benchmark.pedantic(lambda o, u: o.update_with_order_update(u), setup=setup, rounds=20000)


def _read_totals(o):
    return o.executed_amount_base, o.executed_amount_quote, o.average_executed_price, o.cumulative_fees


def test_read_totals_first_time(benchmark):
    # first read after fills builds the Decimals (setup not timed)
    benchmark.pedantic(_read_totals, setup=lambda: ((lifecycle(),), {}), rounds=20000)


def test_read_totals_cached(benchmark):
    o = lifecycle()
    _read_totals(o)
    benchmark(_read_totals, o)


def test_to_json(benchmark):
    o = lifecycle()
    benchmark(o.to_json)


def test_from_json(benchmark):
    data = lifecycle().to_json()
    benchmark(InFlightOrder.from_json, data)


@pytest.mark.parametrize("n", [3])
def test_to_json_from_json_round_trip(benchmark, n):
    o = lifecycle()
    assert InFlightOrder.from_json(o.to_json()) == o
    benchmark(lambda: InFlightOrder.from_json(o.to_json()))
