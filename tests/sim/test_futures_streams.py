"""Futures market streams over real WebSockets: routes, depth pu chains, partial depth, markPrice,
aggTrade, bookTicker, live SUBSCRIBE/UNSUBSCRIBE, injected gaps, bad input."""
import aiohttp
import orjson
import pytest

from test_futures_support import Client, config, make_sim, next_json


@pytest.fixture
async def env():
    async with make_sim(config()) as sim:
        async with aiohttp.ClientSession() as session:
            yield sim, session


def is_depth(m):
    d = m.get("data", m)
    return isinstance(d, dict) and d.get("e") == "depthUpdate"


@pytest.mark.parametrize("route", ["/public", "/market", "/private", ""])
async def test_depth_diff_chain_on_every_route(env, route):
    sim, s = env
    ws = await s.ws_connect(f"{sim.futures_ws_url}{route}/stream?streams=btcusdt@depth@100ms")
    c = Client(s, sim.futures_url)
    _, snap, _ = await c.public("/fapi/v1/depth", symbol="BTCUSDT", limit="1000")
    prev_u = None
    for i in range(3):
        await sim.futures.take("BTCUSDT", "BUY" if i % 2 else "SELL", "0.05")
        env_ = await next_json(ws, is_depth)
        assert env_["stream"] == "btcusdt@depth@100ms"
        ev = env_["data"]
        assert {"E", "T", "s", "U", "u", "pu", "b", "a"} <= set(ev)
        if prev_u is None:
            assert ev["u"] >= snap["lastUpdateId"]  # the first event overlaps or follows the snapshot
        else:
            assert ev["pu"] == prev_u
        prev_u = ev["u"]
    await ws.close()


async def test_raw_paths_subscribe_unsubscribe_and_list(env):
    sim, s = env
    ws = await s.ws_connect(f"{sim.futures_ws_url}/public/ws/0")  # ccxt: numeric stream index
    await ws.send_str(orjson.dumps({"method": "SUBSCRIBE", "params": ["btcusdt@bookTicker", "btcusdt@aggTrade"], "id": 1}).decode())
    assert await next_json(ws, lambda m: m.get("id") == 1) == {"result": None, "id": 1}
    await ws.send_str('{"method":"LIST_SUBSCRIPTIONS","id":2}')
    assert (await next_json(ws, lambda m: m.get("id") == 2))["result"] == ["btcusdt@aggTrade", "btcusdt@bookTicker"]
    await sim.futures.take("BTCUSDT", "BUY", "0.2")
    agg = await next_json(ws, lambda m: m.get("e") == "aggTrade")
    assert {"E", "s", "a", "p", "q", "f", "l", "T", "m"} <= set(agg) and agg["m"] is False
    bt = await next_json(ws, lambda m: m.get("e") == "bookTicker")
    assert {"u", "E", "T", "s", "b", "B", "a", "A"} <= set(bt)
    await ws.send_str('{"method":"UNSUBSCRIBE","params":["btcusdt@aggTrade","btcusdt@bookTicker"],"id":3}')
    assert await next_json(ws, lambda m: m.get("id") == 3) == {"result": None, "id": 3}
    await ws.send_str('{"method":"SUBSCRIBE","params":["nosuch@depth"],"id":4}')
    err = await next_json(ws, lambda m: m.get("id") == 4)
    assert err["error"]["code"] == 2
    await ws.send_str("not json")
    assert (await next_json(ws, lambda m: "error" in m))["error"]["code"] == 3
    await ws.close()


async def test_raw_multi_stream_path_and_partial_depth(env):
    sim, s = env
    ws = await s.ws_connect(f"{sim.futures_ws_url}/ws/btcusdt@depth5@100ms/ethusdt@depth10")
    seen = {}
    while len(seen) < 2:
        m = await next_json(ws, is_depth)
        seen[m["s"]] = m
    assert len(seen["BTCUSDT"]["b"]) == 5 and len(seen["BTCUSDT"]["a"]) == 5
    assert len(seen["ETHUSDT"]["b"]) == 10
    assert {"U", "u", "pu", "T"} <= set(seen["BTCUSDT"])
    await ws.close()


