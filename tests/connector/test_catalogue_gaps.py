"""Smaller catalogue scenarios found uncovered by the audit (docs/scenario-coverage.md):
PLC-10, TRK-13/16/18/19/32, POL-13 (spot), POL-19, OB-06/08, TRL-09/10, USR-06, NET-03/08/20/23."""
import asyncio
import logging
from decimal import Decimal

import pytest

from connector_helpers import PAIR, eventually, make_connector

from exconnect.binance import BinanceUrls
from exconnect.connector.order_tracker import ClientOrderTracker
from exconnect.events import MarketEvent
from exconnect.native.in_flight_order import InFlightOrder
from exconnect.types import OrderState, OrderType, OrderUpdate, TradeType

T = 1640780000.0


def tracker_with_log(limit=3):
    events = []
    tracker = ClientOrderTracker(trigger_event=lambda tag, ev: events.append((tag, ev)),
                                 current_timestamp=lambda: T, lost_order_count_limit=limit)
    return tracker, events


def new_order(cid="c1", eid=None):
    return InFlightOrder(cid, PAIR, OrderType.LIMIT, TradeType.BUY, Decimal("1000"), T, price=Decimal("1"),
                         exchange_order_id=eid)


def test_update_for_untracked_order_is_ignored(caplog):
    """TRK-16."""
    caplog.set_level(logging.DEBUG, logger="exconnect.connector.order_tracker")
    tracker, events = tracker_with_log()
    tracker.process_order_update(OrderUpdate(PAIR, T, OrderState.CANCELED, "nobody", "e-nobody"))
    assert events == [] and "not/no longer being tracked" in caplog.text


def test_update_matched_by_exchange_id_only_creates_the_order():
    """TRK-18 (and TRK-14: unknown ids find nothing)."""
    tracker, events = tracker_with_log()
    tracker.start_tracking_order(new_order(eid="28"))
    assert tracker.fetch_order(None, "28") is not None and tracker.fetch_order("zz", "99") is None
    tracker.process_order_update(OrderUpdate(PAIR, T, OrderState.OPEN, None, "28"))
    assert [t for t, _ in events] == [MarketEvent.BuyOrderCreated]
    ev = events[0][1]
    assert (ev.order_id, ev.exchange_order_id, ev.amount, ev.price) == ("c1", "28", Decimal("1000"), Decimal("1"))


def test_repeated_pending_create_stores_id_without_created_event():
    """TRK-19."""
    tracker, events = tracker_with_log()
    tracker.start_tracking_order(new_order())
    tracker.process_order_update(OrderUpdate(PAIR, T, OrderState.PENDING_CREATE, "c1", "28"))
    order = tracker.active_orders["c1"]
    assert order.exchange_order_id == "28" and order.current_state == OrderState.PENDING_CREATE
    assert events == []


def test_default_lost_limit_is_three_reports_then_lost_on_the_fourth():
    """TRK-32."""
    tracker, events = tracker_with_log()
    tracker.start_tracking_order(new_order())
    for _ in range(3):
        tracker.process_order_not_found("c1")
    assert "c1" in tracker.active_orders and events == []
    tracker.process_order_not_found("c1")
    assert "c1" in tracker.lost_orders and [t for t, _ in events] == [MarketEvent.OrderFailure]
    assert "c1" not in tracker.cached_orders


def test_cached_orders_expire_after_their_ttl():
    """TRK-13 (the size bound is in test_order_tracker.py)."""
    tracker, _ = tracker_with_log()
    tracker.CACHE_TTL = 0.0
    tracker.start_tracking_order(new_order())
    tracker.stop_tracking_order("c1")
    assert tracker.cached_orders == {}
    tracker.CACHE_TTL = 30.0
    tracker.start_tracking_order(new_order("c2"))
    tracker.stop_tracking_order("c2")
    assert list(tracker.cached_orders) == ["c2"]


