"""Perpetual pair list: NET-21/23/24 (all_trading_pairs, get_last_traded_prices) and OB-23/29/30
(pairs added / removed at runtime on the routed sockets: depth on /public, aggTrade + markPrice on
/market; book and funding info appear and disappear), over real sockets against the simulator."""
import asyncio
import logging
from decimal import Decimal

import pytest

from connector_helpers import control_frames
from perpetual_fixtures import PAIR, SYMBOL, best, eventually, make_perpetual, perp, perp_sim  # noqa: F401

from exconnect.events import MarketEvent
from exconnect.sim import SimConfig, Simulator
from exconnect.types import OrderType

ETH = "ETH-USDT"


def subscriptions(sim):
    by_path = {}
    for conn in sim.futures.hub.connections:
        by_path.setdefault(conn.request.path, set()).update(conn.streams)
    return by_path


# ---------------------------------------------------------------------------- NET-21/23/24
async def test_all_trading_pairs_lists_tradable_perpetuals_only(tmp_path):
    cfg = SimConfig.default(seed=7, market_activity=False)
    extra = [dict(symbol="SOLUSDT", base_asset="SOL", quote_asset="USDT", initial_price="150",
                  step_size="0.01", min_qty="0.01", options={"contract_type": "CURRENT_QUARTER"}),
             dict(symbol="XRPUSDT", base_asset="XRP", quote_asset="USDT", initial_price="1",
                  tick_size="0.0001", step_size="1", min_qty="1", min_price="0.0001",
                  options={"status": "SETTLING"})]
    cfg = SimConfig.default(seed=7, market_activity=False, futures_symbols=[*cfg.futures_symbols, *extra])
    async with Simulator(cfg) as sim:
        conn = make_perpetual(sim, tmp_path, trading_required=False)
        try:
            assert sorted(await conn.all_trading_pairs()) == ["BTC-USDT", "ETH-USDT"]
        finally:
            await conn.stop()


async def test_all_trading_pairs_empty_on_failure(perp_sim, tmp_path):
    conn = make_perpetual(perp_sim, tmp_path, trading_required=False)
    try:
        perp_sim.faults.rest_fault_path = "/fapi/v1/exchangeInfo"
        perp_sim.faults.rest_errors_next(1, status=500)
        assert await conn.all_trading_pairs() == []
        assert sorted(await conn.all_trading_pairs()) == ["BTC-USDT", "ETH-USDT"]
    finally:
        await conn.stop()


async def test_last_traded_prices_from_futures_tickers(perp, perp_sim):
    # a trade on each pair: an external taker; the ticker's lastPrice is that trade's price
    prices = {}
    for pair, symbol in ((PAIR, SYMBOL), (ETH, "ETHUSDT")):
        fills = await perp_sim.futures.take(symbol, "BUY", "0.001")
        prices[pair] = Decimal(fills[-1]["price"])
    assert prices[PAIR] != prices[ETH]
    got = await perp.get_last_traded_prices([PAIR, ETH])
    assert got == prices
    futures_paths = {e["path"] for e in perp_sim.request_log if "ticker" in e["path"]}
    assert futures_paths == {"/fapi/v1/ticker/24hr"}


