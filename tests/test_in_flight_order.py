"""Explicit cases for exconnect.native.in_flight_order.InFlightOrder (Hummingbot TRK/PER scenarios)."""
import asyncio
import json
from decimal import Decimal

import pytest

from exconnect.native.in_flight_order import InFlightOrder, OverfillError
from exconnect.types import (AddedToCostTradeFee, DeductedFromReturnsTradeFee, LimitOrder, OrderState,
                             OrderType, OrderUpdate, PositionAction, TokenAmount, TradeType, TradeUpdate)

D = Decimal
PAIR = "COINALPHA-HBOT"


def make(amount="1000", price="1", state=OrderState.PENDING_CREATE, eid=None, **kw):
    return InFlightOrder("OID1", PAIR, OrderType.LIMIT, TradeType.BUY, D(amount), 1640000000.0,
                         price=None if price is None else D(price), exchange_order_id=eid,
                         initial_state=state, **kw)


def ou(state, ts=1640000001.0, cid="OID1", eid="EOID1"):
    return OrderUpdate(PAIR, ts, state, cid, eid)


def tu(trade_id, base, price="1", quote=None, ts=1640000002.0, cid="OID1", eid="EOID1", fee=None):
    base, price = D(base), D(price)
    return TradeUpdate(trade_id, cid, eid, PAIR, ts, price, base, base * price if quote is None else D(quote),
                       fee if fee is not None else DeductedFromReturnsTradeFee())


# ------------------------------------------------------------------------------------- states
def test_new_order_is_pending_create_without_exchange_id():
    o = make()
    assert o.current_state is OrderState.PENDING_CREATE
    assert o.is_pending_create and o.is_open and not o.is_done
    assert o.exchange_order_id is None
    assert not o.exchange_order_id_update_event.is_set()
    assert o.last_update_timestamp == o.creation_timestamp == 1640000000.0
    assert o.base_asset == "COINALPHA" and o.quote_asset == "HBOT"


@pytest.mark.parametrize("state, open_, done, cancelled, failure, filled, pending_cancel", [
    (OrderState.OPEN, True, False, False, False, False, False),
    (OrderState.PENDING_CANCEL, True, False, False, False, False, True),
    (OrderState.CANCELED, False, True, True, False, False, False),
    (OrderState.FAILED, False, True, False, True, False, False),
    (OrderState.PARTIALLY_FILLED, True, False, False, False, False, False),
    (OrderState.FILLED, False, True, False, False, True, False),
    (OrderState.EXPIRED, False, True, False, False, False, False),
])
def test_state_predicates(state, open_, done, cancelled, failure, filled, pending_cancel):
    o = make()
    assert o.update_with_order_update(ou(state)) is True
    assert o.current_state is state
    assert (o.is_open, o.is_done, o.is_cancelled, o.is_failure, o.is_filled,
            o.is_pending_cancel_confirmation) == (open_, done, cancelled, failure, filled, pending_cancel)
    assert o.is_expired == (state is OrderState.EXPIRED)


def test_open_update_sets_exchange_id_event_and_time_but_no_amounts():
    o = make()
    assert o.update_with_order_update(ou(OrderState.OPEN, ts=1640000005.0))
    assert o.exchange_order_id == "EOID1"
    assert o.exchange_order_id_update_event.is_set()
    assert o.last_update_timestamp == 1640000005.0
    assert o.executed_amount_base == 0 and o.executed_amount_quote == 0
    assert o.is_processed_by_exchange and o.processed_by_exchange_event.is_set()


def test_order_update_for_another_order_is_refused():
    o = make()
    assert o.update_with_order_update(ou(OrderState.OPEN, cid="OTHER", eid="OTHER_E")) is False
    assert o.current_state is OrderState.PENDING_CREATE
    assert o.exchange_order_id is None
    assert o.last_update_timestamp == o.creation_timestamp


def test_order_update_matched_by_exchange_id_only():
    o = make(eid="EOID1")
    assert o.update_with_order_update(ou(OrderState.OPEN, cid=None))
    assert o.current_state is OrderState.OPEN


def test_unacked_order_is_not_matched_by_a_bare_exchange_id():
    o = make()
    assert not o.update_with_order_update(ou(OrderState.OPEN, cid=None, eid="EOID1"))
    assert o.exchange_order_id is None


