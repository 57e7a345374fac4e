"""TRK / USR / POL / BAL: fills from every channel exactly once, user stream faults, balances."""
from decimal import Decimal

from connector_helpers import PAIR, eventually

from exconnect.events import MarketEvent
from exconnect.types import OrderState, OrderType, TradeType


async def best_bid_order(connector, amount="0.03", sell=False):
    book = connector.get_order_book(PAIR)
    if sell:
        oid = connector.sell(PAIR, Decimal(amount), OrderType.LIMIT, book.get_price(True) - Decimal("0.01"))
        await connector.event_log.wait_for(MarketEvent.SellOrderCreated)
    else:
        oid = connector.buy(PAIR, Decimal(amount), OrderType.LIMIT, book.get_price(False) + Decimal("0.01"))
        await connector.event_log.wait_for(MarketEvent.BuyOrderCreated)
    return oid


def my_trades(sim, connector):
    return {f["trade_id"] for f in connector.store.fills()}


async def test_partial_fills_then_complete_with_fees(connector, sim):
    oid = await best_bid_order(connector)
    log = connector.event_log
    await sim.spot.take("BTCUSDT", "SELL", "0.01")
    first = (await log.wait_for(MarketEvent.OrderFilled))[0]
    assert first.order_id == oid and first.amount == Decimal("0.01")
    assert connector.in_flight_orders[oid].current_state == OrderState.PARTIALLY_FILLED
    assert first.trade_fee.flat_fees[0].token == "BTC" and first.trade_fee.flat_fees[0].amount > 0
    await sim.spot.take("BTCUSDT", "SELL", "0.02")
    done = (await log.wait_for(MarketEvent.BuyOrderCompleted))[0]
    assert done.base_asset_amount == Decimal("0.03") and done.base_asset == "BTC" and done.quote_asset == "USDT"
    fills = log[MarketEvent.OrderFilled]
    assert sum(f.amount for f in fills) == Decimal("0.03")
    # Completed comes after every fill of the order
    assert oid not in connector.in_flight_orders


async def test_duplicated_user_events_count_once(connector, sim):
    oid = await best_bid_order(connector, sell=True)
    sim.faults.duplicate_user_events_next(10)
    await sim.spot.take("BTCUSDT", "BUY", "0.01")
    await sim.spot.take("BTCUSDT", "BUY", "0.02")
    await connector.event_log.wait_for(MarketEvent.SellOrderCompleted)
    fills = connector.event_log[MarketEvent.OrderFilled]
    assert len(fills) == len({f.exchange_trade_id for f in fills})
    assert sum(f.amount for f in fills) == Decimal("0.03")
    assert len(connector.event_log[MarketEvent.SellOrderCompleted]) == 1


async def test_reordered_user_events_still_complete_exactly(connector, sim):
    oid = await best_bid_order(connector)
    sim.faults.reorder_user_events_next(3)
    await sim.spot.take("BTCUSDT", "SELL", "0.01")
    await sim.spot.take("BTCUSDT", "SELL", "0.02")
    done = (await connector.event_log.wait_for(MarketEvent.BuyOrderCompleted))[0]
    assert done.order_id == oid and done.base_asset_amount == Decimal("0.03")
    assert sum(f.amount for f in connector.event_log[MarketEvent.OrderFilled]) == Decimal("0.03")


async def test_fill_during_user_stream_outage_recovered(connector, sim):
    oid = await best_bid_order(connector)
    await connector.user_stream_tracker.stop()           # stream down: no executionReport
    await sim.spot.take("BTCUSDT", "SELL", "0.01")
    filled = (await connector.event_log.wait_for(MarketEvent.OrderFilled))[0]   # found by polling
    assert filled.order_id == oid and filled.amount == Decimal("0.01")
    connector.user_stream_tracker.start()
    await sim.spot.take("BTCUSDT", "SELL", "0.02")
    await connector.event_log.wait_for(MarketEvent.BuyOrderCompleted)
    assert sum(f.amount for f in connector.event_log[MarketEvent.OrderFilled]) == Decimal("0.03")


async def test_user_stream_reconnects_after_drop(connector, sim):
    ds = connector.user_stream_tracker.data_source
    subs = ds.subscription_count
    sim.faults.drop_ws("api")
    await eventually(lambda: ds.subscription_count > subs)
    oid = await best_bid_order(connector)
    await sim.spot.take("BTCUSDT", "SELL", "0.03")
    done = (await connector.event_log.wait_for(MarketEvent.BuyOrderCompleted))[0]
    assert done.order_id == oid


