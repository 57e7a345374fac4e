"""Fault injection and rate limits on the futures side (shared FaultInjector / RateLimiter)."""
import aiohttp
import orjson
import pytest

from exconnect.sim.config import RateLimitConfig
from test_futures_support import Client, config, make_sim, next_json


@pytest.fixture
async def env():
    async with make_sim(config()) as sim:
        async with aiohttp.ClientSession() as session:
            yield sim, Client(session, sim.futures_url)


async def test_order_503_but_placed(env):
    sim, c = env
    sim.faults.order_503_but_placed_next(1)
    status, body, _ = await c.signed("POST", "/fapi/v1/order", symbol="BTCUSDT", side="BUY", type="LIMIT",
                                     timeInForce="GTC", quantity="0.010", price="50000", newClientOrderId="u-503")
    assert status == 503 and body["msg"] == "Unknown error, please check your request or try again later."
    got = await c.ok("GET", "/fapi/v1/order", symbol="BTCUSDT", origClientOrderId="u-503")
    assert got["status"] == "NEW"  # it was placed all the same


async def test_rest_errors_and_recovery(env):
    sim, c = env
    sim.faults.rest_errors_next(1, status=502)
    status, body, _ = await c.public("/fapi/v1/premiumIndex", symbol="BTCUSDT")
    assert status == 502
    status, body, _ = await c.public("/fapi/v1/premiumIndex", symbol="BTCUSDT")
    assert status == 200 and body["symbol"] == "BTCUSDT"


async def test_clock_skew_triggers_recv_window(env):
    sim, c = env
    sim.faults.clock_skew_ms = 120_000
    assert await c.err("GET", "/fapi/v2/balance") == -1021
    _, body, _ = await c.public("/fapi/v1/time")
    import time
    assert body["serverTime"] - time.time() * 1000 > 100_000  # /time shows the skew clients must correct
    sim.faults.clock_skew_ms = 0
    assert await c.ok("GET", "/fapi/v2/balance")


async def test_duplicate_user_events_and_dropped_user_socket(env):
    sim, c = env
    key = (await c.key_only("POST", "/fapi/v1/listenKey"))[1]["listenKey"]
    ws = await c.s.ws_connect(f"{sim.futures_ws_url}/private/ws?listenKey={key}")
    sim.faults.duplicate_user_events_next(1)
    await c.ok("POST", "/fapi/v1/order", symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
               quantity="0.010", price="50000", newClientOrderId="dup-1")
    a = await next_json(ws, lambda m: m.get("e") == "ORDER_TRADE_UPDATE")
    b = await next_json(ws, lambda m: m.get("e") == "ORDER_TRADE_UPDATE")
    assert a == b and a["o"]["c"] == "dup-1"
    assert sim.faults.drop_ws("user") >= 1
    msg = await ws.receive(timeout=20)
    assert msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.ERROR)


async def test_futures_weight_limit_429_then_418():
    cfg = config(rate_limits=RateLimitConfig(weight_per_minute=40, requests_past_limit_before_ban=2))
    async with make_sim(cfg) as sim:
        async with aiohttp.ClientSession() as session:
            c = Client(session, sim.futures_url)
            status, _, headers = await c.public("/fapi/v1/depth", symbol="BTCUSDT", limit="1000")  # weight 20
            assert status == 200 and headers["X-MBX-USED-WEIGHT-1M"] == "20"
            await c.public("/fapi/v1/depth", symbol="BTCUSDT", limit="1000")
            status, body, headers = await c.public("/fapi/v1/depth", symbol="BTCUSDT", limit="1000")
            assert status == 429 and body["code"] == -1003 and int(headers["Retry-After"]) >= 1
            statuses = [(await c.public("/fapi/v1/ping"))[0] for _ in range(3)]
            assert statuses[-1] == 418


async def test_fapi_is_served_on_the_spot_port_too(env):
    sim, c = env
    spot = Client(c.s, sim.spot_url)
    assert (await spot.public("/fapi/v1/ping"))[:2] == (200, {})


async def test_market_agents_move_the_futures_book():
    async with make_sim(config(market_activity=True, activity_rate=50)) as sim:
        async with aiohttp.ClientSession() as session:
            ws = await session.ws_connect(f"{sim.futures_ws_url}/public/ws/btcusdt@depth@100ms")
            prev = None
            for _ in range(3):  # a few diff events with nobody but the agents trading
                ev = await next_json(ws, lambda m: m.get("e") == "depthUpdate")
                if prev is not None:
                    assert ev["pu"] == prev["u"]
                prev = ev
            await ws.close()


