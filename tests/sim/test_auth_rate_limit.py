"""Signed-request checks and rate limits over real sockets."""
import time

import pytest

from exconnect.sim import Simulator
from exconnect.sim.auth import sign
from exconnect.sim.config import RateLimitConfig

from sim_helpers import RestClient, make_config


def test_signature_vectors_from_binance_docs():
    assert sign("NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j",
                "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
                ) == "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
    assert sign("2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9",
                "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&recvWindow=5000&timestamp=1591702613943"
                ) == "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9"


async def test_signed_account_ok(client):
    r = await client.get("/api/v3/account", signed=True)
    assert r.status == 200 and r.body["accountType"] == "SPOT"
    assert {"asset": "BTC", "free": "100.00000000", "locked": "0.00000000"} in r.body["balances"]


async def test_signature_split_between_query_and_body(sim, session):
    """Binance signs query + body concatenated with no separator."""
    import aiohttp
    ts = int(time.time() * 1000)
    query = "symbol=BTCUSDT&side=BUY&type=LIMIT"
    body = f"timeInForce=GTC&quantity=0.001&price=50000&timestamp={ts}"
    sig = sign("sim-secret", query + body)
    async with session.post(f"{sim.spot_url}/api/v3/order?{query}", data=f"{body}&signature={sig}",
                            headers={"X-MBX-APIKEY": "sim-key",
                                     "Content-Type": "application/x-www-form-urlencoded"}) as r:
        assert r.status == 200, await r.text()


async def test_missing_and_unknown_key(client):
    r = await client.get("/api/v3/account", {"timestamp": 1})
    assert (r.status, r.body["code"]) == (401, -2015)
    bad = RestClient(client.session, client.base, key="nobody", secret="x")
    r = await bad.get("/api/v3/account", signed=True)
    assert (r.status, r.body) == (401, {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."})
    bad = RestClient(client.session, client.base, key="bad key!", secret="x")
    r = await bad.get("/api/v3/account", signed=True)
    assert (r.status, r.body["code"]) == (401, -2014)


async def test_bad_signature(client):
    wrong = RestClient(client.session, client.base, secret="wrong")
    r = await wrong.get("/api/v3/account", signed=True)
    assert (r.status, r.body) == (400, {"code": -1022, "msg": "Signature for this request is not valid."})


async def test_missing_signature_and_timestamp(client):
    r = await client.get("/api/v3/account", {"timestamp": int(time.time() * 1000)}, key=True)
    assert r.body["code"] == -1102 and "signature" in r.body["msg"]
    r = await client.get("/api/v3/account", signed=True, raw_query="omitZeroBalances=true")
    assert r.body["code"] == -1102 and "timestamp" in r.body["msg"]


async def test_timestamp_rules(client):
    now = int(time.time() * 1000)
    r = await client.get("/api/v3/account", signed=True, timestamp=now - 10_000)
    assert r.body == {"code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."}
    r = await client.get("/api/v3/account", {"recvWindow": 20000}, signed=True, timestamp=now - 10_000)
    assert r.status == 200
    r = await client.get("/api/v3/account", signed=True, timestamp=now + 5_000)
    assert r.body == {"code": -1021, "msg": "Timestamp for this request was 1000ms ahead of the server's time."}
    r = await client.get("/api/v3/account", {"recvWindow": 70000}, signed=True)
    assert r.body["code"] == -1131
    r = await client.get("/api/v3/account", signed=True, timestamp=now * 1000)   # microseconds
    assert r.status == 200


async def test_weight_headers(client):
    r1 = await client.get("/api/v3/exchangeInfo")
    r2 = await client.get("/api/v3/depth", {"symbol": "BTCUSDT", "limit": 1000})
    assert int(r2.headers["X-MBX-USED-WEIGHT-1M"]) - int(r1.headers["X-MBX-USED-WEIGHT-1M"]) == 50
    assert r2.headers["x-mbx-used-weight"] == r2.headers["x-mbx-used-weight-1m"]


async def test_order_count_headers_and_zero_weight_orders(client):
    before = int((await client.get("/api/v3/ping")).headers["x-mbx-used-weight-1m"])
    r = await client.order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.001", price="50000")
    assert r.status == 200
    assert r.headers["X-MBX-ORDER-COUNT-10S"] == "1" and r.headers["X-MBX-ORDER-COUNT-1D"] == "1"
    assert int(r.headers["x-mbx-used-weight-1m"]) == before   # successful orders cost 0 weight


async def test_429_then_418_ban(session):
    cfg = make_config(rate_limits=RateLimitConfig(weight_per_minute=10, requests_past_limit_before_ban=2, ban_seconds=60))
    async with Simulator(cfg) as sim:
        c = RestClient(session, sim.spot_url)
        statuses = [(await c.get("/api/v3/ping")).status for _ in range(10)]
        assert statuses == [200] * 10
        r = await c.get("/api/v3/ping")
        assert r.status == 429 and r.body["code"] == -1003 and int(r.headers["Retry-After"]) >= 1
        assert (await c.get("/api/v3/ping")).status == 429
        r = await c.get("/api/v3/ping")
        assert r.status == 418 and r.body["code"] == -1003 and "banned" in r.body["msg"]
        assert 1 <= int(r.headers["Retry-After"]) <= 60
        assert (await c.get("/api/v3/time")).status == 418


async def test_order_rate_limit(session):
    cfg = make_config(rate_limits=RateLimitConfig(orders_per_10s=2))
    async with Simulator(cfg) as sim:
        c = RestClient(session, sim.spot_url)
        for _ in range(2):
            assert (await c.order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                                  quantity="0.001", price="50000")).status == 200
        r = await c.order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.001", price="50000")
        assert r.status == 429 and r.body["code"] == -1015 and "Retry-After" in r.headers
        info = (await c.get("/api/v3/exchangeInfo")).body["rateLimits"]
        assert {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 2} in info


async def test_filled_orders_give_their_order_count_back(session):
    cfg = make_config(rate_limits=RateLimitConfig(orders_per_10s=2))
    async with Simulator(cfg) as sim:
        c = RestClient(session, sim.spot_url)
        for _ in range(5):       # market orders fill at once: the unfilled count never reaches 2
            r = await c.order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.001")
            assert r.status == 200 and r.headers["X-MBX-ORDER-COUNT-10S"] == "1"
