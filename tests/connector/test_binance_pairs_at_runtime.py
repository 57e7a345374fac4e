"""OB-09/10/29/30: adding and removing order-book pairs while the connector runs (simulator, real sockets)."""
import logging
from decimal import Decimal

import pytest

from connector_helpers import PAIR, control_frames, eventually, make_connector

from exconnect.events import MarketEvent
from exconnect.types import OrderType

ETH = "ETH-USDT"


def market_frames(sim, since):
    """(method, params) of every SUBSCRIBE/UNSUBSCRIBE the sim received after ``since``."""
    return [(method, params) for _route, method, params in control_frames(sim, since)]


async def rest_top(connector, symbol):
    depth = await connector._api_get("/api/v3/depth", {"symbol": symbol, "limit": 5})
    return Decimal(depth["bids"][0][0]), Decimal(depth["asks"][0][0])


async def test_add_pair_subscribes_syncs_and_follows_diffs(connector, sim):
    n = len(sim.ws_log)
    assert await connector.add_trading_pair(ETH) is True
    assert market_frames(sim, n) == [("SUBSCRIBE", ["ethusdt@trade"]), ("SUBSCRIBE", ["ethusdt@depth@100ms"])]
    tracker = connector.order_book_tracker
    await eventually(lambda: tracker.is_in_sync(ETH))
    book = connector.get_order_book(ETH)
    assert (book.get_price(False), book.get_price(True)) == await rest_top(connector, "ETHUSDT")
    bid = book.get_price(False)
    sim.spot.add_liquidity("ETHUSDT", "BUY", str(bid + Decimal("0.01")), "2")
    await eventually(lambda: book.get_price(False) == bid + Decimal("0.01"))
    assert ETH in connector.trading_pairs and connector.ready
    m = len(sim.ws_log)
    assert await connector.add_trading_pair(ETH) is False            # already tracked: nothing sent
    assert await connector.remove_trading_pair(ETH) is True          # the next frame on that socket
    await eventually(lambda: market_frames(sim, m) != [])
    assert market_frames(sim, m) == [("UNSUBSCRIBE", ["ethusdt@trade", "ethusdt@depth@100ms"])]


async def test_added_pair_survives_a_reconnect(connector, sim):
    assert await connector.add_trading_pair(ETH)
    tracker = connector.order_book_tracker
    reconnects = tracker.reconnect_count
    sim.faults.drop_ws("market")
    await eventually(lambda: tracker.reconnect_count > reconnects and tracker.is_in_sync(ETH)
                     and tracker.is_in_sync(PAIR))
    book = connector.get_order_book(ETH)
    ask = book.get_price(True)
    sim.spot.add_liquidity("ETHUSDT", "SELL", str(ask - Decimal("0.01")), "1")
    await eventually(lambda: book.get_price(True) == ask - Decimal("0.01"))


async def test_remove_pair_unsubscribes_and_drops_its_book(sim, tmp_path):
    conn = make_connector(sim, tmp_path, trading_pairs=[PAIR, ETH], trading_required=False)
    await conn.start(timeout=20)
    try:
        n = len(sim.ws_log)
        assert await conn.remove_trading_pair(ETH) is True
        await eventually(lambda: market_frames(sim, n) != [])
        assert market_frames(sim, n) == [("UNSUBSCRIBE", ["ethusdt@trade", "ethusdt@depth@100ms"])]
        assert ETH not in conn.order_books and ETH not in conn.trading_pairs
        with pytest.raises(ValueError):
            conn.get_order_book(ETH)
        assert conn.ready
        m = len(sim.ws_log)
        assert await conn.remove_trading_pair(ETH) is False            # not tracked: nothing sent
        assert await conn.remove_trading_pair(PAIR) is True            # the next frame on that socket
        await eventually(lambda: market_frames(sim, m) != [])
        assert market_frames(sim, m) == [("UNSUBSCRIBE", ["btcusdt@trade", "btcusdt@depth@100ms"])]
        assert await conn.add_trading_pair(PAIR) is True
        btc = conn.get_order_book(PAIR)
        bid = btc.get_price(False)
        sim.spot.add_liquidity("BTCUSDT", "BUY", str(bid + Decimal("0.01")), "1")
        await eventually(lambda: btc.get_price(False) == bid + Decimal("0.01"))
    finally:
        await conn.stop()


