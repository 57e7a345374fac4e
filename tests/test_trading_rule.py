"""TradingRule against the plain-Fraction reference (tests/reference/trading_rule_ref.py)."""
import json
import pickle
from decimal import Decimal as D

import pytest
from hypothesis import given, example, strategies as st

from exconnect.native.trading_rule import TradingRule
from exconnect.types import OrderType
from tests.reference.trading_rule_ref import TradingRuleRef

INCREMENTS = ["1", "0.1", "0.01", "0.00001", "0.00000001", "0.05", "0.03", "25", "0.01000000",
              "1E-18", "1e-19", "1e-56", "0"]
RULES = st.fixed_dictionaries({
    "min_order_size": st.sampled_from(["0", "0.001", "0.0015", "1", "10", "1e-20", "1e25"]),
    "max_order_size": st.sampled_from(["1e56", "9000", "92141578.00000000", "100000000000000", "0.5"]),
    "min_price_increment": st.sampled_from(INCREMENTS),
    "min_base_amount_increment": st.sampled_from(INCREMENTS),
    "min_notional_size": st.sampled_from(["0", "5", "10", "0.001", "10.12345678901234567891"]),
    "min_order_value": st.sampled_from(["0", "7"]),
    "max_price_significant_digits": st.sampled_from(["1e56", "1", "3", "5", "8", "19", "20"]),
}).map(lambda kw: {k: D(v) for k, v in kw.items()})


def decimals(min_exp=-25, max_exp=12, signed=False):
    coeff = st.integers(-(10**20) if signed else 0, 10**20)
    return st.builds(lambda c, e: D(c).scaleb(e), coeff, st.integers(min_exp, max_exp))


PRICES = st.one_of(decimals(), decimals(signed=True), st.sampled_from([D("29999.99"), D("0.00001"), D("1E+30")]))
AMOUNTS = st.one_of(decimals(), decimals(signed=True), st.sampled_from([D("0.0001"), D("1E+25")]))
as_text = st.booleans()


def make(kw):
    return TradingRule("BTC-USDT", **kw), TradingRuleRef(**kw)


@given(RULES, PRICES, as_text)
@example({"min_price_increment": D("0.01")}, D("29999.987"), False)
@example({"min_price_increment": D("0.03"), "max_price_significant_digits": D(3)}, D("123.456"), False)
@example({"min_price_increment": D("1e-56")}, D("100"), True)
def test_quantize_order_price_matches_reference(kw, price, text):
    rule, ref = make(kw)
    got = rule.quantize_order_price(str(price) if text else price)
    assert isinstance(got, D)
    assert got == ref.quantize_order_price(price)
    assert rule.get_order_price_quantum(price) == ref.price_quantum(price)


@given(RULES, AMOUNTS, st.one_of(st.none(), st.just(D(0)), PRICES), as_text)
@example({"min_base_amount_increment": D(3)}, D(10000), None, False)
@example({"min_base_amount_increment": D("0.000001"), "min_order_size": D("0.01")}, D("0.0001"), None, False)
@example({"min_base_amount_increment": D("0.00001"), "min_notional_size": D(5)}, D("0.0001"), D(30000), False)
def test_quantize_order_amount_matches_reference(kw, amount, price, text):
    rule, ref = make(kw)
    try:
        expected = ref.quantize_order_amount(amount, price)
    except ValueError:
        with pytest.raises(ValueError):
            rule.quantize_order_amount(amount, price)
        return
    got = rule.quantize_order_amount(str(amount) if text else amount, price)
    assert isinstance(got, D)
    assert got == expected


@given(RULES, st.one_of(st.none(), PRICES), AMOUNTS, st.sampled_from(list(OrderType)),
       st.booleans(), st.booleans())
def test_check_order_matches_reference(kw, price, amount, order_type, limit_ok, market_ok):
    kw = dict(kw, supports_limit_orders=limit_ok, supports_market_orders=market_ok)
    rule, ref = make(kw)
    expected = ref.check_order(price, amount, order_type.name)
    got = rule.check_order(price, amount, order_type)
    if expected is None:
        assert got is None
    else:
        assert got is not None and expected in got, (expected, got)
    assert rule.check_order(price, amount, order_type.name) == got


