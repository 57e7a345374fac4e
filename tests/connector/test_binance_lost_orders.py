"""CXL-14/15, TRK-29..31/39: lost orders (the exchange said "not found" too often) against the simulator.

A lost order is FAILED (one failure event) but still watched: fills are recorded, a final status or a
successful cancel ends its tracking silently, and the connector keeps trying to cancel it.
"""
import logging
from decimal import Decimal

import pytest

from connector_helpers import PAIR, eventually

from exconnect.events import MarketEvent
from exconnect.types import OrderState, OrderType, TradeType


async def resting_buy(connector, below=Decimal("40")):
    bid = connector.get_order_book(PAIR).get_price(False)
    oid = connector.buy(PAIR, Decimal("0.01"), OrderType.LIMIT, bid - below)
    await connector.event_log.wait_for(MarketEvent.BuyOrderCreated)
    return oid


def make_lost(connector, oid):
    """As if the exchange had answered "order not found" once more than the limit allows."""
    tracker = connector.order_tracker
    for _ in range(4):                      # lost_order_count_limit defaults to 3
        tracker.process_order_not_found(oid)
    assert oid in tracker.lost_orders and oid not in connector.in_flight_orders


def deletes_of(sim, oid):
    return [r for r in sim.request_log if r["method"] == "DELETE" and r["path"] == "/api/v3/order"
            and r["params"].get("origClientOrderId") == oid]


async def no_cancel_lost(*_):
    return None


async def test_lost_order_that_exists_is_cancelled_and_forgotten_silently(connector, sim):
    oid = await resting_buy(connector)
    make_lost(connector, oid)
    order = connector.order_tracker.lost_orders[oid]
    fail = (await connector.event_log.wait_for(MarketEvent.OrderFailure))[0]
    assert fail.order_id == oid
    await eventually(lambda: oid not in connector.order_tracker.lost_orders)
    assert deletes_of(sim, oid)
    assert await connector.get_open_orders() == []                 # really cancelled on the exchange
    assert order.is_failure and not order.is_cancelled             # keeps FAILED (CXL-14)
    assert not connector.event_log[MarketEvent.OrderCancelled]
    assert len(connector.event_log[MarketEvent.OrderFailure]) == 1
    assert oid not in connector.tracking_states


async def test_lost_order_cancel_failure_keeps_it_lost_until_a_cancel_works(connector, sim, caplog):
    caplog.set_level(logging.ERROR, logger="exconnect.connector.exchange_base")
    oid = await resting_buy(connector)
    sim.faults.rest_fault_path = "/api/v3/order"
    sim.faults.rest_errors_next(10_000, status=500, code=-1000, msg="Internal error.")
    make_lost(connector, oid)
    await eventually(lambda: any(f"Failed to cancel order {oid}" in r.getMessage() for r in caplog.records))
    assert oid in connector.order_tracker.lost_orders                # CXL-15: still lost, no event
    assert not connector.event_log[MarketEvent.OrderCancelled]
    assert [o.client_order_id for o in await connector.get_open_orders()] == [oid]
    sim.faults.clear()
    await eventually(lambda: oid not in connector.order_tracker.lost_orders)
    assert await connector.get_open_orders() == []
    assert not connector.event_log[MarketEvent.OrderCancelled]


async def test_lost_order_unknown_to_exchange_is_removed_from_fillable(connector, sim):
    """TRK-39: status poll answers -2013 for a lost order -> dropped, no Completed/Cancelled."""
    oid = "lost-test-never-sent-1"
    bid = connector.get_order_book(PAIR).get_price(False)
    connector.start_tracking_order(oid, None, PAIR, TradeType.BUY, bid - 100, Decimal("0.01"), OrderType.LIMIT)
    for _ in range(5):          # -2013 four times -> lost; once more while lost -> dropped
        await connector._update_order_status()
    fail = (await connector.event_log.wait_for(MarketEvent.OrderFailure))[0]
    assert fail.order_id == oid
    assert oid not in connector.order_tracker.lost_orders
    assert oid not in connector.order_tracker.all_fillable_orders
    assert oid not in connector.tracking_states
    assert not connector.event_log[MarketEvent.BuyOrderCompleted]
    assert not connector.event_log[MarketEvent.OrderCancelled]
    assert len(connector.event_log[MarketEvent.OrderFailure]) == 1


async def test_lost_order_is_still_fillable_and_updatable(connector, sim):
    connector._cancel_lost_orders = no_cancel_lost
    oid = await resting_buy(connector)
    make_lost(connector, oid)
    tracker = connector.order_tracker
    assert oid in tracker.all_fillable_orders and oid in tracker.all_updatable_orders     # TRK-29
    assert oid not in tracker.cached_orders
    n = len([r for r in sim.request_log if r["method"] == "GET" and r["params"].get("origClientOrderId") == oid])
    await connector._update_order_status()                          # NEW on the exchange (TRK-31)
    gets = [r for r in sim.request_log if r["method"] == "GET" and r["params"].get("origClientOrderId") == oid]
    assert len(gets) > n
    assert oid in tracker.lost_orders and tracker.lost_orders[oid].current_state == OrderState.FAILED


