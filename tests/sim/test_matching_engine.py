"""Matching engine unit tests (no sockets): priority, partials, TIFs, STP, quote orders, depth feed."""
import pytest

from exconnect.sim import money
from exconnect.sim.matching_engine import Book, Order

P = money.parse


def book():
    return Book("BTCUSDT", step=P("0.001"))


def rest(b, oid, is_buy, price, qty, owner=None):
    o = Order(oid, owner, is_buy, P(price), P(qty))
    res = b.submit(o)
    assert res.rested and not res.fills
    return o


def test_price_time_priority_and_maker_price():
    b = book()
    rest(b, 1, False, "101", "1")
    rest(b, 2, False, "100", "1")
    rest(b, 3, False, "100", "1")
    taker = Order(9, "u", True, P("101"), P("2.5"))
    res = b.submit(taker)
    assert [(f.maker.order_id, f.price, f.qty) for f in res.fills] == [
        (2, P("100"), P("1")), (3, P("100"), P("1")), (1, P("101"), P("0.5"))]
    assert [f.trade_id for f in res.fills] == [1, 2, 3]
    assert not res.rested and taker.remaining == 0
    assert b.best_ask() == (P("101"), P("0.5"))
    assert res.fills[0].quote == P("100")


def test_limit_remainder_rests_and_ioc_does_not():
    b = book()
    rest(b, 1, False, "100", "1")
    res = b.submit(Order(2, "u", True, P("100"), P("3")))
    assert res.rested and b.best_bid() == (P("100"), P("2"))
    res = b.submit(Order(3, "v", False, P("99"), P("5")), tif="IOC")
    assert not res.rested and sum(f.qty for f in res.fills) == P("2")
    assert b.best_bid() is None


def test_fok_all_or_nothing():
    b = book()
    rest(b, 1, False, "100", "1")
    before = b.update_id
    res = b.submit(Order(2, "u", True, P("100"), P("2")), tif="FOK")
    assert res.rejected == "FOK" and not res.fills and b.update_id == before
    res = b.submit(Order(3, "u", True, P("100"), P("1")), tif="FOK")
    assert res.rejected is None and len(res.fills) == 1


def test_post_only_rejected_when_crossing():
    b = book()
    rest(b, 1, False, "100", "1")
    assert b.submit(Order(2, "u", True, P("100"), P("1")), post_only=True).rejected == "WOULD_TAKE"
    assert b.submit(Order(3, "u", True, P("99.99"), P("1")), post_only=True).rested


def test_market_by_quote_quantity_floors_to_step():
    b = book()
    rest(b, 1, False, "100", "1")
    rest(b, 2, False, "200", "1")
    o = Order(3, "u", True, 0, money.MAX_ATOMS // 4)
    res = b.submit(o, market=True, quote_qty=P("150.05"))
    # 100 for 1 at 100, then 50.05 buys 0.25 at 200 (0.250 step), 0.05 quote left unspent
    assert [(f.price, f.qty) for f in res.fills] == [(P("100"), P("1")), (P("200"), P("0.25"))]
    assert res.quote_filled == P("150")


def test_self_trade_prevention_modes():
    b = book()
    rest(b, 1, False, "100", "1", owner="me")
    rest(b, 2, False, "100", "1", owner="other")
    res = b.submit(Order(3, "me", True, P("100"), P("1")), stp="EXPIRE_MAKER")
    assert [m.order_id for m in res.expired_makers] == [1]
    assert [f.maker.order_id for f in res.fills] == [2]
    rest(b, 4, False, "100", "1", owner="me")
    res = b.submit(Order(5, "me", True, P("100"), P("1")), stp="EXPIRE_TAKER")
    assert res.taker_stp and not res.fills and not res.rested and 4 in b.orders
    res = b.submit(Order(6, "me", True, P("100"), P("1")), stp="NONE")
    assert [f.maker.order_id for f in res.fills] == [4]


def test_agents_never_self_trade():
    b = book()
    rest(b, 1, False, "100", "1")
    res = b.submit(Order(2, None, True, P("100"), P("1")))
    assert len(res.fills) == 1 and not res.expired_makers


def test_cancel_and_depth_changes_chain():
    b = book()
    first = b.drain_changes()
    assert first is None
    rest(b, 1, True, "99", "1")
    rest(b, 2, True, "99", "2")
    rest(b, 3, False, "101", "1")
    U, u, bids, asks = b.drain_changes()
    assert (U, u) == (1, 3) and bids == [(P("99"), P("3"))] and asks == [(P("101"), P("1"))]
    assert b.cancel(2).order_id == 2 and b.cancel(2) is None
    b.submit(Order(4, None, False, 0, P("1")), market=True)
    U2, u2, bids, asks = b.drain_changes()
    assert U2 == u + 1 and u2 == b.update_id
    assert bids == [(P("99"), 0)] and asks == []


def test_sweep_estimates_without_changing():
    b = book()
    rest(b, 1, False, "100", "1")
    rest(b, 2, False, "110", "1", owner="me")
    rest(b, 3, False, "120", "1")
    uid = b.update_id
    assert b.sweep(True, P("2"), "me") == (P("2"), P("220"))
    assert b.sweep(True, 0, None, P("150")) == (P("1.454"), P("149.94"))   # owner None: 110 counts
    assert b.update_id == uid


@pytest.mark.parametrize("text,atoms", [("1", 10**8), ("0.00000001", 1), ("-2.5", -250000000), (".5", 50000000)])
def test_money_parse(text, atoms):
    assert money.parse(text) == atoms


@pytest.mark.parametrize("text,kind", [("0.000000001", "precision"), ("1e5", "malformed"), ("", "malformed"),
                                       ("abc", "malformed"), ("9" * 30, "malformed"), ("NaN", "malformed")])
def test_money_rejects(text, kind):
    with pytest.raises(money.NumberError) as ei:
        money.parse(text)
    assert ei.value.kind == kind


def test_money_text():
    assert money.text(10**8) == "1.00000000" and money.text(-1) == "-0.00000001"
    assert money.trimmed(P("1.5")) == "1.5" and money.trimmed(P("2")) == "2"
