"""Bad input never crashes the futures side: every route answers junk with a Binance 4xx error."""
import aiohttp
import pytest

from test_futures_support import Client, config, make_sim

ROUTES = [
    ("GET", "/fapi/v1/depth"), ("GET", "/fapi/v1/trades"), ("GET", "/fapi/v1/aggTrades"),
    ("GET", "/fapi/v1/klines"), ("GET", "/fapi/v1/premiumIndex"), ("GET", "/fapi/v1/fundingRate"),
    ("GET", "/fapi/v1/ticker/24hr"), ("GET", "/fapi/v1/ticker/bookTicker"), ("GET", "/fapi/v1/ticker/price"),
    ("POST", "/fapi/v1/order"), ("GET", "/fapi/v1/order"), ("DELETE", "/fapi/v1/order"),
    ("GET", "/fapi/v1/openOrder"), ("GET", "/fapi/v1/openOrders"), ("DELETE", "/fapi/v1/allOpenOrders"),
    ("GET", "/fapi/v1/allOrders"), ("GET", "/fapi/v1/userTrades"), ("POST", "/fapi/v1/leverage"),
    ("GET", "/fapi/v1/leverageBracket"), ("POST", "/fapi/v1/marginType"), ("POST", "/fapi/v1/positionSide/dual"),
    ("GET", "/fapi/v1/income"), ("GET", "/fapi/v1/commissionRate"), ("GET", "/fapi/v2/positionRisk"),
    ("GET", "/fapi/v3/positionRisk"), ("GET", "/fapi/v1/symbolConfig"),
]
JUNK = [
    {"symbol": "BTCUSDT", "limit": "-5", "orderId": "99999999999999999999999", "leverage": "1e3",
     "marginType": "SIDEWAYS", "dualSidePosition": "maybe", "startTime": "yesterday", "interval": "0"},
    {"symbol": "btc\u00e9usdt", "side": "BUY", "type": "LIMIT", "quantity": "1" * 40, "price": "NaN"},
    {"symbol": "", "fromId": "-1", "incomeType": "", "quantity": "0.1.2"},
    {"symbol": "BTCUSDT", "side": "SELL", "type": "MARKET", "quantity": "-0.5", "origClientOrderId": "x" * 300},
]


@pytest.fixture
async def env():
    async with make_sim(config()) as sim:
        async with aiohttp.ClientSession() as session:
            yield sim, Client(session, sim.futures_url)


async def test_junk_parameters_get_binance_errors(env):
    sim, c = env
    errors = set()
    for method, path in ROUTES:
        for i, junk in enumerate(JUNK):
            status, body, _ = await c.signed(method, path, **junk)
            # extra/unused parameters are ignored, so a junk set can still be a valid request; what
            # must never happen is a 5xx or an error without Binance's {"code","msg"} shape
            assert status < 500, (method, path, junk, status, body)
            if status != 200:
                assert 400 <= status < 500 and isinstance(body.get("code"), int) and body["code"] < 0, body
                errors.add((path, i))
    # an invalid symbol is refused by every route, whatever else is wrong
    assert all((path, 1) in errors for _, path in ROUTES)
    # still serving, nothing placed
    assert await c.ok("GET", "/fapi/v1/openOrders") == []
    assert (await c.public("/fapi/v1/ping"))[0] == 200


async def test_garbage_body_and_unknown_route(env):
    sim, c = env
    async with c.s.post(c.base + "/fapi/v1/order", data=b"\xff\xfe=%%%&&==",
                        headers={"X-MBX-APIKEY": "sim-key", "Content-Type": "application/x-www-form-urlencoded"}) as r:
        assert 400 <= r.status < 500 and (await r.json())["code"] < 0
    async with c.s.get(c.base + "/fapi/v1/nonsense") as r:
        assert r.status == 404
