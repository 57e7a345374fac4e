"""Spot user data: WebSocket API subscriptions and the legacy listenKey flow."""
import asyncio

import orjson

from exconnect.sim import money
from sim_helpers import recv_json, ws_api_call, ws_signed_params

P = money.parse


def event(kind):
    return lambda m: m.get("event", {}).get("e") == kind


async def subscribed(sim, session):
    ws = await session.ws_connect(sim.spot_ws_url + "/ws-api/v3")
    r = await ws_api_call(ws, "userDataStream.subscribe.signature", ws_signed_params())
    assert r["status"] == 200 and r["result"] == {"subscriptionId": 0}
    assert r["rateLimits"][0]["rateLimitType"] == "REQUEST_WEIGHT"
    return ws


async def test_execution_reports_new_trade_cancel(sim, session, client):
    ws = await subscribed(sim, session)
    bid = sim.spot.books["BTCUSDT"].best_bid()[0]
    price = money.text(bid + P("0.01"))
    o = (await client.order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.01",
                            price=price, newClientOrderId="ord-1")).body
    new = await recv_json(ws, event("executionReport"))
    assert new["subscriptionId"] == 0
    e = new["event"]
    assert (e["x"], e["X"], e["c"], e["C"], e["i"], e["t"], e["N"], e["w"]) == ("NEW", "NEW", "ord-1", "", o["orderId"], -1, None, True)
    every = {"e", "E", "s", "c", "S", "o", "f", "q", "p", "P", "F", "g", "C", "x", "X", "r", "i", "l", "z", "L",
             "n", "N", "T", "t", "I", "w", "m", "M", "O", "Z", "Y", "Q", "W", "V"}
    assert every <= set(e)
    pos = await recv_json(ws, event("outboundAccountPosition"))
    assert {"a": "USDT", "f": money.text(P("1000000") - P(price) * 1 // 100), "l": money.text(P(price) // 100)} in pos["event"]["B"]
    await sim.spot.take("BTCUSDT", "SELL", "0.004")
    tr = (await recv_json(ws, event("executionReport")))["event"]
    assert (tr["x"], tr["X"], tr["l"], tr["z"], tr["L"], tr["m"], tr["N"]) == (
        "TRADE", "PARTIALLY_FILLED", "0.00400000", "0.00400000", money.text(P(price)), True, "BTC")
    assert tr["n"] == "0.00000400" and tr["t"] > 0 and tr["Y"] == money.text(money.mul(P(price), P("0.004")))
    await client.delete("/api/v3/order", {"symbol": "BTCUSDT", "orderId": o["orderId"], "newClientOrderId": "cx"}, signed=True)
    cx = (await recv_json(ws, event("executionReport")))["event"]
    assert (cx["x"], cx["X"], cx["c"], cx["C"], cx["z"]) == ("CANCELED", "CANCELED", "cx", "ord-1", "0.00400000")
    await ws.close()


async def test_market_order_report_sequence(sim, session, client):
    ws = await subscribed(sim, session)
    await client.order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.2")
    seen = []
    while not seen or seen[-1][1] != "FILLED":
        e = (await recv_json(ws, event("executionReport")))["event"]
        seen.append((e["x"], e["X"]))
    assert seen[0] == ("NEW", "NEW") and all(x == ("TRADE", "PARTIALLY_FILLED") for x in seen[1:-1])
    assert seen[-1] == ("TRADE", "FILLED") and len(seen) >= 3
    await ws.close()


async def test_session_logon_subscribe_and_errors(sim, session):
    ws = await session.ws_connect(sim.spot_ws_url + "/ws-api/v3")
    r = await ws_api_call(ws, "userDataStream.subscribe")
    assert r["status"] == 401 and r["error"]["code"] == -2015
    bad = ws_signed_params(secret="wrong")
    r = await ws_api_call(ws, "session.logon", bad)
    assert r["status"] == 400 and r["error"] == {"code": -1022, "msg": "Signature for this request is not valid."}
    r = await ws_api_call(ws, "v3/session.logon", ws_signed_params())
    assert r["status"] == 200 and r["result"]["apiKey"] == "sim-key"
    r = await ws_api_call(ws, "userDataStream.subscribe", rid=1)
    assert r["result"] == {"subscriptionId": 0}
    r = await ws_api_call(ws, "userDataStream.subscribe", rid=2)
    assert r["error"]["code"] == -2035
    r = await ws_api_call(ws, "session.subscriptions")
    assert r["result"] == [{"subscriptionId": 0}]
    r = await ws_api_call(ws, "userDataStream.unsubscribe", {"subscriptionId": 0})
    assert r["result"] == {}
    term = await recv_json(ws, event("eventStreamTerminated"))
    assert term["subscriptionId"] == 0
    r = await ws_api_call(ws, "userDataStream.unsubscribe", {"subscriptionId": 0}, rid=3)
    assert r["error"]["code"] == -2036
    r = await ws_api_call(ws, "ping")
    assert r["result"] == {}
    r = await ws_api_call(ws, "time")
    assert isinstance(r["result"]["serverTime"], int)
    r = await ws_api_call(ws, "nope.method")
    assert r["status"] == 400
    await ws.send_str("{broken")
    m = await recv_json(ws, lambda m: "error" in m)
    assert m["id"] is None and m["status"] == 400
    r = await ws_api_call(ws, "userDataStream.subscribe.signature", ws_signed_params(timestamp=1), rid=9)
    assert r["error"]["code"] == -1021
    await ws.close()


async def test_balance_update_event(sim, session):
    ws = await subscribed(sim, session)
    sim.spot.deposit(0, "BNB", "2.5")
    bu = (await recv_json(ws, event("balanceUpdate")))["event"]
    assert bu["a"] == "BNB" and bu["d"] == "2.50000000" and "T" in bu
    pos = (await recv_json(ws, event("outboundAccountPosition")))["event"]
    assert pos["B"] == [{"a": "BNB", "f": "2.50000000", "l": "0.00000000"}]
    await ws.close()


async def test_listen_key_flow(sim, session, client):
    r = await client.post("/api/v3/userDataStream", key=True)
    key = r.body["listenKey"]
    assert r.status == 200 and len(key) == 60
    assert (await client.post("/api/v3/userDataStream", key=True)).body["listenKey"] == key
    assert (await client.request("PUT", "/api/v3/userDataStream", {"listenKey": key}, key=True)).body == {}
    r = await client.request("PUT", "/api/v3/userDataStream", {"listenKey": "x" * 60}, key=True)
    assert r.body == {"code": -1125, "msg": "This listenKey does not exist."}
    r = await client.post("/api/v3/userDataStream")
    assert r.status == 401
    async with session.ws_connect(f"{sim.spot_ws_url}/ws/{key}") as ws:
        await client.order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.001", price="50000")
        e = await recv_json(ws, lambda m: m.get("e") == "executionReport")
        assert e["x"] == "NEW" and "subscriptionId" not in e
        await recv_json(ws, lambda m: m.get("e") == "outboundAccountPosition")
        sim.spot.user_streams.expire_listen_key(key)
        exp = await recv_json(ws, lambda m: m.get("e") == "listenKeyExpired")
        assert exp["listenKey"] == key
    async with session.ws_connect(f"{sim.spot_ws_url}/stream?streams=btcusdt@trade") as ws:
        key2 = (await client.post("/api/v3/userDataStream", key=True)).body["listenKey"]
        assert key2 != key
        await ws.send_str(orjson.dumps({"method": "SUBSCRIBE", "params": [key2], "id": 1}).decode())
        await recv_json(ws, lambda m: m.get("id") == 1)
        await client.order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.001")
        m = await recv_json(ws, lambda m: m.get("stream") == key2)
        assert m["data"]["e"] == "executionReport"
    assert (await client.delete("/api/v3/userDataStream", {"listenKey": key2}, key=True)).body == {}
    r = await client.delete("/api/v3/userDataStream", {"listenKey": key2}, key=True)
    assert r.body["code"] == -1125


async def test_ws_api_legacy_listen_key_methods(sim, session):
    ws = await session.ws_connect(sim.spot_ws_url + "/ws-api/v3")
    r = await ws_api_call(ws, "userDataStream.start", {"apiKey": "sim-key"})
    key = r["result"]["listenKey"]
    r = await ws_api_call(ws, "userDataStream.ping", {"apiKey": "sim-key", "listenKey": key})
    assert r["result"] == {}
    r = await ws_api_call(ws, "userDataStream.stop", {"apiKey": "sim-key", "listenKey": key})
    assert r["result"] == {}
    await ws.close()


async def test_ws_api_trading_methods(sim, session):
    ws = await session.ws_connect(sim.spot_ws_url + "/ws-api/v3")
    p = ws_signed_params(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.001",
                         price=50000, newClientOrderId="wsapi-1")
    r = await ws_api_call(ws, "order.place", p)
    assert r["status"] == 200 and r["result"]["status"] == "NEW" and r["result"]["clientOrderId"] == "wsapi-1"
    r = await ws_api_call(ws, "order.status", {"symbol": "BTCUSDT", "origClientOrderId": "wsapi-1"})
    assert r["error"]["code"] == -1102                           # not logged on, not signed
    await ws_api_call(ws, "session.logon", ws_signed_params())
    r = await ws_api_call(ws, "order.status", {"symbol": "BTCUSDT", "origClientOrderId": "wsapi-1",
                                               "timestamp": int(__import__("time").time() * 1000)})
    assert r["result"]["price"] == "50000.00000000"
    r = await ws_api_call(ws, "openOrders.status", ws_signed_params(symbol="BTCUSDT"))
    assert [o["clientOrderId"] for o in r["result"]] == ["wsapi-1"]
    r = await ws_api_call(ws, "order.cancel", ws_signed_params(symbol="BTCUSDT", origClientOrderId="wsapi-1"))
    assert r["result"]["status"] == "CANCELED"
    r = await ws_api_call(ws, "order.cancel", ws_signed_params(symbol="BTCUSDT", origClientOrderId="wsapi-1"), rid=2)
    assert r["status"] == 400 and r["error"] == {"code": -2011, "msg": "Unknown order sent."}
    r = await ws_api_call(ws, "depth", {"symbol": "BTCUSDT", "limit": 5})
    assert len(r["result"]["bids"]) == 5
    r = await ws_api_call(ws, "account.status", ws_signed_params(), rid=3)
    assert r["result"]["accountType"] == "SPOT"
    await ws.close()


async def test_listen_key_expires_without_keepalive(session):
    from exconnect.sim import Simulator
    from sim_helpers import RestClient, make_config
    async with Simulator(make_config(listen_key_ttl_s=0.3)) as sim:
        c = RestClient(session, sim.spot_url)
        key = (await c.post("/api/v3/userDataStream", key=True)).body["listenKey"]
        async with session.ws_connect(f"{sim.spot_ws_url}/ws/{key}") as ws:
            exp = await recv_json(ws, lambda m: m.get("e") == "listenKeyExpired", timeout=5)
            assert exp["listenKey"] == key
        r = await c.request("PUT", "/api/v3/userDataStream", {"listenKey": key}, key=True)
        assert r.body["code"] == -1125


async def test_ws_api_signature_covers_json_booleans_as_clients_sign_them(sim, session):
    """ccxt.pro and python-binance sign the JSON text of each value: a boolean is `true`, never `True`."""
    import hashlib
    import hmac
    import time
    from sim_helpers import KEY, SECRET
    ws = await session.ws_connect(sim.spot_ws_url + "/ws-api/v3")
    params = {"apiKey": KEY, "timestamp": int(time.time() * 1000), "omitZeroBalances": True}
    payload = "&".join(f"{k}={'true' if v is True else v}" for k, v in sorted(params.items()))
    params["signature"] = hmac.new(SECRET.encode(), payload.encode(), hashlib.sha256).hexdigest()
    r = await ws_api_call(ws, "account.status", params)
    assert r["status"] == 200, r
    await ws.close()
