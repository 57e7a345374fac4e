"""exconnect.types: Hummingbot's enum values, exact money, json round trips of fees and trades."""
import json
from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from exconnect.types import (AddedToCostTradeFee, CancellationResult, DeductedFromReturnsTradeFee, FundingInfo,
                             LimitOrder, OpenOrder, OrderBookQueryResult, OrderBookRow, OrderState, OrderType,
                             OrderUpdate, Position, PositionAction, PositionMode, PositionSide, PriceType,
                             TokenAmount, TradeFee, TradeFeeBase, TradeFeeSchema, TradeType, TradeUpdate,
                             split_trading_pair,
                             to_decimal)

D = Decimal


def test_enum_values_are_hummingbots():
    assert [(m.name, m.value) for m in OrderType] == [("MARKET", 1), ("LIMIT", 2), ("LIMIT_MAKER", 3)]
    assert [(m.name, m.value) for m in TradeType] == [("BUY", 1), ("SELL", 2), ("RANGE", 3)]
    assert [(m.name, m.value) for m in OrderState] == [
        ("PENDING_CREATE", 0), ("OPEN", 1), ("PENDING_CANCEL", 2), ("CANCELED", 3), ("PARTIALLY_FILLED", 4),
        ("FILLED", 5), ("FAILED", 6), ("PENDING_APPROVAL", 7), ("APPROVED", 8), ("CREATED", 9),
        ("COMPLETED", 10), ("EXPIRED", 11)]
    assert [m.value for m in PositionAction] == ["OPEN", "CLOSE", "NIL"]
    assert [m.value for m in PositionSide] == ["LONG", "SHORT", "BOTH"]
    assert PositionMode.HEDGE.value is True and PositionMode.ONEWAY.value is False
    assert PriceType.MidPrice.value == 1 and PriceType.Custom.value == 7


def test_is_limit_type():
    assert OrderType.LIMIT.is_limit_type() and OrderType.LIMIT_MAKER.is_limit_type()
    assert not OrderType.MARKET.is_limit_type()


@pytest.mark.parametrize("value, expected", [(D("1.10"), D("1.10")), ("0.00000001", D("1E-8")), (7, D(7))])
def test_to_decimal_accepts_exact_inputs(value, expected):
    d = to_decimal(value)
    assert d == expected and type(d) is Decimal


@pytest.mark.parametrize("value, exc", [(1.5, TypeError), (True, TypeError), (None, TypeError), ("abc", ValueError),
                                        ("NaN", ValueError), (D("Infinity"), ValueError)])
def test_to_decimal_refuses(value, exc):
    with pytest.raises(exc):
        to_decimal(value, "price")


def test_to_decimal_nan_only_when_allowed():
    assert to_decimal("NaN", allow_nan=True).is_nan()


def test_split_trading_pair():
    assert split_trading_pair("BTC-USDT") == ("BTC", "USDT")
    for bad in ("BTCUSDT", "-USDT", "BTC-", "A-B-C"):
        with pytest.raises(ValueError):
            split_trading_pair(bad)


def test_token_amount_json():
    t = TokenAmount("BNB", D("0.00010"))
    assert t.to_json() == {"token": "BNB", "amount": "0.00010"}
    back = TokenAmount.from_json(json.loads(json.dumps(t.to_json())))
    assert back == t and str(back.amount) == "0.00010"


@pytest.mark.parametrize("cls, descriptor", [(AddedToCostTradeFee, "AddedToCost"),
                                             (DeductedFromReturnsTradeFee, "DeductedFromReturns"),
                                             (TradeFee, "TradeFee")])
def test_fee_json_round_trip_keeps_the_kind(cls, descriptor):
    fee = cls(percent=D("0.001"), percent_token="HBOT", flat_fees=[TokenAmount("HBOT", D("30"))])
    j = fee.to_json()
    assert j == {"fee_type": descriptor, "percent": "0.001", "percent_token": "HBOT",
                 "flat_fees": [{"token": "HBOT", "amount": "30"}]}
    back = TradeFeeBase.from_json(json.loads(json.dumps(j)))
    assert type(back) is cls and back == fee


