"""Third-party Binance clients (ccxt async + pro, python-binance) trading USDⓈ-M on the simulator
with only their URLs overridden (field-notes §c). Marked ``clients``; skipped if not installed."""
import asyncio

import pytest

from test_futures_support import KEY, SECRET, config, make_sim

pytestmark = pytest.mark.clients


@pytest.fixture
async def sim():
    async with make_sim(config(funding_interval_s=3600, book_levels=1000)) as s:
        yield s


def ccxt_config(sim):
    H = sim.futures_url
    return {
        "apiKey": KEY, "secret": SECRET, "enableRateLimit": False,  # the sim enforces limits itself
        "urls": {"api": {
            "fapiPublic": H + "/fapi/v1", "fapiPublicV2": H + "/fapi/v2", "fapiPublicV3": H + "/fapi/v3",
            "fapiPrivate": H + "/fapi/v1", "fapiPrivateV2": H + "/fapi/v2", "fapiPrivateV3": H + "/fapi/v3",
            "fapiData": H + "/futures/data",
            "public": H + "/api/v3", "private": H + "/api/v3", "sapi": H + "/sapi/v1",
            "ws": {"linear": sim.futures_ws_url + "/ws",
                   "ws-api": {"linear": sim.futures_ws_url + "/ws-fapi/v1"}},
        }},
        "options": {"fetchMarkets": {"types": ["linear"]}, "fetchCurrencies": False, "defaultType": "swap"},
    }


async def test_ccxt_async_usdm(sim):
    ccxt = pytest.importorskip("ccxt.async_support")
    ex = ccxt.binanceusdm(ccxt_config(sim))
    try:
        markets = await ex.load_markets()
        m = markets["BTC/USDT:USDT"]
        assert m["linear"] and m["swap"] and m["limits"]["cost"]["min"] == 100
        ob = await ex.fetch_order_book("BTC/USDT:USDT", limit=1000)
        assert len(ob["bids"]) == 1000 and ob["bids"][0][0] < ob["asks"][0][0]
        assert (await ex.set_leverage(10, "BTC/USDT:USDT"))["leverage"] == 10
        await ex.set_position_mode(True)
        await ex.set_position_mode(False)
        order = await ex.create_order("BTC/USDT:USDT", "limit", "buy", 0.01, 50000)
        assert order["status"] == "open" and order["id"]
        fetched = await ex.fetch_order(order["id"], "BTC/USDT:USDT")
        assert fetched["status"] == "open" and fetched["amount"] == 0.01
        assert len(await ex.fetch_open_orders("BTC/USDT:USDT")) == 1
        edited = await ex.edit_order(order["id"], "BTC/USDT:USDT", "limit", "buy", 0.02, 50100)
        assert edited["id"] == order["id"] and edited["amount"] == 0.02 and edited["price"] == 50100
        canceled = await ex.cancel_order(order["id"], "BTC/USDT:USDT")
        assert canceled["status"] == "canceled"
        batch = await ex.create_orders([
            {"symbol": "BTC/USDT:USDT", "type": "limit", "side": "buy", "amount": 0.01, "price": 50000},
            {"symbol": "BTC/USDT:USDT", "type": "limit", "side": "sell", "amount": 0.01, "price": 62000},
        ])
        assert [o["status"] for o in batch] == ["open", "open"]
        gone = await ex.cancel_orders([o["id"] for o in batch], "BTC/USDT:USDT")
        assert [o["status"] for o in gone] == ["canceled", "canceled"]
        mkt = await ex.create_order("BTC/USDT:USDT", "market", "buy", 0.02)
        assert mkt["id"]
        trades = await ex.fetch_my_trades("BTC/USDT:USDT")
        assert sum(t["amount"] for t in trades) == pytest.approx(0.02)
        bal = await ex.fetch_balance()
        assert 0 < bal["USDT"]["total"] < 1_000_000
        positions = await ex.fetch_positions(["BTC/USDT:USDT"])
        pos = [p for p in positions if p["contracts"]]
        assert len(pos) == 1 and pos[0]["side"] == "long" and pos[0]["contracts"] == pytest.approx(0.02)
        risk = await ex.fetch_positions_risk(["BTC/USDT:USDT"])
        assert any(p["contracts"] for p in risk)
        fr = await ex.fetch_funding_rate("BTC/USDT:USDT")
        assert fr["fundingRate"] == pytest.approx(0.0001) and fr["markPrice"] > 0
        await sim.futures.run_funding()
        hist = await ex.fetch_funding_history("BTC/USDT:USDT")
        assert hist and hist[-1]["amount"] < 0
        rates = await ex.fetch_funding_rate_history("BTC/USDT:USDT")
        assert rates and rates[-1]["fundingRate"] == pytest.approx(0.0001)
    finally:
        await ex.close()


