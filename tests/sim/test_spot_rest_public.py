"""Public spot REST endpoints over real sockets."""
import orjson

from exconnect.sim import money


async def test_ping_time(client, sim):
    assert (await client.get("/api/v3/ping")).body == {}
    r = await client.get("/api/v3/time")
    assert abs(r.body["serverTime"] - sim.clock.now_ms()) < 5000


async def test_exchange_info_filters(client):
    r = await client.get("/api/v3/exchangeInfo")
    assert r.status == 200 and r.body["timezone"] == "UTC"
    syms = {s["symbol"]: s for s in r.body["symbols"]}
    assert set(syms) == {"BTCUSDT", "ETHUSDT"}
    btc = syms["BTCUSDT"]
    assert btc["status"] == "TRADING" and btc["permissionSets"] == [["SPOT"]]
    f = {x["filterType"]: x for x in btc["filters"]}
    assert f["PRICE_FILTER"]["tickSize"] == "0.01000000"
    assert f["LOT_SIZE"] == {"filterType": "LOT_SIZE", "minQty": "0.00001000", "maxQty": "9000.00000000", "stepSize": "0.00001000"}
    assert {"MARKET_LOT_SIZE", "NOTIONAL", "MIN_NOTIONAL"} <= set(f)
    assert f["NOTIONAL"]["minNotional"] == "5.00000000"
    types = {x["rateLimitType"] for x in r.body["rateLimits"]}
    assert types == {"REQUEST_WEIGHT", "ORDERS", "RAW_REQUESTS"}


async def test_exchange_info_symbol_params(client):
    r = await client.get("/api/v3/exchangeInfo", {"symbol": "ETHUSDT"})
    assert [s["symbol"] for s in r.body["symbols"]] == ["ETHUSDT"]
    r = await client.get("/api/v3/exchangeInfo", {"symbols": orjson.dumps(["BTCUSDT", "ETHUSDT"]).decode()})
    assert [s["symbol"] for s in r.body["symbols"]] == ["BTCUSDT", "ETHUSDT"]
    r = await client.get("/api/v3/exchangeInfo", {"symbol": "NOPE"})
    assert (r.status, r.body) == (400, {"code": -1121, "msg": "Invalid symbol."})
    r = await client.get("/api/v3/exchangeInfo", {"symbols": "[BTC"})
    assert r.body["code"] == -1100


async def test_depth_limits(client):
    r = await client.get("/api/v3/depth", {"symbol": "BTCUSDT", "limit": 1000})
    assert len(r.body["bids"]) == 1000 and len(r.body["asks"]) == 1000
    bids = [money.parse(p) for p, _ in r.body["bids"]]
    asks = [money.parse(p) for p, _ in r.body["asks"]]
    assert bids == sorted(bids, reverse=True) and asks == sorted(asks) and bids[0] < asks[0]
    r = await client.get("/api/v3/depth", {"symbol": "BTCUSDT"})
    assert len(r.body["bids"]) == 100 and isinstance(r.body["lastUpdateId"], int)
    r = await client.get("/api/v3/depth", {"symbol": "BTCUSDT", "limit": 9000})
    assert len(r.body["bids"]) == 1200      # clamped to 5000, book has 1200 levels
    r = await client.get("/api/v3/depth", {"limit": 5})
    assert r.body["code"] == -1102
    r = await client.get("/api/v3/depth", {"symbol": "BTCUSDT", "limit": "x"})
    assert r.body["code"] == -1100


async def test_trades_and_agg_trades_after_take(client, sim):
    await sim.spot.take("BTCUSDT", "BUY", "0.5")
    r = await client.get("/api/v3/trades", {"symbol": "BTCUSDT", "limit": 3})
    assert len(r.body) == 3 and all(t["isBuyerMaker"] is False for t in r.body)
    ids = [t["id"] for t in r.body]
    assert ids == sorted(ids)
    r = await client.get("/api/v3/aggTrades", {"symbol": "BTCUSDT"})
    total = sum(money.parse(a["q"]) for a in r.body)
    assert total == money.parse("0.5")
    assert r.body[0]["f"] == 1 and all(a["l"] >= a["f"] for a in r.body)
    r = await client.get("/api/v3/aggTrades", {"symbol": "BTCUSDT", "fromId": 2, "limit": 1})
    assert [a["a"] for a in r.body] == [2]


async def test_klines(client, sim):
    await sim.spot.take("BTCUSDT", "SELL", "0.2")
    r = await client.get("/api/v3/klines", {"symbol": "BTCUSDT", "interval": "1m"})
    assert r.status == 200 and len(r.body) >= 1 and len(r.body[0]) == 12
    assert money.parse(r.body[-1][5]) > 0
    r = await client.get("/api/v3/klines", {"symbol": "BTCUSDT", "interval": "7m"})
    assert r.body["code"] == -1120


async def test_tickers(client, sim):
    await sim.spot.take("BTCUSDT", "BUY", "0.01")
    r = await client.get("/api/v3/ticker/24hr", {"symbol": "BTCUSDT"})
    assert r.body["symbol"] == "BTCUSDT" and r.body["count"] >= 1 and money.parse(r.body["lastPrice"]) > 0
    r = await client.get("/api/v3/ticker/24hr")
    assert isinstance(r.body, list) and len(r.body) == 2
    r = await client.get("/api/v3/ticker/price", {"symbol": "ETHUSDT"})
    assert r.body["symbol"] == "ETHUSDT" and money.parse(r.body["price"]) > 0
    r = await client.get("/api/v3/ticker/bookTicker", {"symbol": "BTCUSDT"})
    book = sim.spot.books["BTCUSDT"]
    assert r.body["bidPrice"] == money.text(book.best_bid()[0]) and r.body["askQty"] == money.text(book.best_ask()[1])
    r = await client.get("/api/v3/ticker/bookTicker", {"symbols": '["BTCUSDT","ETHUSDT"]'})
    assert [x["symbol"] for x in r.body] == ["BTCUSDT", "ETHUSDT"]
    r = await client.get("/api/v3/avgPrice", {"symbol": "BTCUSDT"})
    assert r.body["mins"] == 5 and money.parse(r.body["price"]) > 0
    r = await client.get("/api/v3/ticker/price", {"symbol": "DOGEUSDT"})
    assert r.body["code"] == -1121


async def test_historical_trades_and_order_rate_limit(client, sim):
    await sim.spot.take("BTCUSDT", "BUY", "0.3")
    r = await client.get("/api/v3/historicalTrades", {"symbol": "BTCUSDT", "fromId": 2, "limit": 2}, key=True)
    assert [t["id"] for t in r.body] == [2, 3]
    r = await client.get("/api/v3/historicalTrades", {"symbol": "BTCUSDT"})
    assert r.status == 401
    await client.order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.001", price="50000")
    r = await client.get("/api/v3/rateLimit/order", signed=True)
    assert [x["count"] for x in r.body] == [1, 1] and r.body[0]["intervalNum"] == 10