# ---------------------------------------------------------------------------- OB-23/29/30
async def test_add_pair_subscribes_on_both_routes_and_brings_book_and_funding_info(perp, perp_sim, caplog):
    caplog.set_level(logging.INFO)
    n = len(perp_sim.ws_log)
    assert await perp.add_trading_pair(ETH) is True
    await eventually(lambda: len(control_frames(perp_sim, n)) == 3)
    assert control_frames(perp_sim, n) == [
        ("/public/ws", "SUBSCRIBE", ["ethusdt@depth@100ms"]),
        ("/market/ws", "SUBSCRIBE", ["ethusdt@aggTrade"]),
        ("/market/ws", "SUBSCRIBE", ["ethusdt@markPrice@1s"])]
    assert "Subscribed to ETH-USDT order book, trade and funding info channels" in caplog.text
    tracker = perp.order_book_tracker
    await eventually(lambda: tracker.is_in_sync(ETH))
    book = perp.get_order_book(ETH)
    bid = book.get_price(False)
    perp_sim.futures.add_liquidity("ETHUSDT", "BUY", str(bid + Decimal("0.01")), "1")
    await eventually(lambda: book.get_price(False) == bid + Decimal("0.01"))
    info = perp.get_funding_info(ETH)                # read at once from premiumIndex
    assert info.trading_pair == ETH and info.mark_price > 0
    assert perp.status_dict["funding_info"] and perp.ready and ETH in perp.trading_pairs
    subs = subscriptions(perp_sim)
    assert "ethusdt@depth@100ms" in subs["/public/ws"]
    assert {"ethusdt@aggTrade", "ethusdt@markPrice@1s"} <= subs["/market/ws"]
    m = len(perp_sim.ws_log)
    assert await perp.add_trading_pair(ETH) is False            # already tracked: nothing sent
    assert control_frames(perp_sim, m) == []


async def test_remove_pair_unsubscribes_on_both_routes_and_drops_book_and_funding_info(perp_sim, tmp_path,
                                                                                        caplog):
    caplog.set_level(logging.INFO)
    conn = make_perpetual(perp_sim, tmp_path, trading_pairs=[PAIR, ETH], trading_required=False)
    await conn.start(timeout=20)
    try:
        assert conn.get_funding_info(ETH).trading_pair == ETH
        n = len(perp_sim.ws_log)
        assert await conn.remove_trading_pair(ETH) is True
        await eventually(lambda: len(control_frames(perp_sim, n)) == 2)
        assert control_frames(perp_sim, n) == [
            ("/public/ws", "UNSUBSCRIBE", ["ethusdt@depth@100ms"]),
            ("/market/ws", "UNSUBSCRIBE", ["ethusdt@aggTrade", "ethusdt@markPrice@1s"])]
        assert "Unsubscribed from ETH-USDT order book, trade and funding info channels" in caplog.text
        assert ETH not in conn.order_books and ETH not in conn.trading_pairs
        with pytest.raises(ValueError):
            conn.get_order_book(ETH)
        assert ETH not in conn._funding_info
        with pytest.raises(KeyError):
            conn.get_funding_info(ETH)
        await eventually(lambda: not any("ethusdt" in s for streams in subscriptions(perp_sim).values()
                                         for s in streams))
        # markPrice ticks keep coming for the other pair; none brings ETH's funding info back
        seen = len(conn.event_log[MarketEvent.FundingInfo])
        await conn.event_log.wait_for(MarketEvent.FundingInfo, seen + 2)
        assert {e.trading_pair for e in conn.event_log[MarketEvent.FundingInfo][seen:]} == {PAIR}
        assert ETH not in conn._funding_info and conn.status_dict["funding_info"] and conn.ready
        m = len(perp_sim.ws_log)
        assert await conn.remove_trading_pair(ETH) is False     # not tracked: nothing sent
        assert control_frames(perp_sim, m) == []
        assert await conn.add_trading_pair(ETH) is True          # and back
        await eventually(lambda: conn.order_book_tracker.is_in_sync(ETH) and ETH in conn._funding_info)
    finally:
        await conn.stop()


async def test_added_pair_survives_a_reconnect_of_both_routes(perp, perp_sim):
    assert await perp.add_trading_pair(ETH)
    source = perp.order_book_tracker.data_source
    subs = source.subscription_count
    perp_sim.faults.drop_ws("market")
    await eventually(lambda: source.subscription_count >= subs + 2 and perp.order_book_tracker.is_in_sync(ETH))
    await eventually(lambda: {"ethusdt@aggTrade", "ethusdt@markPrice@1s"} <= subscriptions(perp_sim).get(
        "/market/ws", set()) and "ethusdt@depth@100ms" in subscriptions(perp_sim).get("/public/ws", set()))
    book = perp.get_order_book(ETH)
    ask = book.get_price(True)
    perp_sim.futures.add_liquidity("ETHUSDT", "SELL", str(ask - Decimal("0.01")), "1")
    await eventually(lambda: book.get_price(True) == ask - Decimal("0.01"))