def test_order_updates_do_not_move_amounts():
    o = make()
    assert o.update_with_order_update(ou(OrderState.PARTIALLY_FILLED))
    assert o.update_with_order_update(ou(OrderState.FILLED))
    assert o.is_done and o.is_filled
    assert o.executed_amount_base == 0 and dict(o.order_fills) == {}
    assert o.average_executed_price is None


def test_repeated_pending_create_with_exchange_id_stores_the_id_only():
    o = make()
    assert o.update_with_order_update(ou(OrderState.PENDING_CREATE)) is True
    assert o.exchange_order_id == "EOID1" and o.is_pending_create
    assert o.update_with_order_update(ou(OrderState.PENDING_CREATE)) is False


@pytest.mark.parametrize("start, target", [
    (OrderState.OPEN, OrderState.PENDING_CREATE),
    (OrderState.PARTIALLY_FILLED, OrderState.OPEN),
    (OrderState.PENDING_CANCEL, OrderState.OPEN),
    (OrderState.PENDING_CANCEL, OrderState.PARTIALLY_FILLED),
    (OrderState.CANCELED, OrderState.OPEN),
    (OrderState.FAILED, OrderState.FILLED),
    (OrderState.FAILED, OrderState.CANCELED),
    (OrderState.FILLED, OrderState.CANCELED),
    (OrderState.EXPIRED, OrderState.PENDING_CANCEL),
    (OrderState.OPEN, OrderState.APPROVED),
])
def test_illegal_transitions_change_nothing(start, target):
    o = make(eid="EOID1", state=start)
    assert o.update_with_order_update(ou(target, ts=1640009999.0)) is False
    assert o.current_state is start
    assert o.last_update_timestamp == o.creation_timestamp


def test_cancel_path():
    o = make()
    assert o.update_with_order_update(ou(OrderState.OPEN))
    assert o.update_with_order_update(ou(OrderState.PENDING_CANCEL))
    assert o.is_pending_cancel_confirmation and o.is_open and not o.is_cancelled
    assert o.update_with_order_update(ou(OrderState.CANCELED))
    assert o.is_done and o.is_cancelled


# ------------------------------------------------------------------------------------- fills
def test_average_price_none_then_weighted():
    o = make(amount="1.5", price="500")
    assert o.average_executed_price is None
    assert o.update_with_trade_update(tu("1", "0.5", "500"))
    assert o.average_executed_price == D("500")
    assert o.update_with_trade_update(tu("2", "1.0", "1000"))
    # (0.5*500 + 1*1000) / 1.5
    assert o.average_executed_price == D(1250) / D("1.5")


def test_trade_update_adds_amounts_time_and_fill():
    o = make()
    o.update_with_order_update(ou(OrderState.OPEN))
    fee = AddedToCostTradeFee(percent=D("0.01"), percent_token="HBOT")
    t = tu("T1", "500", "1.0", ts=1640000010.0, fee=fee)
    assert o.update_with_trade_update(t) is True
    assert o.executed_amount_base == D(500) and o.executed_amount_quote == D(500)
    assert o.last_update_timestamp == 1640000010.0
    assert o.order_fills["T1"] is t
    assert o.current_state is OrderState.PARTIALLY_FILLED
    assert o.cumulative_fees == {"HBOT": D("5")}
    assert o.cumulative_fee_paid("HBOT") == D(5) and o.cumulative_fee_paid("BNB") == 0


def test_duplicate_trade_counts_nothing():
    o = make()
    assert o.update_with_trade_update(tu("T1", "100"))
    assert o.update_with_trade_update(tu("T1", "100", ts=1640009999.0)) is False
    assert o.executed_amount_base == D(100) and len(o.order_fills) == 1
    assert o.last_update_timestamp == 1640000002.0


def test_integer_trade_id_is_the_same_trade_as_its_text():
    o = make()
    assert o.update_with_trade_update(tu(7, "100"))
    assert list(o.order_fills) == ["7"]
    assert o.update_with_trade_update(tu("7", "100")) is False


def test_fill_before_ack_is_kept_and_does_not_set_exchange_id():
    o = make()
    assert o.update_with_trade_update(tu("T1", "400", eid="EOID1"))
    assert o.exchange_order_id is None
    assert not o.exchange_order_id_update_event.is_set()
    assert o.current_state is OrderState.PARTIALLY_FILLED
    # the ack arrives later and still records the exchange id, no state regression
    assert o.update_with_order_update(ou(OrderState.OPEN))
    assert o.exchange_order_id == "EOID1" and o.current_state is OrderState.PARTIALLY_FILLED