def test_fee_kinds_are_distinct_and_validated():
    assert AddedToCostTradeFee() != DeductedFromReturnsTradeFee()
    assert issubclass(AddedToCostTradeFee, TradeFee) and TradeFeeBase is TradeFee
    with pytest.raises(ValueError):
        TradeFee.from_json({"fee_type": "Mystery"})
    with pytest.raises(TypeError):
        TradeFee(percent=0.1)
    with pytest.raises(TypeError):
        TradeFee(flat_fees=[TokenAmount("BNB", 0.1)])
    assert TradeFee(flat_fees=[("BNB", "0.1")]).flat_fees == [TokenAmount("BNB", D("0.1"))]


def test_fee_amount_in_token():
    fee = TradeFee(percent=D("0.001"), flat_fees=[TokenAmount("USDT", D("0.5"))])
    assert fee.fee_amount_in_token("BTC-USDT", D("20000"), D("0.5"), "USDT") == D("10.5")
    pct = TradeFee(percent=D("0.001"))
    assert pct.fee_amount_in_token("BTC-USDT", D("20000"), D("0.5"), "BTC") == D("0.0005")
    assert pct.fee_amount_in_token("BTC-USDT", D("20000"), D("0.5"), "BNB", rate=D("500")) == D("0.02")
    with pytest.raises(ValueError):
        pct.fee_amount_in_token("BTC-USDT", D("20000"), D("0.5"), "BNB")
    with pytest.raises(ValueError):
        fee.fee_amount_in_token("BTC-USDT", D("20000"), D("0.5"), "BTC")


def test_trade_update_json_round_trip_and_dict_input():
    fee = DeductedFromReturnsTradeFee(percent_token="BNB", flat_fees=[TokenAmount("BNB", D("0.0001"))])
    t = TradeUpdate("12", "OID1", "99", "BTC-USDT", 1700000000.123, D("30000.10"), D("0.010"), D("300.0010"),
                    fee, is_taker=False)
    j = json.loads(json.dumps(t.to_json()))
    assert j["fill_price"] == "30000.10" and j["fee"]["fee_type"] == "DeductedFromReturns"
    assert TradeUpdate.from_json(j) == t
    raw = dict(t._asdict(), fee=fee, fill_price="30000.10", fill_base_amount=D("0.010"))
    assert TradeUpdate.from_json(raw) == t
    with pytest.raises(TypeError):
        TradeUpdate.from_json(dict(j, fill_price=1.5))
    with pytest.raises(TypeError):
        TradeUpdate.from_json(dict(j, fee="0.1"))


def test_order_update_defaults():
    u = OrderUpdate("BTC-USDT", 1.0, OrderState.OPEN)
    assert (u.client_order_id, u.exchange_order_id, u.misc_updates) == (None, None, None)


def test_small_value_types():
    assert CancellationResult("OID1", True).success is True
    o = OpenOrder("OID1", "BTC-USDT", D("1"), D("2"), D("0"), "NEW", OrderType.LIMIT, True, 1, "E1")
    assert o.executed_amount == 0 and o.order_type is OrderType.LIMIT
    assert OrderBookRow(D("1"), D("2"), 3).update_id == 3
    assert OrderBookQueryResult(D(1), D(2), D(3), D(4)).result_volume == 4


def test_limit_order():
    lo = LimitOrder("OID1", "BTC-USDT", True, "BTC", "USDT", D("1.5"), D("2"))
    assert lo.filled_quantity == 0 and lo.creation_timestamp == 0
    assert lo.status is OrderState.PENDING_CREATE and lo.position is PositionAction.NIL
    assert lo == LimitOrder("OID1", "BTC-USDT", True, "BTC", "USDT", "1.5", 2)
    assert lo != LimitOrder("OID1", "BTC-USDT", False, "BTC", "USDT", "1.5", 2)
    with pytest.raises(TypeError):
        LimitOrder("OID1", "BTC-USDT", True, "BTC", "USDT", 1.5, D("2"))


