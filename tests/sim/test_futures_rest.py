"""/fapi REST over real sockets with a plain aiohttp client: market data, orders, account, errors."""
import aiohttp
import pytest

from test_futures_support import Client, config, make_sim


@pytest.fixture
async def env():
    async with make_sim(config()) as sim:
        async with aiohttp.ClientSession() as session:
            yield sim, Client(session, sim.futures_url)


async def test_ping_time_exchange_info(env):
    sim, c = env
    assert (await c.public("/fapi/v1/ping"))[1] == {}
    status, body, headers = await c.public("/fapi/v1/time")
    assert status == 200 and isinstance(body["serverTime"], int)
    assert int(headers["X-MBX-USED-WEIGHT-1M"]) >= 1
    _, info, _ = await c.public("/fapi/v1/exchangeInfo")
    assert info["futuresType"] == "U_MARGINED" and info["rateLimits"]
    btc = next(s for s in info["symbols"] if s["symbol"] == "BTCUSDT")
    assert btc["contractType"] == "PERPETUAL" and btc["marginAsset"] == "USDT" and btc["status"] == "TRADING"
    assert (btc["pricePrecision"], btc["quantityPrecision"]) == (1, 3)
    filters = {f["filterType"]: f for f in btc["filters"]}
    assert filters["PRICE_FILTER"]["tickSize"] == "0.1"
    assert filters["LOT_SIZE"]["stepSize"] == "0.001"
    assert filters["MARKET_LOT_SIZE"]["maxQty"] == "1000"
    assert filters["MIN_NOTIONAL"]["notional"] == "100"
    assert (filters["PERCENT_PRICE"]["multiplierUp"], filters["PERCENT_PRICE"]["multiplierDown"]) == ("1.0500", "0.9500")


async def test_depth_snapshot():
    async with make_sim(config(book_levels=1000)) as sim:
        async with aiohttp.ClientSession() as session:
            await check_depth_snapshot(Client(session, sim.futures_url))


async def check_depth_snapshot(c):
    _, d, _ = await c.public("/fapi/v1/depth", symbol="BTCUSDT", limit="1000")
    assert len(d["bids"]) == 1000 and len(d["asks"]) == 1000
    assert {"lastUpdateId", "E", "T"} <= set(d)
    assert float(d["bids"][0][0]) < float(d["asks"][0][0])
    status, body, _ = await c.public("/fapi/v1/depth", symbol="BTCUSDT", limit="7")
    assert status == 400 and body["code"] == -4021
    status, body, _ = await c.public("/fapi/v1/depth", symbol="NOPE")
    assert status == 400 and body["code"] == -1121


async def test_premium_index_funding_info_and_tickers(env):
    sim, c = env
    _, p, _ = await c.public("/fapi/v1/premiumIndex", symbol="BTCUSDT")
    assert p["markPrice"] == "60000.00000000" and p["lastFundingRate"] == "0.00010000"
    assert p["nextFundingTime"] % (8 * 3600 * 1000) == 0
    _, allp, _ = await c.public("/fapi/v1/premiumIndex")
    assert {x["symbol"] for x in allp} == {"BTCUSDT", "ETHUSDT"}
    _, info, _ = await c.public("/fapi/v1/fundingInfo")
    assert info[0]["fundingIntervalHours"] == 8
    _, bt, _ = await c.public("/fapi/v1/ticker/bookTicker", symbol="BTCUSDT")
    assert float(bt["bidPrice"]) < 60000 < float(bt["askPrice"])
    _, tp, _ = await c.public("/fapi/v1/ticker/price", symbol="ETHUSDT")
    assert tp["symbol"] == "ETHUSDT" and "time" in tp
    await sim.futures.take("BTCUSDT", "BUY", "0.5")
    _, t24, _ = await c.public("/fapi/v1/ticker/24hr", symbol="BTCUSDT")
    assert t24["count"] >= 1 and float(t24["volume"]) == 0.5
    _, trades, _ = await c.public("/fapi/v1/trades", symbol="BTCUSDT")
    assert sum(float(t["qty"]) for t in trades) == 0.5


