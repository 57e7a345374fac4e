"""Fills recovered only from trade history after a crash-style restart, and orders amended on the
exchange (PUT /fapi/v1/order, ORDER_TRADE_UPDATE x=AMENDMENT)."""
import logging
from decimal import Decimal

from perpetual_fixtures import PAIR, SYMBOL, best, eventually, make_perpetual, perp, perp_sim  # noqa: F401

from exconnect.events import MarketEvent
from exconnect.types import OrderType, PositionAction, PositionMode


async def test_fill_recovered_from_trade_history_carries_leverage_and_position(perp_sim, tmp_path, caplog):
    # Crash between POST and ack: the order's saved state has no exchange id (503, placed anyway);
    # the process dies before any poll finds it and the order fills while nothing is running.
    # At restart the trade back-fill (first in the poll) is what finds the fill.
    caplog.set_level(logging.INFO, logger="exconnect.binance_perpetual")
    first = make_perpetual(perp_sim, tmp_path, short_poll_interval=600, long_poll_interval=600)
    await first.start(timeout=20)
    try:
        assert (await first.set_leverage(PAIR, 7))[0]
        await first.user_stream_tracker.stop()          # no NEW event either: the id is never learnt
        perp_sim.faults.order_503_but_placed_next(1)
        ask = best(first, True)
        oid = first.sell(PAIR, Decimal("0.01"), OrderType.LIMIT, ask - Decimal("0.1"),
                         position_action=PositionAction.OPEN)
        await eventually(lambda: perp_sim.futures.open_orders[0])
        await eventually(lambda: first.store.load_tracking_states().get(oid) is not None)
        assert first.in_flight_orders[oid].exchange_order_id is None
    finally:
        await first.stop()
    await perp_sim.futures.take(SYMBOL, "BUY", "0.01")

    second = make_perpetual(perp_sim, tmp_path)
    await second.start(timeout=20)
    try:
        done = (await second.event_log.wait_for(MarketEvent.SellOrderCompleted))[0]
        assert done.order_id == oid and done.base_asset_amount == Decimal("0.01")
        fills = second.event_log[MarketEvent.OrderFilled]
        assert [(f.order_id, f.amount, f.leverage, f.position) for f in fills] == [(oid, Decimal("0.01"), 7, "OPEN")]
        assert [f["client_order_id"] for f in second.store.fills()] == [oid]
        assert oid not in second.in_flight_orders
        assert any("found in the trade history" in r.getMessage() for r in caplog.records)
    finally:
        await second.stop()


async def test_untracked_fill_of_ours_recorded_with_position_from_exchange(perp, perp_sim):
    # An order of ours that nothing local knows (state lost): the trade back-fill attributes it by
    # its client id; position from the order's positionSide, leverage the pair's current one.
    from exconnect.binance_perpetual import binance_perpetual_constants as CONSTANTS
    assert (await perp.set_leverage(PAIR, 7))[0]
    assert (await perp.set_position_mode(PositionMode.HEDGE))[0]
    cid = perp._client_order_id_prefix + "UNTRACKED1"
    await perp._api_post(CONSTANTS.ORDER_PATH, {
        "symbol": SYMBOL, "side": "SELL", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.01",
        "price": str(best(perp, True) - Decimal("0.1")), "positionSide": "SHORT", "newClientOrderId": cid},
        is_auth_required=True)
    await perp_sim.futures.take(SYMBOL, "BUY", "0.01")
    fill = (await perp.event_log.wait_for(MarketEvent.OrderFilled))[0]
    assert (fill.order_id, fill.amount, fill.leverage, fill.position) == (cid, Decimal("0.01"), 7, "OPEN")
    await perp._status_polling_once()
    await perp._status_polling_once()
    assert len(perp.event_log[MarketEvent.OrderFilled]) == 1
    assert [f["client_order_id"] for f in perp.store.fills()] == [cid]


async def amend(conn, oid, quantity, price):
    from exconnect.binance_perpetual import binance_perpetual_constants as CONSTANTS
    return await conn._api_request(CONSTANTS.ORDER_PATH, "PUT", {
        "symbol": SYMBOL, "origClientOrderId": oid, "side": "BUY", "quantity": str(quantity), "price": str(price)},
        is_auth_required=True)


async def test_amended_order_follows_new_quantity_and_price(perp, perp_sim):
    log = perp.event_log
    bid = best(perp, False)
    oid = perp.buy(PAIR, Decimal("0.01"), OrderType.LIMIT, bid - Decimal("500"), position_action=PositionAction.OPEN)
    await log.wait_for(MarketEvent.BuyOrderCreated)
    new_price = bid + Decimal("0.1")
    await amend(perp, oid, "0.03", new_price)
    await eventually(lambda: perp.in_flight_orders[oid].amount == Decimal("0.03"))
    order = perp.in_flight_orders[oid]
    assert order.price == new_price and order.leverage == perp.get_leverage(PAIR) and order.position == "OPEN"
    assert Decimal(perp.store.load_tracking_states()[oid]["amount"]) == Decimal("0.03")
    await perp_sim.futures.take(SYMBOL, "SELL", "0.01")
    await log.wait_for(MarketEvent.OrderFilled)
    # the original 0.01 is filled, but the order is not complete: 0.02 still rests on the exchange
    assert not log[MarketEvent.BuyOrderCompleted] and perp.in_flight_orders[oid].is_open
    await perp_sim.futures.take(SYMBOL, "SELL", "0.02")
    done = (await log.wait_for(MarketEvent.BuyOrderCompleted))[0]
    assert done.order_id == oid and done.base_asset_amount == Decimal("0.03")
    fills = log[MarketEvent.OrderFilled]
    assert sum(f.amount for f in fills) == Decimal("0.03") and {f.price for f in fills} == {new_price}
    assert len(log[MarketEvent.BuyOrderCompleted]) == 1


async def test_amendment_missed_during_stream_outage_found_by_status_poll(perp, perp_sim):
    log = perp.event_log
    bid = best(perp, False)
    oid = perp.buy(PAIR, Decimal("0.03"), OrderType.LIMIT, bid - Decimal("500"), position_action=PositionAction.OPEN)
    await log.wait_for(MarketEvent.BuyOrderCreated)
    await perp.user_stream_tracker.stop()
    new_price = bid + Decimal("0.1")
    await amend(perp, oid, "0.02", new_price)
    await eventually(lambda: perp.in_flight_orders[oid].amount == Decimal("0.02"))
    assert perp.in_flight_orders[oid].price == new_price
    perp.user_stream_tracker.start()
    await perp_sim.futures.take(SYMBOL, "SELL", "0.02")
    done = (await log.wait_for(MarketEvent.BuyOrderCompleted))[0]
    assert done.order_id == oid and done.base_asset_amount == Decimal("0.02")
    assert perp.in_flight_orders == {}
