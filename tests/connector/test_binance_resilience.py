"""Money-safety and resilience scenarios not covered elsewhere (CXL-04, POL-03/04/09, NET-07/10,
OB-03/07, PER-02, THR 418/429) — all against the simulator over real sockets."""
import json
import logging
from decimal import Decimal

import pytest

from connector_helpers import PAIR, eventually, make_connector

from exconnect.connector.web import RateLimitedError, RequestRejected
from exconnect.events import MarketEvent
from exconnect.types import OrderState, OrderType, TradeType


async def resting_buy(connector, below=Decimal("45")):
    bid = connector.get_order_book(PAIR).get_price(False)
    oid = connector.buy(PAIR, Decimal("0.01"), OrderType.LIMIT, bid - below)
    await connector.event_log.wait_for(MarketEvent.BuyOrderCreated)
    return oid


def no_auto_polls(connector):
    connector.SHORT_POLL_INTERVAL = connector.LONG_POLL_INTERVAL = 1e9


async def test_cancel_answered_unknown_order_counts_not_found_and_keeps_tracking(connector, sim, caplog):
    """CXL-04: -2011 on cancel -> not done/failed/cancelled, still updatable, not-found count 1."""
    caplog.set_level(logging.WARNING, logger="exconnect.connector.exchange_base")
    no_auto_polls(connector)
    oid = "cxl04-not-on-exchange"
    bid = connector.get_order_book(PAIR).get_price(False)
    connector.start_tracking_order(oid, "123456789", PAIR, TradeType.BUY, bid - 100, Decimal("0.01"), OrderType.LIMIT)
    assert await connector._execute_cancel(PAIR, oid) is None
    order = connector.order_tracker.fetch_order(oid)
    assert connector.order_tracker.not_found_count(oid) >= 1
    assert oid in connector.order_tracker.all_updatable_orders
    assert not (order.is_done or order.is_failure or order.is_cancelled)
    assert f"Failed to cancel order {oid} (order not found)" in caplog.text
    assert not connector.event_log[MarketEvent.OrderCancelled] and not connector.event_log[MarketEvent.OrderFailure]


@pytest.mark.parametrize("status,code", [(401, -2015), (500, -1000), (400, -1021)])
async def test_status_errors_never_make_a_live_order_lost(connector, sim, status, code):
    """POL-04, deliberately stricter than Hummingbot: only "order does not exist" counts toward lost.
    An auth/server/clock error says nothing about the order; counting it would fail live orders
    during an outage (hummingbot#8457). POL-03: a NEW answer then leaves the order unchanged."""
    oid = await resting_buy(connector)
    no_auto_polls(connector)
    sim.faults.rest_fault_path = "/api/v3/order"
    sim.faults.rest_errors_next(20, status=status, code=code, msg="refused")
    for _ in range(6):                                     # well past lost_order_count_limit (3)
        await connector._update_order_status()
    assert connector.order_tracker.not_found_count(oid) == 0
    assert connector.in_flight_orders[oid].current_state == OrderState.OPEN
    assert not connector.event_log[MarketEvent.OrderFailure]
    sim.faults.clear()
    await connector._update_order_status()
    assert connector.in_flight_orders[oid].current_state == OrderState.OPEN
    assert [len(connector.event_log[t]) for t in (MarketEvent.OrderFilled, MarketEvent.OrderCancelled)] == [0, 0]


async def test_trade_poll_sends_start_time_after_the_first_poll(connector, sim):
    """POL-09: the account-trades poll has no startTime the first time, then one from the last poll."""
    await resting_buy(connector)               # an open order keeps the pair in every poll
    def polls():
        return [r["params"] for r in sim.request_log if r["path"] == "/api/v3/myTrades"
                and "orderId" not in r["params"]]
    await eventually(lambda: len(polls()) >= 2)
    first, later = polls()[0], polls()[1:]
    assert "startTime" not in first and first["symbol"] == "BTCUSDT"
    assert all(int(p["startTime"]) > 0 for p in later)


async def test_clock_error_twice_surfaces_after_one_resync(connector, sim):
    """NET-10: -1021 -> time resynchronised and the request retried once; a second -1021 is raised."""
    sim.faults.rest_fault_path = "/api/v3/account"
    sim.faults.rest_errors_next(2, status=400, code=-1021,
                                msg="Timestamp for this request is outside of the recvWindow.")
    n = len([r for r in sim.request_log if r["path"] == "/api/v3/account"])
    times = len([r for r in sim.request_log if r["path"] == "/api/v3/time"])
    with pytest.raises(RequestRejected) as info:
        await connector._api_get("/api/v3/account", is_auth_required=True)
    assert info.value.code == -1021
    assert len([r for r in sim.request_log if r["path"] == "/api/v3/account"]) - n >= 2
    assert len([r for r in sim.request_log if r["path"] == "/api/v3/time"]) > times


async def test_server_time_error_is_logged_not_raised(connector, sim, caplog):
    """NET-07."""
    caplog.set_level(logging.ERROR, logger="exconnect.binance.binance_exchange")
    sim.faults.rest_fault_path = "/api/v3/time"
    sim.faults.rest_errors_next(1, status=400, code=-1121, msg="Invalid symbol.")
    await connector._update_time_synchronizer()
    assert "Error getting server time." in caplog.text


