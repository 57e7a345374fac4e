"""USDⓈ-M REST routes (``/fapi/v1|v2|v3``): JSON shapes, weights and parameter handling.

Handlers translate between the wire (strings, Binance field names) and :class:`FuturesVenue`
(atoms, records). Weights follow Binance's futures docs (``binance-protocol.md`` §2.3–2.6);
a successful new order costs 0 request weight and 1 on the order counters.
"""
from __future__ import annotations

import orjson

from . import errors, money
from .errors import BinanceError
from .positions import ISOLATED, MarginError
from .rest import SIGNED, USER_STREAM

DEPTH_LIMITS = (5, 10, 20, 50, 100, 500, 1000)
INCOME_TYPES = ("TRANSFER", "WELCOME_BONUS", "REALIZED_PNL", "FUNDING_FEE", "COMMISSION", "INSURANCE_CLEAR",
                "REFERRAL_KICKBACK", "COMMISSION_REBATE", "API_REBATE", "CONTEST_REWARD",
                "CROSS_COLLATERAL_TRANSFER", "OPTIONS_PREMIUM_FEE", "OPTIONS_SETTLE_PROFIT", "INTERNAL_TRANSFER",
                "AUTO_EXCHANGE", "DELIVERED_SETTELMENT", "COIN_SWAP_DEPOSIT", "COIN_SWAP_WITHDRAW",
                "POSITION_LIMIT_INCREASE_FEE", "STRATEGY_UMFUTURES_TRANSFER", "FEE_RETURN", "BFUSD_REWARD")
SEVEN_DAYS_MS = 7 * 86400 * 1000
KLINE_INTERVALS = {"1m": 60_000, "3m": 180_000, "5m": 300_000, "15m": 900_000, "30m": 1_800_000,
                   "1h": 3_600_000, "2h": 7_200_000, "4h": 14_400_000, "6h": 21_600_000, "8h": 28_800_000,
                   "12h": 43_200_000, "1d": 86_400_000, "3d": 259_200_000, "1w": 604_800_000}
T = money.text


def _depth_weight(p: dict) -> int:
    try:
        limit = int(p.get("limit") or 500)
    except ValueError:
        return 2
    return 2 if limit <= 50 else 5 if limit <= 100 else 10 if limit <= 500 else 20


def _all_or_one(one: int, all_: int):
    return lambda p: one if p.get("symbol") else all_


def install(venue) -> "FuturesRoutes":
    """Register every futures REST route on the simulator (both ports, futures limiter); returns
    the handler object (the WebSocket API reuses it)."""
    sim = venue.sim
    R = FuturesRoutes(venue)
    add = sim.add_futures_route
    # market data
    add("GET", "/fapi/v1/ping", R.ping)
    add("GET", "/fapi/v1/time", R.time)
    add("GET", "/fapi/v1/exchangeInfo", R.exchange_info)
    add("GET", "/fapi/v1/depth", R.depth, weight=_depth_weight)
    add("GET", "/fapi/v1/trades", R.trades, weight=5)
    add("GET", "/fapi/v1/aggTrades", R.agg_trades, weight=20)
    add("GET", "/fapi/v1/klines", R.klines, weight=5)
    add("GET", "/fapi/v1/premiumIndex", R.premium_index, weight=_all_or_one(1, 10))
    add("GET", "/fapi/v1/fundingRate", R.funding_rate)
    add("GET", "/fapi/v1/fundingInfo", R.funding_info)
    add("GET", "/fapi/v1/ticker/24hr", R.ticker_24hr, weight=_all_or_one(1, 40))
    add("GET", "/fapi/v1/ticker/bookTicker", R.book_ticker, weight=_all_or_one(2, 5))
    add("GET", "/fapi/v1/ticker/price", R.ticker_price, weight=_all_or_one(1, 2))
    add("GET", "/fapi/v2/ticker/price", R.ticker_price, weight=_all_or_one(1, 2))
    # trading
    add("POST", "/fapi/v1/order", R.new_order, security=SIGNED, order=True, weight=1, weight_on_success=0)
    add("GET", "/fapi/v1/order", R.get_order, security=SIGNED)
    add("DELETE", "/fapi/v1/order", R.cancel_order, security=SIGNED)
    add("PUT", "/fapi/v1/order", R.modify_order, security=SIGNED, order=True)
    add("POST", "/fapi/v1/batchOrders", R.batch_new, security=SIGNED, order=True, weight=5)
    add("DELETE", "/fapi/v1/batchOrders", R.batch_cancel, security=SIGNED)
    add("GET", "/fapi/v1/openOrder", R.open_order, security=SIGNED)
    add("GET", "/fapi/v1/openOrders", R.open_orders, security=SIGNED, weight=_all_or_one(1, 40))
    add("DELETE", "/fapi/v1/allOpenOrders", R.cancel_all, security=SIGNED)
    add("GET", "/fapi/v1/allOrders", R.all_orders, security=SIGNED, weight=5)
    add("GET", "/fapi/v1/userTrades", R.user_trades, security=SIGNED, weight=5)
    # account configuration
    add("POST", "/fapi/v1/leverage", R.leverage, security=SIGNED)
    add("GET", "/fapi/v1/leverageBracket", R.leverage_bracket, security=SIGNED)
    add("POST", "/fapi/v1/marginType", R.margin_type, security=SIGNED)
    add("GET", "/fapi/v1/positionSide/dual", R.get_dual, security=SIGNED, weight=30)
    add("POST", "/fapi/v1/positionSide/dual", R.set_dual, security=SIGNED)
    add("GET", "/fapi/v1/accountConfig", R.account_config, security=SIGNED, weight=5)
    add("GET", "/fapi/v1/symbolConfig", R.symbol_config, security=SIGNED, weight=5)
    add("GET", "/fapi/v1/income", R.income, security=SIGNED, weight=30)
    add("GET", "/fapi/v1/commissionRate", R.commission_rate, security=SIGNED, weight=20)
    # account state
    for v in ("v2", "v3"):
        add("GET", f"/fapi/{v}/account", getattr(R, f"account_{v}"), security=SIGNED, weight=5)
        add("GET", f"/fapi/{v}/balance", R.balance, security=SIGNED, weight=5)
        add("GET", f"/fapi/{v}/positionRisk", getattr(R, f"position_risk_{v}"), security=SIGNED, weight=5)
    # user data stream
    add("POST", "/fapi/v1/listenKey", R.listen_key_new, security=USER_STREAM)
    add("PUT", "/fapi/v1/listenKey", R.listen_key_keepalive, security=USER_STREAM)
    add("DELETE", "/fapi/v1/listenKey", R.listen_key_close, security=USER_STREAM)
    return R