# ---- behaviour a connector relies on (connector-scenarios TRL-07/08) ----------------

def binance_btcusdt():
    return TradingRule("BTC-USDT", min_order_size=D("0.00001000"), max_order_size=D("9000.00000000"),
                       min_price_increment=D("0.01000000"), min_base_amount_increment=D("0.00001000"),
                       min_notional_size=D("5.00000000"))


def test_binance_rule_uses_the_fixed_point_paths():
    rule = binance_btcusdt()
    assert rule.price_fast and rule.size_fast and rule.notional_fast
    assert (rule.price_scale, rule.size_scale, rule.notional_scale) == (2, 5, 0)
    assert rule.quantize_order_price(D("29999.987")) == D("29999.98")
    assert str(rule.quantize_order_price(D("29999.987"))) == "29999.98"
    assert rule.quantize_order_amount(D("0.123456789")) == D("0.12345")
    assert rule.quantize_order_amount(D("0.0001"), D("30000")) == 0      # notional 3 < 5
    assert rule.quantize_order_amount(D("0.0002"), D("30000")) == D("0.0002")
    assert rule.quantize_order_amount(D("0.0001"), D(0)) == D("0.0001")  # price unknown


def test_trl07_quantization_before_checks():
    perp = TradingRule("BTC-USDT", min_base_amount_increment=D(3))
    assert perp.quantize_order_amount(D(10000)) == D(9999)
    spot = TradingRule("BTC-USDT", min_order_size=D("0.01"), min_base_amount_increment=D("0.000001"))
    assert spot.quantize_order_amount(D("0.0001")) == 0
    assert spot.check_order(D(100), D("0.0001"), OrderType.LIMIT) == \
        "amount 0.0001 is below the minimum order size 0.01"


def test_trl08_defaults_and_text_form():
    rule = TradingRule("BTC-USDT")
    assert rule.min_order_size == 0 and rule.max_order_size == D("1e56")
    assert rule.min_price_increment == rule.min_base_amount_increment == D("1e-56")
    assert rule.min_notional_size == 0 and rule.supports_limit_orders and rule.supports_market_orders
    assert rule.buy_order_collateral_token == rule.sell_order_collateral_token == "USDT"
    assert repr(rule) == (
        "TradingRule(trading_pair='BTC-USDT', min_order_size=0, max_order_size=1E+56, "
        "min_price_increment=1E-56, min_base_amount_increment=1E-56, min_quote_amount_increment=1E-56, "
        "min_notional_size=0, min_order_value=0, max_price_significant_digits=1E+56, "
        "supports_limit_orders=True, supports_market_orders=True, buy_order_collateral_token=USDT, "
        "sell_order_collateral_token=USDT,)")
    # Hummingbot's Decimal `//` raises here; exact arithmetic keeps the price
    assert rule.quantize_order_price(D("123.456")) == D("123.456")
    assert str(rule.quantize_order_amount(D("1.5"))) == "1.5"


def test_check_order_reasons_are_readable():
    rule = binance_btcusdt()
    assert rule.check_order(D("30000"), D("0.001"), OrderType.LIMIT) is None
    assert rule.check_order(D("30000"), D("0.000001"), OrderType.LIMIT) == \
        "amount 0.000001 is below the minimum order size 0.00001000"
    assert "above the maximum order size" in rule.check_order(D("30000"), D("9001"), OrderType.LIMIT)
    assert "below the minimum notional 5.00000000" in rule.check_order(D("30000"), D("0.0001"), OrderType.LIMIT)
    assert "price -1 is not positive" == rule.check_order(D(-1), D("0.001"), OrderType.LIMIT)
    assert "not a multiple of the tick size" in rule.check_order(D("30000.001"), D("0.001"), OrderType.LIMIT)
    assert rule.check_order(None, D("0.001"), OrderType.MARKET) is None
    assert "a price is required" in rule.check_order(None, D("0.001"), OrderType.LIMIT_MAKER)
    no_market = TradingRule("BTC-USDT", supports_market_orders=False)
    assert "market orders are not supported" in no_market.check_order(None, D(1), OrderType.MARKET)
    with pytest.raises(ValueError):
        rule.check_order(D(1), D(1), "STOP")