def test_full_fill_before_ack_fills_the_order():
    o = make(amount="2")
    assert o.update_with_trade_update(tu("T1", "2"))
    assert o.current_state is OrderState.FILLED and o.is_done and o.is_filled


def test_trade_for_another_order_is_refused():
    o = make(eid="EOID1")
    assert o.update_with_trade_update(tu("T1", "1", cid="OTHER", eid="OTHER_E")) is False
    assert o.executed_amount_base == 0
    assert o.update_with_trade_update(tu("T2", "1", cid="OTHER", eid="EOID1")) is True


def test_overfill_raises_and_changes_nothing():
    o = make(amount="1")
    assert o.update_with_trade_update(tu("T1", "0.6"))
    before = o.to_json()
    with pytest.raises(OverfillError):
        o.update_with_trade_update(tu("T2", "0.5"))
    assert isinstance(OverfillError("x"), ValueError)
    assert o.to_json() == before
    assert o.update_with_trade_update(tu("T2", "0.4"))
    assert o.current_state is OrderState.FILLED


@pytest.mark.parametrize("base, price, quote, exc", [
    ("0.000000001", "1", "0.000000001", ValueError),   # 9 decimals
    ("1", "0.000000001", "0.000000001", ValueError),
    ("1", "1", "0.00000000000000001", ValueError),      # 17 decimals of quote
    ("0", "1", "0", ValueError),
    ("-1", "1", "-1", ValueError),
    ("1", "0", "0", ValueError),
    ("1", "NaN", "1", ValueError),
])
def test_malformed_fills_are_refused(base, price, quote, exc):
    o = make()
    t = TradeUpdate("T1", "OID1", None, PAIR, 1.0, D(price), D(base), D(quote), DeductedFromReturnsTradeFee())
    with pytest.raises(exc):
        o.update_with_trade_update(t)
    assert o.executed_amount_base == 0 and not o.order_fills


def test_float_amount_refused():
    o = make()
    with pytest.raises(TypeError):
        o.update_with_trade_update(TradeUpdate("T1", "OID1", None, PAIR, 1.0, 1.0, 1.0, 1.0,
                                               DeductedFromReturnsTradeFee()))
    with pytest.raises(TypeError):
        InFlightOrder("X", PAIR, OrderType.LIMIT, TradeType.BUY, 1.5, 0.0)


def test_pending_cancel_can_still_be_filled():
    o = make(amount="2", eid="EOID1", state=OrderState.OPEN)
    assert o.update_with_order_update(ou(OrderState.PENDING_CANCEL))
    assert o.update_with_trade_update(tu("T1", "1"))
    assert o.current_state is OrderState.PENDING_CANCEL
    assert o.update_with_trade_update(tu("T2", "1"))
    assert o.current_state is OrderState.FILLED


def test_late_fill_after_cancel_is_counted_state_stays():
    o = make(amount="2", eid="EOID1", state=OrderState.OPEN)
    assert o.update_with_order_update(ou(OrderState.CANCELED))
    assert o.update_with_trade_update(tu("T1", "1"))
    assert o.current_state is OrderState.CANCELED and o.executed_amount_base == 1


def test_fills_after_filled_status_still_counted():
    o = make(amount="2", eid="EOID1", state=OrderState.OPEN)
    assert o.update_with_order_update(ou(OrderState.FILLED))
    assert not o.is_fully_executed and o.is_filled
    assert o.update_with_trade_update(tu("T1", "2"))
    assert o.is_fully_executed and o.completely_filled_event.is_set()


def test_trade_update_as_dict_and_fee_json():
    o = make()
    t = tu("T1", "10", "2", fee=DeductedFromReturnsTradeFee(flat_fees=[TokenAmount("BNB", D("0.01"))]))
    assert o.update_with_trade_update(t.to_json())
    assert o.order_fills["T1"] == t
    assert o.cumulative_fees == {"BNB": D("0.01")}


def test_fees_across_fills_and_kinds():
    o = make(amount="10")
    o.update_with_trade_update(tu("1", "2", "3", fee=DeductedFromReturnsTradeFee(
        flat_fees=[TokenAmount("BNB", D("0.1")), TokenAmount("HBOT", D("0.5"))])))
    o.update_with_trade_update(tu("2", "4", "3", fee=DeductedFromReturnsTradeFee(percent=D("0.001"),
                                                                                 percent_token="COINALPHA")))
    o.update_with_trade_update(tu("3", "1", "3", fee=AddedToCostTradeFee(percent=D("0.002"))))
    assert o.cumulative_fees == {"BNB": D("0.1"), "HBOT": D("0.5") + D("0.006"), "COINALPHA": D("0.004")}


