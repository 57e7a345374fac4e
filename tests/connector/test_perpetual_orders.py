"""PLC / TRK for futures: position action → positionSide / reduceOnly, GTX, leverage and position on
orders and events, partial fills by ``l``, positions opened and closed (POS), rule checks."""
from decimal import Decimal

from perpetual_fixtures import (PAIR, SYMBOL, best, eventually, open_position, order_posts,  # noqa: F401
                                perp, perp_sim)

from exconnect.events import AccountEvent, MarketEvent
from exconnect.types import OrderState, OrderType, PositionAction, PositionMode, PositionSide


async def test_oneway_open_partial_fills_then_close_reduce_only(perp, perp_sim):
    log = perp.event_log
    price = best(perp, False) + Decimal("0.1")
    oid = perp.buy(PAIR, Decimal("0.03"), OrderType.LIMIT, price, position_action=PositionAction.OPEN)
    created = (await log.wait_for(MarketEvent.BuyOrderCreated))[0]
    assert created.order_id == oid and created.position == "OPEN" and created.leverage == perp.get_leverage(PAIR)
    sent = order_posts(perp_sim)[-1]
    assert sent["timeInForce"] == "GTC" and sent["type"] == "LIMIT" and "positionSide" not in sent
    assert "reduceOnly" not in sent
    # two partial fills: each event carries that trade's quantity, never the cumulative
    await perp_sim.futures.take(SYMBOL, "SELL", "0.01")
    first = (await log.wait_for(MarketEvent.OrderFilled))[0]
    assert first.amount == Decimal("0.01") and first.position == "OPEN"
    assert perp.in_flight_orders[oid].current_state == OrderState.PARTIALLY_FILLED
    await perp_sim.futures.take(SYMBOL, "SELL", "0.02")
    done = (await log.wait_for(MarketEvent.BuyOrderCompleted))[0]
    fills = log[MarketEvent.OrderFilled]
    assert [f.amount for f in fills] == [Decimal("0.01"), Decimal("0.02")]
    assert done.base_asset_amount == Decimal("0.03")
    assert all(f.trade_fee.flat_fees and f.trade_fee.flat_fees[0].token == "USDT" for f in fills)
    await eventually(lambda: PAIR in perp.account_positions
                     and perp.account_positions[PAIR].amount == Decimal("0.03"))
    pos = perp.account_positions[PAIR]
    assert pos.position_side == PositionSide.BOTH and pos.entry_price == price and pos.trading_pair == PAIR

    # close: reduceOnly in ONEWAY mode; the position disappears
    perp.sell(PAIR, Decimal("0.03"), OrderType.LIMIT, best(perp, True) - Decimal("0.1"),
              position_action=PositionAction.CLOSE)
    await log.wait_for(MarketEvent.SellOrderCreated)
    assert order_posts(perp_sim)[-1]["reduceOnly"] == "true"
    await perp_sim.futures.take(SYMBOL, "BUY", "0.03")
    await log.wait_for(MarketEvent.SellOrderCompleted)
    await eventually(lambda: PAIR not in perp.account_positions)
    # the poll (positionRisk) agrees: still no position after a refresh
    await perp._update_account_positions()
    assert perp.account_positions == {}


async def test_hedge_mode_position_sides_and_short_position(perp, perp_sim):
    log = perp.event_log
    task = perp.set_position_mode(PositionMode.HEDGE)
    assert await task == (True, "")
    ok = log[AccountEvent.PositionModeChangeSucceeded]
    assert len(ok) == 1 and ok[0].position_mode is PositionMode.HEDGE and ok[0].trading_pair == PAIR
    assert perp.position_mode is PositionMode.HEDGE and perp_sim.futures.accounts[0].dual_side

    await open_position(perp, perp_sim, side="SELL", amount="0.02", position_action=PositionAction.OPEN)
    assert order_posts(perp_sim)[-1]["positionSide"] == "SHORT"
    await eventually(lambda: f"{PAIR}SHORT" in perp.account_positions)
    short = perp.account_positions[f"{PAIR}SHORT"]
    assert short.amount == Decimal("-0.02") and short.position_side == PositionSide.SHORT

    await open_position(perp, perp_sim, side="BUY", amount="0.01", position_action=PositionAction.OPEN)
    assert order_posts(perp_sim)[-1]["positionSide"] == "LONG"
    await eventually(lambda: f"{PAIR}LONG" in perp.account_positions)
    assert perp.account_positions[f"{PAIR}LONG"].amount == Decimal("0.01")

    # CLOSE buy → SHORT side, CLOSE sell → LONG side; no reduceOnly in hedge mode
    await open_position(perp, perp_sim, side="BUY", amount="0.02", position_action=PositionAction.CLOSE)
    sent = order_posts(perp_sim)[-1]
    assert sent["positionSide"] == "SHORT" and "reduceOnly" not in sent
    await open_position(perp, perp_sim, side="SELL", amount="0.01", position_action=PositionAction.CLOSE)
    assert order_posts(perp_sim)[-1]["positionSide"] == "LONG"
    await eventually(lambda: perp.account_positions == {})
    await perp._update_account_positions()
    assert perp.account_positions == {}


