"""Spot trading endpoints over real sockets: placement, fills, fees, queries, cancels, errors."""
import time

import pytest

from exconnect.sim import money

P = money.parse


def top(sim, symbol="BTCUSDT"):
    b = sim.spot.books[symbol]
    return b.best_bid(), b.best_ask()


async def limit(client, side="BUY", price="50000", qty="0.001", **kw):
    return await client.order(symbol="BTCUSDT", side=side, type="LIMIT", timeInForce=kw.pop("tif", "GTC"),
                              quantity=qty, price=price, **kw)


async def test_limit_rests_with_full_response_and_locks_balance(client, sim):
    r = await limit(client, price="50000.00", qty="0.01", newClientOrderId="my-1")
    assert r.status == 200
    b = r.body
    assert b["status"] == "NEW" and b["clientOrderId"] == "my-1" and b["orderListId"] == -1
    assert b["price"] == "50000.00000000" and b["origQty"] == "0.01000000" and b["executedQty"] == "0.00000000"
    assert b["fills"] == [] and b["timeInForce"] == "GTC" and b["selfTradePreventionMode"] == "EXPIRE_MAKER"
    assert b["workingTime"] == b["transactTime"]
    assert sim.spot.balances()["USDT"] == ("999500.00000000", "500.00000000")


async def test_response_types(client):
    r = await limit(client, newOrderRespType="ACK")
    assert set(r.body) == {"symbol", "orderId", "orderListId", "clientOrderId", "transactTime"}
    r = await limit(client, newOrderRespType="RESULT")
    assert "fills" not in r.body and r.body["status"] == "NEW"
    r = await limit(client, newOrderRespType="NOPE")
    assert r.body["code"] == -1100


async def test_crossing_limit_fills_at_maker_prices_with_fees(client, sim):
    (_, _), (ask, ask_qty) = top(sim)
    sim.spot.add_liquidity("BTCUSDT", "SELL", money.text(ask), "0.5")   # make the top deep enough
    r = await limit(client, price=money.text(ask + P("100")), qty="0.02")
    b = r.body
    assert b["status"] == "FILLED" and b["executedQty"] == "0.02000000"
    fills = b["fills"]
    assert fills[0]["price"] == money.text(ask)
    assert sum(P(f["qty"]) for f in fills) == P("0.02")
    assert all(f["commissionAsset"] == "BTC" for f in fills)
    assert sum(P(f["commission"]) for f in fills) == P("0.00002")      # 0.1 % of 0.02 BTC
    quote = sum(money.mul(P(f["price"]), P(f["qty"])) for f in fills)
    assert P(b["cummulativeQuoteQty"]) == quote
    bal = sim.spot.balances()
    assert bal["BTC"] == (money.text(P("100") + P("0.02") - P("0.00002")), "0.00000000")
    assert bal["USDT"] == (money.text(P("1000000") - quote), "0.00000000")   # lock fully released


async def test_sell_fee_in_quote_and_my_trades(client, sim):
    (bid, _), _ = top(sim)
    r = await client.order(symbol="BTCUSDT", side="SELL", type="MARKET", quantity="0.001")
    assert r.body["status"] == "FILLED" and r.body["fills"][0]["commissionAsset"] == "USDT"
    oid = r.body["orderId"]
    quote = P(r.body["cummulativeQuoteQty"])
    assert P(r.body["fills"][0]["commission"]) == quote // 1000
    t = (await client.get("/api/v3/myTrades", {"symbol": "BTCUSDT"}, signed=True)).body
    assert len(t) == 1 and t[0]["orderId"] == oid and t[0]["isBuyer"] is False and t[0]["isMaker"] is False
    assert t[0]["commission"] == r.body["fills"][0]["commission"] and t[0]["id"] == r.body["fills"][0]["tradeId"]


async def test_market_by_quote_order_qty(client, sim):
    r = await client.order(symbol="BTCUSDT", side="BUY", type="MARKET", quoteOrderQty="1000")
    b = r.body
    assert b["status"] == "FILLED" and b["origQuoteOrderQty"] == "1000.00000000"
    spent = P(b["cummulativeQuoteQty"])
    assert P("1000") - P("0.61") < spent <= P("1000")   # at most one 0.00001 step (~0.6 USDT) unspent
    r = await client.order(symbol="BTCUSDT", side="BUY", type="MARKET", quoteOrderQty="1000", quantity="1")
    assert r.body["code"] == -1106