class FuturesRoutes:
    def __init__(self, venue):
        self.v = venue
        self.sim = venue.sim

    # -- helpers ---------------------------------------------------------------------------------
    def _symbol(self, call, required=True):
        name = call.get("symbol")
        if name is None:
            if required:
                raise errors.mandatory("symbol")
            return None
        return self.v.symbol(name)

    def _symbols(self, call):
        sym = self._symbol(call, required=False)
        return [sym] if sym else list(self.v.symbols.values())

    def order_json(self, o, ack: bool = False) -> dict:
        sym = self.v.symbols[o.symbol]
        executed, cum_quote, status = (0, 0, "NEW") if ack else (o.executed, o.cum_quote, o.status)
        avg = cum_quote * money.ONE // executed if executed else 0
        return {
            "orderId": o.order_id, "symbol": o.symbol, "status": status, "clientOrderId": o.client_order_id,
            "price": sym.fmt_price(o.price), "avgPrice": T(avg), "origQty": sym.fmt_qty(o.qty),
            "executedQty": sym.fmt_qty(executed), "cumQty": sym.fmt_qty(executed), "cumQuote": T(cum_quote),
            "timeInForce": o.tif, "type": o.type, "reduceOnly": o.reduce_only, "closePosition": False,
            "side": o.side, "positionSide": o.position_side, "stopPrice": "0", "workingType": "CONTRACT_PRICE",
            "priceProtect": False, "origType": o.type, "priceMatch": o.price_match,
            "selfTradePreventionMode": o.stp, "goodTillDate": o.good_till,
            "updateTime": o.time if ack else o.update_time,
        }

    def order_query_json(self, o) -> dict:
        d = self.order_json(o)
        d["time"] = o.time
        return d

    def _find(self, call):
        sym = self._symbol(call)
        oid = call.get_int("orderId")
        cid = call.get("origClientOrderId")
        if oid is None and cid is None:
            raise BinanceError(-1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!")
        return sym, self.v.find_order(call.account_id, sym.symbol, oid, cid)

    def _window(self, call, default_limit: int, max_limit: int):
        return (call.get_int("startTime"), call.get_int("endTime"),
                call.get_int("limit", default_limit, 1, max_limit))

    # -- market data -----------------------------------------------------------------------------
    async def ping(self, call):
        return {}

    async def time(self, call):
        return {"serverTime": self.v.clock.now_ms()}

    async def exchange_info(self, call):
        symbols = []
        for s in self.v.symbols.values():
            symbols.append({
                "symbol": s.symbol, "pair": s.symbol, "contractType": s.contract_type,
                "deliveryDate": 4133404800000, "onboardDate": 1569398400000, "status": s.status,
                "maintMarginPercent": "2.5000", "requiredMarginPercent": "5.0000",
                "baseAsset": s.base, "quoteAsset": s.quote, "marginAsset": "USDT",
                "pricePrecision": s.price_precision, "quantityPrecision": s.qty_precision,
                "baseAssetPrecision": 8, "quotePrecision": 8, "underlyingType": "COIN",
                "underlyingSubType": [], "settlePlan": 0, "triggerProtect": "0.0500",
                "liquidationFee": "0.012500", "marketTakeBound": "0.05", "maxMoveOrderLimit": 10000,
                "filters": [
                    {"filterType": "PRICE_FILTER", "minPrice": money.trimmed(s.min_price),
                     "maxPrice": money.trimmed(s.max_price), "tickSize": money.trimmed(s.tick)},
                    {"filterType": "LOT_SIZE", "minQty": money.trimmed(s.min_qty),
                     "maxQty": money.trimmed(s.max_qty), "stepSize": money.trimmed(s.step)},
                    {"filterType": "MARKET_LOT_SIZE", "minQty": money.trimmed(s.min_qty),
                     "maxQty": money.trimmed(s.market_max_qty), "stepSize": money.trimmed(s.step)},
                    {"filterType": "MAX_NUM_ORDERS", "limit": 200},
                    {"filterType": "MAX_NUM_ALGO_ORDERS", "limit": 10},
                    {"filterType": "MIN_NOTIONAL", "notional": money.trimmed(s.min_notional)},
                    {"filterType": "PERCENT_PRICE", "multiplierUp": _fixed4(s.percent_up),
                     "multiplierDown": _fixed4(s.percent_down), "multiplierDecimal": "4"},
                ],
                "orderTypes": ["LIMIT", "MARKET"],
                "timeInForce": ["GTC", "IOC", "FOK", "GTX", "GTD"],
            })
        return {
            "timezone": "UTC", "serverTime": self.v.clock.now_ms(), "futuresType": "U_MARGINED",
            "rateLimits": self.sim.futures_rest.limiter.exchange_info_limits(), "exchangeFilters": [],
            "assets": [{"asset": "USDT", "marginAvailable": True, "autoAssetExchange": "-10000"}],
            "symbols": symbols,
        }

    async def depth(self, call):
        sym = self._symbol(call)
        limit = call.get_int("limit", 500)
        if limit not in DEPTH_LIMITS:
            raise BinanceError(-4021, f"Invalid depth limit; valid limits are {', '.join(map(str, DEPTH_LIMITS))}.")
        book = self.v.engine.book(sym.symbol)
        bids, asks = book.depth(limit)
        now = self.v.clock.now_ms()
        return {"lastUpdateId": book.update_id, "E": now, "T": now,
                "bids": [[T(p), T(q)] for p, q in bids], "asks": [[T(p), T(q)] for p, q in asks]}

    async def trades(self, call):
        sym = self._symbol(call)
        limit = call.get_int("limit", 500, 1, 1000)
        tape = self.v.market.tapes[sym.symbol].trades
        rows = list(tape)[-limit:]
        return [{"id": t.trade_id, "price": T(t.price), "qty": T(t.qty), "quoteQty": T(t.quote),
                 "time": t.time, "isBuyerMaker": t.buyer_maker} for t in rows]

    async def agg_trades(self, call):
        sym = self._symbol(call)
        start, end, limit = self._window(call, 500, 1000)
        from_id = call.get_int("fromId", lo=0)
        aggs = self.v.market.tapes[sym.symbol].aggs
        if from_id is not None:
            rows = [a for a in aggs if a.agg_id >= from_id][:limit]
        elif start is not None or end is not None:
            rows = [a for a in aggs if (start is None or a.time >= start) and (end is None or a.time <= end)][:limit]
        else:
            rows = list(aggs)[-limit:]
        return [{"a": a.agg_id, "p": T(a.price), "q": T(a.qty), "f": a.first_id, "l": a.last_id,
                 "T": a.time, "m": a.buyer_maker} for a in rows]

    async def klines(self, call):
        """Candles from the recent trade tape (trades older than the tape are not kept)."""
        sym = self._symbol(call)
        width = KLINE_INTERVALS.get(call.get("interval") or "")
        if width is None:
            if call.get("interval") is None:
                raise errors.mandatory("interval")
            raise BinanceError(-1120, "Invalid interval.")
        start, end, limit = self._window(call, 500, 1500)
        candles: dict = {}
        for t in self.v.market.tapes[sym.symbol].trades:
            if (start is not None and t.time < start) or (end is not None and t.time > end):
                continue
            k = t.time - t.time % width
            c = candles.get(k)
            if c is None:
                c = candles[k] = [t.price, t.price, t.price, t.price, 0, 0, 0, 0, 0]
            c[1], c[2], c[3] = max(c[1], t.price), min(c[2], t.price), t.price
            c[4] += t.qty
            c[5] += t.quote
            c[6] += 1
            if not t.buyer_maker:  # taker bought
                c[7] += t.qty
                c[8] += t.quote
        keys = sorted(candles)
        keys = keys[:limit] if start is not None else keys[-limit:]
        return [[k, T(c[0]), T(c[1]), T(c[2]), T(c[3]), T(c[4]), k + width - 1, T(c[5]), c[6], T(c[7]), T(c[8]), "0"]
                for k, c in ((k, candles[k]) for k in keys)]

    def _premium(self, sym, now):
        f = self.v.funding[sym.symbol]
        return {"symbol": sym.symbol, "markPrice": T(f.mark), "indexPrice": T(f.index),
                "estimatedSettlePrice": T(f.mark), "lastFundingRate": T(f.estimated_rate()),
                "interestRate": T(f.interest_rate), "nextFundingTime": self.v.next_funding_time(), "time": now}

    async def premium_index(self, call):
        now = self.v.clock.now_ms()
        sym = self._symbol(call, required=False)
        if sym:
            return self._premium(sym, now)
        return [self._premium(s, now) for s in self.v.symbols.values()]

    async def funding_rate(self, call):
        start, end, limit = self._window(call, 100, 1000)
        rows = []
        for sym in self._symbols(call):
            rows += self.v.funding[sym.symbol].query_history(start, end, limit)
        rows.sort(key=lambda r: r.time)
        rows = rows[:limit] if start is not None else rows[-limit:]
        return [{"symbol": r.symbol, "fundingRate": T(r.rate), "fundingTime": r.time, "markPrice": T(r.mark)}
                for r in rows]

    async def funding_info(self, call):
        ms = self.v.funding_interval_ms
        hours = ms // 3_600_000 if ms % 3_600_000 == 0 else round(ms / 3_600_000, 6)
        return [{"symbol": s.symbol, "adjustedFundingRateCap": T(self.v.funding[s.symbol].rate_cap),
                 "adjustedFundingRateFloor": T(-self.v.funding[s.symbol].rate_cap),
                 "fundingIntervalHours": hours, "disclaimer": False} for s in self.v.symbols.values()]

    def _ticker(self, sym, now):
        tape = self.v.market.tapes[sym.symbol].trades
        since = now - 86_400_000
        recent = [t for t in tape if t.time >= since]
        last = recent[-1].price if recent else self.v.mark(sym.symbol)
        first = recent[0].price if recent else last
        vol = sum(t.qty for t in recent)
        quote = sum(t.quote for t in recent)
        change = last - first
        pct = change * 100 * money.ONE // first if first else 0
        return {
            "symbol": sym.symbol, "priceChange": T(change), "priceChangePercent": money.trimmed(pct - pct % 1000),
            "weightedAvgPrice": T(quote * money.ONE // vol if vol else last), "lastPrice": T(last),
            "lastQty": T(recent[-1].qty if recent else 0), "openPrice": T(first),
            "highPrice": T(max((t.price for t in recent), default=last)),
            "lowPrice": T(min((t.price for t in recent), default=last)),
            "volume": T(vol), "quoteVolume": T(quote), "openTime": since, "closeTime": now,
            "firstId": recent[0].trade_id if recent else -1, "lastId": recent[-1].trade_id if recent else -1,
            "count": len(recent),
        }

    async def ticker_24hr(self, call):
        now = self.v.clock.now_ms()
        sym = self._symbol(call, required=False)
        return self._ticker(sym, now) if sym else [self._ticker(s, now) for s in self.v.symbols.values()]

    def _book_ticker(self, sym, now):
        book = self.v.engine.book(sym.symbol)
        bp, bq = book.best_bid() or (0, 0)
        ap, aq = book.best_ask() or (0, 0)
        return {"symbol": sym.symbol, "bidPrice": T(bp), "bidQty": T(bq), "askPrice": T(ap), "askQty": T(aq),
                "time": now, "lastUpdateId": book.update_id}

    async def book_ticker(self, call):
        now = self.v.clock.now_ms()
        sym = self._symbol(call, required=False)
        return self._book_ticker(sym, now) if sym else [self._book_ticker(s, now) for s in self.v.symbols.values()]

    def _price(self, sym, now):
        book = self.v.engine.book(sym.symbol)
        return {"symbol": sym.symbol, "price": T(book.last_price or self.v.mark(sym.symbol)), "time": now}

    async def ticker_price(self, call):
        now = self.v.clock.now_ms()
        sym = self._symbol(call, required=False)
        return self._price(sym, now) if sym else [self._price(s, now) for s in self.v.symbols.values()]

    # -- trading ---------------------------------------------------------------------------------
    async def new_order(self, call):
        rec = self.v.place_order(call.account_id, call.params)
        if self.sim.faults.order_503_but_placed():
            raise BinanceError(errors.UNKNOWN_ERROR_503_CODE, errors.UNKNOWN_ERROR_503, 503)
        return self.order_json(rec, ack=(call.get("newOrderRespType") or "ACK") == "ACK")

    def _json_list(self, call, name: str, max_items: int) -> list:
        raw = call.get(name)
        if raw is None:
            raise errors.mandatory(name)
        try:
            items = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise BinanceError(-1130, f"Data sent for parameter '{name}' is not valid.")
        if not isinstance(items, list) or not items:
            raise BinanceError(-1130, f"Data sent for parameter '{name}' is not valid.")
        if len(items) > max_items:
            raise BinanceError(-4079 if name.endswith("List") else -1130,
                               f"Invalid {name}: at most {max_items} items.")
        return items

    async def batch_new(self, call):
        """Up to 5 orders; each answered by its order or its own error, in request order."""
        out = []
        for item in self._json_list(call, "batchOrders", 5):
            try:
                if not isinstance(item, dict):
                    raise BinanceError(-1130, "Data sent for parameter 'batchOrders' is not valid.")
                params = {str(k): ("true" if v is True else "false" if v is False else str(v))
                          for k, v in item.items() if v is not None}
                rec = self.v.place_order(call.account_id, params)
                out.append(self.order_json(rec, ack=(params.get("newOrderRespType") or "ACK") == "ACK"))
            except BinanceError as e:
                out.append(e.body())
        return out

    async def batch_cancel(self, call):
        sym = self._symbol(call)
        # ccxt spells it "orderidlist" and Binance accepts that spelling too
        name = "orderIdList" if call.get("orderIdList") is not None else "orderidlist"
        if call.get(name) is not None:
            keys = [("id", int(x) if isinstance(x, str) and x.isdigit() else x)
                    for x in self._json_list(call, name, 10)]
        else:
            keys = [("cid", x) for x in self._json_list(call, "origClientOrderIdList", 10)]
        out = []
        for kind, value in keys:
            try:
                if kind == "id" and not isinstance(value, int):
                    raise BinanceError(-1130, "Data sent for parameter 'orderIdList' is not valid.")
                rec = self.v.find_order(call.account_id, sym.symbol, value if kind == "id" else None,
                                        str(value) if kind == "cid" else None)
                out.append(self.order_json(self.v.cancel_order(call.account_id, rec)))
            except BinanceError as e:
                out.append(e.body())
        return out

    async def get_order(self, call):
        _, rec = self._find(call)
        if rec is None:
            raise errors.no_such_order()
        return self.order_query_json(rec)

    async def cancel_order(self, call):
        _, rec = self._find(call)
        return self.order_json(self.v.cancel_order(call.account_id, rec))

    async def modify_order(self, call):
        _, rec = self._find(call)
        return self.order_json(self.v.modify_order(call.account_id, rec, call.params))

    async def open_order(self, call):
        _, rec = self._find(call)
        if rec is None or not rec.is_open:
            raise errors.no_such_order()
        return self.order_query_json(rec)

    async def open_orders(self, call):
        sym = self._symbol(call, required=False)
        return [self.order_query_json(o) for o in self.v.open_orders[call.account_id].values()
                if sym is None or o.symbol == sym.symbol]

    async def cancel_all(self, call):
        sym = self._symbol(call)
        self.v.cancel_all(call.account_id, sym.symbol)
        return {"code": 200, "msg": "The operation of cancel all open order is done."}

    async def all_orders(self, call):
        sym = self._symbol(call)
        start, end, limit = self._window(call, 500, 1000)
        from_id = call.get_int("orderId")
        rows = [o for o in self.v.orders.values()
                if o.account_id == call.account_id and o.symbol == sym.symbol
                and (from_id is None or o.order_id >= from_id)
                and (start is None or o.time >= start) and (end is None or o.time <= end)]
        rows.sort(key=lambda o: o.order_id)
        rows = rows[:limit] if (from_id is not None or start is not None) else rows[-limit:]
        return [self.order_query_json(o) for o in rows]

    async def user_trades(self, call):
        sym = self._symbol(call)
        start, end, limit = self._window(call, 500, 1000)
        from_id = call.get_int("fromId")
        order_id = call.get_int("orderId")
        if from_id is not None and (start is not None or end is not None):
            raise BinanceError(-1128, "Combination of optional parameters invalid.")
        rows = [t for t in self.v.trades[call.account_id] if t["symbol"] == sym.symbol
                and (order_id is None or t["orderId"] == order_id)
                and (from_id is None or t["id"] >= from_id)
                and (start is None or t["time"] >= start) and (end is None or t["time"] <= end)]
        return rows[:limit] if (from_id is not None or start is not None) else rows[-limit:]

    # -- account configuration -------------------------------------------------------------------
    async def leverage(self, call):
        sym = self._symbol(call)
        lev = call.get("leverage")
        if lev is None:
            raise errors.mandatory("leverage")
        if not lev.isdigit():
            raise BinanceError(-4028, f"Leverage {lev} is not valid")
        acct = self.v.accounts[call.account_id]
        fake = self.v.faults.leverage_answer_for(int(lev))
        if fake is not None:      # fault: 200 with another leverage, nothing changed
            return {"leverage": fake, "maxNotionalValue": money.trimmed(_max_notional(sym, max(fake, 1))),
                    "symbol": sym.symbol}
        try:
            cap = acct.set_leverage(sym.symbol, int(lev), self.v.mark(sym.symbol))
        except MarginError as e:
            raise BinanceError(e.code, e.msg)
        now = self.v.clock.now_ms()
        self.v._emit(call.account_id, {"e": "ACCOUNT_CONFIG_UPDATE", "E": now, "T": now,
                                       "ac": {"s": sym.symbol, "l": int(lev)}})
        return {"leverage": int(lev), "maxNotionalValue": money.trimmed(cap), "symbol": sym.symbol}

    async def leverage_bracket(self, call):
        out = []
        for s in self._symbols(call):
            out.append({"symbol": s.symbol, "notionalCoef": 1.0, "brackets": [
                {"bracket": b.bracket, "initialLeverage": b.max_leverage,
                 "notionalCap": b.notional_cap // money.ONE, "notionalFloor": b.notional_floor // money.ONE,
                 # JSON numbers on the wire (Binance sends them so); exact text → float only here
                 "maintMarginRatio": float(money.trimmed(b.maint_margin_ratio)),
                 "cum": float(money.trimmed(b.cum))} for b in s.brackets]})
        return out if call.get("symbol") is None else out[0]

    async def margin_type(self, call):
        sym = self._symbol(call)
        mt = call.get("marginType")
        if mt is None:
            raise errors.mandatory("marginType")
        mt = mt.upper()
        acct = self.v.accounts[call.account_id]
        has_orders = any(o.symbol == sym.symbol for o in self.v.open_orders[call.account_id].values())
        try:
            acct.set_margin_type(sym.symbol, mt, has_orders)
        except MarginError as e:
            raise BinanceError(e.code, e.msg)
        now = self.v.clock.now_ms()
        self.v._emit(call.account_id, self.v.account_update(
            call.account_id, sym.symbol, acct.position_sides(), now, reason="MARGIN_TYPE_CHANGE"))
        return {"code": 200, "msg": "success"}

    async def get_dual(self, call):
        return {"dualSidePosition": self.v.accounts[call.account_id].dual_side}

    async def set_dual(self, call):
        v = call.get("dualSidePosition")
        if v is None:
            raise errors.mandatory("dualSidePosition")
        if v.lower() not in ("true", "false"):
            raise BinanceError(-1100, "Illegal characters found in parameter 'dualSidePosition'; legal range is 'true, false'.")
        acct = self.v.accounts[call.account_id]
        try:
            acct.set_dual_side(v.lower() == "true", bool(self.v.open_orders[call.account_id]))
        except MarginError as e:
            raise BinanceError(e.code, e.msg)
        return {"code": 200, "msg": "success"}

    async def account_config(self, call):
        acct = self.v.accounts[call.account_id]
        return {"feeTier": 0, "canTrade": True, "canDeposit": True, "canWithdraw": True,
                "dualSidePosition": acct.dual_side, "updateTime": acct.update_time,
                "multiAssetsMargin": False, "tradeGroupId": -1}

    async def symbol_config(self, call):
        acct = self.v.accounts[call.account_id]
        out = []
        for s in self._symbols(call):
            lev = acct.leverage_of(s.symbol)
            out.append({"symbol": s.symbol, "marginType": acct.margin_type_of(s.symbol),
                        "isAutoAddMargin": False, "leverage": lev,
                        "maxNotionalValue": money.trimmed(_max_notional(s, lev))})
        return out

    async def income(self, call):
        sym = self._symbol(call, required=False)
        kind = call.get("incomeType")
        if kind is not None and kind not in INCOME_TYPES:
            raise BinanceError(-1100, "Illegal characters found in parameter 'incomeType'.")
        start, end, limit = self._window(call, 100, 1000)
        if start is None and end is None:
            start_filter = self.v.clock.now_ms() - SEVEN_DAYS_MS
            rows = [r for r in self.v.accounts[call.account_id].income
                    if (sym is None or r.symbol == sym.symbol) and (kind is None or r.income_type == kind)
                    and r.time >= start_filter][-limit:]
        else:
            rows = self.v.accounts[call.account_id].query_income(sym.symbol if sym else None, kind, start, end, limit)
        return [r.to_json(T) for r in rows]

    async def commission_rate(self, call):
        sym = self._symbol(call)
        acct = self.v.accounts[call.account_id]
        return {"symbol": sym.symbol, "makerCommissionRate": money.trimmed(acct.fee_maker),
                "takerCommissionRate": money.trimmed(acct.fee_taker), "rpiCommissionRate": "0"}

    # -- account state ---------------------------------------------------------------------------
    def _state(self, account_id):
        acct = self.v.accounts[account_id]
        marks = self.v.marks()
        orders = self.v.open_order_margins(account_id)
        return acct, marks, orders, acct.totals(marks, orders)

    def _totals_json(self, t) -> dict:
        return {
            "totalInitialMargin": T(t["initial_margin"]), "totalMaintMargin": T(t["maint_margin"]),
            "totalWalletBalance": T(t["wallet"]), "totalUnrealizedProfit": T(t["unrealized"]),
            "totalMarginBalance": T(t["margin_balance"]), "totalPositionInitialMargin": T(t["position_im"]),
            "totalOpenOrderInitialMargin": T(t["open_order_im"]), "totalCrossWalletBalance": T(t["wallet"]),
            "totalCrossUnPnl": T(t["unrealized"]), "availableBalance": T(t["available"]),
            "maxWithdrawAmount": T(t["max_withdraw"]),
        }

    def _asset_json(self, acct, t, full: bool) -> dict:
        d = {"asset": "USDT", "walletBalance": T(t["wallet"]), "unrealizedProfit": T(t["unrealized"]),
             "marginBalance": T(t["margin_balance"]), "maintMargin": T(t["maint_margin"]),
             "initialMargin": T(t["initial_margin"]), "positionInitialMargin": T(t["position_im"]),
             "openOrderInitialMargin": T(t["open_order_im"]), "crossWalletBalance": T(t["wallet"]),
             "crossUnPnl": T(t["unrealized"]), "availableBalance": T(t["available"]),
             "maxWithdrawAmount": T(t["max_withdraw"]), "updateTime": acct.update_time}
        if full:
            d["marginAvailable"] = True
        return d

    def _position_rows(self, account_id, acct, marks, orders, symbols, only_active: bool):
        """(symbol spec, position, per-position numbers) for every side of the account's mode."""
        rows = []
        for s in symbols:
            has_orders = any(o.symbol == s.symbol for o in orders)
            for side in acct.position_sides():
                pos = acct.position(s.symbol, side)
                if only_active and not pos.amount and not has_orders:
                    continue
                mark = marks.get(s.symbol, 0)
                side_orders = [o for o in self.v.open_orders[account_id].values()
                               if o.symbol == s.symbol and o.position_side == side]
                oim = sum(money.mul(o.price, o.remaining) for o in side_orders if not o.is_closing) // acct.leverage_of(s.symbol)
                bid = sum(money.mul(o.price, o.remaining) for o in side_orders if o.side == "BUY")
                ask = sum(money.mul(o.price, o.remaining) for o in side_orders if o.side == "SELL")
                rows.append((s, pos, {
                    "mark": mark, "upnl": pos.unrealized(mark), "notional": pos.notional(mark),
                    "pim": acct.position_initial_margin(pos, mark), "mm": acct.maint_margin(pos, mark),
                    "oim": oim, "bid": bid, "ask": ask, "liq": acct.liquidation_price(pos, marks),
                }))
        return rows

    async def account_v2(self, call):
        acct, marks, orders, t = self._state(call.account_id)
        positions = []
        for s, pos, n in self._position_rows(call.account_id, acct, marks, orders, self.v.symbols.values(), False):
            lev = acct.leverage_of(s.symbol)
            positions.append({
                "symbol": s.symbol, "initialMargin": T(n["pim"] + n["oim"]), "maintMargin": T(n["mm"]),
                "unrealizedProfit": T(n["upnl"]), "positionInitialMargin": T(n["pim"]),
                "openOrderInitialMargin": T(n["oim"]), "leverage": str(lev),
                "isolated": acct.margin_type_of(s.symbol) == ISOLATED, "entryPrice": T(pos.entry_price),
                "breakEvenPrice": T(self.v.break_even(acct, pos)),
                "maxNotional": money.trimmed(_max_notional(s, lev)), "bidNotional": T(n["bid"]),
                "askNotional": T(n["ask"]), "positionSide": pos.side, "positionAmt": s.fmt_qty(pos.amount),
                "updateTime": pos.update_time,
            })
        return {"feeTier": 0, "feeBurn": False, "canTrade": True, "canDeposit": True, "canWithdraw": True,
                "updateTime": 0, "multiAssetsMargin": False, "tradeGroupId": -1, **self._totals_json(t),
                "assets": [self._asset_json(acct, t, True)], "positions": positions}

    async def account_v3(self, call):
        acct, marks, orders, t = self._state(call.account_id)
        positions = []
        for s, pos, n in self._position_rows(call.account_id, acct, marks, orders, self.v.symbols.values(), True):
            if not pos.amount:
                continue
            positions.append({
                "symbol": s.symbol, "positionSide": pos.side, "positionAmt": s.fmt_qty(pos.amount),
                "unrealizedProfit": T(n["upnl"]), "isolatedMargin": "0", "notional": T(n["notional"]),
                "isolatedWallet": "0", "initialMargin": T(n["pim"] + n["oim"]), "maintMargin": T(n["mm"]),
                "updateTime": pos.update_time,
            })
        return {**self._totals_json(t), "assets": [self._asset_json(acct, t, False)], "positions": positions}

    async def balance(self, call):
        acct, marks, orders, t = self._state(call.account_id)
        return [{"accountAlias": "SgsR", "asset": "USDT", "balance": T(t["wallet"]),
                 "crossWalletBalance": T(t["wallet"]), "crossUnPnl": T(t["unrealized"]),
                 "availableBalance": T(t["available"]), "maxWithdrawAmount": T(t["max_withdraw"]),
                 "marginAvailable": True, "updateTime": acct.update_time}]

    async def position_risk_v2(self, call):
        acct, marks, orders, t = self._state(call.account_id)
        out = []
        for s, pos, n in self._position_rows(call.account_id, acct, marks, orders, self._symbols(call), False):
            lev = acct.leverage_of(s.symbol)
            out.append({
                "symbol": s.symbol, "positionSide": pos.side, "positionAmt": s.fmt_qty(pos.amount),
                "entryPrice": T(pos.entry_price), "breakEvenPrice": T(self.v.break_even(acct, pos)),
                "markPrice": T(n["mark"]), "unRealizedProfit": T(n["upnl"]), "liquidationPrice": T(n["liq"]),
                "leverage": str(lev), "maxNotionalValue": money.trimmed(_max_notional(s, lev)),
                "marginType": "isolated" if acct.margin_type_of(s.symbol) == ISOLATED else "cross",
                "isolatedMargin": "0.00000000", "isAutoAddMargin": "false", "notional": T(n["notional"]),
                "isolatedWallet": "0", "updateTime": pos.update_time,
            })
        return out

    async def position_risk_v3(self, call):
        acct, marks, orders, t = self._state(call.account_id)
        out = []
        for s, pos, n in self._position_rows(call.account_id, acct, marks, orders, self._symbols(call), True):
            out.append({
                "symbol": s.symbol, "positionSide": pos.side, "positionAmt": s.fmt_qty(pos.amount),
                "entryPrice": T(pos.entry_price), "breakEvenPrice": T(self.v.break_even(acct, pos)),
                "markPrice": T(n["mark"]), "unRealizedProfit": T(n["upnl"]), "liquidationPrice": T(n["liq"]),
                "isolatedMargin": "0", "notional": T(n["notional"]), "marginAsset": "USDT",
                "isolatedWallet": "0", "initialMargin": T(n["pim"] + n["oim"]), "maintMargin": T(n["mm"]),
                "positionInitialMargin": T(n["pim"]), "openOrderInitialMargin": T(n["oim"]), "adl": 0,
                "bidNotional": T(n["bid"]), "askNotional": T(n["ask"]), "updateTime": pos.update_time,
            })
        return out

    # -- user data stream ------------------------------------------------------------------------
    async def listen_key_new(self, call):
        return {"listenKey": self.v.users.create_listen_key(call.account_id)}

    def _account_key(self, call):
        given = call.get("listenKey")
        for key, lk in self.v.users.listen_keys.items():
            if lk.account_id == call.account_id and (given is None or given == key):
                return key
        raise self.v.users.missing_key()

    async def listen_key_keepalive(self, call):
        key = self._account_key(call)
        self.v.users.keepalive(key, call.account_id)
        return {"listenKey": key}

    async def listen_key_close(self, call):
        key = self._account_key(call)
        self.v.users.close_listen_key(key, call.account_id)
        return {}


def _fixed4(atoms: int) -> str:
    """Multipliers print with 4 decimals ("1.0500")."""
    whole, frac = money.text(atoms).split(".")
    return f"{whole}.{frac[:4]}"


def _max_notional(sym, leverage: int) -> int:
    from .positions import max_notional_for_leverage
    return max_notional_for_leverage(sym.brackets, leverage)
