"""Fault injection, per config and at run time."""
import asyncio
import time

import aiohttp
import pytest

from exconnect.sim import Simulator, money
from exconnect.sim.config import FaultConfig
from sim_helpers import RestClient, make_config, recv_json, ws_api_call, ws_signed_params


async def test_drop_ws_aborts_connections(sim, session):
    ws1 = await session.ws_connect(f"{sim.spot_ws_url}/ws/btcusdt@trade")
    ws2 = await session.ws_connect(f"{sim.spot_ws_url}/ws-api/v3")
    assert sim.faults.drop_ws("market") == 1
    msg = await asyncio.wait_for(ws1.receive(), 5)
    assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)
    r = await ws_api_call(ws2, "ping")            # other kinds untouched
    assert r["status"] == 200
    assert sim.faults.drop_ws() == 1
    msg = await asyncio.wait_for(ws2.receive(), 5)
    assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)


async def test_depth_gap(sim, session):
    async with session.ws_connect(f"{sim.spot_ws_url}/ws/btcusdt@depth@100ms") as ws:
        await sim.spot.take("BTCUSDT", "BUY", "0.1")
        first = await recv_json(ws, lambda m: m.get("e") == "depthUpdate")
        sim.faults.depth_gap("BTCUSDT")
        await sim.spot.take("BTCUSDT", "BUY", "0.1")
        sim.spot.publisher.tick()          # this batch is dropped
        await sim.spot.take("BTCUSDT", "SELL", "0.1")
        nxt = await recv_json(ws, lambda m: m.get("e") == "depthUpdate")
        assert nxt["U"] > first["u"] + 1


async def test_rest_errors_and_timeouts_next(sim, client):
    sim.faults.rest_errors_next(2, status=502)
    r = await client.get("/api/v3/time")
    assert r.status == 502 and r.body["code"] == -1001
    assert (await client.get("/api/v3/time")).status == 502
    assert (await client.get("/api/v3/time")).status == 200
    sim.faults.rest_timeouts_next(1)
    with pytest.raises(asyncio.TimeoutError):
        await client.get("/api/v3/ping", timeout=0.3)
    assert (await client.get("/api/v3/ping")).status == 200


async def test_custom_error_answer(sim, client):
    sim.faults.rest_fault_path = "/api/v3/order"
    sim.faults.rest_errors_next(1, status=400, code=-1021, msg="Timestamp for this request is outside of the recvWindow.")
    assert (await client.get("/api/v3/ping")).status == 200          # other paths untouched
    r = await client.get("/api/v3/order", {"symbol": "BTCUSDT", "orderId": 1}, signed=True)
    assert (r.status, r.body["code"]) == (400, -1021)
    r = await client.get("/api/v3/order", {"symbol": "BTCUSDT", "orderId": 1}, signed=True)
    assert r.body["code"] == -2013


async def test_rest_error_not_executed(sim, client):
    sim.faults.rest_errors_next(1)
    r = await client.order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.001", price="50000")
    assert r.status == 503 and sim.spot.open_orders(0) == []


async def test_fault_path_filter_and_rates(session):
    cfg = make_config(faults=FaultConfig(rest_error_rate=1.0))
    async with Simulator(cfg) as sim:
        c = RestClient(session, sim.spot_url)
        assert (await c.get("/api/v3/ping")).status == 503
        sim.faults.rest_fault_path = "/api/v3/order"
        assert (await c.get("/api/v3/ping")).status == 200
        sim.faults.clear()
        assert (await c.get("/api/v3/order", {"symbol": "BTCUSDT", "orderId": 1}, signed=True)).status == 400


async def test_rest_delay_still_answers(sim, client):
    sim.faults.rest_delay = 0.05
    assert sim.faults.rest_delay_ms == 50
    assert (await client.get("/api/v3/ping")).status == 200


async def test_order_503_but_placed(sim, client):
    sim.faults.order_503_but_placed_next(1)
    r = await client.order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.001",
                           price="50000", newClientOrderId="ghost")
    assert r.status == 503
    assert r.body == {"code": -1000, "msg": "Unknown error, please check your request or try again later."}
    q = await client.get("/api/v3/order", {"symbol": "BTCUSDT", "origClientOrderId": "ghost"}, signed=True)
    assert q.status == 200 and q.body["status"] == "NEW"


