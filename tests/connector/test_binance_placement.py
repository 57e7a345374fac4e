"""PLC: order placement against the simulator (real sockets)."""
from decimal import Decimal

from connector_helpers import PAIR, eventually

from exconnect.events import MarketEvent
from exconnect.types import OrderState, OrderType


def order_posts(sim):
    return [r for r in sim.request_log if r["path"] == "/api/v3/order" and r["method"] == "POST"]


def params_of(entry):
    return entry["params"]


async def test_buy_limit_tracked_at_once_and_created_event(connector, sim):
    bid = connector.get_order_book(PAIR).get_price(False)
    price = bid - Decimal("50")
    oid = connector.buy(PAIR, Decimal("0.01"), OrderType.LIMIT, price)
    order = connector.in_flight_orders[oid]                          # tracked before any answer
    assert order.current_state == OrderState.PENDING_CREATE
    ev = (await connector.event_log.wait_for(MarketEvent.BuyOrderCreated))[0]
    assert (ev.order_id, ev.trading_pair, ev.amount, ev.price, ev.type) == (oid, PAIR, Decimal("0.01"), price,
                                                                            OrderType.LIMIT)
    assert ev.exchange_order_id == order.exchange_order_id and ev.creation_timestamp == order.creation_timestamp
    p = params_of(order_posts(sim)[-1])
    assert p["symbol"] == "BTCUSDT" and p["side"] == "BUY" and p["type"] == "LIMIT"
    assert p["timeInForce"] == "GTC" and p["newClientOrderId"] == oid
    assert p["quantity"] == "0.01" and "E" not in p["price"] and Decimal(p["price"]) == price
    assert "signature" in p and "timestamp" in p
    assert order_posts(sim)[-1]["api_key"] == "sim-key"
    assert connector.in_flight_orders[oid].current_state == OrderState.OPEN


async def test_update_time_is_the_exchanges(connector, sim):
    """PLC-04: on success the order's update time comes from the exchange's answer (transactTime,
    ms -> s; the stream's NEW report carries the same instant), not from the local clock."""
    sim.faults.clock_skew_ms = 3000                                  # the exchange runs 3 s ahead
    bid = connector.get_order_book(PAIR).get_price(False)
    oid = connector.buy(PAIR, Decimal("0.01"), OrderType.LIMIT, bid - Decimal("50"))
    order = connector.in_flight_orders[oid]
    await connector.event_log.wait_for(MarketEvent.BuyOrderCreated)
    answer = await connector._api_get("/api/v3/order", {"symbol": "BTCUSDT", "origClientOrderId": oid},
                                      is_auth_required=True)
    assert abs(order.last_update_timestamp - answer["time"] / 1000.0) < 0.005
    assert order.last_update_timestamp - order.creation_timestamp > 2.5      # not the local clock


async def test_sell_limit_tracked_at_once_and_created_event(connector, sim):
    """PLC-02: as PLC-01 with sell — SellOrderCreatedEvent with the same fields, side SELL on the wire."""
    ask = connector.get_order_book(PAIR).get_price(True)
    price = ask + Decimal("50")
    oid = connector.sell(PAIR, Decimal("0.01"), OrderType.LIMIT, price)
    order = connector.in_flight_orders[oid]
    assert order.current_state == OrderState.PENDING_CREATE
    ev = (await connector.event_log.wait_for(MarketEvent.SellOrderCreated))[0]
    assert (ev.order_id, ev.trading_pair, ev.amount, ev.price, ev.type) == (oid, PAIR, Decimal("0.01"), price,
                                                                            OrderType.LIMIT)
    assert ev.exchange_order_id == order.exchange_order_id and ev.creation_timestamp == order.creation_timestamp
    assert not connector.event_log[MarketEvent.BuyOrderCreated]
    p = params_of(order_posts(sim)[-1])
    assert p["symbol"] == "BTCUSDT" and p["side"] == "SELL" and p["type"] == "LIMIT"
    assert p["timeInForce"] == "GTC" and p["newClientOrderId"] == oid
    assert p["quantity"] == "0.01" and Decimal(p["price"]) == price
    assert "signature" in p and order_posts(sim)[-1]["api_key"] == "sim-key"
    assert connector.in_flight_orders[oid].current_state == OrderState.OPEN


async def test_sell_limit_maker_and_request_shapes(connector, sim):
    ask = connector.get_order_book(PAIR).get_price(True)
    oid = connector.sell(PAIR, Decimal("0.02"), OrderType.LIMIT_MAKER, ask + Decimal("10"))
    ev = (await connector.event_log.wait_for(MarketEvent.SellOrderCreated))[0]
    assert ev.order_id == oid and ev.type == OrderType.LIMIT_MAKER
    p = params_of(order_posts(sim)[-1])
    assert p["type"] == "LIMIT_MAKER" and "timeInForce" not in p and "price" in p


async def test_price_and_amount_quantized_before_sending(connector, sim):
    bid = connector.get_order_book(PAIR).get_price(False)
    oid = connector.buy(PAIR, Decimal("0.0123456789"), OrderType.LIMIT, bid - Decimal("100.005"))
    await connector.event_log.wait_for(MarketEvent.BuyOrderCreated)
    p = params_of(order_posts(sim)[-1])
    assert p["quantity"] == "0.01234"                                    # step 0.00001, floored
    assert Decimal(p["price"]) == (bid - Decimal("100.005")).quantize(Decimal("0.01"), rounding="ROUND_FLOOR")
    assert connector.in_flight_orders[oid].amount == Decimal("0.01234")


