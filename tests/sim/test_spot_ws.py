"""Spot market streams over real WebSockets: paths, control frames, depth chains, trades, tickers."""
import asyncio

import aiohttp
import orjson
import pytest

from exconnect.sim import Simulator, money
from sim_helpers import make_config, recv_json

P = money.parse


def is_depth(m):
    d = m.get("data", m)
    return d.get("e") == "depthUpdate"


async def test_raw_stream_path(sim, session):
    async with session.ws_connect(f"{sim.spot_ws_url}/ws/btcusdt@trade") as ws:
        await sim.spot.take("BTCUSDT", "BUY", "0.01")
        m = await recv_json(ws)
        assert m["e"] == "trade" and m["s"] == "BTCUSDT" and m["m"] is False and "stream" not in m
        assert set(m) >= {"E", "t", "p", "q", "T", "M"}


async def test_combined_stream_path(sim, session):
    async with session.ws_connect(f"{sim.spot_ws_url}/stream?streams=btcusdt@aggTrade/ethusdt@trade") as ws:
        await sim.spot.take("ETHUSDT", "SELL", "0.1")
        await sim.spot.take("BTCUSDT", "SELL", "0.01")
        a = await recv_json(ws, lambda m: m["stream"] == "ethusdt@trade")
        assert a["data"]["e"] == "trade" and a["data"]["m"] is True
        b = await recv_json(ws, lambda m: m["stream"] == "btcusdt@aggTrade")
        assert b["data"]["e"] == "aggTrade" and b["data"]["f"] <= b["data"]["l"]


@pytest.mark.parametrize("path", ["/ws", "/ws/0", "/stream/ws/0", "/stream/ws"])
async def test_live_subscribe_list_unsubscribe(sim, session, path):
    async with session.ws_connect(sim.spot_ws_url + path) as ws:
        await ws.send_str(orjson.dumps({"method": "SUBSCRIBE", "params": ["btcusdt@bookTicker", "btcusdt@trade"], "id": 1}).decode())
        assert await recv_json(ws) == {"result": None, "id": 1}
        await ws.send_str('{"method":"LIST_SUBSCRIPTIONS","id":"x2"}')
        assert await recv_json(ws) == {"result": ["btcusdt@bookTicker", "btcusdt@trade"], "id": "x2"}
        await sim.spot.take("BTCUSDT", "BUY", "5")
        t = await recv_json(ws, lambda m: "u" in m and "B" in m)
        book = sim.spot.books["BTCUSDT"]
        assert t["s"] == "BTCUSDT" and P(t["a"]) >= P("60000") and "e" not in t
        await ws.send_str('{"method":"UNSUBSCRIBE","params":["btcusdt@trade"],"id":3}')
        assert await recv_json(ws, lambda m: m.get("id") == 3) == {"result": None, "id": 3}
        await ws.send_str('{"method":"LIST_SUBSCRIPTIONS","id":4}')
        assert (await recv_json(ws, lambda m: m.get("id") == 4))["result"] == ["btcusdt@bookTicker"]
    sent = [e["data"] for e in sim.ws_log if e["path"] == path]
    assert len(sent) == 4 and '"SUBSCRIBE"' in sent[0]      # tests can read back what a client sent


async def test_control_frame_errors_keep_connection(sim, session):
    async with session.ws_connect(sim.spot_ws_url + "/ws") as ws:
        await ws.send_str("not json")
        assert (await recv_json(ws))["error"]["code"] == 3
        await ws.send_str('{"method":"SUBSCRIBE","params":["nosuch@depth"],"id":5}')
        m = await recv_json(ws)
        assert m["error"]["code"] == 2 and m["id"] == 5
        await ws.send_str('{"method":"FLY","id":6}')
        assert (await recv_json(ws))["error"]["code"] == 2
        await ws.send_str('{"method":"SUBSCRIBE","params":["btcusdt@trade"],"id":{"x":1}}')
        assert (await recv_json(ws))["error"]["code"] == 2
        await ws.send_str('{"method":"SET_PROPERTY","params":["combined",true],"id":7}')
        assert await recv_json(ws) == {"result": None, "id": 7}
        await ws.send_str('{"method":"GET_PROPERTY","params":["combined"],"id":8}')
        assert await recv_json(ws) == {"result": True, "id": 8}
        await ws.send_str('{"method":"SET_PROPERTY","params":["combined","yes"],"id":9}')
        assert (await recv_json(ws))["error"]["code"] == 1
        await ws.send_str('{"method":"SUBSCRIBE","params":["btcusdt@trade"],"id":10}')
        await recv_json(ws, lambda m: m.get("id") == 10)
        await sim.spot.take("BTCUSDT", "BUY", "0.01")
        m = await recv_json(ws, lambda m: "stream" in m)       # combined now
        assert m["stream"] == "btcusdt@trade"


async def test_unknown_raw_stream_token_is_empty_connection(sim, session):
    async with session.ws_connect(sim.spot_ws_url + "/ws/garbage@@") as ws:
        await ws.send_str('{"method":"LIST_SUBSCRIPTIONS","id":1}')
        assert await recv_json(ws) == {"result": [], "id": 1}


def apply(book, levels):
    for p, q in levels:
        if P(q) == 0:
            book.pop(p, None)
        else:
            book[p] = q


