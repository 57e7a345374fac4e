"""Property tests: compiled InFlightOrder vs the plain-Decimal reference, same random histories.

Each history interleaves order updates (any state, right/wrong/missing ids), trade updates
(duplicates, other orders, fills before the ack, overfills, malformed amounts, every fee kind,
dicts instead of TradeUpdates), exchange-id updates and save/restore cycles.  After every step
both objects must agree on the return value or exception type and on everything observable,
and to_json must survive a JSON text round trip exactly.
"""
import json
from decimal import Decimal

from hypothesis import HealthCheck, event, given, settings, strategies as st

from exconnect.native.in_flight_order import InFlightOrder
from exconnect.types import (AddedToCostTradeFee, DeductedFromReturnsTradeFee, OrderState, OrderType,
                             OrderUpdate, PositionAction, TokenAmount, TradeType, TradeUpdate)
from reference.in_flight_order_ref import EXACT, InFlightOrderRef

PAIR = "BTC-USDT"
CID = "OID1"


def dec(units: int, scale: int) -> Decimal:
    return Decimal(f"{units}E-{scale}")  # exact at any length (scaleb would round to 28 digits)


timestamps = st.floats(min_value=0, max_value=2e9, allow_nan=False, allow_infinity=False)
client_ids = st.sampled_from([CID, CID, CID, "OTHER", None])
exchange_ids = st.sampled_from(["E1", "E1", "E2", None])
scales = st.integers(0, 9)  # 9 decimals: beyond the exact domain
prices = st.builds(dec, st.integers(-1, 10 ** 12), scales)
fee_amounts = st.builds(dec, st.integers(0, 10 ** 9), st.integers(0, 12))
tokens = st.sampled_from(["BTC", "USDT", "BNB"])
fees = st.builds(
    lambda kind, percent, token, flats: kind(percent=percent, percent_token=token,
                                             flat_fees=[TokenAmount(t, a) for t, a in flats]),
    st.sampled_from([DeductedFromReturnsTradeFee, AddedToCostTradeFee]),
    st.sampled_from([Decimal(0), Decimal(0), Decimal("0.001"), Decimal("0.00075"), Decimal("0.1")]),
    st.one_of(st.none(), tokens),
    st.lists(st.tuples(tokens, fee_amounts), max_size=2),
)


