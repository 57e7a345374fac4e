"""Random hostile parameters on every spot REST route: always a Binance error or a 200, never a 500."""
import random

from exconnect.sim import Simulator
from exconnect.sim.config import RateLimitConfig
from sim_helpers import RestClient, make_config

NASTY = ["", "0", "-1", "1e9", "nan", "inf", "9" * 40, "0.000000001", "1.5", "BTCUSDT", "btcusdt", "ETHUSDT",
         "BUY", "SELL", "LIMIT", "MARKET", "LIMIT_MAKER", "GTC", "IOC", "FOK", "ACK", "FULL", "true", "[]",
         '["BTCUSDT"]', '["NOPE"]', "ü", "%00", "a" * 300, "60000", "0.001", "1m", "ONLY_NEW", "EXPIRE_BOTH"]
NAMES = ["symbol", "symbols", "side", "type", "timeInForce", "quantity", "quoteOrderQty", "price", "limit",
         "orderId", "origClientOrderId", "newClientOrderId", "fromId", "startTime", "endTime", "interval",
         "newOrderRespType", "selfTradePreventionMode", "cancelRestrictions", "listenKey", "omitZeroBalances",
         "recvWindow", "strategyId", "strategyType"]


async def test_fuzz_all_spot_routes(session):
    async with Simulator(make_config(rate_limits=RateLimitConfig(weight_per_minute=10**9))) as sim:
        await _fuzz(sim, RestClient(session, sim.spot_url))


async def _fuzz(sim, client):
    rng = random.Random(1234)
    routes = sorted({(r.method, r.resource.canonical) for r in sim.spot_app.router.routes()
                     if r.resource is not None and r.resource.canonical.startswith(("/api/", "/sapi/"))
                     and r.method in ("GET", "POST", "PUT", "DELETE")})
    assert len(routes) >= 25
    seen = set()
    for method, path in routes:
        for i in range(25):
            params = {rng.choice(NAMES): rng.choice(NASTY) for _ in range(rng.randint(0, 7))}
            r = await client.request(method, path, params, signed=rng.random() < 0.7, in_body=rng.random() < 0.3)
            assert r.status != 500, (method, path, params, r.body)
            assert r.status in (200, 400, 401, 404), (method, path, params, r.status, r.body)
            if r.status != 200:
                assert isinstance(r.body, dict) and r.body["code"] < 0 and r.body["msg"], r.body
            seen.add(r.status)
    assert {200, 400} <= seen
    assert (await client.get("/api/v3/ping")).status == 200


async def test_fuzz_ws_api(sim, session):
    import json
    from sim_helpers import recv_json, ws_signed_params
    rng = random.Random(99)
    methods = sorted(sim.spot.ws_api_methods) + ["session.logon", "userDataStream.subscribe.signature",
                                                 "userDataStream.unsubscribe", "session.status", "nope"]
    async with session.ws_connect(sim.spot_ws_url + "/ws-api/v3") as ws:
        for i in range(300):
            params = {rng.choice(NAMES): rng.choice(NASTY + [1, -1, 10**30, None, True, [1], {"a": 1}])
                      for _ in range(rng.randint(0, 6))}
            if rng.random() < 0.5:
                params = ws_signed_params(**{k: v for k, v in params.items() if isinstance(v, str)})
            await ws.send_str(json.dumps({"id": i, "method": rng.choice(methods), "params": params}))
            r = await recv_json(ws, lambda m: m.get("id") == i)
            assert r["status"] != 500, r
        await ws.send_str('{"id":"last","method":"ping"}')
        assert (await recv_json(ws, lambda m: m.get("id") == "last"))["status"] == 200
