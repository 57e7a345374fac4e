"""Spot REST ``/api/v3/*`` handlers: wire format in, :class:`SpotVenue` calls, wire format out.

Validation order for orders follows Binance: mandatory params (-1102), enum values
(-1115/-1116/-1117), params not allowed for the type (-1106), number syntax (-1100) and precision
(-1111), symbol (-1121), filters (-1013), then engine rejections (-2010).
"""
from __future__ import annotations

import orjson

from . import errors, money
from .rest import NONE, SIGNED, USER_STREAM, RestCall
from .spot import STP_MODES, SpotOrder

ORDER_TYPES = ("LIMIT", "MARKET", "LIMIT_MAKER")
ALL_BINANCE_TYPES = ORDER_TYPES + ("STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT")
T = money.text


def _num(call: RestCall, name: str, required: bool = False) -> int:
    v = call.get(name)
    if v is None:
        if required:
            raise errors.mandatory(name)
        return 0
    try:
        atoms = money.parse(v)
    except money.NumberError as exc:
        if exc.kind == "precision":
            raise errors.bad_precision(name)
        raise errors.BinanceError(-1100, f"Illegal characters found in parameter '{name}'; legal range is '^([0-9]{{1,20}})(\\.[0-9]{{1,20}})?$'.")
    if atoms < 0 or v.strip().startswith(("+", "-")):
        raise errors.BinanceError(-1100, f"Illegal characters found in parameter '{name}'; legal range is '^([0-9]{{1,20}})(\\.[0-9]{{1,20}})?$'.")
    return atoms


def _symbol_list(call: RestCall, venue) -> list | None:
    """``symbol=X`` or ``symbols=["X","Y"]`` → infos, None for all; -1121 / -1100 otherwise."""
    one, many = call.get("symbol"), call.get("symbols")
    if one and many:
        raise errors.BinanceError(-1128, "Combination of optional parameters invalid.")
    if one:
        return [venue.symbol(one)]
    if many:
        try:
            names = orjson.loads(many)
        except orjson.JSONDecodeError:
            raise errors.BinanceError(-1100, "Illegal characters found in parameter 'symbols'; legal range is '^\\[(\"[A-Z0-9-_.]{1,20}\"(,\"[A-Z0-9-_.]{1,20}\"){0,}){0,1}\\]$'.")
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names) or not names:
            raise errors.BinanceError(-1100, "Illegal characters found in parameter 'symbols'.")
        return [venue.symbol(n) for n in names]
    return None


def _symbol_json(info) -> dict:
    c = info.cfg
    return {
        "symbol": info.symbol, "status": "TRADING", "baseAsset": info.base, "baseAssetPrecision": 8,
        "quoteAsset": info.quote, "quotePrecision": 8, "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8, "quoteCommissionPrecision": 8,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET"],
        "icebergAllowed": False, "ocoAllowed": False, "otoAllowed": False, "opoAllowed": False,
        "quoteOrderQtyMarketAllowed": True, "allowTrailingStop": False, "cancelReplaceAllowed": False,
        "amendAllowed": False, "pegInstructionsAllowed": False,
        "isSpotTradingAllowed": True, "isMarginTradingAllowed": False,
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": T(info.min_price), "maxPrice": T(info.max_price),
             "tickSize": T(info.tick)},
            {"filterType": "LOT_SIZE", "minQty": T(info.min_qty), "maxQty": T(info.max_qty),
             "stepSize": T(info.step)},
            {"filterType": "MARKET_LOT_SIZE", "minQty": T(info.min_qty), "maxQty": T(info.market_max_qty),
             "stepSize": T(info.step)},
            {"filterType": "MIN_NOTIONAL", "minNotional": T(info.min_notional), "applyToMarket": True,
             "avgPriceMins": 5},
            {"filterType": "NOTIONAL", "minNotional": T(info.min_notional), "applyMinToMarket": True,
             "maxNotional": T(info.max_notional), "applyMaxToMarket": False, "avgPriceMins": 5},
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
        ],
        "permissions": [], "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": list(STP_MODES),
    }


def order_json(o: SpotOrder) -> dict:
    """GET /api/v3/order shape."""
    return {"symbol": o.symbol, "orderId": o.order_id, "orderListId": -1, "clientOrderId": o.client_order_id,
            "price": T(o.price), "origQty": T(o.qty), "executedQty": T(o.executed),
            "cummulativeQuoteQty": T(o.cum_quote), "status": o.status, "timeInForce": o.tif,
            "type": o.type, "side": o.side, "stopPrice": "0.00000000", "icebergQty": "0.00000000",
            "time": o.time, "updateTime": o.update_time, "isWorking": o.working_time != -1,
            "workingTime": o.working_time, "origQuoteOrderQty": T(o.quote_order_qty),
            "selfTradePreventionMode": o.stp}