def test_position_and_update():
    p = Position("BTC-USDT", PositionSide.SHORT, D("12"), D("10000"), D("-1"), D("2"))
    assert p.amount == -1
    p.update_position(unrealized_pnl="5", amount=D("-0.5"))
    assert (p.unrealized_pnl, p.amount, p.entry_price) == (D(5), D("-0.5"), D(10000))
    assert Position.from_json(json.loads(json.dumps(p.to_json()))) == p


def test_funding_info_update():
    f = FundingInfo("BTC-USDT", D("100"), D("101"), 1700000000, D("0.0001"))
    f.update(rate=D("-0.0002"), next_funding_utc_timestamp=1700028800)
    assert f.rate == D("-0.0002") and f.next_funding_utc_timestamp == 1700028800 and f.mark_price == 101


decimals = st.decimals(allow_nan=False, allow_infinity=False, min_value=-10 ** 12, max_value=10 ** 12, places=12)


@given(st.sampled_from([TradeFee, AddedToCostTradeFee, DeductedFromReturnsTradeFee]), decimals,
       st.one_of(st.none(), st.sampled_from(["BTC", "USDT", "BNB"])),
       st.lists(st.tuples(st.sampled_from(["BTC", "USDT", "BNB"]), decimals), max_size=3))
def test_fee_json_round_trip_is_exact(cls, percent, token, flats):
    fee = cls(percent=percent, percent_token=token, flat_fees=[TokenAmount(t, a) for t, a in flats])
    back = TradeFeeBase.from_json(json.loads(json.dumps(fee.to_json())))
    assert back == fee and back.to_json() == fee.to_json()  # same text: exponents and trailing zeros kept


@pytest.mark.parametrize("deducted, side, expected", [
    (False, TradeType.BUY, AddedToCostTradeFee), (True, TradeType.BUY, DeductedFromReturnsTradeFee),
    (False, TradeType.SELL, DeductedFromReturnsTradeFee), (True, TradeType.SELL, DeductedFromReturnsTradeFee)])
def test_new_spot_fee_kind(deducted, side, expected):
    schema = TradeFeeSchema(maker_percent_fee_decimal=D("0.001"), buy_percent_fee_deducted_from_returns=deducted)
    fee = TradeFeeBase.new_spot_fee(schema, side, percent=D("1.1"), percent_token="HBOT",
                                    flat_fees=[TokenAmount("COINALPHA", D("20"))])
    assert type(fee) is expected
    assert (fee.percent, fee.percent_token, fee.flat_fees) == (D("1.1"), "HBOT", [TokenAmount("COINALPHA", D(20))])


@pytest.mark.parametrize("fee_token, action, expected", [
    (None, PositionAction.OPEN, AddedToCostTradeFee), ("HBOT", PositionAction.OPEN, AddedToCostTradeFee),
    ("HBOT", PositionAction.CLOSE, AddedToCostTradeFee), (None, PositionAction.CLOSE, DeductedFromReturnsTradeFee)])
def test_new_perpetual_fee_kind(fee_token, action, expected):
    schema = TradeFeeSchema(percent_fee_token=fee_token)
    assert type(TradeFeeBase.new_perpetual_fee(schema, action, percent=D("0.0004"))) is expected


def test_fee_schema_is_mutable_and_exact():
    schema = TradeFeeSchema(maker_percent_fee_decimal="0.001", taker_percent_fee_decimal=D("0.001"))
    schema.percent_fee_token = "BNB"
    assert schema.percent_fee_token == "BNB" and schema.maker_percent_fee_decimal == D("0.001")
    with pytest.raises(TypeError):
        TradeFeeSchema(maker_percent_fee_decimal=0.001)


def test_incomplete_json_is_a_value_error_naming_the_keys():
    with pytest.raises(ValueError, match="fill_price"):
        TradeUpdate.from_json({"trade_id": "1", "trading_pair": "A-B", "fill_timestamp": 1,
                               "fill_base_amount": "1", "fill_quote_amount": "1"})
    with pytest.raises(ValueError, match="amount"):
        TokenAmount.from_json({"token": "BNB"})
