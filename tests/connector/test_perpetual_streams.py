"""OB / USR / POL for futures: pu-chain gaps resynchronise, listenKey keepalive and expiry (a new
key, not the dead one), socket drops, fills during an outage found by polling, duplicated and
reordered user events counted once."""
import asyncio
from decimal import Decimal

from perpetual_fixtures import PAIR, SYMBOL, best, eventually, make_perpetual, perp, perp_sim  # noqa: F401

from exconnect.events import MarketEvent
from exconnect.types import OrderType


async def resting_buy(conn, amount="0.03"):
    oid = conn.buy(PAIR, Decimal(amount), OrderType.LIMIT, best(conn, False) + Decimal("0.1"))
    await conn.event_log.wait_for(MarketEvent.BuyOrderCreated)
    return oid


def price_atoms(text):
    return int(Decimal(text) * 10 ** 8)


def sim_book_top(sim):
    book = sim.futures.engine.book(SYMBOL)
    return book.best_bid()[0], book.best_ask()[0]


def top_levels(sim, n=50):
    bids, asks = sim.futures.engine.book(SYMBOL).depth(n)
    return ([(Decimal(p) / 10 ** 8, Decimal(q) / 10 ** 8) for p, q in bids],
            [(Decimal(p) / 10 ** 8, Decimal(q) / 10 ** 8) for p, q in asks])


def local_levels(book, n=50):
    return ([(r.price, r.amount) for r in list(book.bid_entries())[:n]],
            [(r.price, r.amount) for r in list(book.ask_entries())[:n]])


async def test_pu_gap_resynchronises_book(perp, perp_sim):
    tracker = perp.order_book_tracker
    book = perp.get_order_book(PAIR)
    # settle the book on the live stream first
    perp_sim.futures.external_order(SYMBOL, True, price_atoms("59990"), 10 ** 6)
    await eventually(lambda: tracker.is_in_sync(PAIR) and local_levels(book) == top_levels(perp_sim))
    gaps, snapshots = tracker.gap_count, tracker.snapshot_count
    perp_sim.faults.depth_gap(SYMBOL)
    perp_sim.futures.external_order(SYMBOL, True, price_atoms("59991"), 10 ** 6)   # this batch is lost
    await eventually(lambda: perp_sim.futures.market._gaps == set())
    perp_sim.futures.external_order(SYMBOL, True, price_atoms("59992"), 10 ** 6)   # pu != previous u
    await eventually(lambda: tracker.gap_count > gaps)
    # resynchronised from a new snapshot: the lost change is back and the book equals the exchange's
    await eventually(lambda: tracker.snapshot_count > snapshots and tracker.is_in_sync(PAIR)
                     and local_levels(book) == top_levels(perp_sim))


async def test_tracker_metrics_count_futures_diffs_gaps_and_feed_latency(perp, perp_sim):
    """OB-31 on futures: the same metrics() export as spot, fed by pu-chained frames."""
    tracker = perp.order_book_tracker
    before = tracker.metrics()["pairs"][PAIR]
    assert before["snapshots"] >= 1
    def publish():                          # timer steps up to the slowest depth interval: one frame
        for _ in range(10):
            perp_sim.futures.market.tick()
    for i in range(130):                                     # 130 book changes, one frame each
        perp_sim.futures.external_order(SYMBOL, True, price_atoms("59000") - i * 10 ** 7, 10 ** 6)
        publish()
    await eventually(lambda: tracker.metrics()["pairs"][PAIR]["diffs_processed"]
                     >= before["diffs_processed"] + 130)
    perp_sim.faults.depth_gap(SYMBOL)
    perp_sim.futures.external_order(SYMBOL, True, price_atoms("58000"), 10 ** 6)   # lost
    publish()
    perp_sim.futures.external_order(SYMBOL, True, price_atoms("58001"), 10 ** 6)   # pu != previous u
    publish()
    await eventually(lambda: tracker.metrics()["pairs"][PAIR]["diffs_rejected_gap"] > before["diffs_rejected_gap"])
    await eventually(lambda: tracker.metrics()["pairs"][PAIR]["snapshots"] > before["snapshots"])
    m = tracker.metrics()
    assert m["latency"]["samples"] >= 1                      # futures frames carry E too
    assert m["latency"]["min_ms"] <= m["latency"]["mean_ms"] <= m["latency"]["max_ms"]
    assert m["global"]["diffs_processed"] == tracker.diff_count


