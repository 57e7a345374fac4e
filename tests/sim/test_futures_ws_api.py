"""/ws-fapi/v1: signed requests and session logon over one socket, same answers as REST."""
import hashlib
import hmac
import time

import aiohttp
import orjson
import pytest

from test_futures_support import KEY, SECRET, config, make_sim, next_json


def signed(params: dict) -> dict:
    p = {**params, "apiKey": KEY, "timestamp": int(time.time() * 1000)}
    payload = "&".join(f"{k}={p[k]}" for k in sorted(p))
    p["signature"] = hmac.new(SECRET.encode(), payload.encode(), hashlib.sha256).hexdigest()
    return p


@pytest.fixture
async def ws():
    async with make_sim(config()) as sim:
        async with aiohttp.ClientSession() as session:
            sock = await session.ws_connect(sim.futures_ws_url + "/ws-fapi/v1")
            n = 0

            async def call(method, params=None):
                nonlocal n
                n += 1
                await sock.send_str(orjson.dumps({"id": f"r{n}", "method": method, "params": params or {}}).decode())
                return await next_json(sock, lambda m: m.get("id") == f"r{n}")

            yield sim, call, sock
            await sock.close()


async def test_public_and_signed_methods(ws):
    sim, call, _ = ws
    assert (await call("ping"))["result"] == {}
    assert (await call("time"))["status"] == 200
    d = await call("depth", {"symbol": "BTCUSDT", "limit": 5})
    assert len(d["result"]["bids"]) == 5 and d["rateLimits"][0]["rateLimitType"] == "REQUEST_WEIGHT"
    assert (await call("ticker.book", {"symbol": "BTCUSDT"}))["result"]["symbol"] == "BTCUSDT"
    placed = await call("order.place", signed({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT",
                                               "timeInForce": "GTC", "quantity": "0.010", "price": "50000"}))
    assert placed["status"] == 200 and placed["result"]["status"] == "NEW"
    oid = placed["result"]["orderId"]
    st = await call("order.status", signed({"symbol": "BTCUSDT", "orderId": oid}))
    assert st["result"]["orderId"] == oid
    cx = await call("order.cancel", signed({"symbol": "BTCUSDT", "orderId": oid}))
    assert cx["result"]["status"] == "CANCELED"
    bad = await call("order.cancel", signed({"symbol": "BTCUSDT", "orderId": oid}))
    assert bad["status"] == 400 and bad["error"]["code"] == -2011
    v2 = await call("v2/account.status", signed({}))
    assert "totalWalletBalance" in v2["result"] and "canTrade" not in v2["result"]
    pos = await call("account.position", signed({"symbol": "BTCUSDT"}))
    assert pos["result"][0]["positionSide"] == "BOTH"


async def test_session_logon_and_errors(ws):
    sim, call, sock = ws
    unsigned = await call("account.balance", {"timestamp": int(time.time() * 1000)})
    assert unsigned["status"] == 400 and unsigned["error"]["code"] == -1102
    forged = signed({})
    forged["signature"] = "0" * 64
    assert (await call("session.logon", forged))["error"]["code"] == -1022
    assert (await call("session.logon", signed({})))["result"]["apiKey"] == KEY
    bal = await call("account.balance", {"timestamp": int(time.time() * 1000)})
    assert bal["status"] == 200 and bal["result"][0]["asset"] == "USDT"
    lk = await call("userDataStream.start", {"apiKey": KEY})
    key = lk["result"]["listenKey"]
    assert (await call("userDataStream.ping", {"apiKey": KEY}))["result"] == {"listenKey": key}
    assert (await call("userDataStream.stop", {"apiKey": KEY}))["result"] == {}
    assert (await call("nope.method"))["error"]["code"] == -1020
    await sock.send_str("{not json")
    err = await next_json(sock, lambda m: "error" in m)
    assert err["error"]["code"] == -1100