def test_exact_sub_satoshi_quote_totals():
    o = make(amount="3")
    for i in range(3):
        assert o.update_with_trade_update(tu(str(i), "1", "0.00000001", quote="0.00000001"))
    assert o.executed_amount_quote == D("0.00000003")
    assert o.average_executed_price == D("0.00000001")


def test_large_binance_values_exact():
    # max price 9.2e10-ish, qty 9e9 with 8 decimals each: quote has 16 decimals and ~30 digits
    o = make(amount="9000000000.12345678")
    t = tu("1", "9000000000.12345678", "91234567890.87654321")
    assert o.update_with_trade_update(t)
    assert o.executed_amount_quote == D("9000000000.12345678") * D("91234567890.87654321")
    assert o.is_filled


# ------------------------------------------------------------------------------ exchange id await
async def test_get_exchange_order_id_times_out_then_returns_immediately():
    o = make()
    with pytest.raises(asyncio.TimeoutError):
        await o.get_exchange_order_id(timeout=0.01)
    o.update_exchange_order_id("EOID1")
    assert o.exchange_order_id_update_event.is_set()
    assert await o.get_exchange_order_id(timeout=0.01) == "EOID1"


async def test_get_exchange_order_id_wakes_on_order_update():
    o = make()
    waiter = asyncio.ensure_future(o.get_exchange_order_id(timeout=5))
    await asyncio.sleep(0)
    o.update_with_order_update(ou(OrderState.OPEN))
    assert await waiter == "EOID1"


# ------------------------------------------------------------------------------------ persistence
def test_to_json_keys_and_round_trip_with_fills():
    o = make(eid=None, leverage=3, position=PositionAction.OPEN)
    o.update_with_order_update(ou(OrderState.OPEN))
    o.update_with_trade_update(tu("T1", "100.10", "1.05", fee=AddedToCostTradeFee(
        percent=D("0.001"), flat_fees=[TokenAmount("BNB", D("0.00001"))])))
    j = o.to_json()
    assert set(j) == {"client_order_id", "exchange_order_id", "trading_pair", "order_type", "trade_type",
                      "price", "amount", "executed_amount_base", "executed_amount_quote", "last_state",
                      "leverage", "position", "creation_timestamp", "last_update_timestamp", "order_fills"}
    assert j["order_type"] == "LIMIT" and j["trade_type"] == "BUY" and j["last_state"] == "4"
    assert j["leverage"] == "3" and j["position"] == "OPEN" and j["executed_amount_base"] == "100.1"
    text = json.dumps(j)
    o2 = InFlightOrder.from_json(json.loads(text))
    assert o2 == o and o2.to_json() == j
    assert o2.order_fills["T1"] == o.order_fills["T1"]
    assert o2.cumulative_fees == o.cumulative_fees
    assert o2.last_update_timestamp == o.last_update_timestamp
    assert not o2.completely_filled_event.is_set()
    assert o2.exchange_order_id_update_event.is_set()
    # the restored order continues exactly where it was
    with pytest.raises(OverfillError):
        o2.update_with_trade_update(tu("T2", "900"))
    assert o2.update_with_trade_update(tu("T1", "1")) is False


def test_from_json_without_fills_and_integer_time():
    data = {"client_order_id": "OID1", "exchange_order_id": "EOID1", "trading_pair": PAIR,
            "order_type": "LIMIT", "trade_type": "SELL", "price": "1", "amount": "1000",
            "executed_amount_base": "0", "executed_amount_quote": "0", "last_state": "1",
            "creation_timestamp": 1640001112}
    o = InFlightOrder.from_json(data)
    assert o.current_state is OrderState.OPEN and o.creation_timestamp == 1640001112
    assert o.leverage == 1 and o.position == "NIL" and not o.order_fills


def test_from_json_rejects_inconsistent_totals():
    o = make()
    o.update_with_trade_update(tu("T1", "1"))
    j = o.to_json()
    j["executed_amount_base"] = "2"
    with pytest.raises(ValueError):
        InFlightOrder.from_json(j)
    with pytest.raises(ValueError):
        InFlightOrder.from_json({"client_order_id": "x"})