async def test_every_fill_in_store_matches_exchange_trades(connector, sim):
    a = await best_bid_order(connector, "0.02")
    await sim.spot.take("BTCUSDT", "SELL", "0.015")
    connector.buy(PAIR, Decimal("0.2"), OrderType.MARKET)      # takes asks (several trades)
    await connector.event_log.wait_for(MarketEvent.BuyOrderCompleted)
    await sim.spot.take("BTCUSDT", "SELL", "0.005")
    await connector.event_log.wait_for(MarketEvent.BuyOrderCompleted, 2)
    rows = await connector._api_get("/api/v3/myTrades", {"symbol": "BTCUSDT"}, is_auth_required=True)
    exchange = sorted((str(r["id"]), Decimal(r["qty"])) for r in rows)
    local = sorted((f["trade_id"], Decimal(f["amount"])) for f in connector.store.fills())
    assert local == exchange


async def test_balances_from_account_and_stream(connector, sim):
    free_usdt, locked_usdt = (Decimal(x) for x in sim.spot.balances()["USDT"])
    assert connector.get_balance("USDT") == free_usdt + locked_usdt
    assert connector.get_available_balance("BTC") == Decimal(sim.spot.balances()["BTC"][0])
    oid = await best_bid_order(connector, "0.01")
    # outboundAccountPosition after the order locks quote
    await eventually(lambda: connector.get_available_balance("USDT") < free_usdt)
    assert connector.get_balance("USDT") == free_usdt
    locked = connector.in_flight_asset_balances()
    assert locked["USDT"] == connector.in_flight_orders[oid].price * Decimal("0.01")


async def test_asset_missing_from_a_later_account_answer_is_dropped(connector, sim):
    """BAL-01: the balance maps are replaced by each account answer — an asset the exchange no
    longer lists disappears from both, the others are unchanged."""
    assert connector.get_balance("ETH") == Decimal("1000") and connector.get_available_balance("ETH") == Decimal("1000")
    btc = connector.get_balance("BTC")
    acct = sim.spot.account(0)
    del acct.free["ETH"], acct.locked["ETH"]                 # the venue stops listing ETH
    await connector._update_balances()
    assert "ETH" not in connector.get_all_balances() and "ETH" not in connector._account_available_balances
    assert connector.get_balance("BTC") == btc


async def test_get_open_orders_and_limit_orders(connector, sim):
    oid = await best_bid_order(connector, "0.01")
    opens = await connector.get_open_orders()
    assert [o.client_order_id for o in opens] == [oid]
    o = opens[0]
    assert o.is_buy and o.amount == Decimal("0.01") and o.executed_amount == 0 and o.order_type == OrderType.LIMIT
    lo = connector.limit_orders
    assert len(lo) == 1 and lo[0].client_order_id == oid and lo[0].quantity == Decimal("0.01")
    assert oid in connector.tracking_states


async def test_stream_reports_before_the_order_answer_are_not_double_counted(connector, sim):
    sim.faults.rest_fault_path = "/api/v3/order"
    sim.faults.rest_delay_ms = 300                       # executionReports overtake the REST answer
    ask = connector.get_order_book(PAIR).get_price(True)
    oid = connector.buy(PAIR, Decimal("0.2"), OrderType.LIMIT, ask + Decimal("5"))
    done = (await connector.event_log.wait_for(MarketEvent.BuyOrderCompleted))[0]
    assert done.order_id == oid and done.base_asset_amount == Decimal("0.2")
    await eventually(lambda: oid not in connector._orders_being_placed)
    fills = connector.event_log[MarketEvent.OrderFilled]
    assert sum(f.amount for f in fills) == Decimal("0.2") and len(connector.store.fills()) == len(fills)
    assert len(connector.event_log[MarketEvent.BuyOrderCreated]) == 1
    assert len(connector.event_log[MarketEvent.BuyOrderCompleted]) == 1


async def test_malformed_user_events_are_logged_and_skipped(connector, sim, caplog):
    queue = connector.user_stream_tracker.user_stream
    queue.put_nowait("not a dict")
    queue.put_nowait({"e": "executionReport"})           # missing fields
    oid = await best_bid_order(connector, "0.01")
    await sim.spot.take("BTCUSDT", "SELL", "0.01")
    done = (await connector.event_log.wait_for(MarketEvent.BuyOrderCompleted))[0]
    assert done.order_id == oid
    assert "Unexpected error in user stream listener loop." in caplog.text


async def test_cancel_report_matched_by_original_client_id(connector, sim):
    oid = await best_bid_order(connector, "0.01")
    # the exchange's cancel report carries the cancel's own id in c and ours in C
    connector._process_execution_report({
        "e": "executionReport", "E": 1, "s": "BTCUSDT", "c": "cancel-id-123", "C": oid, "x": "CANCELED",
        "X": "CANCELED", "i": int(connector.in_flight_orders[oid].exchange_order_id), "z": "0", "l": "0",
        "L": "0", "n": "0", "N": None, "T": 1, "t": -1})
    ev = connector.event_log[MarketEvent.OrderCancelled]
    assert [e.order_id for e in ev] == [oid]