async def test_market_stream_drop_reconnects_and_resyncs(perp, perp_sim):
    ds = perp.order_book_tracker.data_source
    subs = ds.subscription_count
    perp_sim.faults.drop_ws("market")
    await eventually(lambda: ds.subscription_count > subs and perp.order_book_tracker.is_in_sync(PAIR))


async def test_listen_key_keepalive_sent(perp_sim, tmp_path):
    conn = make_perpetual(perp_sim, tmp_path, listen_key_keepalive_interval=0.1)
    await conn.start(timeout=20)
    try:
        ds = conn.user_stream_tracker.data_source
        await eventually(lambda: ds.keepalive_count >= 2)
        puts = [e for e in perp_sim.request_log if e["method"] == "PUT" and e["path"] == "/fapi/v1/listenKey"]
        assert len(puts) >= 2 and all(e["api_key"] == "sim-key" for e in puts)
    finally:
        await conn.stop()


async def test_listen_key_expired_reconnects_with_new_key(perp, perp_sim):
    ds = perp.user_stream_tracker.data_source
    old_key, subs = ds.listen_key, ds.subscription_count
    perp_sim.futures.users.expire_listen_key(old_key)
    await eventually(lambda: ds.subscription_count > subs)
    assert ds.listen_key != old_key
    # the new stream delivers: a fill arrives through it
    oid = await resting_buy(perp)
    await perp_sim.futures.take(SYMBOL, "SELL", "0.03")
    done = (await perp.event_log.wait_for(MarketEvent.BuyOrderCompleted))[0]
    assert done.order_id == oid


async def test_keepalive_refused_leads_to_new_key(perp_sim, tmp_path):
    conn = make_perpetual(perp_sim, tmp_path, listen_key_keepalive_interval=0.1)
    await conn.start(timeout=20)
    try:
        ds = conn.user_stream_tracker.data_source
        old_key, subs = ds.listen_key, ds.subscription_count
        perp_sim.futures.users.listen_keys.pop(old_key)        # gone on the exchange, silently
        await eventually(lambda: ds.subscription_count > subs)
        assert ds.listen_key != old_key
    finally:
        await conn.stop()


async def test_user_stream_drop_reconnects(perp, perp_sim):
    ds = perp.user_stream_tracker.data_source
    subs = ds.subscription_count
    perp_sim.faults.drop_ws("user")
    await eventually(lambda: ds.subscription_count > subs)


async def test_fill_during_user_stream_outage_recovered_by_polling(perp, perp_sim):
    oid = await resting_buy(perp)
    await perp.user_stream_tracker.stop()
    await perp_sim.futures.take(SYMBOL, "SELL", "0.01")
    filled = (await perp.event_log.wait_for(MarketEvent.OrderFilled))[0]
    assert filled.order_id == oid and filled.amount == Decimal("0.01")
    await eventually(lambda: PAIR in perp.account_positions)          # positionRisk poll
    assert perp.account_positions[PAIR].amount == Decimal("0.01")
    perp.user_stream_tracker.start()
    await perp_sim.futures.take(SYMBOL, "SELL", "0.02")
    await perp.event_log.wait_for(MarketEvent.BuyOrderCompleted)
    assert sum(f.amount for f in perp.event_log[MarketEvent.OrderFilled]) == Decimal("0.03")


async def test_duplicated_and_reordered_user_events_count_once(perp, perp_sim):
    oid = await resting_buy(perp)
    perp_sim.faults.duplicate_user_events_next(6)
    await perp_sim.futures.take(SYMBOL, "SELL", "0.01")
    perp_sim.faults.reorder_user_events_next(3)
    await perp_sim.futures.take(SYMBOL, "SELL", "0.02")
    done = (await perp.event_log.wait_for(MarketEvent.BuyOrderCompleted))[0]
    fills = perp.event_log[MarketEvent.OrderFilled]
    assert done.order_id == oid and sum(f.amount for f in fills) == Decimal("0.03")
    assert len(fills) == len({f.exchange_trade_id for f in fills})
    assert len(perp.event_log[MarketEvent.BuyOrderCompleted]) == 1


