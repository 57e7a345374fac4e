"""OB: local book sync, gap resync, reconnect resync."""
import asyncio
from decimal import Decimal

from connector_helpers import PAIR, eventually


async def test_book_matches_exchange_after_sync(connector, sim):
    book = connector.get_order_book(PAIR)
    rest = await connector._api_get("/api/v3/depth", {"symbol": "BTCUSDT", "limit": 5})
    assert book.get_price(False) == Decimal(rest["bids"][0][0])
    assert book.get_price(True) == Decimal(rest["asks"][0][0])
    assert set(connector.order_books) == {PAIR}


async def test_book_follows_diffs(connector, sim):
    sim.spot.add_liquidity("BTCUSDT", "BUY", "59999.90", "1.5")      # new best bid
    await eventually(lambda: connector.get_order_book(PAIR).get_price(False) == Decimal("59999.90"))


async def test_gap_triggers_resync(connector, sim):
    tracker = connector.order_book_tracker
    snapshots = tracker.snapshot_count
    sim.faults.depth_gap("BTCUSDT")
    sim.spot.add_liquidity("BTCUSDT", "BUY", "59999.70", "1")        # this batch is dropped
    await asyncio.sleep(0.3)      # let the 100 ms depth batch go out (and be dropped) first
    sim.spot.add_liquidity("BTCUSDT", "BUY", "59999.80", "1")        # next batch reveals the gap
    await eventually(lambda: tracker.gap_count >= 1 and tracker.snapshot_count > snapshots
                     and tracker.is_in_sync(PAIR))
    book = connector.get_order_book(PAIR)
    assert book.get_price(False) == Decimal("59999.80")
    rest = await connector._api_get("/api/v3/depth", {"symbol": "BTCUSDT", "limit": 20})
    assert any(Decimal(p) == Decimal("59999.70") for p, _ in rest["bids"])


async def test_reconnect_resyncs_book(connector, sim):
    tracker = connector.order_book_tracker
    reconnects, snapshots = tracker.reconnect_count, tracker.snapshot_count
    sim.faults.drop_ws("market")
    await eventually(lambda: tracker.reconnect_count > reconnects and tracker.snapshot_count > snapshots
                     and tracker.is_in_sync(PAIR))
    sim.spot.add_liquidity("BTCUSDT", "SELL", "60000.10", "2")       # new best ask
    await eventually(lambda: connector.get_order_book(PAIR).get_price(True) == Decimal("60000.10"))


async def test_unknown_pair_book_is_a_clear_error(connector):
    import pytest
    with pytest.raises(ValueError):
        connector.get_order_book("DOGE-USDT")


async def test_two_pairs_routed_to_their_own_books(sim, tmp_path):
    from connector_helpers import make_connector
    conn = make_connector(sim, tmp_path, trading_pairs=["BTC-USDT", "ETH-USDT"], trading_required=False)
    await conn.start(timeout=20)
    try:
        btc, eth = conn.get_order_book("BTC-USDT"), conn.get_order_book("ETH-USDT")
        assert btc.get_price(True) > eth.get_price(True)
        eth_bid = eth.get_price(False)
        sim.spot.add_liquidity("ETHUSDT", "BUY", str(eth_bid + Decimal("0.01")), "3")
        await eventually(lambda: eth.get_price(False) == eth_bid + Decimal("0.01"))
        assert btc.get_price(False) < Decimal("60000")
    finally:
        await conn.stop()
