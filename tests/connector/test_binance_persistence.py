"""PER: tracking states and fills survive a restart; reconciliation recovers every fill once."""
from decimal import Decimal

from connector_helpers import PAIR, eventually, make_connector

from exconnect.events import MarketEvent
from exconnect.native.in_flight_order import InFlightOrder
from exconnect.types import OrderState, OrderType, TradeType


async def exchange_trades(conn):
    rows = await conn._api_get("/api/v3/myTrades", {"symbol": "BTCUSDT"}, is_auth_required=True)
    return sorted((str(r["id"]), Decimal(r["qty"])) for r in rows)


def local_trades(conn):
    return sorted((f["trade_id"], Decimal(f["amount"])) for f in conn.store.fills())


async def test_restart_recovers_fills_that_happened_while_down(sim, tmp_path):
    first = make_connector(sim, tmp_path)
    await first.start(timeout=20)
    book = first.get_order_book(PAIR)
    bid, ask = book.get_price(False), book.get_price(True)
    a = first.buy(PAIR, Decimal("0.03"), OrderType.LIMIT, bid + Decimal("0.01"))
    b = first.sell(PAIR, Decimal("0.02"), OrderType.LIMIT, ask - Decimal("0.01"))
    c = first.buy(PAIR, Decimal("0.01"), OrderType.LIMIT, bid - Decimal("500"))
    await first.event_log.wait_for(MarketEvent.BuyOrderCreated, 2)
    await first.event_log.wait_for(MarketEvent.SellOrderCreated, 1)
    await sim.spot.take("BTCUSDT", "SELL", "0.01")           # seen live by the first process
    await first.event_log.wait_for(MarketEvent.OrderFilled)
    await first.stop()                                         # "crash": orders stay on the exchange

    await sim.spot.take("BTCUSDT", "SELL", "0.02")           # a completes while we are down
    await sim.spot.take("BTCUSDT", "BUY", "0.005")           # b partially fills while down

    second = make_connector(sim, tmp_path)
    await second.start(timeout=20)
    try:
        assert set(second.in_flight_orders) >= {b, c}
        done = (await second.event_log.wait_for(MarketEvent.BuyOrderCompleted))[0]
        assert done.order_id == a and done.base_asset_amount == Decimal("0.03")
        await eventually(lambda: second.in_flight_orders.get(b) is not None
                         and second.in_flight_orders[b].executed_amount_base == Decimal("0.005"))
        assert local_trades(second) == await exchange_trades(second)
        # the fill recorded before the crash is not announced again
        assert sum(f.amount for f in second.event_log[MarketEvent.OrderFilled]) == Decimal("0.025")
        results = await second.cancel_all(5)
        assert {r.order_id for r in results if r.success} == {b, c}
        assert second.in_flight_orders == {}
        assert second.store.load_tracking_states() == {}
    finally:
        await second.stop()


async def test_restore_tracking_states_only_open_orders(sim, tmp_path):
    conn = make_connector(sim, tmp_path)
    states = {}
    for cid, state in (("p1", OrderState.PENDING_CREATE), ("c1", OrderState.CANCELED),
                       ("f1", OrderState.FILLED), ("x1", OrderState.FAILED)):
        o = InFlightOrder(cid, PAIR, OrderType.LIMIT, TradeType.BUY, Decimal("1"), 1.0, price=Decimal("10"))
        if state is not OrderState.PENDING_CREATE:
            o.update_with_order_update({"trading_pair": PAIR, "update_timestamp": 2.0, "new_state": state,
                                        "client_order_id": cid, "exchange_order_id": "e" + cid})
        states[cid] = o.to_json()
    conn.restore_tracking_states(states)
    assert list(conn.in_flight_orders) == ["p1"]
    assert list(conn.order_tracker.lost_orders) == ["x1"]
    assert set(conn.tracking_states) == {"p1", "x1"}


async def test_order_sent_but_unanswered_before_crash_is_reconciled(sim, tmp_path):
    first = make_connector(sim, tmp_path)
    await first.start(timeout=20)
    first._rest.timeout = 0.3
    sim.faults.rest_fault_path = "/api/v3/order"
    sim.faults.order_503_but_placed_next(1)
    bid = first.get_order_book(PAIR).get_price(False)
    oid = first.buy(PAIR, Decimal("0.01"), OrderType.LIMIT, bid + Decimal("0.01"))
    await eventually(lambda: oid not in first._orders_being_placed)
    await first.stop()                          # crash before learning the outcome
    await sim.spot.take("BTCUSDT", "SELL", "0.01")

    second = make_connector(sim, tmp_path)
    await second.start(timeout=20)
    try:
        done = (await second.event_log.wait_for(MarketEvent.BuyOrderCompleted))[0]
        assert done.order_id == oid
        assert local_trades(second) == await exchange_trades(second)
    finally:
        await second.stop()


async def test_open_order_unknown_to_saved_state_is_adopted(sim, tmp_path):
    first = make_connector(sim, tmp_path / "lost-folder")
    await first.start(timeout=20)
    bid = first.get_order_book(PAIR).get_price(False)
    oid = first.buy(PAIR, Decimal("0.02"), OrderType.LIMIT, bid + Decimal("0.01"))
    await first.event_log.wait_for(MarketEvent.BuyOrderCreated)
    await first.stop()
    await sim.spot.take("BTCUSDT", "SELL", "0.005")          # partially filled while nobody watches

    second = make_connector(sim, tmp_path / "fresh-folder")    # the saved state is gone
    await second.start(timeout=20)
    try:
        assert oid in second.in_flight_orders
        assert second.in_flight_orders[oid].executed_amount_base == Decimal("0.005")
        assert [f["trade_id"] for f in second.store.fills()] == [t for t, _ in await exchange_trades(second)]
        assert (await second.cancel_all(5))[0].success
    finally:
        await second.stop()


async def test_fills_of_our_closed_orders_recovered_without_saved_state(sim, tmp_path):
    first = make_connector(sim, tmp_path / "gone")
    await first.start(timeout=20)
    bid = first.get_order_book(PAIR).get_price(False)
    oid = first.buy(PAIR, Decimal("0.01"), OrderType.LIMIT, bid + Decimal("0.01"))
    await first.event_log.wait_for(MarketEvent.BuyOrderCreated)
    await first.stop()
    await sim.spot.take("BTCUSDT", "SELL", "0.01")           # filled and closed while nobody watches

    second = make_connector(sim, tmp_path / "new")
    await second.start(timeout=20)
    try:
        await eventually(lambda: len(second.store.fills()) == 1)
        fill = second.store.fills()[0]
        assert fill["client_order_id"] == oid and Decimal(fill["amount"]) == Decimal("0.01")
        ev = second.event_log[MarketEvent.OrderFilled]
        assert [e.order_id for e in ev] == [oid]
    finally:
        await second.stop()