async def test_balances_wallet_and_available(perp, perp_sim):
    total, available = perp.get_balance("USDT"), perp.get_available_balance("USDT")
    assert total == Decimal("1000000") and available == total
    await resting_buy(perp, "0.01")
    await perp._update_balances()
    # an open order takes initial margin: available drops, the wallet does not
    assert perp.get_balance("USDT") == total and perp.get_available_balance("USDT") < available


async def test_listen_key_creation_failure_retried(perp_sim, tmp_path):
    perp_sim.faults.rest_fault_path = "/fapi/v1/listenKey"
    perp_sim.faults.rest_errors_next(2, status=500)
    conn = make_perpetual(perp_sim, tmp_path)
    await conn.start(timeout=20)
    try:
        ds = conn.user_stream_tracker.data_source
        assert ds.subscription_count == 1 and ds.listen_key
        posts = [e for e in perp_sim.request_log if e["method"] == "POST" and e["path"] == "/fapi/v1/listenKey"]
        assert len(posts) == 3
    finally:
        await conn.stop()


async def test_leverage_changed_elsewhere_followed_from_account_config_update(perp, perp_sim):
    from exconnect.binance_perpetual import binance_perpetual_constants as CONSTANTS
    # another client of the same account changes leverage: the exchange tells us on the user stream
    await perp._api_post(CONSTANTS.LEVERAGE_PATH, {"symbol": SYMBOL, "leverage": 17}, is_auth_required=True)
    await eventually(lambda: perp.get_leverage(PAIR) == 17)


async def test_margin_call_updates_position(perp, perp_sim):
    from perpetual_fixtures import open_position
    await open_position(perp, perp_sim, side="BUY", amount="0.01")
    await eventually(lambda: PAIR in perp.account_positions)
    # MARGIN_CALL is not produced by the simulator: the exchange's payload, through the listener's queue
    event = {"e": "MARGIN_CALL", "E": 1, "cw": "3.16812045",
             "p": [{"s": SYMBOL, "ps": "BOTH", "pa": "0.01", "mt": "CROSSED", "iw": "0", "mp": "59000",
                    "up": "-10.5", "mm": "1.6"}]}
    seen = perp._position_events
    perp.user_stream_tracker.user_stream.put_nowait(event)
    await eventually(lambda: perp._position_events > seen)
    # and synchronously (a positionRisk poll may already have refreshed the position above)
    perp._process_margin_call(event)
    assert perp.account_positions[PAIR].unrealized_pnl == Decimal("-10.5")
    assert perp.account_positions[PAIR].amount == Decimal("0.01")


async def test_public_trades_forwarded_from_agg_trade_stream(perp, perp_sim):
    from exconnect.events import OrderBookEvent
    from exconnect.types import TradeType
    trades = []
    perp.add_listener(OrderBookEvent.TradeEvent, trades.append)
    fills = await perp_sim.futures.take(SYMBOL, "BUY", "0.004")
    await eventually(lambda: trades)
    t = trades[0]
    assert t.trading_pair == PAIR and t.type == TradeType.BUY
    assert len(fills) == 1 and t.amount == Decimal("0.004") and t.price == Decimal(fills[0]["price"])


async def test_snapshot_failures_retried_at_start(perp_sim, tmp_path):
    perp_sim.faults.rest_fault_path = "/fapi/v1/depth"
    perp_sim.faults.rest_errors_next(2, status=500)
    conn = make_perpetual(perp_sim, tmp_path)
    await conn.start(timeout=20)
    try:
        assert conn.order_book_tracker.is_in_sync(PAIR)
        assert len([e for e in perp_sim.request_log if e["path"] == "/fapi/v1/depth"]) >= 3
    finally:
        await conn.stop()