async def test_rule_violation_fails_without_sending(connector, sim):
    before = len(order_posts(sim))
    bid = connector.get_order_book(PAIR).get_price(False)
    oid = connector.buy(PAIR, Decimal("0.000001"), OrderType.LIMIT, bid)      # below min qty 0.00001
    fail = (await connector.event_log.wait_for(MarketEvent.OrderFailure))[0]
    assert fail.order_id == oid and fail.error_type == "ValueError"
    assert "lower than minimum order size" in fail.error_message
    oid2 = connector.buy(PAIR, Decimal("0.00002"), OrderType.LIMIT, Decimal("100"))  # notional 0.002 < 5
    fail2 = (await connector.event_log.wait_for(MarketEvent.OrderFailure, 2))[1]
    assert fail2.order_id == oid2 and "notional" in fail2.error_message.lower()
    assert len(order_posts(sim)) == before and oid not in connector.in_flight_orders


async def test_exchange_rejection_fails_and_untracks(connector, sim):
    ask = connector.get_order_book(PAIR).get_price(True)
    # post-only crossing the book: Binance answers 400 -2010 "Order would immediately match and take."
    oid = connector.buy(PAIR, Decimal("0.01"), OrderType.LIMIT_MAKER, ask + Decimal("5"))
    fail = (await connector.event_log.wait_for(MarketEvent.OrderFailure))[0]
    assert fail.order_id == oid and fail.order_type == OrderType.LIMIT_MAKER
    assert "immediately match" in fail.error_message
    assert oid not in connector.in_flight_orders
    assert not connector.event_log[MarketEvent.BuyOrderCreated]


async def test_crossing_limit_order_fills_from_full_response_exactly_once(connector, sim):
    ask = connector.get_order_book(PAIR).get_price(True)
    oid = connector.buy(PAIR, Decimal("0.5"), OrderType.LIMIT, ask + Decimal("20"))
    log = connector.event_log
    done = (await log.wait_for(MarketEvent.BuyOrderCompleted))[0]
    assert done.order_id == oid and done.base_asset_amount == Decimal("0.5")
    fills = log[MarketEvent.OrderFilled]
    assert sum(f.amount for f in fills) == Decimal("0.5")
    assert len({f.exchange_trade_id for f in fills}) == len(fills)
    assert sum(f.amount * f.price for f in fills) == done.quote_asset_amount
    order_tags = [t for t in log.by_tag if log.by_tag[t]]
    assert MarketEvent.BuyOrderCreated in order_tags
    # fee reported by the exchange, deducted from returns, in the asset received
    assert fills[0].trade_fee.flat_fees and fills[0].trade_fee.flat_fees[0].token == "BTC"
    await eventually(lambda: connector.store.fills() and len(connector.store.fills()) == len(fills))
    assert oid not in connector.in_flight_orders


async def test_market_order_completes(connector, sim):
    oid = connector.sell(PAIR, Decimal("0.3"), OrderType.MARKET)
    done = (await connector.event_log.wait_for(MarketEvent.SellOrderCompleted))[0]
    assert done.order_id == oid and done.base_asset_amount == Decimal("0.3")
    assert "price" not in params_of(order_posts(sim)[-1]) and "timeInForce" not in params_of(order_posts(sim)[-1])


async def test_order_placed_but_answered_503_stays_tracked_and_is_resolved(connector, sim):
    connector.UNKNOWN_OUTCOME_RECHECK = 0.05
    sim.faults.order_503_but_placed_next(1)
    bid = connector.get_order_book(PAIR).get_price(False)
    oid = connector.buy(PAIR, Decimal("0.01"), OrderType.LIMIT, bid + Decimal("0.01"))   # best bid
    created = (await connector.event_log.wait_for(MarketEvent.BuyOrderCreated))[0]
    assert created.order_id == oid and created.exchange_order_id
    assert not connector.event_log[MarketEvent.OrderFailure]
    assert connector.in_flight_orders[oid].current_state == OrderState.OPEN
    # and it still fills normally
    await sim.spot.take("BTCUSDT", "SELL", "0.01")
    done = (await connector.event_log.wait_for(MarketEvent.BuyOrderCompleted))[0]
    assert done.order_id == oid


async def test_order_never_placed_after_timeout_becomes_failed_via_not_found(connector, sim):
    connector.UNKNOWN_OUTCOME_RECHECK = 0.05
    connector._rest.timeout = 0.3
    sim.faults.rest_fault_path = "/api/v3/order"
    sim.faults.rest_timeouts_next(1)
    bid = connector.get_order_book(PAIR).get_price(False)
    oid = connector.buy(PAIR, Decimal("0.01"), OrderType.LIMIT, bid - Decimal("30"))
    await eventually(lambda: connector.order_tracker.not_found_count(oid) >= 1)
    assert oid in connector.in_flight_orders                      # not failed on the timeout itself
    fail = (await connector.event_log.wait_for(MarketEvent.OrderFailure, timeout=15))[0]
    assert fail.order_id == oid
    assert oid in connector.order_tracker.lost_orders


def test_supported_order_types(sim, tmp_path):
    from connector_helpers import make_connector
    conn = make_connector(sim, tmp_path)
    assert conn.supported_order_types() == [OrderType.LIMIT, OrderType.LIMIT_MAKER, OrderType.MARKET]


async def test_float_amount_refused(connector):
    import pytest
    with pytest.raises(TypeError):
        connector.buy(PAIR, 0.01, OrderType.LIMIT, Decimal("1"))


def test_buy_outside_event_loop_is_a_clear_error(sim, tmp_path):
    import pytest
    from connector_helpers import make_connector
    conn = make_connector(sim, tmp_path)
    with pytest.raises(RuntimeError, match="event loop"):
        conn.buy(PAIR, Decimal("0.01"), OrderType.LIMIT, Decimal("100"))
    assert conn.in_flight_orders == {}