async def test_ioc_partial_expires_and_fok_expires(client, sim):
    _, (ask, ask_qty) = top(sim)
    r = await limit(client, price=money.text(ask), qty=money.text(ask_qty + P("1")), tif="IOC")
    assert r.body["status"] == "EXPIRED" and r.body["executedQty"] == money.text(ask_qty)
    _, (ask, ask_qty) = top(sim)
    r = await limit(client, price=money.text(ask), qty=money.text(ask_qty + P("1")), tif="FOK")
    assert r.body["status"] == "EXPIRED" and r.body["executedQty"] == "0.00000000" and r.body["fills"] == []
    assert sim.spot.balances()["USDT"][1] == "0.00000000"


async def test_limit_maker(client, sim):
    _, (ask, _) = top(sim)
    r = await client.order(symbol="BTCUSDT", side="BUY", type="LIMIT_MAKER", quantity="0.001", price=money.text(ask))
    assert (r.status, r.body) == (400, {"code": -2010, "msg": "Order would immediately match and take."})
    r = await client.order(symbol="BTCUSDT", side="BUY", type="LIMIT_MAKER", quantity="0.001", price="59000")
    assert r.status == 200 and set(r.body) == {"symbol", "orderId", "orderListId", "clientOrderId", "transactTime"}
    r = await client.order(symbol="BTCUSDT", side="BUY", type="LIMIT_MAKER", quantity="0.001", price="59000", timeInForce="GTC")
    assert r.body["code"] == -1106


async def test_order_test_endpoint_validates_without_placing(client, sim):
    r = await client.post("/api/v3/order/test", {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT",
                                                  "timeInForce": "GTC", "quantity": "0.001", "price": "50000"}, signed=True)
    assert r.body == {}
    assert sim.spot.open_orders(0) == []
    r = await client.post("/api/v3/order/test", {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT",
                                                  "timeInForce": "GTC", "quantity": "0.001", "price": "1"}, signed=True)
    assert r.body == {"code": -1013, "msg": "Filter failure: NOTIONAL"}


async def test_query_and_cancel_by_both_ids(client, sim):
    a = (await limit(client, newClientOrderId="c-a")).body
    b = (await limit(client, newClientOrderId="c-b")).body
    r = await client.get("/api/v3/order", {"symbol": "BTCUSDT", "orderId": a["orderId"]}, signed=True)
    assert r.body["clientOrderId"] == "c-a" and r.body["status"] == "NEW" and r.body["isWorking"] is True
    r = await client.get("/api/v3/order", {"symbol": "BTCUSDT", "origClientOrderId": "c-b"}, signed=True)
    assert r.body["orderId"] == b["orderId"]
    r = await client.delete("/api/v3/order", {"symbol": "BTCUSDT", "origClientOrderId": "c-a", "newClientOrderId": "cx-1"}, signed=True)
    assert r.body["status"] == "CANCELED" and r.body["origClientOrderId"] == "c-a" and r.body["clientOrderId"] == "cx-1"
    # python-binance sends DELETE params in the body
    r = await client.request("DELETE", "/api/v3/order", {"symbol": "BTCUSDT", "orderId": b["orderId"]}, signed=True, in_body=True)
    assert r.body["status"] == "CANCELED"
    r = await client.delete("/api/v3/order", {"symbol": "BTCUSDT", "orderId": b["orderId"]}, signed=True)
    assert (r.status, r.body) == (400, {"code": -2011, "msg": "Unknown order sent."})
    r = await client.get("/api/v3/order", {"symbol": "BTCUSDT", "orderId": 999999}, signed=True)
    assert (r.status, r.body) == (400, {"code": -2013, "msg": "Order does not exist."})
    r = await client.get("/api/v3/order", {"symbol": "BTCUSDT", "origClientOrderId": "c-a"}, signed=True)
    assert r.body["status"] == "CANCELED"
    r = await client.get("/api/v3/order", {"symbol": "BTCUSDT"}, signed=True)
    assert r.body["code"] == -1102
    assert sim.spot.balances()["USDT"] == ("1000000.00000000", "0.00000000")