def test_to_limit_order():
    o = make(price="1.5")
    lo = o.to_limit_order()
    assert isinstance(lo, LimitOrder)
    assert (lo.client_order_id, lo.trading_pair, lo.is_buy, lo.base_currency, lo.quote_currency) == \
        ("OID1", PAIR, True, "COINALPHA", "HBOT")
    assert lo.price == D("1.5") and lo.quantity == D(1000) and lo.filled_quantity == 0
    assert lo.creation_timestamp == 1640000000000000 and lo.status is OrderState.PENDING_CREATE
    assert lo.position is PositionAction.NIL


# ------------------------------------------------------------------------------- constructor input
@pytest.mark.parametrize("kwargs, exc", [
    (dict(amount="0"), ValueError),
    (dict(amount="-1"), ValueError),
    (dict(amount="0.000000001"), ValueError),
    (dict(price="-1"), ValueError),
    (dict(leverage=0), ValueError),
    (dict(position="SIDEWAYS"), ValueError),
    (dict(state=OrderState.APPROVED), ValueError),
])
def test_bad_constructor_input(kwargs, exc):
    with pytest.raises(exc):
        make(**kwargs)


def test_bad_pair_and_types():
    with pytest.raises(ValueError):
        InFlightOrder("X", "BTCUSDT", OrderType.LIMIT, TradeType.BUY, D(1), 0.0)
    with pytest.raises(TypeError):
        InFlightOrder("X", PAIR, "LIMIT", TradeType.BUY, D(1), 0.0)
    with pytest.raises(TypeError):
        make().update_with_trade_update(("T1",))


def test_market_order_without_price_and_perp_fields():
    o = InFlightOrder("X", PAIR, OrderType.MARKET, TradeType.SELL, "1", 5, leverage=20, position="CLOSE")
    assert o.price is None and o.amount == 1 and o.leverage == 20 and o.position == "CLOSE"
    assert InFlightOrder.from_json(o.to_json()) == o
    assert o.to_limit_order().position is PositionAction.CLOSE


def test_quote_total_overflow_is_refused_not_wrapped():
    from decimal import Context
    top = Decimal(2 ** 127 - 1).scaleb(-16, context=Context(prec=100))  # largest quote total at 16 decimals
    o = make(amount="2")
    assert o.update_with_trade_update(tu("T1", "1", "1", quote=str(top)))
    assert o.executed_amount_quote == top
    before = o.to_json()
    with pytest.raises(ValueError):
        o.update_with_trade_update(tu("T2", "1", "1", quote="0.0000000000000001"))
    assert o.to_json() == before and o.current_state is OrderState.PARTIALLY_FILLED


@pytest.mark.parametrize("last_state, expected", [("1", OrderState.OPEN), (5, OrderState.FILLED),
                                                  ("PENDING_CANCEL", OrderState.PENDING_CANCEL)])
def test_from_json_state_forms(last_state, expected):
    j = make().to_json()
    j["last_state"] = last_state
    assert InFlightOrder.from_json(j).current_state is expected


@pytest.mark.parametrize("key, value", [("last_state", "7"), ("last_state", "NEW"), ("last_state", "99"),
                                        ("order_type", "STOP"), ("trade_type", None), ("leverage", "x"),
                                        ("amount", "1.5.5")])
def test_from_json_bad_fields_are_value_errors_naming_the_field(key, value):
    j = make().to_json()
    j[key] = value
    with pytest.raises(ValueError):
        InFlightOrder.from_json(j)


def test_pickle_and_copy_are_exact():
    import copy
    import pickle
    o = make()
    o.update_with_trade_update(tu("T1", "1.5", "0.12345678"))
    for clone in (pickle.loads(pickle.dumps(o)), copy.copy(o), copy.deepcopy(o)):
        assert clone == o and clone is not o
        assert clone.executed_amount_quote == D("1.5") * D("0.12345678")
        assert clone.update_with_trade_update(tu("T1", "1")) is False


def test_views_cannot_corrupt_the_order():
    o = make()
    o.update_with_trade_update(tu("T1", "1", fee=DeductedFromReturnsTradeFee(flat_fees=[TokenAmount("BNB", D("1"))])))
    with pytest.raises(TypeError):
        o.order_fills["T2"] = o.order_fills["T1"]
    fees = o.cumulative_fees
    fees["BNB"] = D("99")
    assert o.cumulative_fees == {"BNB": D("1")}
    with pytest.raises(AttributeError):
        o.amount = D("5")
