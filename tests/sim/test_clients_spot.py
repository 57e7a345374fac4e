"""Third-party Binance clients (ccxt async + pro, python-binance) trading on the simulator.

Only base URLs are overridden (field-notes.md §c). Marked ``clients``; skipped without the packages.
"""
import asyncio
from decimal import Decimal

import pytest

from exconnect.sim import Simulator
from sim_helpers import make_config

pytestmark = pytest.mark.clients


@pytest.fixture
async def live_sim():
    async with Simulator(make_config()) as sim:
        yield sim


def ccxt_config(sim):
    H = sim.spot_url
    W = sim.spot_ws_url
    api = {k: H + "/api/v3" for k in ("public", "private")}
    api.update({"v1": H + "/api/v1", "sapi": H + "/sapi/v1", "sapiV2": H + "/sapi/v2", "sapiV3": H + "/sapi/v3",
                "sapiV4": H + "/sapi/v4", "fapiPublic": H + "/fapi/v1", "fapiPublicV2": H + "/fapi/v2",
                "fapiPublicV3": H + "/fapi/v3", "fapiPrivate": H + "/fapi/v1", "fapiPrivateV2": H + "/fapi/v2",
                "fapiPrivateV3": H + "/fapi/v3", "fapiData": H + "/futures/data",
                "ws": {"spot": W + "/stream/ws", "margin": W + "/stream/ws", "linear": sim.futures_ws_url + "/ws",
                       "ws-api": {"spot": W + "/ws-api/v3", "linear": sim.futures_ws_url + "/ws-fapi/v1"}}})
    return {"apiKey": "sim-key", "secret": "sim-secret", "urls": {"api": api},
            "options": {"fetchMarkets": {"types": ["spot"]}}}


async def test_ccxt_async_rest(live_sim):
    ccxt = pytest.importorskip("ccxt.async_support")
    ex = ccxt.binance(ccxt_config(live_sim))
    try:
        markets = await ex.load_markets()
        m = markets["BTC/USDT"]
        assert m["precision"]["price"] == 0.01 and m["limits"]["cost"]["min"] == 5
        ob = await ex.fetch_order_book("BTC/USDT", limit=1000)
        assert len(ob["bids"]) == 1000 and ob["bids"][0][0] < ob["asks"][0][0]
        bal = await ex.fetch_balance()
        assert bal["USDT"]["free"] == 1000000 and bal["BTC"]["total"] == 100
        o = await ex.create_order("BTC/USDT", "limit", "buy", 0.001, 50000)
        assert o["status"] == "open" and o["id"]
        fetched = await ex.fetch_order(o["id"], "BTC/USDT")
        assert fetched["status"] == "open" and fetched["amount"] == 0.001
        assert [x["id"] for x in await ex.fetch_open_orders("BTC/USDT")] == [o["id"]]
        c = await ex.cancel_order(o["id"], "BTC/USDT")
        assert c["status"] == "canceled"
        mo = await ex.create_order("BTC/USDT", "market", "buy", 0.01)
        assert mo["status"] == "closed" and mo["filled"] == 0.01 and mo["fee"]["currency"] == "BTC"
        trades = await ex.fetch_my_trades("BTC/USDT")
        assert trades and sum(t["amount"] for t in trades) == pytest.approx(0.01)
        t = await ex.fetch_ticker("BTC/USDT")
        assert t["last"] > 0 and t["bid"] < t["ask"]
        await ex.fetch_trades("BTC/USDT")
        ohlcv = await ex.fetch_ohlcv("BTC/USDT", "1m")
        assert ohlcv and ohlcv[-1][5] > 0
        assert (await ex.fetch_time()) > 0
    finally:
        await ex.close()


