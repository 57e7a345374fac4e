"""Bad input gets Binance errors and the server keeps serving."""
import aiohttp
import pytest
import yarl

from exconnect.sim import Simulator
from sim_helpers import make_config


async def test_garbage_requests(sim, client, session):
    base = sim.spot_url
    cases = [
        ("GET", "/api/v3/depth?symbol=BTCUSDT&symbol=ETHUSDT", None, -1101),
        ("GET", "/api/v3/depth?symbol=%FF%FE", None, -1100),
        ("GET", "/api/v3/depth?symbol=BTCUSDT&limit=-5", None, -1100),
        ("GET", "/api/v3/depth?symbol=BTCUSDT&limit=99999999999999999999999", None, None),
        ("GET", "/api/v3/trades?symbol=", None, -1102),
        ("GET", "/api/v3/exchangeInfo?symbols=%5B1%2C2%5D", None, -1100),
        ("POST", "/api/v3/order", b'{"symbol":"BTCUSDT"}', -2015),
        ("POST", "/api/v3/order", b"\xff\xfe\x00", -1100),
        ("GET", "/api/v3/klines?symbol=BTCUSDT", None, -1102),
    ]
    for method, path, body, code in cases:
        async with session.request(method, yarl.URL(base + path, encoded=True), data=body) as r:
            assert 400 <= r.status < 500, (path, r.status, await r.text())
            payload = await r.json(content_type=None)
            if code is not None:
                assert payload["code"] == code, (path, payload)
            else:
                assert payload["code"] < 0
    async with session.get(base + "/api/v3/nothing") as r:
        assert r.status == 404
    assert (await client.get("/api/v3/ping")).status == 200


async def test_signed_garbage(client):
    r = await client.order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                           quantity="1" * 40, price="50000")
    assert r.body["code"] == -1100
    r = await client.get("/api/v3/order", {"symbol": "BTCUSDT", "orderId": "abc"}, signed=True)
    assert r.body["code"] == -1100
    r = await client.get("/api/v3/order", {"symbol": "BTCUSDT", "orderId": "9" * 30}, signed=True)
    assert r.body["code"] < 0 and r.status == 400
    r = await client.get("/api/v3/account", {"recvWindow": "abc"}, signed=True)
    assert r.body["code"] == -1100
    r = await client.get("/api/v3/account", signed=True, raw_query="timestamp=notanumber")
    assert r.body["code"] == -1100
    assert (await client.get("/api/v3/account", signed=True)).status == 200


async def test_ws_garbage(sim, session):
    async with session.ws_connect(sim.spot_ws_url + "/ws") as ws:
        await ws.send_bytes(b"\x00\x01")
        await ws.send_str('{"method":"SUBSCRIBE","params":"btcusdt@trade","id":1}')
        await ws.send_str("[1,2,3]")
        await ws.send_str('{"method":"SUBSCRIBE","params":["' + "a" * 5000 + '@trade"],"id":2}')
        await ws.send_str('{"method":"LIST_SUBSCRIPTIONS","id":3}')
        got = []
        while True:
            m = await ws.receive_json(timeout=5)
            got.append(m)
            if m.get("id") == 3:
                break
        assert got[-1] == {"result": [], "id": 3} and len(got) == 4


async def test_many_symbols_and_accounts_config(session):
    from exconnect.sim import AccountConfig, SymbolConfig
    cfg = make_config(
        spot_symbols=[SymbolConfig(symbol="SOLUSDT", base_asset="SOL", quote_asset="USDT", tick_size="0.001",
                                   step_size="0.01", min_qty="0.01", initial_price="150")],
        accounts=[AccountConfig(api_key="a", api_secret="sa", balances={"USDT": "100"}),
                  AccountConfig(api_key="b", api_secret="sb", balances={"SOL": "10"})],
        book_levels=1000)
    async with Simulator(cfg) as sim:
        from sim_helpers import RestClient
        a = RestClient(session, sim.spot_url, "a", "sa")
        b = RestClient(session, sim.spot_url, "b", "sb")
        r = await b.order(symbol="SOLUSDT", side="SELL", type="LIMIT", timeInForce="GTC", quantity="1", price="149.990")
        assert r.body["status"] in ("NEW", "FILLED")
        r = await a.order(symbol="SOLUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity="1", price="500")
        assert r.body["code"] == -2010      # 500 USDT locked > 100
        d = (await a.get("/api/v3/depth", {"symbol": "SOLUSDT", "limit": 1000})).body
        assert len(d["bids"]) == 1000


@pytest.mark.parametrize("rw", ["nan", "inf", "1e9", "-5", "5000.1234"])
async def test_bad_recv_window(client, rw):
    r = await client.get("/api/v3/account", {"recvWindow": rw}, signed=True)
    assert r.status == 400 and r.body["code"] == -1100


async def test_recv_window_with_microseconds(client):
    r = await client.get("/api/v3/account", {"recvWindow": "5000.125"}, signed=True)
    assert r.status == 200


async def test_non_ascii_signature_is_a_bad_signature(sim, session, client):
    import time as _time
    body = f"symbol=BTCUSDT&timestamp={int(_time.time() * 1000)}&signature=".encode() + "é".encode()
    async with session.post(sim.spot_url + "/api/v3/order", data=body,
                            headers={"X-MBX-APIKEY": "sim-key", "Content-Type": "application/x-www-form-urlencoded"}) as r:
        assert r.status == 400 and (await r.json())["code"] == -1022
    from sim_helpers import ws_api_call, ws_signed_params
    async with session.ws_connect(sim.spot_ws_url + "/ws-api/v3") as ws:
        p = ws_signed_params()
        p["signature"] = "ü" * 64
        r = await ws_api_call(ws, "session.logon", p)
        assert r["error"]["code"] == -1022