async def test_rejected_report_fails_order(connector, sim):
    oid = await best_bid_order(connector, "0.01")
    connector._process_execution_report({
        "e": "executionReport", "E": 1, "s": "BTCUSDT", "c": oid, "C": "", "x": "REJECTED", "X": "REJECTED",
        "i": int(connector.in_flight_orders[oid].exchange_order_id), "z": "0", "l": "0", "L": "0", "n": "0",
        "N": None, "T": 1, "t": -1})
    fail = connector.event_log[MarketEvent.OrderFailure]
    assert [f.order_id for f in fail] == [oid] and oid not in connector.in_flight_orders


async def test_public_trades_forwarded_as_trade_events(connector, sim):
    from exconnect.events import OrderBookEvent
    trades = []
    connector.add_listener(OrderBookEvent.TradeEvent, trades.append)
    await sim.spot.take("BTCUSDT", "BUY", "0.001")
    await eventually(lambda: trades)
    assert trades[0].trading_pair == PAIR and trades[0].type == TradeType.BUY and trades[0].amount > 0


async def test_external_cancel_seen_by_polling_when_stream_is_down(connector, sim):
    bid = connector.get_order_book(PAIR).get_price(False)
    oid = connector.buy(PAIR, Decimal("0.01"), OrderType.LIMIT, bid - Decimal("80"))
    await connector.event_log.wait_for(MarketEvent.BuyOrderCreated)
    await connector.user_stream_tracker.stop()
    # someone else (another client with the same key) cancels it on the exchange
    await connector._api_delete("/api/v3/order", {"symbol": "BTCUSDT", "origClientOrderId": oid},
                                is_auth_required=True)
    ev = (await connector.event_log.wait_for(MarketEvent.OrderCancelled))[0]
    assert ev.order_id == oid and oid not in connector.in_flight_orders


async def test_market_order_below_min_notional_at_book_price_not_sent(connector, sim):
    n = len([r for r in sim.request_log if r["path"] == "/api/v3/order"])
    oid = connector.buy(PAIR, Decimal("0.00002"), OrderType.MARKET)     # ~1.2 USDT < 5 min notional
    fail = (await connector.event_log.wait_for(MarketEvent.OrderFailure))[0]
    assert fail.order_id == oid and "notional" in fail.error_message.lower()
    assert len([r for r in sim.request_log if r["path"] == "/api/v3/order"]) == n


async def test_rejected_report_of_unacked_order_fails_without_created_event(connector, sim):
    from exconnect.types import OrderState as S
    bid = connector.get_order_book(PAIR).get_price(False)
    sim.faults.rest_fault_path = "/api/v3/order"
    sim.faults.rest_timeouts_next(1)
    connector._rest.timeout = 5
    oid = connector.buy(PAIR, Decimal("0.01"), OrderType.LIMIT, bid - Decimal("90"))
    assert connector.in_flight_orders[oid].current_state == S.PENDING_CREATE
    connector._process_execution_report({
        "e": "executionReport", "E": 1, "s": "BTCUSDT", "c": oid, "C": "", "x": "REJECTED", "X": "REJECTED",
        "i": 999999, "z": "0", "l": "0", "L": "0", "n": "0", "N": None, "T": 1, "t": -1})
    assert [f.order_id for f in connector.event_log[MarketEvent.OrderFailure]] == [oid]
    assert not connector.event_log[MarketEvent.BuyOrderCreated]


async def test_process_messages_accept_rest_shapes(connector, sim):
    oid = await best_bid_order(connector, "0.01")
    connector.SHORT_POLL_INTERVAL = connector.LONG_POLL_INTERVAL = 10_000    # no polling meanwhile
    await connector.user_stream_tracker.stop()
    connector._poll_notifier.clear()
    await sim.spot.take("BTCUSDT", "SELL", "0.01")
    order = connector.in_flight_orders[oid]
    assert order.executed_amount_base == 0
    rows = await connector._api_get("/api/v3/myTrades", {"symbol": "BTCUSDT", "orderId": order.exchange_order_id},
                                    is_auth_required=True)
    for row in rows:
        connector._process_trade_message(row)
    status = await connector._api_get("/api/v3/order", {"symbol": "BTCUSDT", "origClientOrderId": oid},
                                      is_auth_required=True)
    connector._process_order_message(status)
    done = connector.event_log[MarketEvent.BuyOrderCompleted]
    assert [d.order_id for d in done] == [oid]
    assert len(connector.event_log[MarketEvent.OrderFilled]) == len(rows)