async def test_limit_order_lifecycle_and_queries(env):
    sim, c = env
    o = await c.ok("POST", "/fapi/v1/order", symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                   quantity="0.010", price="59000", newClientOrderId="my-1")
    assert o["status"] == "NEW" and o["clientOrderId"] == "my-1" and o["positionSide"] == "BOTH"
    assert {"orderId", "updateTime", "avgPrice", "cumQuote", "origType", "reduceOnly"} <= set(o)
    got = await c.ok("GET", "/fapi/v1/order", symbol="BTCUSDT", origClientOrderId="my-1")
    assert got["orderId"] == o["orderId"] and "time" in got
    assert (await c.ok("GET", "/fapi/v1/openOrder", symbol="BTCUSDT", orderId=o["orderId"]))["status"] == "NEW"
    opens = await c.ok("GET", "/fapi/v1/openOrders", symbol="BTCUSDT")
    assert [x["orderId"] for x in opens] == [o["orderId"]]
    assert await c.err("POST", "/fapi/v1/order", symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                       quantity="0.010", price="59000", newClientOrderId="my-1") == -4116
    cx = await c.ok("DELETE", "/fapi/v1/order", symbol="BTCUSDT", orderId=o["orderId"])
    assert cx["status"] == "CANCELED"
    assert await c.err("DELETE", "/fapi/v1/order", symbol="BTCUSDT", orderId=o["orderId"]) == -2011
    assert await c.err("GET", "/fapi/v1/openOrder", symbol="BTCUSDT", orderId=o["orderId"]) == -2013
    assert await c.err("GET", "/fapi/v1/order", symbol="BTCUSDT", orderId=1) == -2013
    hist = await c.ok("GET", "/fapi/v1/allOrders", symbol="BTCUSDT")
    assert [(h["orderId"], h["status"]) for h in hist] == [(o["orderId"], "CANCELED")]


async def test_cancel_all_open_orders(env):
    sim, c = env
    for i in range(3):
        await c.ok("POST", "/fapi/v1/order", symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
                   quantity="0.002", price=str(61000 + i))
    res = await c.ok("DELETE", "/fapi/v1/allOpenOrders", symbol="BTCUSDT")
    assert res == {"code": 200, "msg": "The operation of cancel all open order is done."}
    assert await c.ok("GET", "/fapi/v1/openOrders") == []


async def test_market_order_result_fills_position_trades_income(env):
    sim, c = env
    o = await c.ok("POST", "/fapi/v1/order", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.100",
                   newOrderRespType="RESULT")
    assert o["status"] == "FILLED" and o["executedQty"] == "0.100" and float(o["avgPrice"]) > 60000
    ack = await c.ok("POST", "/fapi/v1/order", symbol="BTCUSDT", side="SELL", type="MARKET", quantity="0.040")
    assert ack["status"] == "NEW" and ack["executedQty"] == "0.000"  # ACK: state at acceptance
    trades = await c.ok("GET", "/fapi/v1/userTrades", symbol="BTCUSDT")
    assert sum(float(t["qty"]) for t in trades if t["orderId"] == o["orderId"]) == pytest.approx(0.1)
    assert all(t["commissionAsset"] == "USDT" and not t["maker"] for t in trades)
    sells = [t for t in trades if t["side"] == "SELL"]
    assert sells and all("realizedPnl" in t for t in sells)
    risk = await c.ok("GET", "/fapi/v2/positionRisk", symbol="BTCUSDT")
    assert len(risk) == 1 and risk[0]["positionAmt"] == "0.060" and risk[0]["positionSide"] == "BOTH"
    assert risk[0]["leverage"] == "20" and risk[0]["marginType"] == "cross"
    v3 = await c.ok("GET", "/fapi/v3/positionRisk")
    assert [(p["symbol"], p["positionAmt"]) for p in v3] == [("BTCUSDT", "0.060")]
    inc = await c.ok("GET", "/fapi/v1/income")
    kinds = {r["incomeType"] for r in inc}
    assert {"COMMISSION", "REALIZED_PNL"} <= kinds
    only = await c.ok("GET", "/fapi/v1/income", incomeType="COMMISSION", limit=2)
    assert len(only) == 2 and all(r["incomeType"] == "COMMISSION" for r in only)
    assert await c.ok("GET", "/fapi/v1/income", startTime=1, endTime=2) == []