@pytest.mark.parametrize("stream", [True, False], ids=["user_stream", "polling"])
async def test_lost_order_full_fill_recorded_without_completed_event(connector, sim, stream):
    connector._cancel_lost_orders = no_cancel_lost
    bid = connector.get_order_book(PAIR).get_price(False)
    oid = connector.buy(PAIR, Decimal("0.01"), OrderType.LIMIT, bid + Decimal("0.01"))   # top of book
    await connector.event_log.wait_for(MarketEvent.BuyOrderCreated)
    make_lost(connector, oid)
    order = connector.order_tracker.lost_orders[oid]
    if not stream:
        await connector.user_stream_tracker.stop()                  # only the polls can see it now
    await sim.spot.take("BTCUSDT", "SELL", "0.01")
    fill = (await connector.event_log.wait_for(MarketEvent.OrderFilled))[0]
    assert (fill.order_id, fill.amount) == (oid, Decimal("0.01"))
    await eventually(lambda: oid not in connector.order_tracker.lost_orders)
    assert order.is_failure and order.executed_amount_base == Decimal("0.01")
    assert not connector.event_log[MarketEvent.BuyOrderCompleted]
    assert [f["trade_id"] for f in connector.store.fills()] == [fill.exchange_trade_id]


async def test_lost_order_cancelled_event_ends_tracking_silently(connector, sim):
    """TRK-30: a CANCELED report for a lost order (here: the stream's) removes it, no event."""
    connector._cancel_lost_orders = no_cancel_lost
    oid = await resting_buy(connector)
    make_lost(connector, oid)
    order = connector.order_tracker.lost_orders[oid]
    await connector._place_cancel(order)         # answer not processed: only the stream tells
    await eventually(lambda: oid not in connector.order_tracker.lost_orders)
    assert order.current_state == OrderState.FAILED
    assert not connector.event_log[MarketEvent.OrderCancelled]


async def test_lost_order_partially_filled_then_cancelled_keeps_its_fill(connector, sim):
    """A lost order that traded before the canceller got it: the fill is fetched, then it is dropped."""
    connector._cancel_lost_orders = no_cancel_lost
    bid = connector.get_order_book(PAIR).get_price(False)
    oid = connector.buy(PAIR, Decimal("0.02"), OrderType.LIMIT, bid + Decimal("0.01"))
    await connector.event_log.wait_for(MarketEvent.BuyOrderCreated)
    make_lost(connector, oid)
    await connector.user_stream_tracker.stop()
    connector._update_order_fills_from_trades = no_cancel_lost     # only the cancel answer can tell
    await sim.spot.take("BTCUSDT", "SELL", "0.005")
    await connector._execute_order_cancel(connector.order_tracker.lost_orders[oid])
    assert oid not in connector.order_tracker.lost_orders
    assert [(f.order_id, f.amount) for f in connector.event_log[MarketEvent.OrderFilled]] == [(oid, Decimal("0.005"))]
    assert not connector.event_log[MarketEvent.OrderCancelled]
    assert len(connector.store.fills()) == 1


async def test_quantize_order_amount_applies_min_notional_at_price(connector):
    """Issue 4: the price given to ExchangeBase.quantize_order_amount reaches the rule."""
    rule = connector.trading_rules[PAIR]
    assert rule.min_notional_size == Decimal("5")
    amount = Decimal("0.000123")
    assert connector.quantize_order_amount(PAIR, amount) == Decimal("0.00012")
    assert connector.quantize_order_amount(PAIR, amount, Decimal("60000")) == Decimal("0.00012")   # 7.2 >= 5
    assert connector.quantize_order_amount(PAIR, amount, Decimal("100")) == Decimal("0")           # 0.012 < 5
    assert connector.quantize_order_amount(PAIR, amount, Decimal("NaN")) == Decimal("0.00012")


async def test_never_acked_lost_order_cancel_answer_brings_its_fill(connector, sim):
    """Placement answered 503 (but placed), no ack ever seen, then lost: the order has no exchange
    id. The cancel answer carries it, so the fill made meanwhile is fetched and recorded."""
    connector._cancel_lost_orders = no_cancel_lost
    connector.UNKNOWN_OUTCOME_RECHECK = 1e9
    connector.SHORT_POLL_INTERVAL = connector.LONG_POLL_INTERVAL = 1e9
    await connector.user_stream_tracker.stop()
    sim.faults.order_503_but_placed_next(1)
    bid = connector.get_order_book(PAIR).get_price(False)
    oid = connector.buy(PAIR, Decimal("0.02"), OrderType.LIMIT, bid + Decimal("0.01"))
    await eventually(lambda: oid not in connector._orders_being_placed)
    make_lost(connector, oid)
    order = connector.order_tracker.lost_orders[oid]
    assert order.exchange_order_id is None
    await sim.spot.take("BTCUSDT", "SELL", "0.005")
    await connector._execute_order_cancel(order)
    assert oid not in connector.order_tracker.lost_orders and order.exchange_order_id
    assert [(f.order_id, f.amount) for f in connector.event_log[MarketEvent.OrderFilled]] == [(oid, Decimal("0.005"))]
    assert len(connector.store.fills()) == 1
