"""NET / TRL / THR / POL for futures: rules from /fapi exchangeInfo (delivery contracts ignored),
order-count pools split by verb, clock skew recovery via /fapi/v1/time, placement outcomes
(5xx not placed → lost; rejected), lost orders, positionRisk edge cases (POS-02..05)."""
from decimal import Decimal

from perpetual_fixtures import PAIR, best, eventually, make_perpetual, perp, perp_sim  # noqa: F401

from exconnect.binance_perpetual import binance_perpetual_constants as CONSTANTS
from exconnect.connector.exchange_base import NetworkStatus
from exconnect.events import MarketEvent
from exconnect.types import OrderState, OrderType, PositionSide, TradeType


def _filters(notional="5"):
    return [{"filterType": "PRICE_FILTER", "minPrice": "0.1", "maxPrice": "100000", "tickSize": "0.1"},
            {"filterType": "LOT_SIZE", "minQty": "0.001", "maxQty": "1000", "stepSize": "0.001"},
            {"filterType": "MIN_NOTIONAL", "notional": notional}]


def test_rules_ignore_delivery_contracts_and_broken_entries(perp_sim, tmp_path):
    conn = make_perpetual(perp_sim, tmp_path)
    info = {"symbols": [
        {"symbol": "COINALPHAHBOT", "status": "TRADING", "contractType": "PERPETUAL", "baseAsset": "COINALPHA",
         "quoteAsset": "HBOT", "marginAsset": "HBOT", "filters": _filters("7")},
        {"symbol": "COINALPHAHBOT_230331", "status": "TRADING", "contractType": "CURRENT_QUARTER",
         "baseAsset": "COINALPHA", "quoteAsset": "HBOT", "filters": _filters()},
        {"symbol": "BROKENHBOT", "status": "TRADING", "contractType": "PERPETUAL", "baseAsset": "BROKEN",
         "quoteAsset": "HBOT"},
        {"symbol": "TRADIHBOT", "status": "TRADING", "contractType": "TRADIFI_PERPETUAL", "baseAsset": "TRADI",
         "quoteAsset": "HBOT", "filters": _filters()},
        {"symbol": "HALTEDHBOT", "status": "SETTLING", "contractType": "PERPETUAL", "baseAsset": "HALTED",
         "quoteAsset": "HBOT", "filters": _filters()},
    ]}
    rules = conn._format_trading_rules(info)
    assert [r.trading_pair for r in rules] == ["COINALPHA-HBOT", "TRADI-HBOT"]
    assert rules[0].min_notional_size == Decimal("7") and rules[0].buy_order_collateral_token == "HBOT"


async def test_network_status_and_symbol_map(perp, perp_sim):
    assert await perp.check_network() == NetworkStatus.CONNECTED
    assert perp.trading_pair_associated_to_exchange_symbol("ETHUSDT") == "ETH-USDT"
    perp_sim.faults.rest_fault_path = "/fapi/v1/ping"
    perp_sim.faults.rest_errors_next(1, status=500)
    assert await perp.check_network() == NetworkStatus.NOT_CONNECTED


async def test_order_pools_split_by_verb(perp, perp_sim):
    t = perp.throttler
    before = (t.used(CONSTANTS.ORDERS_10S), t.used(CONSTANTS.ORDERS_1MIN))
    oid = perp.buy(PAIR, Decimal("0.01"), OrderType.LIMIT, best(perp, True) - Decimal("5"))
    await perp.event_log.wait_for(MarketEvent.BuyOrderCreated)
    after_post = (t.used(CONSTANTS.ORDERS_10S), t.used(CONSTANTS.ORDERS_1MIN))
    assert after_post == (before[0] + 1, before[1] + 1)
    weight = t.used(CONSTANTS.REQUEST_WEIGHT)
    perp.cancel(PAIR, oid)
    await perp.event_log.wait_for(MarketEvent.OrderCancelled)
    assert (t.used(CONSTANTS.ORDERS_10S), t.used(CONSTANTS.ORDERS_1MIN)) == after_post
    assert t.used(CONSTANTS.REQUEST_WEIGHT) > weight
    # exchangeInfo's published limits replaced the defaults
    assert t.capacity(CONSTANTS.ORDERS_10S) == perp_sim.config.rate_limits.orders_per_10s


async def test_clock_skew_resynchronised_and_order_placed(perp, perp_sim):
    perp_sim.faults.clock_skew_ms = 20_000          # exchange clock jumps ahead: -1021 until we resync
    oid = perp.buy(PAIR, Decimal("0.01"), OrderType.LIMIT, best(perp, True) - Decimal("5"))
    created = (await perp.event_log.wait_for(MarketEvent.BuyOrderCreated))[0]
    assert created.order_id == oid and not perp.event_log[MarketEvent.OrderFailure]
    assert perp.time_synchronizer.time_ms() - perp_sim.futures.clock.now_ms() < 5000


async def test_rejected_order_fails_once_and_is_untracked(perp, perp_sim):
    # reduce-only close with no position: the exchange rejects it (-2022)
    from exconnect.types import PositionAction
    oid = perp.sell(PAIR, Decimal("0.01"), OrderType.LIMIT, best(perp, True) + Decimal("5"),
                    position_action=PositionAction.CLOSE)
    failure = (await perp.event_log.wait_for(MarketEvent.OrderFailure))[0]
    assert failure.order_id == oid and "ReduceOnly" in failure.error_message
    assert oid not in perp.in_flight_orders and not perp.event_log[MarketEvent.SellOrderCreated]