async def test_hedge_mode_refuses_nil_position_action(perp, perp_sim):
    assert (await perp.set_position_mode(PositionMode.HEDGE))[0]
    posts = len(order_posts(perp_sim))
    oid = perp.buy(PAIR, Decimal("0.01"), OrderType.LIMIT, best(perp, False), position_action=PositionAction.NIL)
    failure = (await perp.event_log.wait_for(MarketEvent.OrderFailure))[0]
    assert failure.order_id == oid and "HEDGE" in failure.error_message
    assert len(order_posts(perp_sim)) == posts and oid not in perp.in_flight_orders


async def test_limit_maker_sent_as_gtx_and_crossing_one_rejected(perp, perp_sim):
    log = perp.event_log
    resting = perp.buy(PAIR, Decimal("0.01"), OrderType.LIMIT_MAKER, best(perp, True) - Decimal("10"))
    await log.wait_for(MarketEvent.BuyOrderCreated)
    sent = order_posts(perp_sim)[-1]
    assert sent["timeInForce"] == "GTX" and sent["type"] == "LIMIT"
    crossing = perp.buy(PAIR, Decimal("0.01"), OrderType.LIMIT_MAKER, best(perp, False) + Decimal("10"))
    failure = (await log.wait_for(MarketEvent.OrderFailure))[0]
    assert failure.order_id == crossing and crossing not in perp.in_flight_orders
    assert resting in perp.in_flight_orders


async def test_min_notional_checked_before_sending(perp, perp_sim):
    posts = len(order_posts(perp_sim))
    # 0.001 BTC at ~60000 = 60 USDT < MIN_NOTIONAL 100
    oid = perp.buy(PAIR, Decimal("0.001"), OrderType.LIMIT, best(perp, True))
    failure = (await perp.event_log.wait_for(MarketEvent.OrderFailure))[0]
    assert failure.order_id == oid and "notional" in failure.error_message.lower()
    assert len(order_posts(perp_sim)) == posts


async def test_market_order_fills_and_opens_short(perp, perp_sim):
    log = perp.event_log
    oid = perp.sell(PAIR, Decimal("0.005"), OrderType.MARKET)
    done = (await log.wait_for(MarketEvent.SellOrderCompleted))[0]
    assert done.order_id == oid and done.base_asset_amount == Decimal("0.005")
    assert sum(f.amount for f in log[MarketEvent.OrderFilled]) == Decimal("0.005")
    await eventually(lambda: PAIR in perp.account_positions)
    assert perp.account_positions[PAIR].amount == Decimal("-0.005")


async def test_order_503_but_placed_stays_tracked_and_is_found(perp, perp_sim):
    perp_sim.faults.order_503_but_placed_next(1)
    oid = perp.buy(PAIR, Decimal("0.01"), OrderType.LIMIT, best(perp, True) - Decimal("5"))
    created = (await perp.event_log.wait_for(MarketEvent.BuyOrderCreated))[0]
    assert created.order_id == oid and created.exchange_order_id
    assert perp.in_flight_orders[oid].current_state == OrderState.OPEN
    assert not perp.event_log[MarketEvent.OrderFailure]


async def test_cancel_and_cancel_all(perp, perp_sim):
    log = perp.event_log
    ids = [perp.buy(PAIR, Decimal("0.01"), OrderType.LIMIT, best(perp, True) - Decimal(str(5 + i)))
           for i in range(3)]
    await log.wait_for(MarketEvent.BuyOrderCreated, 3)
    perp.cancel(PAIR, ids[0])
    cancelled = (await log.wait_for(MarketEvent.OrderCancelled))[0]
    assert cancelled.order_id == ids[0]
    results = await perp.cancel_all(5)
    assert sorted(r.order_id for r in results) == sorted(ids[1:]) and all(r.success for r in results)
    assert perp.in_flight_orders == {} and not perp_sim.futures.open_orders[0]