async def test_unsupported_order_type_fails_without_request(connector, sim):
    """PLC-10 (spot supports all three types, so the list is narrowed here)."""
    connector.supported_order_types = lambda: [OrderType.LIMIT]
    n = len([r for r in sim.request_log if r["path"] == "/api/v3/order"])
    oid = connector.buy(PAIR, Decimal("0.01"), OrderType.MARKET)
    fail = (await connector.event_log.wait_for(MarketEvent.OrderFailure))[0]
    assert fail.order_id == oid and "is not in the list of supported order types" in fail.error_message
    assert oid not in connector.in_flight_orders
    assert len([r for r in sim.request_log if r["path"] == "/api/v3/order"]) == n


def test_poll_cadence_short_when_user_stream_silent_long_otherwise(sim, tmp_path):
    """POL-19: a tick crossing a 5 s boundary polls while the stream is silent (> 60 s), only a
    120 s boundary while it is alive."""
    conn = make_connector(sim, tmp_path, short_poll_interval=5, long_poll_interval=120)
    source = conn.user_stream_tracker.data_source
    notifier = conn._poll_notifier
    conn.tick(1000.0)
    assert notifier.is_set()
    notifier.clear()
    conn.tick(1001.0)
    assert not notifier.is_set()
    conn.tick(1005.0)
    assert notifier.is_set()
    notifier.clear()
    import time
    source._ws = object()                               # a socket (last_recv_time is 0 without one)
    source.last_recv_time = time.time()                 # a private message just arrived on it
    conn.tick(1010.0)
    assert not notifier.is_set()
    conn.tick(1080.0)
    assert notifier.is_set()                             # crossed 1080 = 9 x 120


async def test_snapshot_failures_are_retried_until_the_book_syncs(connector, sim, caplog):
    """OB-08 [F err]: after a reconnect the depth request fails twice; the book still resyncs."""
    caplog.set_level(logging.ERROR, logger="exconnect.connector.order_book_tracker")
    tracker = connector.order_book_tracker
    snapshots = tracker.snapshot_count
    sim.faults.rest_fault_path = "/api/v3/depth"
    sim.faults.rest_errors_next(2, status=500, code=-1000, msg="Internal error.")
    sim.faults.drop_ws("market")
    await eventually(lambda: tracker.snapshot_count > snapshots and tracker.is_in_sync(PAIR))
    assert "Unexpected error fetching order book snapshot for BTC-USDT" in caplog.text
    sim.spot.add_liquidity("BTCUSDT", "SELL", "60000.05", "1")
    await eventually(lambda: connector.get_order_book(PAIR).get_price(True) == Decimal("60000.05"))


async def test_check_network_propagates_cancellation(sim, tmp_path):
    """NET-03: cancelling a network check cancels it (no NOT_CONNECTED swallowed result)."""
    conn = make_connector(sim, tmp_path, trading_required=False)
    sim.faults.rest_delay_ms = 5000
    try:
        task = asyncio.get_running_loop().create_task(conn.check_network())
        await eventually(lambda: any(r["path"] == "/api/v3/ping" for r in sim.request_log))
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    finally:
        sim.faults.clear()
        await conn.stop()


async def test_all_trading_pairs_empty_when_exchange_info_fails(sim, tmp_path):
    """NET-23."""
    conn = make_connector(sim, tmp_path, trading_required=False)
    try:
        sim.faults.rest_fault_path = "/api/v3/exchangeInfo"
        sim.faults.rest_errors_next(1, status=500, code=-1000, msg="Internal error.")
        assert await conn.all_trading_pairs() == []
        assert "BTC-USDT" in await conn.all_trading_pairs()
    finally:
        await conn.stop()


def test_production_and_testnet_urls():
    """NET-20 (spot)."""
    prod = BinanceUrls.production()
    assert prod.rest_url("/api/v3/ping") == "https://api.binance.com/api/v3/ping"
    assert BinanceUrls.production("us").rest_url("/api/v3/ping") == "https://api.binance.us/api/v3/ping"
    assert BinanceUrls.testnet().rest_url("/api/v3/ping") == "https://testnet.binance.vision/api/v3/ping"