async def test_wrong_leverage_answer_fault(env):
    # LEV-04: 200 with another leverage than the one requested; the account's leverage is unchanged
    sim, c = env
    acct = sim.futures.accounts[0]
    before = acct.leverage_of("BTCUSDT")
    sim.faults.wrong_leverage_answer_next(1, leverage=0)
    status, body, _ = await c.signed("POST", "/fapi/v1/leverage", symbol="BTCUSDT", leverage="7")
    assert status == 200 and body["leverage"] == 0 and body["symbol"] == "BTCUSDT"
    assert acct.leverage_of("BTCUSDT") == before
    # one-shot: the next change goes through
    assert (await c.ok("POST", "/fapi/v1/leverage", symbol="BTCUSDT", leverage="7"))["leverage"] == 7
    assert acct.leverage_of("BTCUSDT") == 7
    # the standing switch (also settable in FaultConfig) answers every change, until cleared
    sim.faults.leverage_answer = 3
    assert (await c.ok("POST", "/fapi/v1/leverage", symbol="BTCUSDT", leverage="9"))["leverage"] == 3
    assert acct.leverage_of("BTCUSDT") == 7
    sim.faults.clear()
    assert (await c.ok("POST", "/fapi/v1/leverage", symbol="BTCUSDT", leverage="9"))["leverage"] == 9


async def test_wrong_leverage_answer_from_config():
    from exconnect.sim.config import FaultConfig
    async with make_sim(config(faults=FaultConfig(leverage_answer=0))) as sim:
        async with aiohttp.ClientSession() as session:
            c = Client(session, sim.futures_url)
            body = await c.ok("POST", "/fapi/v1/leverage", symbol="BTCUSDT", leverage="5")
            assert body["leverage"] == 0 and sim.futures.accounts[0].leverage_of("BTCUSDT") != 5


async def _user_ws(sim, c):
    key = (await c.key_only("POST", "/fapi/v1/listenKey"))[1]["listenKey"]
    return await c.s.ws_connect(f"{sim.futures_ws_url}/private/ws?listenKey={key}")


async def _raw_frames(ws, n):
    out = []
    for _ in range(n):
        msg = await ws.receive(timeout=20)
        assert msg.type == aiohttp.WSMsgType.TEXT, msg
        out.append(msg.data)
    return out


async def test_bad_user_frames_precede_the_next_event(env):
    sim, c = env
    ws = await _user_ws(sim, c)
    sim.faults.bad_user_frames_next("not_json", "order_update_without_order", "empty", '{"custom": 1')
    await c.ok("POST", "/fapi/v1/order", symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
               quantity="0.010", price="50000", newClientOrderId="bad-1")
    frames = await _raw_frames(ws, 5)
    assert frames[0] == sim.faults.BAD_USER_FRAMES["not_json"]
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(frames[0])
    second = orjson.loads(frames[1])
    assert second["e"] == "ORDER_TRADE_UPDATE" and "o" not in second and isinstance(second["E"], int)
    assert frames[2] == "" and frames[3] == '{"custom": 1'
    assert orjson.loads(frames[4])["o"]["c"] == "bad-1"      # the real event follows, intact
    # one-shot: the next event comes alone
    await c.ok("DELETE", "/fapi/v1/order", symbol="BTCUSDT", origClientOrderId="bad-1")
    assert orjson.loads((await _raw_frames(ws, 1))[0])["o"]["X"] == "CANCELED"
    await ws.close()


async def test_user_trades_without_fee(env):
    sim, c = env
    ws = await _user_ws(sim, c)
    sim.faults.user_trades_without_fee_next(1)
    for cid in ("nofee-1", "fee-2"):
        await c.ok("POST", "/fapi/v1/order", symbol="BTCUSDT", side="BUY", type="MARKET",
                   quantity="0.010", newClientOrderId=cid)
    trades = []
    while len(trades) < 2:
        ev = await next_json(ws, lambda m: m.get("e") == "ORDER_TRADE_UPDATE" and m["o"]["x"] == "TRADE")
        trades.append(ev["o"])
    assert "n" not in trades[0] and "N" not in trades[0] and trades[0]["c"] == "nofee-1"
    assert trades[0]["l"] == "0.010" and trades[0]["t"]              # the rest of the trade is intact
    assert trades[1]["N"] == "USDT" and trades[1]["n"]
    # the exchange still knows the commission (REST userTrades)
    rows = await c.ok("GET", "/fapi/v1/userTrades", symbol="BTCUSDT")
    assert all(r["commission"] and r["commissionAsset"] == "USDT" for r in rows)
    await ws.close()