async def test_secret_never_in_repr_logs_or_database(perp_sim, tmp_path, caplog):
    import logging
    import os
    from perpetual_fixtures import make_perpetual
    caplog.set_level(logging.DEBUG)
    conn = make_perpetual(perp_sim, tmp_path)
    await conn.start(timeout=20)
    try:
        conn.buy(PAIR, Decimal("0.01"), OrderType.LIMIT, best(conn, True) - Decimal("5"))
        await conn.event_log.wait_for(MarketEvent.BuyOrderCreated)
        assert "sim-secret" not in repr(conn) and "sim-secret" not in repr(conn.authenticator)
    finally:
        await conn.stop()
    assert "sim-secret" not in caplog.text
    folder = tmp_path / "data"
    for name in os.listdir(folder):
        assert b"sim-secret" not in (folder / name).read_bytes()


async def test_cancel_of_order_that_filled_meanwhile_completes_it(perp, perp_sim):
    log = perp.event_log
    oid = perp.buy(PAIR, Decimal("0.01"), OrderType.LIMIT, best(perp, False) + Decimal("0.1"))
    await log.wait_for(MarketEvent.BuyOrderCreated)
    await perp.user_stream_tracker.stop()                       # we do not hear about the fill
    await perp_sim.futures.take(SYMBOL, "SELL", "0.01")
    perp.cancel(PAIR, oid)                                      # -2011 from the exchange: it is gone
    done = (await log.wait_for(MarketEvent.BuyOrderCompleted))[0]
    assert done.order_id == oid and not log[MarketEvent.OrderCancelled]
    assert [f.amount for f in log[MarketEvent.OrderFilled]] == [Decimal("0.01")]


async def test_small_close_below_min_notional_allowed(perp, perp_sim):
    # 0.002 BTC ≈ 120 USDT opens; closing 0.001 (≈ 60 < MIN_NOTIONAL 100) must still be possible
    await open_position(perp, perp_sim, side="BUY", amount="0.002")
    await eventually(lambda: PAIR in perp.account_positions)
    await open_position(perp, perp_sim, side="SELL", amount="0.001", position_action=PositionAction.CLOSE)
    assert order_posts(perp_sim)[-1]["reduceOnly"] == "true"
    await eventually(lambda: perp.account_positions.get(PAIR) is not None
                     and perp.account_positions[PAIR].amount == Decimal("0.001"))
    # an opening order of the same size is still refused locally
    oid = perp.sell(PAIR, Decimal("0.001"), OrderType.LIMIT, best(perp, True), position_action=PositionAction.OPEN)
    failure = (await perp.event_log.wait_for(MarketEvent.OrderFailure))[0]
    assert failure.order_id == oid and "notional" in failure.error_message.lower()
    assert perp.trading_rules[PAIR].min_notional_size == Decimal("100")


async def test_bad_position_action_fails_clearly_without_request(perp, perp_sim):
    posts = len(order_posts(perp_sim))
    oid = perp.buy(PAIR, Decimal("0.01"), OrderType.LIMIT, best(perp, True) - Decimal("5"), position_action="SIDEWAYS")
    failure = (await perp.event_log.wait_for(MarketEvent.OrderFailure))[0]
    assert failure.order_id == oid and "position_action" in failure.error_message
    assert len(order_posts(perp_sim)) == posts and oid not in perp.in_flight_orders
    # the string forms of the enum are accepted
    oid = perp.buy(PAIR, Decimal("0.01"), OrderType.LIMIT, best(perp, True) - Decimal("5"), position_action="OPEN")
    created = (await perp.event_log.wait_for(MarketEvent.BuyOrderCreated))[0]
    assert created.order_id == oid and created.position == "OPEN"


async def test_each_fill_carries_exactly_its_own_exchange_fee(perp, perp_sim):
    # TRK-34: per-trade commission from the event (n/N), added to cost; equal to userTrades'
    log = perp.event_log
    oid = perp.sell(PAIR, Decimal("0.03"), OrderType.LIMIT, best(perp, True) - Decimal("0.1"))
    await log.wait_for(MarketEvent.SellOrderCreated)
    await perp_sim.futures.take(SYMBOL, "BUY", "0.01")
    await perp_sim.futures.take(SYMBOL, "BUY", "0.02")
    await log.wait_for(MarketEvent.SellOrderCompleted)
    rows = await perp._api_get("/fapi/v1/userTrades", {"symbol": SYMBOL}, is_auth_required=True)
    exchange_fees = {str(r["id"]): Decimal(r["commission"]) for r in rows}
    fills = log[MarketEvent.OrderFilled]
    assert len(fills) == 2 and all(f.order_id == oid for f in fills)
    for f in fills:
        assert f.trade_fee.percent == 0 and type(f.trade_fee).__name__ == "AddedToCostTradeFee"
        assert [(t.token, t.amount) for t in f.trade_fee.flat_fees] == [("USDT", exchange_fees[f.exchange_trade_id])]
    assert perp.order_tracker.fetch_order(oid).cumulative_fee_paid("USDT") == sum(exchange_fees.values())