def cancel_json(o: SpotOrder, cancel_id: str, now: int) -> dict:
    return {"symbol": o.symbol, "origClientOrderId": o.client_order_id, "orderId": o.order_id,
            "orderListId": -1, "clientOrderId": cancel_id, "transactTime": now, "price": T(o.price),
            "origQty": T(o.qty), "executedQty": T(o.executed), "origQuoteOrderQty": T(o.quote_order_qty),
            "cummulativeQuoteQty": T(o.cum_quote), "status": o.status, "timeInForce": o.tif,
            "type": o.type, "side": o.side, "selfTradePreventionMode": o.stp}


ORDER_PARAMS = frozenset((
    "symbol", "side", "type", "timeInForce", "quantity", "quoteOrderQty", "price", "newClientOrderId",
    "strategyId", "strategyType", "stopPrice", "trailingDelta", "icebergQty", "newOrderRespType",
    "selfTradePreventionMode", "pegPriceType", "pegOffsetValue", "pegOffsetType", "recvWindow",
    "timestamp", "signature", "computeCommissionRates", "apiKey"))


def parse_new_order(call: RestCall, venue) -> dict:
    """Validate POST /api/v3/order params → keyword args for SpotVenue.place_order."""
    unread = [k for k in call.params if k not in ORDER_PARAMS]
    if unread:
        n = len(call.params)
        raise errors.BinanceError(
            -1104, f"Not all sent parameters were read; read {n - len(unread)} parameter(s) but was sent {n}.")
    symbol = call.require("symbol")
    side = call.require("side")
    otype = call.require("type")
    if side not in ("BUY", "SELL"):
        raise errors.bad_enum("side", side)
    if otype not in ALL_BINANCE_TYPES:
        raise errors.bad_enum("type", otype)
    if otype not in ORDER_TYPES:
        raise errors.BinanceError(-1014, "Unsupported order combination.")
    tif = call.get("timeInForce")
    if tif is not None and tif not in ("GTC", "IOC", "FOK"):
        raise errors.bad_enum("timeInForce", tif)
    resp_type = call.get("newOrderRespType")
    if resp_type is not None and resp_type not in ("ACK", "RESULT", "FULL"):
        raise errors.BinanceError(-1100, "Illegal characters found in parameter 'newOrderRespType'; legal range is 'ACK, RESULT, FULL'.")
    stp = call.get("selfTradePreventionMode", "EXPIRE_MAKER")
    if stp not in STP_MODES:
        raise errors.BinanceError(-1100, f"Illegal characters found in parameter 'selfTradePreventionMode'; legal range is '{', '.join(STP_MODES)}'.")
    for unsupported in ("stopPrice", "trailingDelta", "icebergQty", "pegPriceType"):
        if call.get(unsupported) is not None:
            raise errors.not_required(unsupported)
    if otype == "LIMIT":
        if tif is None:
            raise errors.mandatory("timeInForce")
        qty = _num(call, "quantity", True)
        price = _num(call, "price", True)
        if call.get("quoteOrderQty") is not None:
            raise errors.not_required("quoteOrderQty")
        quote = 0
    elif otype == "LIMIT_MAKER":
        if tif is not None:
            raise errors.not_required("timeInForce")
        qty = _num(call, "quantity", True)
        price = _num(call, "price", True)
        quote = 0
    else:
        if tif is not None:
            raise errors.not_required("timeInForce")
        if call.get("price") is not None:
            raise errors.not_required("price")
        has_q, has_qq = call.get("quantity") is not None, call.get("quoteOrderQty") is not None
        if has_q and has_qq:
            raise errors.not_required("quoteOrderQty")
        if not has_q and not has_qq:
            raise errors.mandatory("quantity")
        qty = _num(call, "quantity")
        quote = _num(call, "quoteOrderQty")
        price = 0
        if has_qq and quote <= 0:
            raise errors.filter_failure("NOTIONAL")
    strategy_type = call.get_int("strategyType")
    if strategy_type is not None and strategy_type < 1000000:
        raise errors.BinanceError(-1134, "strategyType was less than 1000000.")
    venue.symbol(symbol)
    return dict(symbol=symbol, side=side, order_type=otype, tif=tif if otype == "LIMIT" else None,
                qty=qty, price=price, quote_qty=quote, client_order_id=call.get("newClientOrderId"),
                stp=stp, strategy_id=call.get_int("strategyId"), strategy_type=strategy_type,
                resp_type=resp_type or ("FULL" if otype in ("LIMIT", "MARKET") else "ACK"))