async def test_market_streams_subscribed_on_connect(connector, sim):
    """OB-03: one SUBSCRIBE for trades (id 1), one for diff depth at 100 ms (id 2)."""
    frames = [json.loads(e["data"]) for e in sim.ws_log if '"SUBSCRIBE"' in e["data"]]
    assert {"method": "SUBSCRIBE", "id": 1, "params": ["btcusdt@trade"]} in frames
    assert {"method": "SUBSCRIBE", "id": 2, "params": ["btcusdt@depth@100ms"]} in frames


async def test_malformed_depth_frame_logs_and_resynchronises(connector, sim, caplog):
    """OB-07 [F bad]: a frame the parser refuses puts the book out of sync and fetches a snapshot."""
    caplog.set_level(logging.ERROR, logger="exconnect.connector.order_book_tracker")
    tracker = connector.order_book_tracker
    snapshots = tracker.snapshot_count
    tracker._on_frame(b'{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":5,"u":"oops","b":[[1]],"a":[]}')
    assert "Unexpected error when processing public order book updates" in caplog.text
    await eventually(lambda: tracker.snapshot_count > snapshots and tracker.is_in_sync(PAIR))
    sim.spot.add_liquidity("BTCUSDT", "BUY", "59999.95", "1")
    await eventually(lambda: connector.get_order_book(PAIR).get_price(False) == Decimal("59999.95"))


async def test_restored_lost_order_still_on_the_exchange_is_cancelled(sim, tmp_path):
    """PER-02 + CXL-14 across a restart: a lost order saved as FAILED is re-watched and cancelled."""
    first = make_connector(sim, tmp_path)
    await first.start(timeout=20)
    async def off(*_):
        return None
    first._cancel_lost_orders = off
    oid = await resting_buy(first)
    for _ in range(4):
        first.order_tracker.process_order_not_found(oid)
    assert oid in first.order_tracker.lost_orders
    await first.stop()
    assert [o.client_order_id for o in sim.spot.open_orders(0)] == [oid]      # left resting

    second = make_connector(sim, tmp_path)
    await second.start(timeout=20)
    try:
        await eventually(lambda: oid not in second.order_tracker.lost_orders)
        assert await second.get_open_orders() == []
        assert oid not in second.in_flight_orders                  # not adopted as a new open order
        assert not second.event_log[MarketEvent.OrderCancelled]
        assert second.store.load_tracking_states() == {}
    finally:
        await second.stop()


async def test_order_answered_429_fails_definitely_and_throttler_pauses(connector, sim):
    """429/418: Binance did not execute the request -> FAILED (no phantom order), and every
    further request waits for Retry-After."""
    sim.faults.rest_fault_path = "/api/v3/order"
    sim.faults.rest_errors_next(1, status=429, code=-1003, msg="Too many requests; current limit is 1200.")
    bid = connector.get_order_book(PAIR).get_price(False)
    oid = connector.buy(PAIR, Decimal("0.01"), OrderType.LIMIT, bid - 20)
    fail = (await connector.event_log.wait_for(MarketEvent.OrderFailure))[0]
    assert fail.order_id == oid and oid not in connector.in_flight_orders
    assert connector.throttler.blocked_for > 0
    assert not connector.throttler.within_capacity("/api/v3/ping")


async def test_418_ban_is_a_rate_limit_error_with_back_off(sim, tmp_path):
    conn = make_connector(sim, tmp_path, trading_required=False)
    try:
        sim.faults.rest_fault_path = "/api/v3/ping"
        sim.faults.rest_errors_next(1, status=418, code=-1003,
                                    msg="Way too much request weight used; IP banned until 1.")
        with pytest.raises(RateLimitedError) as info:
            await conn._api_get("/api/v3/ping")
        assert info.value.status == 418 and info.value.retry_after > 0
        assert conn.throttler.blocked_for > 0
    finally:
        await conn.stop()


async def test_user_stream_connect_failures_are_retried_until_it_connects(sim, tmp_path, caplog):
    """USR-22: the WS API cannot be reached -> logged, retried with back-off, not ready; once it
    can be reached the connector subscribes and becomes ready."""
    from exconnect.binance import BinanceExchange, BinanceUrls
    caplog.set_level(logging.ERROR, logger="exconnect.binance.binance_user_stream_data_source")
    urls = BinanceUrls(sim.spot_url, sim.spot_ws_url, "ws://127.0.0.1:1")        # nothing listens there
    conn = BinanceExchange(api_key="sim-key", api_secret="sim-secret", trading_pairs=[PAIR], urls=urls,
                           data_folder=str(tmp_path / "data"), short_poll_interval=0.2, long_poll_interval=0.5)
    try:
        await conn.start(wait_ready=False)
        def failures():
            return [r for r in caplog.records if "Unexpected error while listening to user stream" in r.getMessage()]
        await eventually(lambda: len(failures()) >= 2)
        assert not conn.ready and conn.status_dict["user_stream_initialized"] is False
        conn.user_stream_tracker.data_source._urls = BinanceUrls.from_base(sim.spot_url)
        await conn.wait_until_ready(20)
        assert conn.user_stream_tracker.data_source.subscription_count == 1
    finally:
        await conn.stop()