async def test_account_and_balance_versions(env):
    sim, c = env
    await c.ok("POST", "/fapi/v1/order", symbol="ETHUSDT", side="SELL", type="MARKET", quantity="1.000")
    v2 = await c.ok("GET", "/fapi/v2/account")
    for k in ("feeTier", "canTrade", "totalWalletBalance", "availableBalance", "totalUnrealizedProfit",
              "totalInitialMargin", "totalMaintMargin", "maxWithdrawAmount"):
        assert k in v2
    assert v2["assets"][0]["asset"] == "USDT" and "marginAvailable" in v2["assets"][0]
    assert {(p["symbol"], p["positionSide"]) for p in v2["positions"]} == {("BTCUSDT", "BOTH"), ("ETHUSDT", "BOTH")}
    v3 = await c.ok("GET", "/fapi/v3/account")
    assert "canTrade" not in v3 and [p["positionAmt"] for p in v3["positions"]] == ["-1.000"]
    assert "marginAvailable" not in v3["assets"][0] and "walletBalance" in v3["assets"][0]
    assert float(v3["totalPositionInitialMargin"]) == pytest.approx(3000 / 20, rel=0.01)
    for v in ("v2", "v3"):
        bal = await c.ok("GET", f"/fapi/{v}/balance")
        assert bal[0]["asset"] == "USDT" and float(bal[0]["balance"]) < 1_000_000


async def best_ask(c, symbol="BTCUSDT"):
    _, bt, _ = await c.public("/fapi/v1/ticker/bookTicker", symbol=symbol)
    return bt["askPrice"].rstrip("0").rstrip(".")


