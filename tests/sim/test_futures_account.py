"""Leverage, margin type, position mode, hedge positions, funding cycle, listen keys — over sockets."""
import asyncio

import aiohttp
import pytest

from test_futures_support import Client, config, make_sim, next_json


@pytest.fixture
async def env():
    async with make_sim(config(funding_interval_s=3600)) as sim:
        async with aiohttp.ClientSession() as session:
            yield sim, Client(session, sim.futures_url)


async def user_socket(c, sim, path="/private/ws?listenKey={k}"):
    status, body = await c.key_only("POST", "/fapi/v1/listenKey")
    assert status == 200
    key = body["listenKey"]
    ws = await c.s.ws_connect(sim.futures_ws_url + path.format(k=key))
    return key, ws


async def test_leverage_and_config_update(env):
    sim, c = env
    key, ws = await user_socket(c, sim)
    r = await c.ok("POST", "/fapi/v1/leverage", symbol="BTCUSDT", leverage=21)
    assert r == {"leverage": 21, "maxNotionalValue": "70000000", "symbol": "BTCUSDT"}  # tier up to 25x
    ev = await next_json(ws, lambda m: m.get("e") == "ACCOUNT_CONFIG_UPDATE")
    assert ev["ac"] == {"s": "BTCUSDT", "l": 21}
    for bad in ("0", "126", "abc"):
        assert await c.err("POST", "/fapi/v1/leverage", symbol="BTCUSDT", leverage=bad) == -4028
    assert await c.err("POST", "/fapi/v1/leverage", symbol="ETHUSDT", leverage=101) == -4028  # max 100
    risk = await c.ok("GET", "/fapi/v2/positionRisk", symbol="BTCUSDT")
    assert risk[0]["leverage"] == "21"
    brackets = await c.ok("GET", "/fapi/v1/leverageBracket", symbol="ETHUSDT")
    assert brackets["brackets"][0]["initialLeverage"] == 100
    await ws.close()


async def test_margin_type(env):
    sim, c = env
    key, ws = await user_socket(c, sim)
    assert await c.err("POST", "/fapi/v1/marginType", symbol="BTCUSDT", marginType="CROSSED") == -4046
    assert await c.ok("POST", "/fapi/v1/marginType", symbol="BTCUSDT", marginType="ISOLATED") == {"code": 200, "msg": "success"}
    ev = await next_json(ws, lambda m: m.get("e") == "ACCOUNT_UPDATE")
    assert ev["a"]["m"] == "MARGIN_TYPE_CHANGE" and ev["a"]["P"][0]["mt"] == "isolated"
    await ws.close()
    cfg = {x["symbol"]: x for x in await c.ok("GET", "/fapi/v1/symbolConfig")}
    assert cfg["BTCUSDT"]["marginType"] == "ISOLATED" and cfg["ETHUSDT"]["leverage"] == 20
    risk = await c.ok("GET", "/fapi/v2/positionRisk", symbol="BTCUSDT")
    assert risk[0]["marginType"] == "isolated"
    assert await c.err("POST", "/fapi/v1/marginType", symbol="BTCUSDT", marginType="ISOLATED") == -4046


