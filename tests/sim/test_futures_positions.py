"""Unit tests of the futures account model (positions.py) and the funding model (funding.py)."""
from decimal import Decimal

import pytest

from exconnect.sim.funding import SymbolFunding, next_funding_time
from exconnect.sim.money import parse, text
from exconnect.sim.positions import (
    BOTH,
    LONG,
    SHORT,
    DEFAULT_BRACKETS,
    FuturesAccount,
    MarginError,
    OpenOrderMargin,
    max_notional_for_leverage,
)

P = parse


def acct(usdt="10000") -> FuturesAccount:
    return FuturesAccount({"USDT": P(usdt)}, fee_maker=P("0.0002"), fee_taker=P("0.0005"))


def test_open_increase_entry_is_weighted_average():
    a = acct()
    a.apply_fill("BTCUSDT", BOTH, "BUY", P("1"), P("100"), False, 1, 1)
    a.apply_fill("BTCUSDT", BOTH, "BUY", P("3"), P("200"), False, 2, 2)
    pos = a.positions[("BTCUSDT", BOTH)]
    assert pos.amount == P("4")
    assert pos.entry_price == P("175")


def test_reduce_realizes_pnl_and_charges_commission():
    a = acct()
    a.apply_fill("BTCUSDT", BOTH, "BUY", P("2"), P("100"), True, 1, 1)  # maker 0.0002 × 200 = 0.04
    out = a.apply_fill("BTCUSDT", BOTH, "SELL", P("0.5"), P("110"), False, 2, 2)  # taker 0.0005 × 55
    assert out.realized_pnl == P("5")
    assert out.commission == P("0.0275")
    assert out.closed == P("0.5") and out.opened == 0
    assert a.wallet["USDT"] == P("10000") - P("0.04") + P("5") - P("0.0275")
    kinds = [(r.income_type, text(r.income)) for r in a.income]
    assert kinds == [
        ("COMMISSION", "-0.04000000"),
        ("REALIZED_PNL", "5.00000000"),
        ("COMMISSION", "-0.02750000"),
    ]
    assert a.positions[("BTCUSDT", BOTH)].entry_price == P("100")


def test_one_way_flip_opens_remainder_at_fill_price():
    a = acct()
    a.apply_fill("BTCUSDT", BOTH, "BUY", P("1"), P("100"), False, 1, 1)
    out = a.apply_fill("BTCUSDT", BOTH, "SELL", P("3"), P("90"), False, 2, 2)
    pos = a.positions[("BTCUSDT", BOTH)]
    assert out.realized_pnl == P("-10")
    assert pos.amount == P("-2") and pos.entry_price == P("90")
    assert pos.unrealized(P("80")) == P("20")  # short gains when the mark falls


def test_short_reduce_realizes_and_flat_resets_entry():
    a = acct()
    a.apply_fill("BTCUSDT", BOTH, "SELL", P("1"), P("100"), False, 1, 1)
    out = a.apply_fill("BTCUSDT", BOTH, "BUY", P("1"), P("95"), False, 2, 2)
    assert out.realized_pnl == P("5")
    pos = a.positions[("BTCUSDT", BOTH)]
    assert pos.amount == 0 and pos.entry_price == 0 and pos.realized == P("5")


def test_hedge_positions_are_independent():
    a = acct()
    a.set_dual_side(True, has_open_orders=False)
    a.apply_fill("BTCUSDT", LONG, "BUY", P("1"), P("100"), False, 1, 1)
    a.apply_fill("BTCUSDT", SHORT, "SELL", P("2"), P("100"), False, 1, 2)
    assert a.positions[("BTCUSDT", LONG)].amount == P("1")
    assert a.positions[("BTCUSDT", SHORT)].amount == P("-2")
    assert a.unrealized({"BTCUSDT": P("110")}) == P("10") - P("20")
    a.check_hedge_close("BTCUSDT", LONG, "SELL", P("1"))
    with pytest.raises(MarginError) as e:
        a.check_hedge_close("BTCUSDT", LONG, "SELL", P("1.5"))
    assert e.value.code == -2022


def test_position_side_mode_checks():
    a = acct()
    a.check_position_side(BOTH)
    with pytest.raises(MarginError) as e:
        a.check_position_side(LONG)
    assert e.value.code == -4061
    with pytest.raises(MarginError) as e:
        a.set_dual_side(False, has_open_orders=False)
    assert e.value.code == -4059
    with pytest.raises(MarginError) as e:
        a.set_dual_side(True, has_open_orders=True)
    assert e.value.code == -4067
    a.apply_fill("BTCUSDT", BOTH, "BUY", P("1"), P("100"), False, 1, 1)
    with pytest.raises(MarginError) as e:
        a.set_dual_side(True, has_open_orders=False)
    assert e.value.code == -4068