async def test_open_orders_cancel_all_and_all_orders(client, sim):
    ids = [(await limit(client, price=p)).body["orderId"] for p in ("50000", "50001", "50002")]
    await client.order(symbol="ETHUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.01", price="2000")
    r = await client.get("/api/v3/openOrders", {"symbol": "BTCUSDT"}, signed=True)
    assert [o["orderId"] for o in r.body] == ids
    r = await client.get("/api/v3/openOrders", signed=True)
    assert len(r.body) == 4
    r = await client.delete("/api/v3/openOrders", {"symbol": "BTCUSDT"}, signed=True)
    assert sorted(o["orderId"] for o in r.body) == ids and all(o["status"] == "CANCELED" for o in r.body)
    r = await client.delete("/api/v3/openOrders", {"symbol": "BTCUSDT"}, signed=True)
    assert r.body == {"code": -2011, "msg": "Unknown order sent."}
    r = await client.get("/api/v3/allOrders", {"symbol": "BTCUSDT"}, signed=True)
    assert [o["orderId"] for o in r.body] == ids
    r = await client.get("/api/v3/allOrders", {"symbol": "BTCUSDT", "orderId": ids[1], "limit": 1}, signed=True)
    assert [o["orderId"] for o in r.body] == [ids[1]]


async def test_duplicate_client_id_only_while_open(client):
    assert (await limit(client, newClientOrderId="dup")).status == 200
    r = await limit(client, newClientOrderId="dup")
    assert r.body == {"code": -2010, "msg": "Duplicate order sent."}
    await client.delete("/api/v3/order", {"symbol": "BTCUSDT", "origClientOrderId": "dup"}, signed=True)
    assert (await limit(client, newClientOrderId="dup")).status == 200
    r = await limit(client, newClientOrderId="bad id!")
    assert r.body["code"] == -1100


@pytest.mark.parametrize("params,code,msg", [
    ({"price": "50000.001"}, -1013, "Filter failure: PRICE_FILTER"),
    ({"quantity": "0.000001"}, -1013, "Filter failure: LOT_SIZE"),
    ({"quantity": "0.000015"}, -1013, "Filter failure: LOT_SIZE"),
    ({"quantity": "0.00001", "price": "100"}, -1013, "Filter failure: NOTIONAL"),
    ({"quantity": "100000"}, -1013, "Filter failure: LOT_SIZE"),
    ({"quantity": "50", "price": "50000"}, -2010, "Account has insufficient balance for requested action."),
    ({"quantity": "-1"}, -1100, None),
    ({"quantity": "1e3"}, -1100, None),
    ({"quantity": "99999999999999999999999999"}, -1100, None),
    ({"quantity": "0.000000001"}, -1111, "Parameter 'quantity' has too much precision."),
    ({"side": "UP"}, -1117, "Invalid side."),
    ({"type": "FANCY"}, -1116, "Invalid orderType."),
    ({"type": "STOP_LOSS"}, -1014, None),
    ({"timeInForce": "GTX"}, -1115, "Invalid timeInForce."),
    ({"timeInForce": None}, -1102, "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed."),
    ({"price": None}, -1102, None),
    ({"symbol": "XXXUSDT"}, -1121, "Invalid symbol."),
    ({"symbol": None}, -1102, None),
    ({"foo": "bar"}, -1104, "Not all sent parameters were read; read 8 parameter(s) but was sent 9."),
])
async def test_order_rejections(client, sim, params, code, msg):
    base = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.001", "price": "50000"}
    base.update(params)
    base = {k: v for k, v in base.items() if v is not None}
    r = await client.order(**base)
    assert r.status == 400 and r.body["code"] == code, r.body
    if msg:
        assert r.body["msg"] == msg
    assert sim.spot.open_orders(0) == []


async def test_market_param_rules(client):
    r = await client.order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.001", timeInForce="GTC")
    assert r.body["code"] == -1106
    r = await client.order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.001", price="1")
    assert r.body["code"] == -1106
    r = await client.order(symbol="BTCUSDT", side="BUY", type="MARKET")
    assert r.body["code"] == -1102
    r = await client.order(symbol="BTCUSDT", side="SELL", type="MARKET", quantity="1000")
    assert r.body["code"] == -2010