async def test_fill_not_lost_while_the_trades_endpoint_fails(connector, sim):
    """POL-13 (spot counterpart): the order's trades cannot be fetched -> no fill invented, the order
    stays tracked; once the endpoint answers again the fill is recorded exactly once."""
    bid = connector.get_order_book(PAIR).get_price(False)
    oid = connector.buy(PAIR, Decimal("0.02"), OrderType.LIMIT, bid + Decimal("0.01"))
    await connector.event_log.wait_for(MarketEvent.BuyOrderCreated)
    await connector.user_stream_tracker.stop()
    sim.faults.rest_fault_path = "/api/v3/myTrades"
    sim.faults.rest_errors_next(100_000, status=500, code=-1000, msg="Internal error.")
    await sim.spot.take("BTCUSDT", "SELL", "0.01")
    for _ in range(3):
        await connector._update_order_status()
    order = connector.in_flight_orders[oid]
    assert order.executed_amount_base == 0 and not connector.event_log[MarketEvent.OrderFilled]
    assert connector.order_tracker.not_found_count(oid) == 0
    sim.faults.clear()
    fill = (await connector.event_log.wait_for(MarketEvent.OrderFilled))[0]
    assert (fill.order_id, fill.amount) == (oid, Decimal("0.01"))
    await connector._update_order_status()
    assert len(connector.event_log[MarketEvent.OrderFilled]) == 1 and len(connector.store.fills()) == 1
    assert connector.in_flight_orders[oid].executed_amount_base == Decimal("0.01")


async def test_trading_rules_refresh_failure_is_logged_and_retried(connector, sim, caplog):
    """TRL-09: a failed refresh keeps the last rules, logs, and tries again."""
    caplog.set_level(logging.ERROR, logger="exconnect.connector.exchange_base")
    def info_requests():
        return len([r for r in sim.request_log if r["path"] == "/api/v3/exchangeInfo"])
    n = info_requests()
    sim.faults.rest_fault_path = "/api/v3/exchangeInfo"
    sim.faults.rest_errors_next(1, status=500, code=-1000, msg="Internal error.")
    connector.TRADING_RULES_INTERVAL = 3600.0
    task = asyncio.get_running_loop().create_task(connector._trading_rules_polling_loop())
    try:
        await eventually(lambda: info_requests() >= n + 2)
        assert "Unexpected error while fetching trading rules." in caplog.text
        assert connector.trading_rules[PAIR].min_notional_size == Decimal("5")
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_trading_rules_refresh_replaces_rules_and_symbol_map(connector, sim):
    """TRL-09: a refresh replaces the whole rule set and the symbol map from the same payload."""
    assert "ETH-USDT" in connector.trading_rules
    assert connector.exchange_symbol_associated_to_pair("ETH-USDT") == "ETHUSDT"
    eth = sim.spot.symbols.pop("ETHUSDT")                   # the exchange stops listing ETHUSDT
    try:
        await connector._update_trading_rules()
    finally:
        sim.spot.symbols["ETHUSDT"] = eth
    assert "ETH-USDT" not in connector.trading_rules and PAIR in connector.trading_rules
    assert "ETHUSDT" not in connector._trading_pair_symbol_map
    await connector._update_trading_rules()                 # listed again: back in both
    assert "ETH-USDT" in connector.trading_rules and connector._trading_pair_symbol_map["ETHUSDT"] == "ETH-USDT"


def test_only_trading_spot_symbols_make_rules(sim, tmp_path):
    """TRL-10 / NET-22: status must be TRADING and SPOT must be permitted."""
    conn = make_connector(sim, tmp_path)
    filters = [{"filterType": "PRICE_FILTER", "minPrice": "0.01", "maxPrice": "1000", "tickSize": "0.01"},
               {"filterType": "LOT_SIZE", "minQty": "0.001", "maxQty": "1000", "stepSize": "0.001"}]
    def sym(name, status, perms):
        return {"symbol": name + "USDT", "status": status, "baseAsset": name, "quoteAsset": "USDT",
                "permissionSets": [perms], "filters": filters}
    info = {"symbols": [sym("OK", "TRADING", ["SPOT"]), sym("HALT", "BREAK", ["SPOT"]),
                        sym("MARG", "TRADING", ["MARGIN"])]}
    assert [r.trading_pair for r in conn._format_trading_rules(info)] == ["OK-USDT"]