async def test_duplicate_and_reorder_user_events(sim, session, client):
    ws = await session.ws_connect(sim.spot_ws_url + "/ws-api/v3")
    await ws_api_call(ws, "userDataStream.subscribe.signature", ws_signed_params())
    sim.faults.duplicate_user_events_next(1)
    await client.order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.001", price="50000")
    a = await recv_json(ws, lambda m: "event" in m)
    b = await recv_json(ws, lambda m: "event" in m)
    assert a == b and a["event"]["e"] == "executionReport"
    c = await recv_json(ws, lambda m: "event" in m)
    assert c["event"]["e"] == "outboundAccountPosition"
    sim.faults.reorder_user_events_next(1)
    await client.order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.001", price="50001")
    first = await recv_json(ws, lambda m: "event" in m)
    second = await recv_json(ws, lambda m: "event" in m)
    assert first["event"]["e"] == "outboundAccountPosition" and second["event"]["e"] == "executionReport"
    await ws.close()


async def test_reordered_last_event_is_flushed(sim, session):
    ws = await session.ws_connect(sim.spot_ws_url + "/ws-api/v3")
    await ws_api_call(ws, "userDataStream.subscribe.signature", ws_signed_params())
    sim.faults.reorder_user_events_next(1)
    sim.spot.user_streams.emit(0, {"e": "balanceUpdate", "E": 1, "a": "X", "d": "1", "T": 1})
    m = await recv_json(ws, lambda m: "event" in m, timeout=3)
    assert m["event"]["a"] == "X"
    await ws.close()


async def test_clock_skew(sim, client):
    sim.faults.clock_skew_ms = 30_000
    r = await client.get("/api/v3/account", signed=True)
    assert r.body["code"] == -1021
    server = (await client.get("/api/v3/time")).body["serverTime"]
    assert server - int(time.time() * 1000) > 25_000
    r = await client.get("/api/v3/account", signed=True, timestamp=server)
    assert r.status == 200


async def test_server_shutdown_announced_then_dropped(sim, session):
    raw = await session.ws_connect(f"{sim.spot_ws_url}/ws/btcusdt@trade")
    comb = await session.ws_connect(f"{sim.spot_ws_url}/stream?streams=btcusdt@trade")
    api = await session.ws_connect(f"{sim.spot_ws_url}/ws-api/v3")
    assert sim.faults.server_shutdown(close_after_s=0.2) == 3
    assert (await recv_json(raw))["e"] == "serverShutdown"
    assert (await recv_json(comb))["stream"] == "!serverShutdown"
    assert (await recv_json(api))["event"]["e"] == "serverShutdown"
    msg = await asyncio.wait_for(raw.receive(), 5)
    assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)


async def test_incoming_message_limit(session):
    async with Simulator(make_config(ws_max_incoming_per_s=5)) as sim:
        async with session.ws_connect(f"{sim.spot_ws_url}/ws") as ws:
            for i in range(10):
                await ws.send_str(f'{{"method":"LIST_SUBSCRIPTIONS","id":{i}}}')
            got = []
            while True:
                msg = await asyncio.wait_for(ws.receive(), 5)
                if msg.type != aiohttp.WSMsgType.TEXT:
                    break
                got.append(msg.data)
            assert len(got) == 5 and ws.close_code == 1008


async def test_response_delay_events_beat_the_ack(sim, session, client):
    ws = await session.ws_connect(sim.spot_ws_url + "/ws-api/v3")
    await ws_api_call(ws, "userDataStream.subscribe.signature", ws_signed_params())
    sim.faults.rest_fault_path = "/api/v3/order"
    sim.faults.response_delay_ms = 2000
    task = asyncio.ensure_future(client.order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.001"))
    filled = await recv_json(ws, lambda m: m.get("event", {}).get("X") == "FILLED")
    assert not task.done()                 # the fill is known before the placement answer
    r = await task
    assert r.body["status"] == "FILLED" and r.body["orderId"] == filled["event"]["i"]
    await ws.close()


async def test_both_venues_name_their_streams_alike():
    """Fault drills read the same on spot and futures: users / market, and the older names."""
    from exconnect.sim import SimConfig
    async with Simulator(SimConfig.default(seed=7, market_activity=False)) as sim:
        for venue in (sim.spot, sim.futures):
            assert venue.users is venue.user_streams and venue.market is venue.publisher
        assert sim.spot.users is not sim.futures.users