async def test_take_fills_user_order_partially_then_fully(client, sim):
    (bid, _), _ = top(sim)
    price = money.text(bid + P("0.01"))       # best bid after this
    o = (await limit(client, price=price, qty="0.01")).body
    fills = await sim.spot.take("BTCUSDT", "SELL", "0.004")
    assert fills == [{"price": money.text(P(price)), "qty": "0.00400000", "tradeId": fills[0]["tradeId"],
                      "makerOrderId": o["orderId"]}]
    r = await client.get("/api/v3/order", {"symbol": "BTCUSDT", "orderId": o["orderId"]}, signed=True)
    assert r.body["status"] == "PARTIALLY_FILLED" and r.body["executedQty"] == "0.00400000"
    await sim.spot.take("BTCUSDT", "SELL", "0.006")
    r = await client.get("/api/v3/order", {"symbol": "BTCUSDT", "orderId": o["orderId"]}, signed=True)
    assert r.body["status"] == "FILLED"
    t = (await client.get("/api/v3/myTrades", {"symbol": "BTCUSDT", "orderId": o["orderId"]}, signed=True)).body
    assert [x["isMaker"] for x in t] == [True, True] and [x["qty"] for x in t] == ["0.00400000", "0.00600000"]
    # maker fee 0.1 % in BTC
    assert sum(P(x["commission"]) for x in t) == P("0.00001")
    assert sim.spot.balances()["BTC"] == (money.text(P("100.00999")), "0.00000000")


async def test_my_trades_filters(client, sim):
    for _ in range(3):
        await client.order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.001")
    t = (await client.get("/api/v3/myTrades", {"symbol": "BTCUSDT"}, signed=True)).body
    ids = [x["id"] for x in t]
    assert len(ids) >= 3 and ids == sorted(ids)
    r = await client.get("/api/v3/myTrades", {"symbol": "BTCUSDT", "fromId": ids[1], "limit": 1}, signed=True)
    assert [x["id"] for x in r.body] == [ids[1]]
    r = await client.get("/api/v3/myTrades", {"symbol": "BTCUSDT", "startTime": int(time.time() * 1000) + 60000}, signed=True)
    assert r.body == []
    r = await client.get("/api/v3/myTrades", {"symbol": "BTCUSDT", "startTime": 1, "endTime": 90000000}, signed=True)
    assert r.body["code"] == -1127


async def test_self_trade_prevention_expires_own_maker(client, sim):
    (bid, _), _ = top(sim)
    price = money.text(bid + P("0.01"))
    mine = (await limit(client, side="BUY", price=price, qty="0.001")).body
    r = await client.order(symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTC", quantity="0.001", price=price)
    assert r.body["status"] == "NEW" and r.body["fills"] == []     # resting: own bid was expired
    q = (await client.get("/api/v3/order", {"symbol": "BTCUSDT", "orderId": mine["orderId"]}, signed=True)).body
    assert q["status"] == "EXPIRED_IN_MATCH"


async def test_account_endpoint(client, sim):
    await limit(client, price="50000", qty="0.01")
    r = await client.get("/api/v3/account", {"omitZeroBalances": "true"}, signed=True)
    b = r.body
    assert b["makerCommission"] == 10 and b["commissionRates"]["taker"] == "0.00100000"
    assert b["canTrade"] is True and b["permissions"] == ["SPOT"]
    usdt = next(x for x in b["balances"] if x["asset"] == "USDT")
    assert usdt == {"asset": "USDT", "free": "999500.00000000", "locked": "500.00000000"}


async def test_history_is_bounded(session):
    from exconnect.sim import Simulator
    from sim_helpers import RestClient, make_config
    async with Simulator(make_config(max_history=10)) as sim:
        venue = sim.spot
        for i in range(30):
            venue.place_order(0, "BTCUSDT", "BUY", "MARKET", qty=P("0.001"))
        keep = venue.place_order(0, "BTCUSDT", "BUY", "LIMIT", tif="GTC", qty=P("0.001"), price=P("50000")).order
        acct = venue.accounts[0]
        assert len(acct.orders) <= 11 and keep.order_id in acct.orders
        assert len(acct.trades["BTCUSDT"]) <= 11
        c = RestClient(session, sim.spot_url)
        r = await c.get("/api/v3/order", {"symbol": "BTCUSDT", "orderId": 1}, signed=True)
        assert r.body["code"] == -2013