async def test_time_request_cancellation_propagates(connector, sim):
    """NET-08."""
    sim.faults.rest_fault_path = "/api/v3/time"
    sim.faults.rest_delay_ms = 5000
    n = len([r for r in sim.request_log if r["path"] == "/api/v3/time"])
    task = asyncio.get_running_loop().create_task(connector._update_time_synchronizer())
    await eventually(lambda: len([r for r in sim.request_log if r["path"] == "/api/v3/time"]) > n)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    sim.faults.clear()


async def test_user_stream_listener_cancellation_propagates(sim, tmp_path):
    """USR-06."""
    conn = make_connector(sim, tmp_path)
    try:
        task = asyncio.get_running_loop().create_task(conn._user_stream_event_listener())
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    finally:
        await conn.stop()


async def test_malformed_trade_frame_is_logged_and_trades_keep_flowing(connector, sim, caplog):
    """OB-06 [F bad]."""
    from exconnect.events import OrderBookEvent
    caplog.set_level(logging.ERROR, logger="exconnect.connector.order_book_tracker")
    trades = []
    connector.add_listener(OrderBookEvent.TradeEvent, trades.append)
    connector.order_book_tracker._on_frame(b'{"e":"trade","E":1,"s":"BTCUSDT","t":12345}')
    assert "Unexpected error when processing public trade updates from exchange" in caplog.text
    assert trades == []
    await sim.spot.take("BTCUSDT", "BUY", "0.001")
    await eventually(lambda: trades)
    assert trades[0].trading_pair == PAIR


async def test_rest_status_rejected_fails_the_order(connector, sim):
    """POL-07: the simulator never rejects a resting order, so its real status answer is relabelled."""
    bid = connector.get_order_book(PAIR).get_price(False)
    oid = connector.buy(PAIR, Decimal("0.01"), OrderType.LIMIT, bid - 70)
    await connector.event_log.wait_for(MarketEvent.BuyOrderCreated)
    answer = await connector._api_get("/api/v3/order", {"symbol": "BTCUSDT", "origClientOrderId": oid},
                                      is_auth_required=True)
    connector._process_order_message(dict(answer, status="REJECTED"))
    fail = connector.event_log[MarketEvent.OrderFailure]
    assert [(f.order_id, f.order_type) for f in fail] == [(oid, OrderType.LIMIT)]
    assert oid not in connector.in_flight_orders


@pytest.mark.parametrize("state", [OrderState.OPEN, OrderState.PARTIALLY_FILLED, OrderState.PENDING_CANCEL])
def test_lost_order_stays_lost_and_failed_on_live_states(state):
    """TRK-31."""
    tracker, events = tracker_with_log(limit=0)
    tracker.start_tracking_order(new_order(eid="28"))
    tracker.process_order_not_found("c1")
    assert "c1" in tracker.lost_orders
    tracker.process_order_update(OrderUpdate(PAIR, T + 1, state, "c1", "28"))
    assert "c1" in tracker.lost_orders and tracker.lost_orders["c1"].current_state == OrderState.FAILED
    assert [t for t, _ in events] == [MarketEvent.OrderFailure]


async def test_start_network_runs_the_loops_and_stop_network_cancels_them_all(connector, sim):
    """NET-15: start_network starts the order books and, trading, the polling, user stream and
    listener loops; stop_network cancels every task, stops both trackers and resets the tick
    timestamp; start_network again brings it all back."""
    tasks = list(connector._tasks)
    assert tasks and all(not t.done() for t in tasks)
    assert connector._last_timestamp > 0 and connector.user_stream_tracker.data_source.is_subscribed
    await connector.stop_network()
    assert connector._tasks == [] and all(t.done() for t in tasks)
    assert connector._last_timestamp == 0.0 and connector.network_status.name == "STOPPED"
    assert not connector.user_stream_tracker.data_source.is_subscribed
    await connector.start_network()
    await connector.wait_until_ready(20)
    assert connector._tasks and all(not t.done() for t in connector._tasks)