async def test_subscribe_without_sockets_is_refused(perp_sim, tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    conn = make_perpetual(perp_sim, tmp_path, trading_required=False)
    try:
        source = conn.order_book_tracker.data_source
        assert source._market_ws is None and source._public_ws is None      # before connecting
        assert await source.subscribe_to_trading_pair(ETH) is False
        assert await source.unsubscribe_from_trading_pair(ETH) is False
        assert "Cannot subscribe to ETH-USDT" in caplog.text and "Cannot unsubscribe from ETH-USDT" in caplog.text
    finally:
        await conn.stop()


async def test_subscribe_with_one_socket_missing_is_refused(perp, caplog):
    caplog.set_level(logging.WARNING)
    source = perp.order_book_tracker.data_source
    market, source._market_ws = source._market_ws, None
    try:
        assert await source.subscribe_to_trading_pair(ETH) is False
        assert await source.unsubscribe_from_trading_pair(PAIR) is False
    finally:
        source._market_ws = market
    assert "Cannot subscribe to ETH-USDT" in caplog.text


class _BrokenSocket:
    closed = False

    def __init__(self, exc):
        self.exc = exc

    async def send_str(self, data):
        raise self.exc


async def test_send_errors_and_cancellation(perp, caplog):
    caplog.set_level(logging.ERROR)
    source = perp.order_book_tracker.data_source
    public = source._public_ws
    try:
        source._public_ws = _BrokenSocket(RuntimeError("write failed"))
        assert await source.subscribe_to_trading_pair(ETH) is False
        assert "Error subscribing to ETH-USDT" in caplog.text
        assert "ETHUSDT" not in source._symbol_to_pair
        assert await source.unsubscribe_from_trading_pair(PAIR) is False
        assert "Error unsubscribing from BTC-USDT" in caplog.text
        source._public_ws = _BrokenSocket(asyncio.CancelledError())
        with pytest.raises(asyncio.CancelledError):
            await source.subscribe_to_trading_pair(ETH)
        with pytest.raises(asyncio.CancelledError):
            await source.unsubscribe_from_trading_pair(PAIR)
    finally:
        source._public_ws = public


async def test_refused_subscription_keeps_nothing(perp):
    source = perp.order_book_tracker.data_source

    async def refuse(pair):
        return False

    real = source.subscribe_to_trading_pair
    source.subscribe_to_trading_pair = refuse
    try:
        assert await perp.add_trading_pair(ETH) is False
    finally:
        source.subscribe_to_trading_pair = real
    assert ETH not in perp.order_books and ETH not in perp.trading_pairs and ETH not in perp._funding_info
    assert perp.status_dict["funding_info"]


async def test_orders_of_a_removed_pair_are_still_tracked_to_the_end(perp, perp_sim):
    oid = perp.buy(PAIR, Decimal("0.01"), OrderType.LIMIT, best(perp, False) + Decimal("0.1"))
    await perp.event_log.wait_for(MarketEvent.BuyOrderCreated)
    assert await perp.remove_trading_pair(PAIR)
    await perp.user_stream_tracker.stop()                     # polls only
    await perp_sim.futures.take(SYMBOL, "SELL", "0.01")
    done = (await perp.event_log.wait_for(MarketEvent.BuyOrderCompleted))[0]
    assert done.order_id == oid and done.base_asset_amount == Decimal("0.01")
    await eventually(lambda: PAIR in perp.account_positions)       # the position is still followed


async def test_last_traded_price_of_an_unknown_pair_dropped_with_an_error(perp, caplog):
    caplog.set_level(logging.ERROR)
    got = await perp.get_last_traded_prices(["DOGE-USDT", PAIR])
    assert list(got) == [PAIR] and got[PAIR] > 0
    assert "Could not get the last traded price of DOGE-USDT" in caplog.text
