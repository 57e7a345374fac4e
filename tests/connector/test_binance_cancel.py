"""CXL: cancellation against the simulator."""
from decimal import Decimal

from connector_helpers import PAIR

from exconnect.events import MarketEvent
from exconnect.types import CancellationResult, OrderState, OrderType


async def place_resting(connector, n=1, below=Decimal("50")):
    bid = connector.get_order_book(PAIR).get_price(False)
    ids = [connector.buy(PAIR, Decimal("0.01"), OrderType.LIMIT, bid - below - i) for i in range(n)]
    await connector.event_log.wait_for(MarketEvent.BuyOrderCreated, n)
    return ids


async def test_cancel_emits_cancelled_and_untracks(connector, sim):
    (oid,) = await place_resting(connector)
    assert connector.cancel(PAIR, oid) == oid
    ev = (await connector.event_log.wait_for(MarketEvent.OrderCancelled))[0]
    assert ev.order_id == oid and ev.exchange_order_id
    assert oid not in connector.in_flight_orders
    dels = [r for r in sim.request_log if r["method"] == "DELETE" and r["path"] == "/api/v3/order"]
    assert dels[-1]["params"]["origClientOrderId"] == oid and "signature" in dels[-1]["params"]


async def test_execute_cancel_of_untracked_order_sends_nothing(connector, sim):
    n = len(sim.request_log)
    assert await connector._execute_cancel(PAIR, "not-an-order") is None
    assert len(sim.request_log) == n


async def test_cancel_losing_race_to_fill_records_fill_and_no_cancel_event(connector, sim):
    bid = connector.get_order_book(PAIR).get_price(False)
    oid = connector.buy(PAIR, Decimal("0.01"), OrderType.LIMIT, bid + Decimal("0.01"))
    await connector.event_log.wait_for(MarketEvent.BuyOrderCreated)
    await connector.user_stream_tracker.stop()            # hide the fill from the stream for now
    await sim.spot.take("BTCUSDT", "SELL", "0.01")
    ok = await connector._execute_cancel(PAIR, oid)       # exchange: -2011 Unknown order sent
    assert ok is None
    done = (await connector.event_log.wait_for(MarketEvent.BuyOrderCompleted))[0]
    assert done.order_id == oid
    assert not connector.event_log[MarketEvent.OrderCancelled]
    assert [f.amount for f in connector.event_log[MarketEvent.OrderFilled]] == [Decimal("0.01")]
    assert len(connector.store.fills()) == 1


async def test_cancel_all_uses_open_orders_and_reports_each(connector, sim):
    ids = await place_resting(connector, 3)
    results = await connector.cancel_all(5)
    assert sorted(results) == sorted(CancellationResult(i, True) for i in ids)
    assert len(connector.event_log[MarketEvent.OrderCancelled]) == 3
    assert any(r["method"] == "DELETE" and r["path"] == "/api/v3/openOrders" for r in sim.request_log)
    assert connector.in_flight_orders == {}


async def test_cancel_all_counts_filled_order_as_not_cancelled(connector, sim):
    bid = connector.get_order_book(PAIR).get_price(False)
    top = connector.buy(PAIR, Decimal("0.01"), OrderType.LIMIT, bid + Decimal("0.01"))
    deep = connector.buy(PAIR, Decimal("0.01"), OrderType.LIMIT, bid - Decimal("100"))
    await connector.event_log.wait_for(MarketEvent.BuyOrderCreated, 2)
    await connector.user_stream_tracker.stop()
    await sim.spot.take("BTCUSDT", "SELL", "0.01")        # fills `top` behind the connector's back
    results = await connector.cancel_all(5)
    assert results[0] == CancellationResult(deep, True)      # successes first
    assert results[1] == CancellationResult(top, False)
    await connector.event_log.wait_for(MarketEvent.BuyOrderCompleted)
    assert [e.order_id for e in connector.event_log[MarketEvent.OrderCancelled]] == [deep]


async def test_cancel_all_with_timeout_reports_unconfirmed_as_failed(connector, sim):
    (oid,) = await place_resting(connector)
    sim.faults.rest_fault_path = "/api/v3/order"
    sim.faults.rest_timeouts_next(1)
    results = await connector.cancel_all(0.5)
    assert results == [CancellationResult(oid, False)]
    assert oid in connector.in_flight_orders


async def test_cancel_rejected_keeps_order_tracked(connector, sim):
    (oid,) = await place_resting(connector)
    sim.faults.rest_fault_path = "/api/v3/order"
    sim.faults.rest_errors_next(1, status=500)
    assert await connector._execute_cancel(PAIR, oid) is None
    assert oid in connector.in_flight_orders
    assert connector.in_flight_orders[oid].current_state == OrderState.OPEN
    assert not connector.event_log[MarketEvent.OrderCancelled]


async def test_cancel_all_right_after_buy_cancels_it(connector, sim):
    bid = connector.get_order_book(PAIR).get_price(False)
    oid = connector.buy(PAIR, Decimal("0.01"), OrderType.LIMIT, bid - Decimal("70"))
    results = await connector.cancel_all(5)          # placement answer not yet received
    assert results == [CancellationResult(oid, True)]
    assert not [o for o in await connector.get_open_orders()]


async def test_cancel_all_one_refused_reports_success_first(sim, tmp_path):
    """CXL-05: two orders cancelled one by one, one DELETE answered 400 -> [(ok, True), (other, False)],
    one cancelled event, the refused order still tracked."""
    from connector_helpers import make_connector
    conn = make_connector(sim, tmp_path, cancel_all_uses_open_orders_endpoint=False)
    await conn.start(timeout=20)
    try:
        ids = await place_resting(conn, 2)
        async def no_status_polls():
            return None
        conn._update_order_status = no_status_polls     # only the DELETEs may meet the fault
        sim.faults.rest_fault_path = "/api/v3/order"
        sim.faults.rest_errors_next(1, status=400, code=-1013, msg="Filter failure: nope")
        results = await conn.cancel_all(5)
        assert [r.success for r in results] == [True, False]
        assert {r.order_id for r in results} == set(ids)
        ok, refused = results[0].order_id, results[1].order_id
        assert [e.order_id for e in conn.event_log[MarketEvent.OrderCancelled]] == [ok]
        assert refused in conn.in_flight_orders
        assert [o.client_order_id for o in await conn.get_open_orders()] == [refused]
    finally:
        await conn.stop()