@st.composite
def orders_and_histories(draw):
    scale = draw(st.integers(0, 8))
    units = draw(st.integers(1, 10 ** 6))
    amount = dec(units, scale)
    price = draw(st.one_of(st.none(), st.builds(dec, st.integers(1, 10 ** 9), st.integers(0, 8))))
    start = draw(st.sampled_from([OrderState.PENDING_CREATE] * 4 + [OrderState.OPEN]))
    eid = draw(st.sampled_from([None, None, "E1"])) if start is OrderState.PENDING_CREATE else "E1"

    trade_ids = st.one_of(st.sampled_from(["1", "2", "3", "4", "5", "6"]), st.integers(1, 6))
    fill_base = st.one_of(
        st.builds(dec, st.integers(-1, max(1, units // 2)), st.just(scale)),  # parts of the amount
        st.builds(dec, st.integers(units // 2, units + 2), st.just(scale)),   # large: fill / overfill
        st.builds(dec, st.integers(1, 10 ** 4), scales),
    )

    @st.composite
    def trade(draw2):
        base = draw2(fill_base)
        price_ = draw2(prices)
        quote_kind = draw2(st.sampled_from(["exact"] * 6 + ["other", "too_precise"]))
        if quote_kind == "exact" and base.is_finite() and price_.is_finite():
            quote = base * price_
        elif quote_kind == "other":
            quote = dec(draw2(st.integers(0, 10 ** 30)), draw2(st.integers(0, 16)))  # up to ~46 digits
        else:
            quote = dec(draw2(st.integers(1, 10 ** 6)), 17)
        tu = TradeUpdate(draw2(trade_ids), draw2(client_ids), draw2(exchange_ids), PAIR, draw2(timestamps),
                         price_, base, quote, draw2(fees), draw2(st.booleans()))
        return ("trade_dict" if draw2(st.integers(0, 9)) == 0 else "trade", tu)

    order_update = st.builds(lambda s, c, e, t: ("order", OrderUpdate(PAIR, t, s, c, e)),
                             st.sampled_from(list(OrderState)), client_ids, exchange_ids, timestamps)
    ops = st.one_of(trade(), trade(), order_update,
                    st.builds(lambda e: ("eid", e), st.sampled_from(["E1", "E2"])),
                    st.just(("restore", None)))
    history = draw(st.lists(ops, max_size=25))
    side = draw(st.sampled_from([TradeType.BUY, TradeType.SELL]))
    leverage = draw(st.integers(1, 125))
    position = draw(st.sampled_from(list(PositionAction)))
    ctor = (CID, PAIR, OrderType.LIMIT, side, amount, draw(timestamps), price, eid, start, leverage, position)
    return ctor, history, draw(st.booleans())


def observe(o):
    return {
        "state": o.current_state,
        "eid": o.exchange_order_id,
        "base": o.executed_amount_base,
        "quote": o.executed_amount_quote,
        "avg": o.average_executed_price,
        "fees": o.cumulative_fees,
        "fee_usdt": o.cumulative_fee_paid("USDT"),
        "updated": o.last_update_timestamp,
        "fills": list(o.order_fills.items()),
        "flags": (o.is_pending_create, o.is_pending_cancel_confirmation, o.is_open, o.is_done, o.is_filled,
                  o.is_fully_executed, o.is_failure, o.is_cancelled, o.is_expired),
        "json": o.to_json(),
        "limit": (lambda lo: (lo.filled_quantity, lo.status, lo.price, lo.quantity, lo.position,
                              lo.creation_timestamp))(o.to_limit_order()),
    }


def call(fn, *args):
    try:
        return ("ok", fn(*args))
    except Exception as e:  # noqa: BLE001 - the exception kind is what we compare
        return ("raised", type(e).__name__, isinstance(e, ValueError))


def restored(cls, o):
    return cls.from_json(json.loads(json.dumps(o.to_json())))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(orders_and_histories())
def test_compiled_matches_reference(case):
    ctor, history, watch_events = case
    native, ref = InFlightOrder(*ctor), InFlightOrderRef(*ctor)
    assert observe(native) == observe(ref)
    for kind, arg in history:
        before = observe(native)
        if kind == "trade":
            r_native, r_ref = call(native.update_with_trade_update, arg), call(ref.update_with_trade_update, arg)
        elif kind == "trade_dict":
            j = arg.to_json()
            r_native, r_ref = call(native.update_with_trade_update, j), call(ref.update_with_trade_update, dict(j))
        elif kind == "order":
            r_native, r_ref = call(native.update_with_order_update, arg), call(ref.update_with_order_update, arg)
        elif kind == "eid":
            r_native, r_ref = call(native.update_exchange_order_id, arg), call(ref.update_exchange_order_id, arg)
        else:
            native, ref = restored(InFlightOrder, native), restored(InFlightOrderRef, ref)
            r_native = r_ref = ("ok", None)
        assert r_native == r_ref, (kind, arg)
        event(f"{kind} -> {r_native[1] if r_native[0] == 'raised' else r_native[1]}")
        after = observe(native)
        assert after == observe(ref), (kind, arg)
        if r_native[0] == "raised" or r_native == ("ok", False):
            assert after == before, "a refused update changed the order"
        # the persisted form restores to the same observable order, at every step
        assert observe(restored(InFlightOrder, native)) == after
        if watch_events:  # latches follow the order whether created before or after the updates
            assert native.exchange_order_id_update_event.is_set() == (native.exchange_order_id is not None)
            assert native.completely_filled_event.is_set() == native.is_fully_executed
            assert native.processed_by_exchange_event.is_set() == (not native.is_pending_create)
    # executed base never exceeds the amount, and equals the sum of the kept fills
    assert native.executed_amount_base <= native.amount
    assert native.executed_amount_base == EXACT_SUM(f.fill_base_amount for f in native.order_fills.values())


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 9 * 10 ** 10), st.integers(0, 8), st.integers(1, 10 ** 9),
                          st.integers(0, 8)), min_size=1, max_size=6))
def test_quote_and_average_exact_for_any_binance_values(fills):
    """Prices < 9.2e10 and quantities with <= 8 decimals: quote totals exact, same average as the reference."""
    exact = EXACT_SUM
    total = exact(dec(q, qs) for _, _, q, qs in fills)
    native = InFlightOrder(CID, PAIR, OrderType.LIMIT, TradeType.BUY, total, 0.0)
    ref = InFlightOrderRef(CID, PAIR, OrderType.LIMIT, TradeType.BUY, total, 0.0)
    for i, (p, ps, q, qs) in enumerate(fills):
        quote = dec(p * q, ps + qs)  # price * qty, exact by construction
        tu = TradeUpdate(str(i), CID, None, PAIR, float(i), dec(p, ps), dec(q, qs), quote,
                         DeductedFromReturnsTradeFee())
        assert native.update_with_trade_update(tu) is True
        assert ref.update_with_trade_update(tu) is True
    assert native.executed_amount_quote == exact(dec(p * q, ps + qs) for p, ps, q, qs in fills)
    assert native.executed_amount_base == total
    assert native.average_executed_price == ref.average_executed_price
    assert native.current_state is OrderState.FILLED


def EXACT_SUM(values):
    """Sum of Decimals as Python integers at scale 16: no context rounding can happen."""
    units = sum(int(v.scaleb(16, context=EXACT)) for v in values)
    return Decimal(units).scaleb(-16, context=EXACT)