async def test_ccxt_pro_watch_order_book_and_orders(sim):
    ccxtpro = pytest.importorskip("ccxt.pro")
    ex = ccxtpro.binanceusdm(ccxt_config(sim))
    try:
        await ex.load_markets()
        ob = await ex.watch_order_book("BTC/USDT:USDT")
        assert ob["bids"] and ob["asks"] and ob["bids"][0][0] < ob["asks"][0][0]
        watcher = asyncio.ensure_future(ex.watch_orders("BTC/USDT:USDT"))
        await asyncio.sleep(0)  # let it open the private socket (listenKey flow)
        for _ in range(50):
            if sim.futures.users.listen_keys and sim.futures.hub.has_subscribers(next(iter(sim.futures.users.listen_keys))):
                break
            await asyncio.sleep(0.05)
        await ex.create_order("BTC/USDT:USDT", "limit", "sell", 0.01, 70000)
        orders = await asyncio.wait_for(watcher, 20)
        assert orders[-1]["status"] == "open" and orders[-1]["price"] == 70000
    finally:
        await ex.close()


async def test_ccxt_pro_ws_api_trading(sim):
    ccxtpro = pytest.importorskip("ccxt.pro")
    ex = ccxtpro.binanceusdm(ccxt_config(sim))
    try:
        await ex.load_markets()
        o = await ex.create_order_ws("BTC/USDT:USDT", "limit", "buy", 0.01, 50000)
        assert o["status"] == "open" and o["price"] == 50000
        c = await ex.cancel_order_ws(o["id"], "BTC/USDT:USDT")
        assert c["status"] == "canceled"
        # (fetch_balance_ws is not checked: ccxt 4.5.90 parses swap balances from the WS API as spot)
        await ex.create_order_ws("BTC/USDT:USDT", "market", "sell", 0.02)
        pos = await ex.fetch_positions_ws(["BTC/USDT:USDT"])
        assert [p["side"] for p in pos if p["contracts"]] == ["short"]
    finally:
        await ex.close()


async def test_python_binance_futures(sim):
    binance = pytest.importorskip("binance")
    from binance import AsyncClient

    client = AsyncClient(KEY, SECRET)
    client.FUTURES_URL = sim.futures_url + "/fapi"
    try:
        info = await client.futures_exchange_info()
        assert {s["symbol"] for s in info["symbols"]} == {"BTCUSDT", "ETHUSDT"}
        depth = await client.futures_order_book(symbol="BTCUSDT", limit=100)
        assert len(depth["bids"]) == 100
        lev = await client.futures_change_leverage(symbol="BTCUSDT", leverage=5)
        assert lev["leverage"] == 5
        await client.futures_change_position_mode(dualSidePosition="true")
        assert (await client.futures_get_position_mode())["dualSidePosition"] is True
        await client.futures_change_position_mode(dualSidePosition="false")
        o = await client.futures_create_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                                              quantity="0.010", price="50000")
        got = await client.futures_get_order(symbol="BTCUSDT", orderId=o["orderId"])
        assert got["status"] == "NEW"
        c = await client.futures_cancel_order(symbol="BTCUSDT", orderId=o["orderId"])
        assert c["status"] == "CANCELED"
        await client.futures_create_order(symbol="BTCUSDT", side="SELL", type="MARKET", quantity="0.010")
        bal = await client.futures_account_balance()
        assert bal[0]["asset"] == "USDT"
        acct = await client.futures_account()
        assert float(acct["totalWalletBalance"]) < 1_000_000
        pos = await client.futures_position_information(symbol="BTCUSDT")
        assert any(p["positionAmt"] == "-0.010" for p in pos)
        await sim.futures.run_funding()
        inc = await client.futures_income_history(symbol="BTCUSDT", incomeType="FUNDING_FEE")
        assert inc and float(inc[-1]["income"]) > 0  # the short receives at a positive rate
        fr = await client.futures_funding_rate(symbol="BTCUSDT")
        assert fr[-1]["fundingRate"] == "0.00010000"
        mark = await client.futures_mark_price(symbol="BTCUSDT")
        assert float(mark["markPrice"]) > 0
        lk = await client.futures_stream_get_listen_key()
        assert isinstance(lk, str) and lk
    finally:
        await client.close_connection()