async def exchange_account(conn):
    answer = await conn._api_get("/fapi/v2/account", is_auth_required=True)
    usdt = next(a for a in answer["assets"] if a["asset"] == "USDT")
    return Decimal(usdt["walletBalance"]), Decimal(usdt["availableBalance"])


async def test_available_balance_refreshed_after_account_update(perp_sim, tmp_path):
    # polls far apart: only the refresh that follows the account/order events can bring the new
    # available margin; it must end equal to the exchange's (fee paid, position margin held)
    conn = make_perpetual(perp_sim, tmp_path, short_poll_interval=600, long_poll_interval=600)
    await conn.start(timeout=20)
    try:
        from perpetual_fixtures import open_position
        before = conn.get_available_balance("USDT")
        await open_position(conn, perp_sim, side="SELL", amount="0.01")
        wallet, available = await exchange_account(conn)
        assert available < wallet < before            # margin held by the short, fee paid
        await eventually(lambda: conn.get_available_balance("USDT") == available)
        assert conn.get_balance("USDT") == wallet
        # a resting order holds margin too (no ACCOUNT_UPDATE for it: the order event asks)
        conn.buy(PAIR, Decimal("0.02"), price=best(conn, False) - Decimal("300"))
        await conn.event_log.wait_for(MarketEvent.BuyOrderCreated)
        _, with_order = await exchange_account(conn)
        assert with_order < available
        await eventually(lambda: conn.get_available_balance("USDT") == with_order)
    finally:
        await conn.stop()


async def test_account_refresher_coalesces_requests():
    from exconnect.binance_perpetual.account_refresh import AccountRefresher
    gate, calls = asyncio.Event(), []

    async def refresh():
        calls.append(len(calls))
        await gate.wait()

    spawn = asyncio.get_running_loop().create_task
    r = AccountRefresher(refresh, spawn, settle_delay=0, min_interval=0)
    for _ in range(5):
        r.request()                       # a burst: one refresh
    await eventually(lambda: len(calls) == 1)
    for _ in range(5):
        r.request()                       # while it runs: exactly one more, started after them
    gate.set()
    await eventually(lambda: r._task.done())
    assert len(calls) == 2 and r.refresh_count == 2


def test_production_urls_use_routed_streams():
    from exconnect.binance_perpetual.binance_perpetual_constants import BinancePerpetualUrls
    urls = BinancePerpetualUrls.production()
    assert urls.rest_url("/fapi/v1/ping") == "https://fapi.binance.com/fapi/v1/ping"
    assert urls.public_stream_url == "wss://fstream.binance.com/public/ws"
    assert urls.market_stream_url == "wss://fstream.binance.com/market/ws"
    assert urls.user_stream_url("K") == "wss://fstream.binance.com/private/ws?listenKey=K"


async def test_streams_subscribed_on_their_routes(perp, perp_sim):
    # unrouted sockets carry only /public data on production since 2026-04-23: every stream on its route
    by_path = {}
    for conn in perp_sim.futures.hub.connections:
        by_path.setdefault(conn.request.path, set()).update(conn.streams)
    assert by_path["/public/ws"] == {"btcusdt@depth@100ms"}
    assert by_path["/market/ws"] == {"btcusdt@aggTrade", "btcusdt@markPrice@1s"}
    assert set(by_path) == {"/public/ws", "/market/ws", "/private/ws"}


async def test_order_cancelled_elsewhere_seen_on_the_stream_once(perp, perp_sim):
    # USR-07: another client cancels our order; only the ORDER_TRADE_UPDATE X=CANCELED tells us
    from exconnect.binance_perpetual import binance_perpetual_constants as CONSTANTS
    oid = await resting_buy(perp)
    await perp._api_delete(CONSTANTS.ORDER_PATH, {"symbol": SYMBOL, "origClientOrderId": oid}, is_auth_required=True)
    cancelled = (await perp.event_log.wait_for(MarketEvent.OrderCancelled))[0]
    assert cancelled.order_id == oid and oid not in perp.in_flight_orders
    await perp._status_polling_once()
    assert len(perp.event_log[MarketEvent.OrderCancelled]) == 1
