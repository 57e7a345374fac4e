"""PER for futures: tracking states (with leverage and position) and fills survive a restart; fills
that happened while down are recovered exactly once; the local fill log equals userTrades."""
from decimal import Decimal

from perpetual_fixtures import PAIR, SYMBOL, best, eventually, make_perpetual, perp_sim  # noqa: F401

from exconnect.events import MarketEvent
from exconnect.types import OrderType, PositionAction, PositionMode


async def exchange_trades(conn):
    rows = await conn._api_get("/fapi/v1/userTrades", {"symbol": SYMBOL}, is_auth_required=True)
    return sorted((str(r["id"]), Decimal(r["qty"])) for r in rows)


def local_trades(conn):
    return sorted((f["trade_id"], Decimal(f["amount"])) for f in conn.store.fills())


async def test_restart_restores_orders_with_leverage_and_position_and_recovers_fills(perp_sim, tmp_path):
    first = make_perpetual(perp_sim, tmp_path)
    await first.start(timeout=20)
    assert (await first.set_leverage(PAIR, 9))[0]
    assert (await first.set_position_mode(PositionMode.HEDGE))[0]
    bid, ask = best(first, False), best(first, True)
    a = first.buy(PAIR, Decimal("0.03"), OrderType.LIMIT, bid + Decimal("0.1"), position_action=PositionAction.OPEN)
    b = first.sell(PAIR, Decimal("0.02"), OrderType.LIMIT, ask - Decimal("0.1"), position_action=PositionAction.OPEN)
    c = first.buy(PAIR, Decimal("0.01"), OrderType.LIMIT, bid - Decimal("500"), position_action=PositionAction.OPEN)
    await first.event_log.wait_for(MarketEvent.BuyOrderCreated, 2)
    await first.event_log.wait_for(MarketEvent.SellOrderCreated, 1)
    await perp_sim.futures.take(SYMBOL, "SELL", "0.01")           # seen live
    await first.event_log.wait_for(MarketEvent.OrderFilled)
    await first.stop()                                             # orders stay on the exchange

    await perp_sim.futures.take(SYMBOL, "SELL", "0.02")           # a completes while down
    await perp_sim.futures.take(SYMBOL, "BUY", "0.005")           # b partially fills while down

    second = make_perpetual(perp_sim, tmp_path)
    await second.start(timeout=20)
    try:
        restored_b = second.in_flight_orders[b]
        assert restored_b.leverage == 9 and restored_b.position == "OPEN"
        assert second.in_flight_orders[c].leverage == 9
        done = (await second.event_log.wait_for(MarketEvent.BuyOrderCompleted))[0]
        assert done.order_id == a and done.base_asset_amount == Decimal("0.03")
        await eventually(lambda: second.in_flight_orders.get(b) is not None
                         and second.in_flight_orders[b].executed_amount_base == Decimal("0.005"))
        assert local_trades(second) == await exchange_trades(second)
        fills = second.event_log[MarketEvent.OrderFilled]
        assert sum(f.amount for f in fills) == Decimal("0.025")   # the pre-crash fill is not re-announced
        assert all(f.leverage == 9 and f.position == "OPEN" for f in fills)
        # positions from positionRisk: LONG 0.03, SHORT -0.005 (hedge mode read back at start)
        assert second.position_mode is PositionMode.HEDGE
        await eventually(lambda: f"{PAIR}SHORT" in second.account_positions)
        assert second.account_positions[f"{PAIR}LONG"].amount == Decimal("0.03")
        assert second.account_positions[f"{PAIR}SHORT"].amount == Decimal("-0.005")
        results = await second.cancel_all(5)
        assert {r.order_id for r in results if r.success} == {b, c}
        assert second.in_flight_orders == {} and second.store.load_tracking_states() == {}
    finally:
        await second.stop()


async def test_unknown_open_orders_of_ours_adopted_with_position_action(perp_sim, tmp_path):
    from exconnect.binance_perpetual import binance_perpetual_constants as CONSTANTS
    first = make_perpetual(perp_sim, tmp_path)
    await first.start(timeout=20)
    assert (await first.set_position_mode(PositionMode.HEDGE))[0]
    # sent without tracking, as if the state write was lost in a crash right after the POST
    ask = best(first, True)
    await first._api_post(CONSTANTS.ORDER_PATH, {
        "symbol": SYMBOL, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.01",
        "price": str(ask - Decimal("300")), "positionSide": "LONG", "newClientOrderId": "excpADOPT1"},
        is_auth_required=True)
    await first.stop()
    second = make_perpetual(perp_sim, tmp_path)
    await second.start(timeout=20)
    try:
        order = second.in_flight_orders["excpADOPT1"]
        assert order.position == "OPEN" and order.trade_type.name == "BUY" and order.amount == Decimal("0.01")
        assert order.exchange_order_id is not None
        results = await second.cancel_all(5)
        assert [r.order_id for r in results if r.success] == ["excpADOPT1"]
    finally:
        await second.stop()