async def test_python_binance_futures_sockets(sim):
    pytest.importorskip("binance")
    from binance import AsyncClient, BinanceSocketManager

    client = AsyncClient(KEY, SECRET)
    client.FUTURES_URL = sim.futures_url + "/fapi"
    try:
        bsm = BinanceSocketManager(client)
        bsm.FSTREAM_URL = sim.futures_ws_url + "/"
        async with bsm.futures_depth_socket("BTCUSDT", depth="10") as depth:
            msg = await asyncio.wait_for(depth.recv(), 20)
            data = msg.get("data", msg)
            assert data["e"] == "depthUpdate" and len(data["b"]) == 10
        async with bsm.futures_user_socket() as user:
            await client.futures_create_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                                              quantity="0.010", price="50000", newClientOrderId="pb-1")
            for _ in range(20):
                ev = await asyncio.wait_for(user.recv(), 20)
                if ev.get("e") == "ORDER_TRADE_UPDATE":
                    break
            assert ev["o"]["c"] == "pb-1" and ev["o"]["X"] == "NEW"
            # python-binance's idle reader only notices the close on its next message (else it
            # waits out a 10 s receive timeout): have one arrive just after the exit begins
            asyncio.get_running_loop().call_later(0.2, sim.futures.cancel_all, 0, "BTCUSDT")
    finally:
        await client.close_connection()


async def until_watching(ex, fragment: str) -> None:
    """Wait (bounded) until ccxt has registered a pending watch whose message hash contains
    ``fragment``, so the event we trigger next cannot arrive before the watch exists."""
    for _ in range(500):
        for client in list(ex.clients.values()):
            if any(fragment in str(h) for h in getattr(client, "futures", {})):
                return
        await asyncio.sleep(0.01)
    raise AssertionError(f"ccxt never started watching {fragment!r}")


async def test_ccxt_pro_private_streams(sim):
    ccxtpro = pytest.importorskip("ccxt.pro")
    ex = ccxtpro.binanceusdm(ccxt_config(sim))
    try:
        await ex.load_markets()
        await ex.create_order("BTC/USDT:USDT", "market", "buy", 0.02)
        snapshot = await ex.watch_positions(["BTC/USDT:USDT"])  # first answer: REST snapshot
        assert [(p["side"], p["contracts"]) for p in snapshot if p["contracts"]] == [("long", 0.02)]
        balance = asyncio.ensure_future(ex.watch_balance())
        positions = asyncio.ensure_future(ex.watch_positions(["BTC/USDT:USDT"]))
        trades = asyncio.ensure_future(ex.watch_my_trades("BTC/USDT:USDT"))
        for fragment in ("balance", "positions", "myTrades"):
            await until_watching(ex, fragment)
        await ex.create_order("BTC/USDT:USDT", "market", "buy", 0.01)
        b = await asyncio.wait_for(balance, 20)
        assert 0 < b["USDT"]["total"] < 1_000_000
        p = await asyncio.wait_for(positions, 20)
        assert [(x["side"], x["contracts"]) for x in p] == [("long", pytest.approx(0.03))]
        t = await asyncio.wait_for(trades, 20)
        assert t[-1]["amount"] == pytest.approx(0.01) and t[-1]["fee"]["currency"] == "USDT"
    finally:
        await ex.close()