async def test_ccxt_pro_watch_order_book_and_orders(live_sim):
    ccxtpro = pytest.importorskip("ccxt.pro")
    sim = live_sim
    ex = ccxtpro.binance(ccxt_config(sim))
    try:
        await ex.load_markets()

        async def moves():
            for _ in range(20):
                await asyncio.sleep(0.15)
                await sim.spot.take("BTCUSDT", "BUY", "0.01")
        mover = asyncio.ensure_future(moves())
        ob = await asyncio.wait_for(ex.watch_order_book("BTC/USDT"), 15)
        ob = await asyncio.wait_for(ex.watch_order_book("BTC/USDT"), 15)
        book = sim.spot.books["BTCUSDT"]
        assert ob["bids"][0][0] < ob["asks"][0][0] and len(ob["bids"]) >= 100
        trades = await asyncio.wait_for(ex.watch_trades("BTC/USDT"), 15)
        assert trades and trades[-1]["symbol"] == "BTC/USDT"
        ticker = await asyncio.wait_for(ex.watch_ticker("BTC/USDT"), 15)
        assert ticker["symbol"] == "BTC/USDT" and ticker["last"] > 0
        mover.cancel()

        watcher = asyncio.ensure_future(ex.watch_orders("BTC/USDT"))
        await asyncio.sleep(0.5)          # let the WS-API subscription settle
        o = await ex.create_order("BTC/USDT", "limit", "buy", 0.001, 50000)
        orders = await asyncio.wait_for(watcher, 15)
        assert any(x["id"] == o["id"] for x in orders)
        bal = asyncio.ensure_future(ex.watch_balance())
        await asyncio.sleep(0.3)
        await ex.cancel_order(o["id"], "BTC/USDT")
        b = await asyncio.wait_for(bal, 15)
        assert "USDT" in b
    finally:
        await ex.close()


class Poke:
    """python-binance's sockets only notice they are being closed when a message arrives (their
    read loop polls with a 10 s timeout); on Binance messages always flow, so keep some flowing."""

    def __init__(self, fn):
        self.fn = fn

    async def _run(self):
        while True:
            await asyncio.sleep(0.05)
            r = self.fn()
            if asyncio.iscoroutine(r):
                await r

    async def __aenter__(self):
        self.task = asyncio.ensure_future(self._run())

    async def __aexit__(self, *exc):
        self.task.cancel()


async def test_python_binance(live_sim):
    pytest.importorskip("binance")
    from binance import AsyncClient, BinanceSocketManager
    from binance.ws.websocket_api import WebsocketAPI
    sim = live_sim
    client = AsyncClient("sim-key", "sim-secret")
    client.API_URL = sim.spot_url + "/api"
    client.ws_api = WebsocketAPI(url=sim.spot_ws_url + "/ws-api/v3")
    client.ws_api.TIMEOUT = 0.2   # its read loop polls; a short poll only makes closing fast (see Poke)
    try:
        await client.ping()
        assert (await client.get_server_time())["serverTime"] > 0
        info = await client.get_symbol_info("BTCUSDT")
        assert info["status"] == "TRADING"
        depth = await client.get_order_book(symbol="BTCUSDT", limit=1000)
        assert len(depth["bids"]) == 1000
        acct = await client.get_account()
        assert any(b["asset"] == "BTC" for b in acct["balances"])
        o = await client.create_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                                      quantity="0.001", price="50000")
        assert o["status"] == "NEW"
        q = await client.get_order(symbol="BTCUSDT", orderId=o["orderId"])
        assert q["clientOrderId"] == o["clientOrderId"]
        assert len(await client.get_open_orders(symbol="BTCUSDT")) == 1
        c = await client.cancel_order(symbol="BTCUSDT", orderId=o["orderId"])   # DELETE with a form body
        assert c["status"] == "CANCELED"
        m = await client.order_market_buy(symbol="BTCUSDT", quantity="0.01")
        assert m["status"] == "FILLED" and m["fills"]
        trades = await client.get_my_trades(symbol="BTCUSDT")
        assert sum(Decimal(t["qty"]) for t in trades) == Decimal("0.01")
        bsm = BinanceSocketManager(client)
        bsm.STREAM_URL = sim.spot_ws_url + "/"
        trade = lambda: sim.spot.take("BTCUSDT", "SELL", "0.00001")
        async with Poke(trade):
            async with bsm.trade_socket("BTCUSDT") as ts:
                msg = await asyncio.wait_for(ts.recv(), 10)
                assert msg["e"] == "trade"
            async with bsm.depth_socket("BTCUSDT", interval=100) as ds:
                msg = await asyncio.wait_for(ds.recv(), 10)
                assert msg["e"] == "depthUpdate"
        async with Poke(lambda: sim.spot.deposit(0, "USDT", "0.00000001")), bsm.user_socket() as us:
            await client.order_market_sell(symbol="BTCUSDT", quantity="0.001")
            got = []
            while not any(g.get("e") == "executionReport" for g in got):
                got.append(await asyncio.wait_for(us.recv(), 10))
            assert any(g.get("e") == "outboundAccountPosition" for g in got) or \
                (await asyncio.wait_for(us.recv(), 10))["e"] in ("executionReport", "outboundAccountPosition")
    finally:
        await client.close_connection()