async def test_mark_price_streams(env):
    sim, s = env
    ws = await s.ws_connect(f"{sim.futures_ws_url}/market/stream?streams=btcusdt@markPrice@1s/!markPrice@arr@1s")
    single = await next_json(ws, lambda m: m["stream"] == "btcusdt@markPrice@1s")
    d = single["data"]
    assert d["e"] == "markPriceUpdate" and {"p", "ap", "P", "i", "r", "T"} <= set(d)
    assert d["r"] == "0.00010000" and d["T"] % (8 * 3600 * 1000) == 0
    arr = await next_json(ws, lambda m: m["stream"] == "!markPrice@arr@1s")
    assert {x["s"] for x in arr["data"]} == {"BTCUSDT", "ETHUSDT"}
    await ws.close()


async def test_mark_follows_mid(env):
    sim, s = env
    sim.futures.set_mid("BTCUSDT", "61000")
    c = Client(s, sim.futures_url)
    _, p, _ = await c.public("/fapi/v1/premiumIndex", symbol="BTCUSDT")
    assert abs(float(p["markPrice"]) - 61000) < 1


async def test_depth_gap_fault_breaks_pu_chain(env):
    sim, s = env
    ws = await s.ws_connect(f"{sim.futures_ws_url}/public/ws/btcusdt@depth@100ms")
    await sim.futures.take("BTCUSDT", "SELL", "0.05")
    first = await next_json(ws, is_depth)
    sim.faults.depth_gap("BTCUSDT")
    await sim.futures.take("BTCUSDT", "SELL", "0.05")
    sim.futures.market.tick()  # drain now (no await in between): this batch is the one dropped
    await sim.futures.take("BTCUSDT", "BUY", "0.05")
    nxt = await next_json(ws, is_depth)
    assert nxt["pu"] != first["u"] and nxt["U"] > first["u"] + 1  # the client can see the gap
    await ws.close()


async def test_user_and_market_streams_share_a_combined_socket(env):
    sim, s = env
    c = Client(s, sim.futures_url)
    key = (await c.key_only("POST", "/fapi/v1/listenKey"))[1]["listenKey"]
    ws = await s.ws_connect(f"{sim.futures_ws_url}/stream?streams=btcusdt@aggTrade/{key}")
    await c.ok("POST", "/fapi/v1/order", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.010")
    u = await next_json(ws, lambda m: m["stream"] == key)
    assert u["data"]["e"] == "ORDER_TRADE_UPDATE"
    a = await next_json(ws, lambda m: m["stream"] == "btcusdt@aggTrade")
    assert a["data"]["s"] == "BTCUSDT"
    await ws.close()


@pytest.mark.parametrize("stream", ["btcusdt@depth", "btcusdt@depth@500ms"])
async def test_depth_default_and_500ms_chains(env, stream):
    sim, s = env
    ws = await s.ws_connect(f"{sim.futures_ws_url}/public/stream?streams={stream}")
    prev = None
    for i in range(2):
        await sim.futures.take("BTCUSDT", "BUY" if i else "SELL", "0.05")
        ev = await next_json(ws, is_depth)
        assert ev["stream"] == stream
        if prev is not None:
            assert ev["data"]["pu"] == prev["data"]["u"]
        prev = ev
    await ws.close()


async def test_three_second_mark_price_streams(env):
    sim, s = env
    ws = await s.ws_connect(f"{sim.futures_ws_url}/market/stream?streams=ethusdt@markPrice/!markPrice@arr")
    sim.futures.publish_mark_prices(every_3s=True)  # what the 1 s timer does every third tick
    got = {}
    while len(got) < 2:
        m = await next_json(ws, lambda m: True)
        got[m["stream"]] = m["data"]
    assert got["ethusdt@markPrice"]["s"] == "ETHUSDT"
    assert len(got["!markPrice@arr"]) == 2
    await ws.close()