@pytest.mark.parametrize("stream", ["btcusdt@depth@100ms", "btcusdt@depth", "btcusdt@depth@1000ms"])
async def test_diff_depth_chain_rebuilds_the_exact_book(sim, session, client, stream):
    """Binance's procedure: buffer, snapshot, drop u <= lastUpdateId, apply; must equal the sim book."""
    async with session.ws_connect(f"{sim.spot_ws_url}/ws/{stream}") as ws:
        await sim.spot.take("BTCUSDT", "BUY", "0.3")
        snap = (await client.get("/api/v3/depth", {"symbol": "BTCUSDT", "limit": 5000})).body
        last = snap["lastUpdateId"]
        bids = {p: q for p, q in snap["bids"]}
        asks = {p: q for p, q in snap["asks"]}
        await sim.spot.take("BTCUSDT", "SELL", "0.2")
        sim.spot.add_liquidity("BTCUSDT", "BUY", "59000", "1")
        target = sim.spot.books["BTCUSDT"].update_id
        prev_u = None
        while last < target:
            ev = await recv_json(ws, is_depth, timeout=5)
            assert ev["e"] == "depthUpdate" and ev["s"] == "BTCUSDT" and "pu" not in ev
            if prev_u is not None:
                assert ev["U"] == prev_u + 1
            prev_u = ev["u"]
            if ev["u"] <= last:
                continue
            assert ev["U"] <= last + 1 <= ev["u"]
            apply(bids, ev["b"])
            apply(asks, ev["a"])
            last = ev["u"]
        want_b, want_a = sim.spot.books["BTCUSDT"].depth(5000)
        assert sorted(((P(p), P(q)) for p, q in bids.items()), reverse=True) == want_b
        assert sorted((P(p), P(q)) for p, q in asks.items()) == want_a


@pytest.mark.parametrize("n,suffix", [(5, ""), (10, "@100ms"), (20, "@100ms")])
async def test_partial_depth(sim, session, n, suffix):
    async with session.ws_connect(f"{sim.spot_ws_url}/ws/btcusdt@depth{n}{suffix}") as ws:
        m = await recv_json(ws, timeout=3)
        assert set(m) == {"lastUpdateId", "bids", "asks"} and len(m["bids"]) == n and len(m["asks"]) == n
        want_b, _ = sim.spot.books["BTCUSDT"].depth(n)
        assert [P(p) for p, _ in m["bids"]] == [p for p, _ in want_b]


async def test_connection_lifetime_closes_socket(session):
    async with Simulator(make_config(ws_lifetime_s=0.3)) as sim:
        async with session.ws_connect(f"{sim.spot_ws_url}/ws/btcusdt@trade") as ws:
            msg = await asyncio.wait_for(ws.receive(), 5)
            assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


async def test_server_pings(session):
    async with Simulator(make_config(ws_ping_interval_s=0.2)) as sim:
        async with session.ws_connect(f"{sim.spot_ws_url}/ws", autoping=False) as ws:
            msg = await asyncio.wait_for(ws.receive(), 5)
            assert msg.type == aiohttp.WSMsgType.PING
            await ws.pong(msg.data)


@pytest.mark.parametrize("stream,event", [("btcusdt@ticker", "24hrTicker"), ("btcusdt@miniTicker", "24hrMiniTicker"),
                                          ("btcusdt@kline_1m", "kline")])
async def test_ticker_and_kline_streams(sim, session, stream, event):
    # The 1m kline only counts trades of the current minute: keep trade and first push in one minute.
    into_minute = sim.spot.clock.now_ms() % 60_000
    if into_minute > 54_000:
        await asyncio.sleep((60_000 - into_minute) / 1000 + 0.05)
    await sim.spot.take("BTCUSDT", "BUY", "0.05")
    async with session.ws_connect(f"{sim.spot_ws_url}/ws/{stream}") as ws:
        m = await recv_json(ws, timeout=5)
        assert m["e"] == event and m["s"] == "BTCUSDT"
        if event == "kline":
            assert m["k"]["i"] == "1m" and m["k"]["n"] >= 1 and P(m["k"]["v"]) == P("0.05")
        else:
            assert P(m["v"]) == P("0.05") and P(m["c"]) > 0


async def test_depth_sync_under_market_activity(session):
    """Busy market (agents at 200 actions/s): the U/u chain never breaks and the rebuilt book is exact."""
    cfg = make_config(market_activity=True, activity_rate=200)
    async with Simulator(cfg) as sim:
        async with session.ws_connect(f"{sim.spot_ws_url}/ws/btcusdt@depth@100ms") as ws:
            first = await recv_json(ws, is_depth)
            async with session.get(f"{sim.spot_url}/api/v3/depth?symbol=BTCUSDT&limit=5000") as r:
                snap = await r.json()
            last = snap["lastUpdateId"]
            assert last >= first["U"] - 1
            bids = {p: q for p, q in snap["bids"]}
            asks = {p: q for p, q in snap["asks"]}
            prev_u = first["u"]
            applied = 0
            stopped = False
            while True:
                ev = await recv_json(ws, is_depth, timeout=5)
                assert ev["U"] == prev_u + 1
                prev_u = ev["u"]
                if ev["u"] > last:
                    assert ev["U"] <= last + 1
                    apply(bids, ev["b"])
                    apply(asks, ev["a"])
                    last = ev["u"]
                    applied += 1
                if applied >= 15 and not stopped:
                    await sim.spot.agents.stop()          # freeze the market, then catch up
                    stopped = True
                if stopped and last == sim.spot.books["BTCUSDT"].update_id:
                    break
            want_b, want_a = sim.spot.books["BTCUSDT"].depth(5000)
            assert sorted(((P(p), P(q)) for p, q in bids.items()), reverse=True) == want_b
            assert sorted((P(p), P(q)) for p, q in asks.items()) == want_a