def add_routes(sim, venue) -> None:
    api = sim.spot_rest
    clock = sim.clock

    async def ping(call):
        return {}

    async def time_(call):
        return {"serverTime": clock.now_ms()}

    async def exchange_info(call):
        infos = _symbol_list(call, venue)
        if infos is None:
            infos = list(venue.symbols.values())
        return {"timezone": "UTC", "serverTime": clock.now_ms(),
                "rateLimits": api.limiter.exchange_info_limits(), "exchangeFilters": [],
                "symbols": [_symbol_json(i) for i in infos]}

    def depth_weight(p):
        try:
            n = int(p.get("limit") or 100)
        except ValueError:
            return 5
        return 5 if n <= 100 else 25 if n <= 500 else 50 if n <= 1000 else 250

    async def depth(call):
        info = venue.symbol(call.get("symbol"))
        limit = call.get_int("limit", 100, lo=1)
        limit = min(limit, 5000)
        book = venue.books[info.symbol]
        bids, asks = book.depth(limit)
        return {"lastUpdateId": book.update_id, "bids": [[T(p), T(q)] for p, q in bids],
                "asks": [[T(p), T(q)] for p, q in asks]}

    async def trades(call):
        info = venue.symbol(call.get("symbol"))
        limit = min(call.get_int("limit", 500, lo=1), 1000)
        from_id = call.get_int("fromId", lo=0)
        tape = venue.publisher.tapes[info.symbol].trades
        if from_id is not None:
            items = [t for t in tape if t.trade_id >= from_id][:limit]
        else:
            items = list(tape)[-limit:]
        return [{"id": t.trade_id, "price": T(t.price), "qty": T(t.qty), "quoteQty": T(t.quote),
                 "time": t.time, "isBuyerMaker": t.buyer_maker, "isBestMatch": True} for t in items]

    async def agg_trades(call):
        info = venue.symbol(call.get("symbol"))
        limit = min(call.get_int("limit", 500, lo=1), 1000)
        from_id = call.get_int("fromId", lo=0)
        start, end = call.get_int("startTime", lo=0), call.get_int("endTime", lo=0)
        aggs = venue.publisher.tapes[info.symbol].aggs
        if from_id is not None:
            items = [a for a in aggs if a.agg_id >= from_id][:limit]
        elif start is not None or end is not None:
            items = [a for a in aggs if (start is None or a.time >= start) and (end is None or a.time <= end)][:limit]
        else:
            items = list(aggs)[-limit:]
        return [{"a": a.agg_id, "p": T(a.price), "q": T(a.qty), "f": a.first_id, "l": a.last_id,
                 "T": a.time, "m": a.buyer_maker, "M": True} for a in items]

    intervals = {"1s": 1000, "1m": 60000, "3m": 180000, "5m": 300000, "15m": 900000, "30m": 1800000,
                 "1h": 3600000, "2h": 7200000, "4h": 14400000, "6h": 21600000, "8h": 28800000,
                 "12h": 43200000, "1d": 86400000, "3d": 259200000, "1w": 604800000}

    async def klines(call):
        info = venue.symbol(call.get("symbol"))
        iv_name = call.require("interval")
        iv = intervals.get(iv_name)
        if iv is None:
            raise errors.BinanceError(-1120, "Invalid interval.")
        limit = min(call.get_int("limit", 500, lo=1), 1000)
        buckets: dict[int, list] = {}
        for t in venue.publisher.tapes[info.symbol].trades:
            k = t.time - t.time % iv
            b = buckets.get(k)
            if b is None:
                buckets[k] = [t.price, t.price, t.price, t.price, t.qty, t.quote, 1, 0, 0]
            else:
                b[1] = max(b[1], t.price)
                b[2] = min(b[2], t.price)
                b[3] = t.price
                b[4] += t.qty
                b[5] += t.quote
                b[6] += 1
            if not t.buyer_maker:
                buckets[k][7] += t.qty
                buckets[k][8] += t.quote
        out = []
        for k in sorted(buckets)[-limit:]:
            o, h, lo_, c, v, qv, n, tbv, tqv = buckets[k]
            out.append([k, T(o), T(h), T(lo_), T(c), T(v), k + iv - 1, T(qv), n, T(tbv), T(tqv), "0"])
        return out

    def _ticker24(info) -> dict:
        book = venue.books[info.symbol]
        now = clock.now_ms()
        last = book.last_price or venue.reference_price(info)
        w = venue.publisher.tapes[info.symbol].window(now - 86400000, now, last)
        bb, ba = book.best_bid() or (0, 0), book.best_ask() or (0, 0)
        change = last - w.open
        pct = (change * 100 * money.ONE // w.open) if w.open else 0
        wavg = (w.quote_volume * money.ONE // w.volume) if w.volume else last
        return {"symbol": info.symbol, "priceChange": T(change), "priceChangePercent": money.trimmed(pct),
                "weightedAvgPrice": T(wavg), "prevClosePrice": T(w.open), "lastPrice": T(last),
                "lastQty": T(book.last_qty), "bidPrice": T(bb[0]), "bidQty": T(bb[1]), "askPrice": T(ba[0]),
                "askQty": T(ba[1]), "openPrice": T(w.open), "highPrice": T(w.high), "lowPrice": T(w.low),
                "volume": T(w.volume), "quoteVolume": T(w.quote_volume), "openTime": now - 86400000,
                "closeTime": now, "firstId": w.first_id, "lastId": w.last_id, "count": w.count}

    def _multi(call, fn):
        infos = _symbol_list(call, venue)
        if infos is not None and call.get("symbol"):
            return fn(infos[0])
        return [fn(i) for i in (infos or venue.symbols.values())]

    async def ticker_24hr(call):
        return _multi(call, _ticker24)

    async def ticker_price(call):
        def one(info):
            book = venue.books[info.symbol]
            return {"symbol": info.symbol, "price": T(book.last_price or venue.reference_price(info))}
        return _multi(call, one)

    async def book_ticker(call):
        def one(info):
            book = venue.books[info.symbol]
            bb, ba = book.best_bid() or (0, 0), book.best_ask() or (0, 0)
            return {"symbol": info.symbol, "bidPrice": T(bb[0]), "bidQty": T(bb[1]),
                    "askPrice": T(ba[0]), "askQty": T(ba[1])}
        return _multi(call, one)

    async def avg_price(call):
        info = venue.symbol(call.get("symbol"))
        now = clock.now_ms()
        tape = [t for t in venue.publisher.tapes[info.symbol].trades if t.time >= now - 300000]
        vol = sum(t.qty for t in tape)
        price = sum(t.quote for t in tape) * money.ONE // vol if vol else venue.reference_price(info)
        return {"mins": 5, "price": T(price), "closeTime": tape[-1].time if tape else now}

    def multi_weight(single, many):
        return lambda p: single if p.get("symbol") else many

    # -- trading ---------------------------------------------------------------------------------
    async def new_order(call):
        args = parse_new_order(call, venue)
        resp_type = args.pop("resp_type")
        res = venue.place_order(call.account_id, **args)
        o = res.order
        if sim.faults.order_503_but_placed():
            raise errors.BinanceError(errors.UNKNOWN_ERROR_503_CODE, errors.UNKNOWN_ERROR_503, 503)
        out = {"symbol": o.symbol, "orderId": o.order_id, "orderListId": -1,
               "clientOrderId": o.client_order_id, "transactTime": res.time}
        if resp_type == "ACK":
            return out
        out.update(price=T(o.price), origQty=T(o.qty), executedQty=T(o.executed),
                   origQuoteOrderQty=T(o.quote_order_qty), cummulativeQuoteQty=T(o.cum_quote),
                   status=o.status, timeInForce=o.tif, type=o.type, side=o.side,
                   workingTime=o.working_time, selfTradePreventionMode=o.stp)
        if o.strategy_id is not None:
            out["strategyId"] = o.strategy_id
        if o.strategy_type is not None:
            out["strategyType"] = o.strategy_type
        if resp_type == "FULL":
            out["fills"] = [f for f in res.fills if f is not None]
        return out

    async def test_order(call):
        args = parse_new_order(call, venue)
        args.pop("resp_type")
        venue.place_order(call.account_id, test_only=True, **args)
        if call.get_bool("computeCommissionRates"):
            return {"standardCommissionForOrder": {"maker": venue.sim.config.maker_fee, "taker": venue.sim.config.taker_fee},
                    "taxCommissionForOrder": {"maker": "0", "taker": "0"},
                    "discount": {"enabledForAccount": False, "enabledForSymbol": False,
                                 "discountAsset": "BNB", "discount": "0"}}
        return {}

    def _ident(call) -> tuple:
        oid = call.get_int("orderId", lo=0)
        cid = call.get("origClientOrderId")
        if oid is None and cid is None:
            raise errors.BinanceError(-1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!")
        return oid, cid

    async def get_order(call):
        info = venue.symbol(call.get("symbol"))
        oid, cid = _ident(call)
        rec = venue.find_order(call.account_id, info.symbol, oid, cid)
        if rec is None:
            raise errors.no_such_order()
        return order_json(rec)

    async def cancel(call):
        info = venue.symbol(call.get("symbol"))
        oid, cid = _ident(call)
        restriction = call.get("cancelRestrictions")
        if restriction not in (None, "ONLY_NEW", "ONLY_PARTIALLY_FILLED"):
            raise errors.BinanceError(-1145, "cancelRestrictions must be either ONLY_NEW or ONLY_PARTIALLY_FILLED.")
        rec, cancel_id = venue.cancel_order(call.account_id, info.symbol, oid, cid,
                                            call.get("newClientOrderId"), restriction)
        return cancel_json(rec, cancel_id, clock.now_ms())

    async def cancel_all(call):
        info = venue.symbol(call.get("symbol"))
        opened = venue.open_orders(call.account_id, info.symbol)
        if not opened:
            raise errors.cancel_rejected(errors.UNKNOWN_ORDER)
        out = []
        for rec in opened:
            rec, cid = venue.cancel_order(call.account_id, info.symbol, rec.order_id)
            out.append(cancel_json(rec, cid, clock.now_ms()))
        return out

    async def open_orders(call):
        sym = call.get("symbol")
        if sym is not None:
            venue.symbol(sym)
        return [order_json(o) for o in venue.open_orders(call.account_id, sym)]

    async def all_orders(call):
        info = venue.symbol(call.get("symbol"))
        limit = min(call.get_int("limit", 500, lo=1), 1000)
        from_id = call.get_int("orderId", lo=0)
        start, end = call.get_int("startTime", lo=0), call.get_int("endTime", lo=0)
        acct = venue.account(call.account_id)
        items = [o for o in acct.orders.values() if o.symbol == info.symbol
                 and (from_id is None or o.order_id >= from_id)
                 and (start is None or o.time >= start) and (end is None or o.time <= end)]
        items.sort(key=lambda o: o.order_id)
        items = items[:limit] if (from_id is not None or start is not None) else items[-limit:]
        return [order_json(o) for o in items]

    async def account(call):
        acct = venue.account(call.account_id)
        omit = call.get_bool("omitZeroBalances")
        fee_bips = lambda s: int(money.parse(s) * 10000 // money.ONE)
        cfg = sim.config
        bal = [{"asset": a, "free": T(acct.free[a]), "locked": T(acct.locked[a])} for a in sorted(acct.free)
               if not omit or acct.free[a] or acct.locked[a]]
        return {"makerCommission": fee_bips(cfg.maker_fee), "takerCommission": fee_bips(cfg.taker_fee),
                "buyerCommission": 0, "sellerCommission": 0,
                "commissionRates": {"maker": T(venue.maker_fee), "taker": T(venue.taker_fee),
                                    "buyer": T(0), "seller": T(0)},
                "canTrade": True, "canWithdraw": True, "canDeposit": True, "brokered": False,
                "requireSelfTradePrevention": False, "preventSor": False,
                "updateTime": acct.update_time, "accountType": "SPOT", "balances": bal,
                "permissions": ["SPOT"], "uid": 1000 + call.account_id}

    async def my_trades(call):
        info = venue.symbol(call.get("symbol"))
        limit = min(call.get_int("limit", 500, lo=1), 1000)
        order_id = call.get_int("orderId", lo=0)
        from_id = call.get_int("fromId", lo=0)
        start, end = call.get_int("startTime", lo=0), call.get_int("endTime", lo=0)
        if from_id is not None and (start is not None or end is not None):
            raise errors.BinanceError(-1128, "Combination of optional parameters invalid.")
        if start is not None and end is not None and end - start > 86400000:
            raise errors.BinanceError(-1127, "More than 24 hours between startTime and endTime.")
        items = venue.account(call.account_id).trades.get(info.symbol, [])
        sel = [t for t in items if (order_id is None or t.order_id == order_id)
               and (from_id is None or t.id >= from_id)
               and (start is None or t.time >= start) and (end is None or t.time <= end)]
        sel = sel[:limit] if (from_id is not None or start is not None) else sel[-limit:]
        return [t.to_json() for t in sel]

    # -- legacy listen key -----------------------------------------------------------------------
    async def listen_key_new(call):
        return {"listenKey": venue.user_streams.create_listen_key(call.account_id)}

    async def listen_key_keepalive(call):
        venue.user_streams.keepalive(call.require("listenKey"), call.account_id)
        return {}

    async def listen_key_close(call):
        venue.user_streams.close_listen_key(call.require("listenKey"), call.account_id)
        return {}

    async def rate_limit_order(call):
        c10, c1d = api.limiter.order_counts(call.account_id)
        cfg = api.limiter.cfg
        return [{"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": cfg.orders_per_10s, "count": c10},
                {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": cfg.orders_per_day, "count": c1d}]

    async def empty_list(call):
        return []

    r = api.route
    # ccxt's default load_markets/fetch_currencies also ask these SAPI endpoints when keys are set;
    # the simulator has no margin trading or wallet network data, so they answer empty lists.
    r("GET", "/sapi/v1/margin/allPairs", empty_list, security=USER_STREAM)
    r("GET", "/sapi/v1/margin/isolated/allPairs", empty_list, weight=10, security=SIGNED)
    r("GET", "/sapi/v1/capital/config/getall", empty_list, weight=10, security=SIGNED)
    r("GET", "/api/v3/rateLimit/order", rate_limit_order, weight=40, security=SIGNED)
    r("GET", "/api/v3/ping", ping)
    r("GET", "/api/v3/time", time_)
    r("GET", "/api/v3/exchangeInfo", exchange_info, weight=20)
    r("GET", "/api/v3/depth", depth, weight=depth_weight)
    r("GET", "/api/v3/trades", trades, weight=25)
    r("GET", "/api/v3/historicalTrades", trades, weight=25, security=USER_STREAM)
    r("GET", "/api/v3/aggTrades", agg_trades, weight=4)
    r("GET", "/api/v3/klines", klines, weight=2)
    r("GET", "/api/v3/ticker/24hr", ticker_24hr, weight=multi_weight(2, 80))
    r("GET", "/api/v3/ticker/price", ticker_price, weight=multi_weight(2, 4))
    r("GET", "/api/v3/ticker/bookTicker", book_ticker, weight=multi_weight(2, 4))
    r("GET", "/api/v3/avgPrice", avg_price, weight=2)
    r("POST", "/api/v3/order", new_order, security=SIGNED, order=True, weight_on_success=0)
    r("POST", "/api/v3/order/test", test_order, security=SIGNED)
    r("GET", "/api/v3/order", get_order, weight=4, security=SIGNED)
    r("DELETE", "/api/v3/order", cancel, security=SIGNED, weight_on_success=0)
    r("GET", "/api/v3/openOrders", open_orders, weight=multi_weight(6, 80), security=SIGNED)
    r("DELETE", "/api/v3/openOrders", cancel_all, security=SIGNED, weight_on_success=0)
    r("GET", "/api/v3/allOrders", all_orders, weight=20, security=SIGNED)
    r("GET", "/api/v3/account", account, weight=20, security=SIGNED)
    r("GET", "/api/v3/myTrades", my_trades, weight=lambda p: 5 if p.get("orderId") else 20, security=SIGNED)
    r("POST", "/api/v3/userDataStream", listen_key_new, weight=2, security=USER_STREAM)
    r("PUT", "/api/v3/userDataStream", listen_key_keepalive, weight=2, security=USER_STREAM)
    r("DELETE", "/api/v3/userDataStream", listen_key_close, weight=2, security=USER_STREAM)

    # the same handlers answer the WebSocket API's request methods (ws_api.py): name → (handler, signed)
    venue.ws_api_methods = {
        "depth": (depth, False), "exchangeInfo": (exchange_info, False), "trades.recent": (trades, False),
        "trades.aggregate": (agg_trades, False), "klines": (klines, False), "avgPrice": (avg_price, False),
        "ticker.24hr": (ticker_24hr, False), "ticker.price": (ticker_price, False),
        "ticker.book": (book_ticker, False),
        "order.place": (new_order, True), "order.test": (test_order, True), "order.status": (get_order, True),
        "order.cancel": (cancel, True), "openOrders.status": (open_orders, True),
        "openOrders.cancelAll": (cancel_all, True), "allOrders": (all_orders, True),
        "account.status": (account, True), "myTrades": (my_trades, True),
    }