async def test_503_internal_error_is_a_definite_failure(perp, perp_sim):
    # "Internal error; unable to process your request." on a 503: not executed (Binance futures rules)
    perp_sim.faults.rest_fault_path = "/fapi/v1/order"
    perp_sim.faults.rest_errors_next(1, status=503)
    oid = perp.buy(PAIR, Decimal("0.01"), OrderType.LIMIT, best(perp, True) - Decimal("5"))
    failure = (await perp.event_log.wait_for(MarketEvent.OrderFailure))[0]
    assert failure.order_id == oid and "Internal error" in failure.error_message
    assert oid not in perp.order_tracker.all_updatable_orders
    assert not any(e["method"] == "GET" and e["path"] == "/fapi/v1/order" for e in perp_sim.request_log)


async def test_5xx_not_placed_stays_tracked_then_lost(perp_sim, tmp_path):
    conn = make_perpetual(perp_sim, tmp_path, lost_order_count_limit=1)
    await conn.start(timeout=20)
    try:
        perp_sim.faults.rest_fault_path = "/fapi/v1/order"
        perp_sim.faults.rest_errors_next(1, status=504)            # gateway timeout: fate unknown
        oid = conn.buy(PAIR, Decimal("0.01"), OrderType.LIMIT, best(conn, True) - Decimal("5"))
        await eventually(lambda: any(e["method"] == "GET" and e["path"] == "/fapi/v1/order"
                                     for e in perp_sim.request_log))
        # unknown outcome: tracked (not failed) until the exchange says it has never seen it
        failure = (await conn.event_log.wait_for(MarketEvent.OrderFailure))[0]
        assert failure.order_id == oid and failure.error_type == "OrderNotFound"
        assert not conn.event_log[MarketEvent.BuyOrderCreated]
        await eventually(lambda: oid not in conn.order_tracker.all_updatable_orders)
    finally:
        await conn.stop()


async def test_lost_order_found_later_is_tracked_to_its_end(perp_sim, tmp_path):
    conn = make_perpetual(perp_sim, tmp_path)
    await conn.start(timeout=20)
    try:
        conn.start_tracking_order("never-sent-1", None, PAIR, TradeType.BUY, Decimal("60000"), Decimal("0.01"),
                                  OrderType.LIMIT, leverage=3, position="OPEN")
        order = conn.in_flight_orders["never-sent-1"]
        assert order.leverage == 3 and order.position == "OPEN" and order.current_state == OrderState.PENDING_CREATE
        failure = (await conn.event_log.wait_for(MarketEvent.OrderFailure))[0]
        assert failure.order_id == "never-sent-1"
        await eventually(lambda: "never-sent-1" not in conn.order_tracker.all_updatable_orders)
    finally:
        await conn.stop()


def _risk_row(symbol, amount, side="BOTH", leverage="5"):
    return {"symbol": symbol, "positionSide": side, "positionAmt": amount, "entryPrice": "60000",
            "unRealizedProfit": "1.5", "leverage": leverage}


async def test_position_risk_rows(perp, perp_sim):
    # POS-01/02/03/04/05 on positionRisk rows: delivery contracts ignored, updates, new, closed
    perp._process_position_risk([_risk_row("BTCUSDT_230331", "1")])
    assert perp.account_positions == {}
    perp._process_position_risk([_risk_row("BTCUSDT", "1")])
    pos = perp.account_positions[PAIR]
    assert (pos.amount, pos.entry_price, pos.unrealized_pnl, pos.leverage, pos.position_side) == \
        (Decimal("1"), Decimal("60000"), Decimal("1.5"), Decimal("5"), PositionSide.BOTH)
    assert perp.get_leverage(PAIR) == 5
    perp._process_position_risk([_risk_row("BTCUSDT", "-2")])
    assert perp.account_positions[PAIR].amount == Decimal("-2")
    perp._process_position_risk([_risk_row("BTCUSDT", "0")])
    assert perp.account_positions == {}
    # and the real endpoint: the exchange has no position, a refresh removes ours
    perp._process_position_risk([_risk_row("BTCUSDT", "1")])
    await perp._update_account_positions()
    assert perp.account_positions == {}


async def test_rules_refresh_replaces_rules_and_symbol_map(perp, perp_sim):
    """TRL-09 on futures: a refresh replaces the rule set and the symbol map from the same
    exchangeInfo answer (a contract that stops TRADING leaves both, and comes back)."""
    assert "ETH-USDT" in perp.trading_rules and perp._trading_pair_symbol_map.get("ETHUSDT") == "ETH-USDT"
    eth = perp_sim.futures.symbols["ETHUSDT"]
    eth.status = "SETTLING"
    try:
        await perp._update_trading_rules()
        assert "ETH-USDT" not in perp.trading_rules and PAIR in perp.trading_rules
        assert "ETHUSDT" not in perp._trading_pair_symbol_map
    finally:
        eth.status = "TRADING"
    await perp._update_trading_rules()
    assert "ETH-USDT" in perp.trading_rules and perp._trading_pair_symbol_map["ETHUSDT"] == "ETH-USDT"