async def test_add_unknown_pair_fails_and_keeps_nothing(connector, sim, caplog):
    caplog.set_level(logging.ERROR, logger="exconnect.connector.order_book_tracker")
    n = len(sim.ws_log)
    assert await connector.add_trading_pair("DOGE-USDT") is False     # depth answers -1121
    assert "DOGE-USDT" not in connector.order_books and "DOGE-USDT" not in connector.trading_pairs
    await eventually(lambda: len(market_frames(sim, n)) == 3)
    assert [m for m, _ in market_frames(sim, n)] == ["SUBSCRIBE", "SUBSCRIBE", "UNSUBSCRIBE"]
    assert any("DOGE-USDT" in r.getMessage() for r in caplog.records)
    assert connector.ready


async def test_subscribe_without_socket_is_refused(sim, tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    conn = make_connector(sim, tmp_path, trading_required=False)
    try:
        source = conn.order_book_tracker.data_source
        assert await source.subscribe_to_trading_pair(ETH) is False
        assert await source.unsubscribe_from_trading_pair(ETH) is False
        assert any("Cannot subscribe to ETH-USDT: WebSocket not connected" in r.getMessage()
                   for r in caplog.records)
    finally:
        await conn.stop()


async def test_pair_added_before_start_is_subscribed_at_connect(sim, tmp_path):
    conn = make_connector(sim, tmp_path, trading_required=False)
    try:
        assert await conn.add_trading_pair(ETH) is True
        await conn.start(timeout=20)
        assert set(conn.order_books) == {PAIR, ETH}
        book = conn.get_order_book(ETH)
        assert (book.get_price(False), book.get_price(True)) == await rest_top(conn, "ETHUSDT")
    finally:
        await conn.stop()


async def test_orders_of_a_removed_pair_are_still_tracked_to_the_end(connector, sim):
    bid = connector.get_order_book(PAIR).get_price(False)
    oid = connector.buy(PAIR, Decimal("0.01"), OrderType.LIMIT, bid + Decimal("0.01"))
    await connector.event_log.wait_for(MarketEvent.BuyOrderCreated)
    assert await connector.remove_trading_pair(PAIR)
    await connector.user_stream_tracker.stop()                     # polls only
    await sim.spot.take("BTCUSDT", "SELL", "0.01")
    done = (await connector.event_log.wait_for(MarketEvent.BuyOrderCompleted))[0]
    assert done.order_id == oid and done.base_asset_amount == Decimal("0.01")
    assert len(connector.store.fills()) == 1


async def test_refused_or_failing_subscription_changes(connector, sim):
    """OB-29/30 failure branches: subscribe refused -> False, no book; unsubscribe refused -> the
    book is dropped anyway (True); unsubscribe raising -> False and the book is kept."""
    source = connector.order_book_tracker.data_source

    async def refuse(pair):
        return False

    async def boom(pair):
        raise RuntimeError("socket write failed")

    real_subscribe, real_unsubscribe = source.subscribe_to_trading_pair, source.unsubscribe_from_trading_pair
    source.subscribe_to_trading_pair = refuse
    assert await connector.add_trading_pair(ETH) is False
    assert ETH not in connector.order_books and ETH not in connector.order_book_tracker.trading_pairs
    source.subscribe_to_trading_pair = real_subscribe
    assert await connector.add_trading_pair(ETH) is True
    source.unsubscribe_from_trading_pair = boom
    assert await connector.remove_trading_pair(ETH) is False
    assert ETH in connector.order_books
    source.unsubscribe_from_trading_pair = refuse
    assert await connector.remove_trading_pair(ETH) is True
    assert ETH not in connector.order_books and ETH not in connector.trading_pairs
    source.unsubscribe_from_trading_pair = real_unsubscribe
    assert connector.ready