async def test_position_mode_switch_rules(env):
    sim, c = env
    assert await c.ok("GET", "/fapi/v1/positionSide/dual") == {"dualSidePosition": False}
    assert await c.err("POST", "/fapi/v1/positionSide/dual", dualSidePosition="false") == -4059
    o = await c.ok("POST", "/fapi/v1/order", symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                   quantity="0.010", price="50000")
    assert await c.err("POST", "/fapi/v1/positionSide/dual", dualSidePosition="true") == -4067
    await c.ok("DELETE", "/fapi/v1/order", symbol="BTCUSDT", orderId=o["orderId"])
    await c.ok("POST", "/fapi/v1/order", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.010")
    assert await c.err("POST", "/fapi/v1/positionSide/dual", dualSidePosition="true") == -4068
    await c.ok("POST", "/fapi/v1/order", symbol="BTCUSDT", side="SELL", type="MARKET", quantity="0.010",
               reduceOnly="true")
    assert await c.ok("POST", "/fapi/v1/positionSide/dual", dualSidePosition="true") == {"code": 200, "msg": "success"}
    assert await c.ok("GET", "/fapi/v1/positionSide/dual") == {"dualSidePosition": True}


async def test_hedge_mode_positions(env):
    sim, c = env
    await c.ok("POST", "/fapi/v1/positionSide/dual", dualSidePosition="true")
    base = dict(symbol="BTCUSDT", type="MARKET")
    assert await c.err("POST", "/fapi/v1/order", side="BUY", quantity="0.010", **base) == -4061  # BOTH in hedge
    assert await c.err("POST", "/fapi/v1/order", side="BUY", quantity="0.010", positionSide="LONG",
                       reduceOnly="true", **base) == -1106
    await c.ok("POST", "/fapi/v1/order", side="BUY", positionSide="LONG", quantity="0.030", **base)
    await c.ok("POST", "/fapi/v1/order", side="SELL", positionSide="SHORT", quantity="0.020", **base)
    risk = {p["positionSide"]: p for p in await c.ok("GET", "/fapi/v2/positionRisk", symbol="BTCUSDT")}
    assert set(risk) == {"LONG", "SHORT"}
    assert (risk["LONG"]["positionAmt"], risk["SHORT"]["positionAmt"]) == ("0.030", "-0.020")
    # closing more than the LONG holds is refused; closing part of it realizes PnL
    assert await c.err("POST", "/fapi/v1/order", side="SELL", positionSide="LONG", quantity="0.040", **base) == -2022
    r = await c.ok("POST", "/fapi/v1/order", side="SELL", positionSide="LONG", quantity="0.010",
                   newOrderRespType="RESULT", **base)
    assert r["status"] == "FILLED" and r["positionSide"] == "LONG"
    trades = await c.ok("GET", "/fapi/v1/userTrades", symbol="BTCUSDT", orderId=r["orderId"])
    assert trades and all(t["positionSide"] == "LONG" for t in trades)
    assert float(trades[0]["realizedPnl"]) != 0  # bought at the ask, sold at the bid
    v3 = await c.ok("GET", "/fapi/v3/account")
    assert sorted((p["positionSide"], p["positionAmt"]) for p in v3["positions"]) == [("LONG", "0.020"), ("SHORT", "-0.020")]
    # a resting hedge close reserves no margin; an opening order does
    await c.ok("POST", "/fapi/v1/order", symbol="BTCUSDT", side="SELL", positionSide="LONG", type="LIMIT",
               timeInForce="GTC", quantity="0.020", price="62000")
    assert (await c.ok("GET", "/fapi/v3/account"))["totalOpenOrderInitialMargin"] == "0.00000000"
    await c.ok("POST", "/fapi/v1/order", symbol="BTCUSDT", side="SELL", positionSide="SHORT", type="LIMIT",
               timeInForce="GTC", quantity="0.020", price="62000")
    assert float((await c.ok("GET", "/fapi/v3/account"))["totalOpenOrderInitialMargin"]) == pytest.approx(62)


async def test_reduce_only_one_way(env):
    sim, c = env
    await c.ok("POST", "/fapi/v1/order", symbol="BTCUSDT", side="SELL", type="MARKET", quantity="0.020")
    assert await c.err("POST", "/fapi/v1/order", symbol="BTCUSDT", side="SELL", type="MARKET", quantity="0.010",
                       reduceOnly="true") == -2022  # would increase the short
    assert await c.err("POST", "/fapi/v1/order", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.030",
                       reduceOnly="true") == -2022  # would flip it
    r = await c.ok("POST", "/fapi/v1/order", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.020",
                   reduceOnly="true", newOrderRespType="RESULT")
    assert r["reduceOnly"] is True and r["status"] == "FILLED"
    assert (await c.ok("GET", "/fapi/v2/positionRisk", symbol="BTCUSDT"))[0]["positionAmt"] == "0.000"


async def test_order_and_account_events(env):
    sim, c = env
    key, ws = await user_socket(c, sim, "/ws/{k}")  # legacy unrouted path
    o = await c.ok("POST", "/fapi/v1/order", symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
                   quantity="0.050", price="60001", newClientOrderId="ev-1")
    new = await next_json(ws, lambda m: m.get("e") == "ORDER_TRADE_UPDATE")
    o_ = new["o"]
    for k in ("s", "c", "S", "o", "f", "q", "p", "ap", "sp", "x", "X", "i", "l", "z", "L", "T", "t", "b", "a",
              "m", "R", "wt", "ot", "ps", "cp", "rp", "pP", "si", "ss", "V", "pm", "gtd", "er"):
        assert k in o_, k
    assert (o_["x"], o_["X"], o_["c"], o_["i"]) == ("NEW", "NEW", "ev-1", o["orderId"])
    fills = await sim.futures.take("BTCUSDT", "BUY", "2")  # lifts the book through our ask
    assert any(f["makerOrderId"] == o["orderId"] for f in fills)
    trade = await next_json(ws, lambda m: m.get("e") == "ORDER_TRADE_UPDATE" and m["o"]["x"] == "TRADE")
    t = trade["o"]
    assert t["X"] == "FILLED" and t["m"] is True and t["L"] == "60001.0" and t["l"] == "0.050"
    assert t["N"] == "USDT" and float(t["n"]) == pytest.approx(60001 * 0.05 * 0.0002)
    acc = await next_json(ws, lambda m: m.get("e") == "ACCOUNT_UPDATE")
    assert acc["a"]["m"] == "ORDER"
    assert acc["a"]["P"][0]["pa"] == "-0.050" and acc["a"]["P"][0]["ps"] == "BOTH"
    assert acc["a"]["B"][0]["a"] == "USDT"
    await ws.close()


async def test_funding_cycle_seconds_interval():
    async with make_sim(config(funding_interval_s=1)) as sim:
        async with aiohttp.ClientSession() as session:
            c = Client(session, sim.futures_url)
            _, p, _ = await c.public("/fapi/v1/premiumIndex", symbol="BTCUSDT")
            assert p["nextFundingTime"] % 1000 == 0
            key, ws = await user_socket(c, sim, "/private/ws/{k}")
            await c.ok("POST", "/fapi/v1/order", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.100")
            # wait for the next scheduled settlement (interval 1 s), by event, not by time
            ev = await next_json(ws, lambda m: m.get("e") == "ACCOUNT_UPDATE" and m["a"]["m"] == "FUNDING_FEE")
            assert ev["a"]["S"] == "BTCUSDT" and ev["a"]["P"] == [] and ev["T"] % 1000 == 0
            paid = float(ev["a"]["B"][0]["bc"])
            assert paid < 0  # positive rate: the long pays
            ev2 = await next_json(ws, lambda m: m.get("e") == "ACCOUNT_UPDATE" and m["a"]["m"] == "FUNDING_FEE")
            assert ev2["T"] == ev["T"] + 1000  # next funding time, each settled exactly once
            rows = await c.ok("GET", "/fapi/v1/income", incomeType="FUNDING_FEE")
            assert [r["time"] for r in rows][:2] == [ev["T"], ev2["T"]]
            inc = await c.ok("GET", "/fapi/v1/income", incomeType="FUNDING_FEE")
            assert inc and float(inc[0]["income"]) == paid and inc[0]["asset"] == "USDT"
            hist = await c.public("/fapi/v1/fundingRate", symbol="BTCUSDT")
            assert hist[1] and hist[1][0]["fundingRate"] == "0.00010000"
            # on-demand settlement helper; a negative premium makes the long receive
            sim.futures.set_index_premium("BTCUSDT", "-0.01")
            rates = await sim.futures.run_funding()
            assert rates["BTCUSDT"] < 0
            ev = await next_json(ws, lambda m: m.get("e") == "ACCOUNT_UPDATE" and m["a"]["m"] == "FUNDING_FEE"
                                 and float(m["a"]["B"][0]["bc"]) > 0)
            assert ev["a"]["S"] == "BTCUSDT"
            await ws.close()


async def test_listen_key_lifecycle_and_expiry():
    async with make_sim(config(listen_key_ttl_s=1)) as sim:
        async with aiohttp.ClientSession() as session:
            c = Client(session, sim.futures_url)
            k1 = (await c.key_only("POST", "/fapi/v1/listenKey"))[1]["listenKey"]
            assert (await c.key_only("POST", "/fapi/v1/listenKey"))[1]["listenKey"] == k1  # same key while live
            assert await c.key_only("PUT", "/fapi/v1/listenKey") == (200, {"listenKey": k1})
            ws = await session.ws_connect(f"{sim.futures_ws_url}/private/stream?listenKey={k1}")
            ev = await next_json(ws, lambda m: True)
            assert ev["stream"] == k1 and ev["data"] == {"e": "listenKeyExpired", "E": ev["data"]["E"], "listenKey": k1}
            status, body = await c.key_only("PUT", "/fapi/v1/listenKey")
            assert status == 400 and body["code"] == -1125
            k2 = (await c.key_only("POST", "/fapi/v1/listenKey"))[1]["listenKey"]
            assert k2 != k1
            assert await c.key_only("DELETE", "/fapi/v1/listenKey") == (200, {})
            status, body = await c.key_only("DELETE", "/fapi/v1/listenKey")
            assert body["code"] == -1125
            await ws.close()


async def test_commission_rate(env):
    sim, c = env
    assert await c.ok("GET", "/fapi/v1/commissionRate", symbol="BTCUSDT") == {
        "symbol": "BTCUSDT", "makerCommissionRate": "0.0002", "takerCommissionRate": "0.0005", "rpiCommissionRate": "0"}


async def test_reduce_only_orders_expire_when_the_position_shrinks(env):
    sim, c = env
    await c.ok("POST", "/fapi/v1/order", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.030")
    keep = await c.ok("POST", "/fapi/v1/order", symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
                      quantity="0.010", price="65000", reduceOnly="true")
    extra = await c.ok("POST", "/fapi/v1/order", symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
                       quantity="0.020", price="66000", reduceOnly="true")
    # the position shrinks to 0.015: only the older order still fits, the newer one expires
    await c.ok("POST", "/fapi/v1/order", symbol="BTCUSDT", side="SELL", type="MARKET", quantity="0.015")
    gone = await c.ok("GET", "/fapi/v1/order", symbol="BTCUSDT", orderId=extra["orderId"])
    assert gone["status"] == "EXPIRED"
    assert (await c.ok("GET", "/fapi/v1/order", symbol="BTCUSDT", orderId=keep["orderId"]))["status"] == "NEW"


async def test_gtd_order_expires(env):
    sim, c = env
    now = (await c.public("/fapi/v1/time"))[1]["serverTime"]
    o = await c.ok("POST", "/fapi/v1/order", symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTD",
                   quantity="0.010", price="50000", goodTillDate=now + 700_000)
    assert await c.err("POST", "/fapi/v1/order", symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTD",
                       quantity="0.010", price="50000", goodTillDate=now + 1000) == -4129
    assert sim.futures.expire_good_till(now + 700_000) == 1  # what the 1 s timer does when the time comes
    assert (await c.ok("GET", "/fapi/v1/order", symbol="BTCUSDT", orderId=o["orderId"]))["status"] == "EXPIRED"


async def test_deposit_helper(env):
    sim, c = env
    key, ws = await user_socket(c, sim)
    before = sim.futures.wallet_balance()
    sim.futures.deposit(0, "250.5")
    ev = await next_json(ws, lambda m: m.get("e") == "ACCOUNT_UPDATE")
    assert ev["a"]["m"] == "DEPOSIT" and ev["a"]["B"][0]["bc"] == "250.50000000"
    bal = await c.ok("GET", "/fapi/v2/balance")
    assert float(bal[0]["balance"]) == float(before) + 250.5
    inc = await c.ok("GET", "/fapi/v1/income", incomeType="TRANSFER")
    assert inc[-1]["income"] == "250.50000000"
    with pytest.raises(TypeError):
        sim.futures.deposit(0, 1.5)
    with pytest.raises(ValueError):
        sim.futures.deposit(0, "-99999999")
    await ws.close()
    await sim.futures.take("BTCUSDT", "BUY", "0.01")
    assert sim.futures.position_amount("BTCUSDT") == "0.00000000"


async def test_funding_event_for_isolated_position_carries_the_position(env):
    sim, c = env
    await c.ok("POST", "/fapi/v1/marginType", symbol="ETHUSDT", marginType="ISOLATED")
    key, ws = await user_socket(c, sim)
    await c.ok("POST", "/fapi/v1/order", symbol="ETHUSDT", side="SELL", type="MARKET", quantity="1.000")
    await sim.futures.run_funding()
    ev = await next_json(ws, lambda m: m.get("e") == "ACCOUNT_UPDATE" and m["a"]["m"] == "FUNDING_FEE")
    assert ev["a"]["S"] == "ETHUSDT" and float(ev["a"]["B"][0]["bc"]) > 0  # the short receives
    assert [(p["s"], p["pa"], p["mt"]) for p in ev["a"]["P"]] == [("ETHUSDT", "-1.000", "isolated")]
    await ws.close()


async def test_margin_call_when_the_margin_ratio_is_high(env):
    sim, c = env
    sim.futures.deposit(0, "-999000")  # 1,000 USDT left
    await c.ok("POST", "/fapi/v1/leverage", symbol="BTCUSDT", leverage=100)
    await c.ok("POST", "/fapi/v1/order", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="1.500")
    key, ws = await user_socket(c, sim)
    assert sim.futures.check_margin_calls(1000.0) == []  # ratio well below 80 %
    sim.futures.set_mid("BTCUSDT", "59400")  # −600 × 1.5 = −900 unrealized
    assert sim.futures.check_margin_calls(1001.0) == [0]
    ev = await next_json(ws, lambda m: m.get("e") == "MARGIN_CALL")
    p = ev["p"][0]
    assert (p["s"], p["ps"], p["pa"], p["mt"]) == ("BTCUSDT", "BOTH", "1.500", "CROSSED")
    assert float(p["up"]) < -800 and float(p["mm"]) > 0
    assert sim.futures.check_margin_calls(1002.0) == []  # at most once a minute
    await ws.close()


def test_bad_futures_settings_are_refused_clearly():
    from exconnect.sim.server import Simulator

    with pytest.raises(ValueError, match="funding_interval_s"):
        Simulator(config(funding_interval_s=0))


async def test_bad_helper_arguments(env):
    sim, c = env
    for bad in ("-1", "0.9", "abc"):
        with pytest.raises(ValueError):
            sim.futures.set_index_premium("BTCUSDT", bad)
    with pytest.raises(TypeError):
        sim.futures.set_index_premium("BTCUSDT", 0.001)
    with pytest.raises(ValueError):
        await sim.futures.take("BTCUSDT", "UP", "1")
    with pytest.raises(ValueError):
        await sim.futures.take("BTCUSDT", "BUY", "-1")
    with pytest.raises(ValueError):
        sim.futures.set_mid("BTCUSDT", "60000.05")  # not on the tick
    assert (await c.public("/fapi/v1/ping"))[0] == 200