def test_reduce_only_rules():
    a = acct()
    with pytest.raises(MarginError) as e:
        a.check_reduce_only("BTCUSDT", BOTH, "SELL", P("1"))
    assert e.value.code == -2022
    a.apply_fill("BTCUSDT", BOTH, "BUY", P("1"), P("100"), False, 1, 1)
    a.check_reduce_only("BTCUSDT", BOTH, "SELL", P("1"))
    with pytest.raises(MarginError):
        a.check_reduce_only("BTCUSDT", BOTH, "BUY", P("1"))
    assert a.reducing_qty("BTCUSDT", BOTH, "SELL", P("5")) == P("1")


def test_margin_totals_and_insufficient_margin():
    a = acct("1000")
    a.set_leverage("BTCUSDT", 10, P("100"))
    a.apply_fill("BTCUSDT", BOTH, "BUY", P("10"), P("100"), True, 1, 1)  # fee 0.2
    marks = {"BTCUSDT": P("105")}
    orders = [OpenOrderMargin("BTCUSDT", P("100"), P("5"), False), OpenOrderMargin("BTCUSDT", P("200"), P("5"), True)]
    t = a.totals(marks, orders)
    assert t["wallet"] == P("999.8")
    assert t["unrealized"] == P("50")
    assert t["position_im"] == P("105")  # 1050 / 10
    assert t["open_order_im"] == P("50")  # reduce-only order reserves nothing
    assert t["available"] == P("999.8") + P("50") - P("105") - P("50")
    assert t["maint_margin"] == P("1050") * 4 // 1000  # first bracket mmr 0.4 %
    a.check_margin(marks, orders, OpenOrderMargin("BTCUSDT", P("100"), P("89"), False))
    with pytest.raises(MarginError) as e:
        a.check_margin(marks, orders, OpenOrderMargin("BTCUSDT", P("100"), P("90"), False))
    assert e.value.code == -2019


def test_leverage_limits_and_brackets():
    a = acct()
    with pytest.raises(MarginError) as e:
        a.set_leverage("BTCUSDT", 0, P("100"))
    assert e.value.code == -4028
    with pytest.raises(MarginError):
        a.set_leverage("BTCUSDT", 126, P("100"))
    assert a.set_leverage("BTCUSDT", 125, P("100")) == P("50000")
    assert max_notional_for_leverage(DEFAULT_BRACKETS, 20) == P("100000000")
    # cum (maintenance amount) is continuous across brackets: 50000 × (0.005 − 0.004) = 50
    assert DEFAULT_BRACKETS[1].cum == P("50")
    a.set_leverage("BTCUSDT", 20, P("100"))
    a.apply_fill("BTCUSDT", BOTH, "BUY", P("1000"), P("100"), False, 1, 1)  # notional 100000
    with pytest.raises(MarginError) as e:
        a.set_leverage("BTCUSDT", 125, P("100"))
    assert e.value.code == -2027


def test_margin_type_errors():
    a = acct()
    with pytest.raises(MarginError) as e:
        a.set_margin_type("BTCUSDT", "CROSSED", False)
    assert e.value.code == -4046
    a.set_margin_type("BTCUSDT", "ISOLATED", False)
    assert a.margin_type_of("BTCUSDT") == "ISOLATED"
    with pytest.raises(MarginError) as e:
        a.set_margin_type("BTCUSDT", "CROSSED", True)
    assert e.value.code == -4047


def test_funding_payment_sign_and_income():
    a = acct()
    a.apply_fill("BTCUSDT", BOTH, "BUY", P("2"), P("100"), True, 1, 1)
    before = a.wallet["USDT"]
    paid = a.apply_funding("BTCUSDT", P("110"), P("0.0001"), 1000)
    assert paid == -P("0.022")  # 220 × 0.01 %
    assert a.wallet["USDT"] == before - P("0.022")
    row = a.income[-1]
    assert (row.income_type, row.income, row.time, row.symbol) == ("FUNDING_FEE", -P("0.022"), 1000, "BTCUSDT")
    # no position → no payment, no row
    n = len(a.income)
    assert a.apply_funding("ETHUSDT", P("10"), P("0.0001"), 2000) == 0
    assert len(a.income) == n


def test_funding_hedge_short_receives_net():
    a = acct()
    a.set_dual_side(True, False)
    a.apply_fill("BTCUSDT", LONG, "BUY", P("1"), P("100"), True, 1, 1)
    a.apply_fill("BTCUSDT", SHORT, "SELL", P("3"), P("100"), True, 1, 2)
    assert a.apply_funding("BTCUSDT", P("100"), P("0.001"), 5) == P("0.2")  # -0.1 + 0.3


def test_income_query_filters():
    a = acct()
    for t in range(1, 6):
        a.apply_fill("BTCUSDT", BOTH, "BUY", P("1"), P("100"), False, t, t)
    a.apply_funding("BTCUSDT", P("100"), P("0.0001"), 10)
    assert len(a.query_income(income_type="COMMISSION")) == 5
    assert [r.time for r in a.query_income(income_type="COMMISSION", limit=2)] == [4, 5]
    assert [r.time for r in a.query_income(start=2, end=3)] == [2, 3]
    assert [r.income_type for r in a.query_income(income_type="FUNDING_FEE")] == ["FUNDING_FEE"]
    assert a.query_income(symbol="ETHUSDT") == []