def test_json_and_pickle_round_trip_exactly():
    rule = TradingRule("ETH-BUSD", min_order_size=D("0.0001000"), max_price_significant_digits=D(5),
                       supports_market_orders=False, buy_order_collateral_token="BUSD",
                       sell_order_collateral_token="ETH")
    data = json.loads(json.dumps(rule.to_json()))
    back = TradingRule.from_json(data)
    assert back.to_json() == rule.to_json() and repr(back) == repr(rule)
    assert str(back.min_order_size) == "0.0001000"
    assert pickle.loads(pickle.dumps(rule)).to_json() == rule.to_json()


def test_setting_a_field_recompiles_and_bad_values_change_nothing():
    rule = binance_btcusdt()
    rule.min_price_increment = D("0.1")
    assert rule.price_scale == 1 and rule.quantize_order_price(D("29999.99")) == D("29999.9")
    before = rule.to_json()
    with pytest.raises(ValueError):
        rule.min_price_increment = D("-0.1")
    with pytest.raises(TypeError):
        rule.min_order_size = 0.1
    assert rule.to_json() == before
    assert rule.quantize_order_price(D("29999.99")) == D("29999.9")


@pytest.mark.parametrize("kw", [
    {"min_order_size": D(-1)}, {"min_price_increment": D("-0.01")}, {"max_price_significant_digits": D(0)},
    {"max_price_significant_digits": D("2.5")}, {"min_notional_size": "abc"}, {"max_order_size": D("NaN")},
])
def test_bad_fields_are_value_errors(kw):
    with pytest.raises(ValueError):
        TradingRule("BTC-USDT", **kw)


def test_bad_inputs_are_clear_errors():
    rule = binance_btcusdt()
    with pytest.raises(TypeError):
        rule.quantize_order_price(29999.99)
    with pytest.raises(TypeError):
        TradingRule("BTC-USDT", min_order_size=0.1)
    with pytest.raises(ValueError):
        rule.quantize_order_price("garbage")
    with pytest.raises(ValueError):
        rule.quantize_order_price(D("NaN"))
    with pytest.raises(ValueError):
        rule.quantize_order_amount(D("-0.1"))
    with pytest.raises(ValueError):
        rule.quantize_order_amount(D("0.1"), D(-1))


def test_out_of_int64_range_inputs_take_the_exact_path():
    rule = binance_btcusdt()
    huge = D("123456789012345678901234567.891")
    assert rule.quantize_order_price(huge) == D("123456789012345678901234567.89")
    assert rule.quantize_order_amount(huge) == D("123456789012345678901234567.89100")


def test_on_grid_decimals_come_back_unchanged_and_off_grid_at_the_tick_exponent():
    rule = binance_btcusdt()
    price, amount = D("29999.99000000"), D("0.00100000")
    assert rule.quantize_order_price(price) is price
    assert rule.quantize_order_amount(amount) is amount
    assert str(rule.quantize_order_price(D("29999.991"))) == "29999.99"
    assert str(rule.quantize_order_amount(D("0.001001"))) == "0.00100"
    assert rule.quantize_order_price("29999.99") == price  # str in, Decimal out


@given(RULES, st.integers(1, 10**7), st.integers(0, 10**6), st.sampled_from(list(OrderType)))
def test_check_order_on_grid_orders_match_reference(kw, ticks, steps, order_type):
    """Orders built on the rule's grid, so the fast accept path and every reason get exercised."""
    rule, ref = make(kw)
    price = kw["min_price_increment"] * ticks if kw["min_price_increment"] > 0 else D(ticks)
    amount = kw["min_base_amount_increment"] * steps
    expected = ref.check_order(price, amount, order_type.name)
    got = rule.check_order(price, amount, order_type)
    assert (got is None) == (expected is None), (expected, got)
    if expected is not None:
        assert expected in got


def test_absurdly_long_inputs_are_errors_not_rounded():
    rule = binance_btcusdt()
    big = D("1." + "1" * 1500)
    assert rule.quantize_order_price(big) == D("1.11")  # exact floor of the text
    with pytest.raises(ValueError, match="exactly"):
        rule.quantize_order_amount(big, big)  # notional would need 1500+ digits
    with pytest.raises(ValueError, match="exactly"):
        TradingRule("BTC-USDT").quantize_order_price(big)