async def test_order_validation_errors(env):
    sim, c = env
    ask = await best_ask(c)
    base = dict(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.010", price="59000")
    cases = [
        (dict(base, symbol="XXX"), -1121),
        (dict(base, side="UP"), -1117),
        (dict(base, type="STOP_MARKET"), -4120),
        (dict(base, type="ICEBERG"), -1116),
        (dict(base, timeInForce="NOPE"), -1115),
        (dict(base, quantity="-1"), -4003),
        (dict(base, quantity="0.0105"), -1111),
        (dict(base, quantity="abc"), -1100),
        (dict(base, quantity="99999"), -4005),
        (dict(base, quantity="99999999999999999999"), -1100),
        (dict(base, price="59000.05"), -1111),
        (dict(base, price="0.001"), -1111),
        (dict(base, price="2000000"), -4016),
        (dict(base, price="63001"), -4016),  # PERCENT_PRICE: BUY above mark × 1.05
        (dict(base, side="SELL", price="56999"), -4024),  # SELL below mark × 0.95
        (dict(base, quantity="0.001", price="59000"), -4164),
        (dict(base, positionSide="LONG"), -4061),
        (dict(base, positionSide="UPWARD"), -1100),
        (dict(base, newClientOrderId="x" * 37), -4015),
        (dict(base, newClientOrderId="bad id!"), -1100),
        (dict(base, reduceOnly="true"), -2022),
        (dict(base, quantity="1000", price="59000"), -2019),
        (dict(base, price=ask, timeInForce="GTX"), -5022),
        (dict(base, price=ask, timeInForce="FOK", quantity="5"), -5021),
        ({k: v for k, v in base.items() if k != "quantity"}, -1102),
        ({k: v for k, v in base.items() if k != "timeInForce"}, -1102),
        (dict(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.01", price="1"), -1106),
    ]
    for params, code in cases:
        assert await c.err("POST", "/fapi/v1/order", **params) == code, params
    assert await c.ok("GET", "/fapi/v1/openOrders") == []


async def test_ioc_fok_gtx_outcomes(env):
    sim, c = env
    ioc = await c.ok("POST", "/fapi/v1/order", symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="IOC",
                     quantity="5.000", price=await best_ask(c), newOrderRespType="RESULT")
    assert ioc["status"] == "EXPIRED" and 0 < float(ioc["executedQty"]) < 5
    fok = await c.ok("POST", "/fapi/v1/order", symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="FOK",
                     quantity="0.010", price="59000", newOrderRespType="RESULT")
    assert fok["status"] == "FILLED"
    gtx = await c.ok("POST", "/fapi/v1/order", symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTX",
                     quantity="0.010", price="59000", newOrderRespType="RESULT")
    assert gtx["status"] == "NEW" and gtx["timeInForce"] == "GTX"


async def test_auth_errors(env):
    sim, c = env
    bad = Client(c.s, c.base, key="sim-key", secret="wrong")
    status, body, _ = await bad.signed("GET", "/fapi/v2/balance")
    assert (status, body["code"]) == (400, -1022)
    nokey = Client(c.s, c.base, key="nobody", secret="x")
    status, body, _ = await nokey.signed("GET", "/fapi/v2/balance")
    assert (status, body["code"]) == (401, -2015)
    async with c.s.get(c.base + "/fapi/v2/balance", headers={"X-MBX-APIKEY": "sim-key"}) as r:
        assert r.status == 400 and (await r.json())["code"] in (-1102, -1022)


async def test_small_endpoints(env):
    sim, c = env
    _, v2, _ = await c.public("/fapi/v2/ticker/price")
    assert {x["symbol"] for x in v2} == {"BTCUSDT", "ETHUSDT"} and all("time" in x for x in v2)
    cfg = await c.ok("GET", "/fapi/v1/accountConfig")
    assert cfg["dualSidePosition"] is False and cfg["canTrade"] is True
    _, hist, _ = await c.public("/fapi/v1/fundingRate")
    assert hist == []  # nothing settled yet
    await sim.futures.run_funding()
    _, hist, _ = await c.public("/fapi/v1/fundingRate", symbol="ETHUSDT")
    assert [(h["symbol"], h["fundingRate"]) for h in hist] == [("ETHUSDT", "0.00010000")]
    assert float(hist[0]["markPrice"]) > 0
    status, body, _ = await c.public("/fapi/v1/fundingRate", limit="0")
    assert status == 400
    assert await c.err("GET", "/fapi/v1/order", symbol="BTCUSDT") == -1102
    assert await c.err("GET", "/fapi/v1/income", incomeType="BONUS") == -1100


async def test_agg_trades_and_klines(env):
    sim, c = env
    await sim.futures.take("BTCUSDT", "BUY", "0.3")
    await sim.futures.take("BTCUSDT", "SELL", "0.2")
    _, aggs, _ = await c.public("/fapi/v1/aggTrades", symbol="BTCUSDT")
    assert aggs and sum(float(a["q"]) for a in aggs) == pytest.approx(0.5)
    assert all({"a", "p", "q", "f", "l", "T", "m"} <= set(a) for a in aggs)
    _, k, _ = await c.public("/fapi/v1/klines", symbol="BTCUSDT", interval="1m")
    assert len(k[-1]) == 12 and sum(float(x[5]) for x in k) == pytest.approx(0.5)
    assert sum(float(x[9]) for x in k) == pytest.approx(0.3)  # taker-buy volume
    status, body, _ = await c.public("/fapi/v1/klines", symbol="BTCUSDT", interval="7m")
    assert (status, body["code"]) == (400, -1120)


async def test_modify_order(env):
    sim, c = env
    o = await c.ok("POST", "/fapi/v1/order", symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                   quantity="0.010", price="59000", newClientOrderId="mod-1")
    m = await c.ok("PUT", "/fapi/v1/order", symbol="BTCUSDT", side="BUY", orderId=o["orderId"],
                   quantity="0.020", price="59100")
    assert (m["orderId"], m["origQty"], m["price"], m["status"]) == (o["orderId"], "0.020", "59100.0", "NEW")
    _, depth, _ = await c.public("/fapi/v1/depth", symbol="BTCUSDT", limit="1000")
    levels = dict((p, q) for p, q in depth["bids"])  # 200 agent levels end far above 59100
    assert "59000.00000000" not in levels and levels["59100.00000000"] == "0.02000000"
    assert await c.err("PUT", "/fapi/v1/order", symbol="BTCUSDT", side="BUY", orderId=o["orderId"],
                       quantity="0.020", price="59100") == -5027
    assert await c.err("PUT", "/fapi/v1/order", symbol="BTCUSDT", side="SELL", orderId=o["orderId"],
                       quantity="0.020", price="59100") == -4167
    ask = (await c.public("/fapi/v1/ticker/bookTicker", symbol="BTCUSDT"))[1]["askPrice"].rstrip("0").rstrip(".")
    crossed = await c.ok("PUT", "/fapi/v1/order", symbol="BTCUSDT", side="BUY", origClientOrderId="mod-1",
                         quantity="0.020", price=ask)  # moving through the book trades at once
    assert float(crossed["executedQty"]) > 0
    done = await c.ok("GET", "/fapi/v1/order", symbol="BTCUSDT", orderId=o["orderId"])
    assert done["status"] in ("PARTIALLY_FILLED", "FILLED")
    assert await c.err("PUT", "/fapi/v1/order", symbol="BTCUSDT", side="BUY", orderId=12345,
                       quantity="0.020", price="59100") == -2013


async def test_batch_orders(env):
    import json
    sim, c = env
    batch = [
        {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.010", "price": "59000"},
        {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.010", "price": "1"},
        {"symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.010",
         "price": "61000", "newClientOrderId": "b-3"},
    ]
    res = await c.ok("POST", "/fapi/v1/batchOrders", batchOrders=json.dumps(batch))
    assert res[0]["status"] == "NEW" and res[1]["code"] == -4164 and res[2]["clientOrderId"] == "b-3"
    assert await c.err("POST", "/fapi/v1/batchOrders", batchOrders=json.dumps(batch * 2)) == -1130
    assert await c.err("POST", "/fapi/v1/batchOrders", batchOrders="[{") == -1130
    cx = await c.ok("DELETE", "/fapi/v1/batchOrders", symbol="BTCUSDT",
                    orderIdList=json.dumps([res[0]["orderId"], 1]))
    assert cx[0]["status"] == "CANCELED" and cx[1]["code"] == -2011
    cx = await c.ok("DELETE", "/fapi/v1/batchOrders", symbol="BTCUSDT", origClientOrderIdList=json.dumps(["b-3"]))
    assert cx[0]["status"] == "CANCELED"
    assert await c.ok("GET", "/fapi/v1/openOrders") == []


async def test_self_trade_prevention_expires_the_maker(env):
    sim, c = env
    maker = await c.ok("POST", "/fapi/v1/order", symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
                       quantity="0.010", price="60000.2")  # inside the spread: the best ask
    taker = await c.ok("POST", "/fapi/v1/order", symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                       quantity="0.010", price="60000.2", newOrderRespType="RESULT")
    assert taker["status"] == "NEW" and taker["executedQty"] == "0.000"  # no trade with itself
    m = await c.ok("GET", "/fapi/v1/order", symbol="BTCUSDT", orderId=maker["orderId"])
    assert m["status"] == "EXPIRED_IN_MATCH"
    assert await c.ok("GET", "/fapi/v1/userTrades", symbol="BTCUSDT") == []


async def test_gtx_old_behaviour_switch(env):
    sim, c = env
    sim.futures.gtx_reject = False  # pre-2023 Binance: accept, then expire at once
    ask = (await c.public("/fapi/v1/ticker/bookTicker", symbol="BTCUSDT"))[1]["askPrice"].rstrip("0").rstrip(".")
    o = await c.ok("POST", "/fapi/v1/order", symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTX",
                   quantity="0.010", price=ask, newOrderRespType="RESULT")
    assert o["status"] == "EXPIRED" and o["executedQty"] == "0.000"