async def test_futures_order_count_headers_are_10s_and_1m(env):
    # protocol doc §2: X-MBX-ORDER-COUNT-10S / X-MBX-ORDER-COUNT-1M on futures order answers
    sim, c = env
    status, body, headers = await c.signed("POST", "/fapi/v1/order", symbol="BTCUSDT", side="BUY", type="LIMIT",
                                           timeInForce="GTC", quantity="0.010", price="50000")
    assert status == 200, body
    assert headers["X-MBX-ORDER-COUNT-10S"] == "1" and headers["X-MBX-ORDER-COUNT-1M"] == "1"
    assert "X-MBX-ORDER-COUNT-1D" not in headers
    _, info, _ = await c.public("/fapi/v1/exchangeInfo")
    orders = {(r["interval"], r["intervalNum"]): r["limit"] for r in info["rateLimits"]
              if r["rateLimitType"] == "ORDERS"}
    assert orders == {("SECOND", 10): sim.config.rate_limits.orders_per_10s,
                      ("MINUTE", 1): sim.config.rate_limits.orders_per_minute}


async def test_futures_orders_per_minute_limit():
    async with make_sim(config(rate_limits=RateLimitConfig(orders_per_minute=2))) as sim:
        async with aiohttp.ClientSession() as session:
            c = Client(session, sim.futures_url)
            for _ in range(2):
                await c.ok("POST", "/fapi/v1/order", symbol="BTCUSDT", side="BUY", type="LIMIT",
                           timeInForce="GTC", quantity="0.010", price="50000")
            status, body, headers = await c.signed("POST", "/fapi/v1/order", symbol="BTCUSDT", side="BUY",
                                                   type="LIMIT", timeInForce="GTC", quantity="0.010", price="50000")
            assert status == 429 and body["code"] == -1015 and "per 1 MINUTE" in body["msg"]
            assert int(headers["Retry-After"]) <= 60


FUTURES_1125 = "This listenKey does not exist. Please use `POST /fapi/v1/listenKey` to recreate `listenKey`"


async def test_futures_listen_key_errors_use_futures_wording(env):
    sim, c = env
    assert await c.key_only("PUT", "/fapi/v1/listenKey") == (400, {"code": -1125, "msg": FUTURES_1125})
    key = (await c.key_only("POST", "/fapi/v1/listenKey"))[1]["listenKey"]
    assert await c.key_only("PUT", "/fapi/v1/listenKey", listenKey=key[::-1]) == (
        400, {"code": -1125, "msg": FUTURES_1125})
    assert await c.key_only("DELETE", "/fapi/v1/listenKey") == (200, {})
    assert await c.key_only("DELETE", "/fapi/v1/listenKey") == (400, {"code": -1125, "msg": FUTURES_1125})
    # the futures WS API's legacy listenKey methods too
    ws = await c.s.ws_connect(f"{sim.futures_ws_url}/ws-fapi/v1")
    await ws.send_json({"id": "p1", "method": "userDataStream.ping", "params": {"apiKey": "sim-key"}})
    answer = await next_json(ws, lambda m: m.get("id") == "p1")
    assert answer["error"] == {"code": -1125, "msg": FUTURES_1125}
    # and the venue's own helpers (keepalive of a key that is gone)
    from exconnect.sim.errors import BinanceError
    with pytest.raises(BinanceError) as e:
        sim.futures.users.keepalive("gone")
    assert e.value.msg == FUTURES_1125
    # spot keeps spot's wording
    with pytest.raises(BinanceError) as e:
        sim.spot.user_streams.keepalive("gone")
    assert e.value.msg == "This listenKey does not exist."
    await ws.close()


async def test_rest_fault_restricted_to_one_method(env):
    sim, c = env
    await c.ok("POST", "/fapi/v1/order", symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
               quantity="0.010", price="50000", newClientOrderId="m-1")
    sim.faults.rest_fault_path = "/fapi/v1/order"
    sim.faults.rest_fault_method = "DELETE"
    sim.faults.rest_errors_next(1, status=400, code=-2011, msg="Unknown order sent.")
    # a GET on the same path does not take the fault ...
    assert (await c.ok("GET", "/fapi/v1/order", symbol="BTCUSDT", origClientOrderId="m-1"))["status"] == "NEW"
    # ... the DELETE does, once
    assert await c.err("DELETE", "/fapi/v1/order", symbol="BTCUSDT", origClientOrderId="m-1") == -2011
    assert (await c.ok("DELETE", "/fapi/v1/order", symbol="BTCUSDT", origClientOrderId="m-1"))["status"] == "CANCELED"
    sim.faults.clear()
    assert sim.faults.rest_fault_method == ""