def test_liquidation_price_long_below_entry():
    a = acct("1000")
    a.apply_fill("BTCUSDT", BOTH, "BUY", P("1"), P("10000"), True, 1, 1)
    lp = a.liquidation_price(a.positions[("BTCUSDT", BOTH)], {"BTCUSDT": P("10000")})
    assert 0 < lp < P("10000")
    # at lp, margin balance ≈ maintenance margin
    wallet = a.wallet["USDT"]
    upnl = lp - P("10000")
    mm = lp * 4 // 1000
    assert abs(wallet + upnl - mm) < P("0.01")


def test_funding_rate_model():
    f = SymbolFunding("BTCUSDT", interval_ms=1000)
    f.update_mark(P("100"))
    assert f.index == P("100") and f.premium() == 0
    assert f.estimated_rate() == P("0.0001")  # interest rate when index == mark
    f.index_premium = P("0.001")
    f.update_mark(P("100"))
    # samples 0 and ~0.001 → P̄ ~0.0005; |I − P̄| < 0.05 % so F = P̄ + (I − P̄) = I exactly
    assert P("0.00049") < f.average_premium() < P("0.00051")
    est = f.estimated_rate()
    assert est == P("0.0001")
    rec = f.settle(2000)
    assert rec.rate == est and f.history == [rec] and rec.mark == P("100")
    f.index_premium = P("0.01")
    f.settle(3000)
    f.update_mark(P("100"))
    assert f.estimated_rate() > P("0.009")
    f.index_premium = P("-0.5")
    for _ in range(50):
        f.update_mark(P("100"))
    f.settle(4000)
    assert f.history[-1].rate >= -P("0.02")  # capped
    assert [r.time for r in f.query_history(limit=2)] == [3000, 4000]
    assert [r.time for r in f.query_history(start=2500, limit=1)] == [3000]


def test_next_funding_time_alignment():
    eight_h = 8 * 3600 * 1000
    assert next_funding_time(0, eight_h) == eight_h
    assert next_funding_time(eight_h, eight_h) == 2 * eight_h
    assert next_funding_time(eight_h - 1, eight_h) == eight_h
    assert next_funding_time(1_767_225_600_123, 2000) == 1_767_225_602_000


# -- property: PnL accounting is exact (no money created or lost) ---------------------------------
from hypothesis import given, settings, strategies as st

fills = st.lists(
    st.tuples(st.sampled_from(["BUY", "SELL"]), st.integers(1, 5000), st.integers(9000, 11000),
              st.sampled_from([LONG, SHORT])),
    min_size=1, max_size=30,
)


@settings(max_examples=150, deadline=None)
@given(fills, st.integers(9000, 11000), st.booleans())
def test_realized_plus_unrealized_equals_cash_flow(seq, mark_units, hedge):
    """Σ realized + unrealized at mark == −Σ signed qty × price + final amount × mark, to within
    one atom of rounding per fill (qty steps 0.001, prices whole, no fees)."""
    a = FuturesAccount({"USDT": P("1000000")}, fee_maker=0, fee_taker=0)
    if hedge:
        a.set_dual_side(True, False)
    cash = 0  # atoms²
    for i, (side, lots, price_units, hedge_side) in enumerate(seq):
        qty, price = lots * P("0.001"), P(price_units)
        ps = BOTH
        if hedge:  # a hedge close never exceeds what the side holds (the venue refuses that)
            ps = hedge_side
            closing = (ps == LONG) == (side == "SELL")
            if closing:
                qty = min(qty, abs(a.position("BTCUSDT", ps).amount))
                if qty == 0:
                    continue
        a.apply_fill("BTCUSDT", ps, side, qty, price, False, i, i)
        cash += (-qty if side == "BUY" else qty) * price
    mark = P(mark_units)
    realized = sum(p.realized for p in a.positions.values())
    unrealized = a.unrealized({"BTCUSDT": mark})
    final = sum(p.amount for p in a.positions.values())
    if hedge:
        assert a.position("BTCUSDT", LONG).amount >= 0 >= a.position("BTCUSDT", SHORT).amount
    expected = (cash + final * mark) // 10**8
    assert abs(realized + unrealized - expected) <= 2 * len(seq)
    assert a.wallet["USDT"] == P("1000000") + realized


def test_same_seed_same_futures_books():
    from exconnect.sim.config import SimConfig
    from exconnect.sim.server import Simulator

    def top(seed):
        sim = Simulator(SimConfig.default(seed=seed, market_activity=False, book_levels=50))
        return sim.futures.engine.book("BTCUSDT").depth(50)

    assert top(3) == top(3)
    assert top(3) != top(4)
