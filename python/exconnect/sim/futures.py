"""The USDⓈ-M futures venue: order placement/cancel, fills → positions, funding, user events.

Money is exact (``money`` atoms). The venue owns:

* one matching ``Book`` per symbol (``matching_engine``: price-time, fills at the maker price),
  seeded and (with ``market_activity``) traded by the shared ``MarketAgents`` (``owner=None``);
* one :class:`~exconnect.sim.positions.FuturesAccount` per API key (margin model documented there);
* one :class:`~exconnect.sim.funding.SymbolFunding` per symbol (mark/index/funding model there);
* market data through the shared ``MarketDataPublisher`` (futures mode: ``pu`` chains) and user
  events through the shared ``UserStreams`` (listen keys, duplicate/reorder faults).

Binance behaviours followed (see ``binance-protocol.md`` §2.5): conditional types → -4120;
``reduceOnly`` in hedge mode → -1106; reduce-only that would not reduce or would flip → -2022;
GTX that would take → -5022 (switch ``gtx_reject=False`` for the old accept-then-expire
behaviour); FOK that cannot fill → -5021; insufficient margin → -2019.
Open closing orders (reduce-only, hedge closes) that no longer fit the position expire (``er`` "4");
GTD orders expire at ``goodTillDate``. STP uses the engine (EXPIRE_MAKER default); the expired
side ends ``EXPIRED_IN_MATCH`` with ``er`` "1". Modify (PUT) re-queues the order at the back of
its price level. MARGIN_CALL is pushed at a margin ratio ≥ 80 %. Not simulated: algo/conditional
orders, liquidation/ADL, priceMatch pricing (the field is echoed only), TRADE_LITE events.
"""
from __future__ import annotations

import asyncio
import logging
import random
import re
from collections import deque
from typing import Dict, List, Optional

from . import money
from .errors import BinanceError
from .funding import SymbolFunding
from .agents import MarketAgents
from .market_data import MarketDataPublisher
from .matching_engine import MatchingEngine, Order
from .stream_hub import StreamHub
from .user_streams import FUTURES_MISSING_KEY, UserStreams
from .positions import BOTH, LONG, SHORT, FuturesAccount, MarginError, OpenOrderMargin
from . import futures_events as events
from .futures_model import (CLIENT_ID, CONDITIONAL_TYPES, STP_MODES, TIME_IN_FORCE, FuturesOrder, FuturesSymbol,
                            check_percent_price, parse_price, parse_quantity, required as _req)

log = logging.getLogger(__name__)

MAX_OPEN_ORDERS = 200
FIRST_ORDER_ID = 4_000_000_001
#: closed orders and trades kept per venue/account for queries (memory stays bounded)
HISTORY_LIMIT = 200_000
#: margin ratio (maintenance margin / margin balance) at which MARGIN_CALL is pushed
MARGIN_CALL_RATIO = money.parse("0.8")
STREAM_NAME = re.compile(
    r"^([a-z0-9]+)@(?:depth(?:5|10|20)?(?:@100ms|@500ms)?|markPrice(?:@1s)?|aggTrade|trade|bookTicker)$")


class FuturesVenue:
    """USDⓈ-M venue. ``market`` / ``users`` are the shared publisher and user-stream objects (also
    under the spot venue's names ``publisher`` / ``user_streams``)."""

    @property
    def user_streams(self) -> UserStreams:
        return self.users

    @property
    def publisher(self) -> MarketDataPublisher:
        return self.market

    def __init__(self, sim):
        self.sim = sim
        config = self.config = sim.config
        self.clock = sim.clock
        self.faults = sim.faults
        accounts = config.accounts  # account_id == index, as in auth.KeyRegistry
        self.rng = random.Random(config.seed ^ 0xF07E5)
        self.symbols: Dict[str, FuturesSymbol] = {s.symbol: FuturesSymbol(s) for s in config.futures_symbols}
        self.by_lname = {s.lname: s for s in self.symbols.values()}
        self.engine = MatchingEngine()
        for sym in self.symbols.values():
            self.engine.add_symbol(sym.symbol, sym.step)
        self.hub = StreamHub(self.is_valid_stream)
        # tick 50 ms so the 100 / 250 / 500 ms depth intervals all flush on time
        self.market = MarketDataPublisher(self.hub, self.engine.books, self.clock, futures=True, tick_ms=50)
        self.users = UserStreams(self.hub, self.clock, self.faults, config.listen_key_ttl_s,
                                 missing_key_msg=FUTURES_MISSING_KEY)
        self.faults.register_hub(self.hub)
        self.faults.register_depth_publisher(self.market)
        self._init_state(config, accounts)
        from . import futures_rest, futures_ws, futures_ws_api  # route tables live in their own modules
        routes = futures_rest.install(self)
        futures_ws.install(self)
        futures_ws_api.install(self, routes)

    def _init_state(self, config, accounts) -> None:
        self.maker_fee = money.parse(config.futures_maker_fee)
        self.taker_fee = money.parse(config.futures_taker_fee)
        self.gtx_reject = True
        self.accounts: Dict[int, FuturesAccount] = {}
        for account_id, acfg in enumerate(accounts):
            bal = acfg.futures_balances if acfg.futures_balances is not None else acfg.balances
            usdt = money.parse(bal.get("USDT", "0"))
            self.accounts[account_id] = FuturesAccount(
                {"USDT": usdt}, brackets={s: v.brackets for s, v in self.symbols.items()},
                fee_maker=self.maker_fee, fee_taker=self.taker_fee)
        interval_ms = int(round(float(config.funding_interval_s) * 1000))
        if interval_ms < 100:  # a shorter timer would only burn CPU
            raise ValueError(f"funding_interval_s must be at least 0.1 s, got {config.funding_interval_s!r}")
        self.funding_interval_ms = interval_ms
        self.funding: Dict[str, SymbolFunding] = {
            s: SymbolFunding(s, interval_ms=interval_ms,
                             index_premium=_premium_option(v.config.options.get("index_premium", "0")))
            for s, v in self.symbols.items()
        }
        self.orders: Dict[int, FuturesOrder] = {}
        self.open_orders: Dict[int, Dict[int, FuturesOrder]] = {a: {} for a in self.accounts}
        self.client_ids: Dict[tuple, FuturesOrder] = {}  # (account, symbol, clientOrderId) → order
        self.trades: Dict[int, deque] = {a: deque(maxlen=HISTORY_LIMIT) for a in self.accounts}
        self._closed: deque = deque()
        self._last_margin_call: Dict[int, float] = {}
        self._next_order_id = FIRST_ORDER_ID
        self._tasks: List[asyncio.Task] = []
        self.fills_total = 0
        # the shared market agents seed ≥ book_levels levels a side and (if enabled) trade
        self.agents = MarketAgents(self, config, random.Random(config.seed * 7919 + 2))
        self.agents.seed_books()
        for s in self.symbols:
            self.funding[s].update_mark(self._mid(s))

    # -- set-up ----------------------------------------------------------------------------------
    def new_order_id(self) -> int:
        oid = self._next_order_id
        self._next_order_id += 1
        return oid

    @property
    def books(self):
        """symbol → Book (the interface ``agents.MarketAgents`` drives)."""
        return self.engine.books

    async def start(self) -> None:
        self.market.start()
        self.users.start()
        if self.config.market_activity:
            self.agents.start()
        loop = asyncio.get_running_loop()
        self._tasks.append(loop.create_task(self._mark_loop()))
        self._tasks.append(loop.create_task(self._funding_loop()))

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            try:
                await t
            except (asyncio.CancelledError, Exception):
                pass
        self._tasks.clear()
        await self.agents.stop()
        await self.market.stop()
        await self.users.stop()
        # close frames to every client at once; a client that does not answer within a second
        # (not reading its socket) is cut off rather than holding the shutdown for aiohttp's 10 s
        conns = list(self.hub.connections)
        closing = [asyncio.ensure_future(c.close(1001, b"server shutdown")) for c in conns]
        if closing:
            await asyncio.wait(closing, timeout=1.0)
            for c, task in zip(conns, closing):
                if not task.done():
                    task.cancel()
                    c.abort()

    # -- streams ---------------------------------------------------------------------------------
    def is_valid_stream(self, name: str) -> bool:
        """Futures market stream names this venue publishes (any route serves any of them)."""
        if name in ("!markPrice@arr", "!markPrice@arr@1s"):
            return True
        m = STREAM_NAME.match(name)
        return m is not None and m.group(1) in self.by_lname

    # -- prices ----------------------------------------------------------------------------------
    def _mid(self, symbol: str) -> int:
        book = self.engine.book(symbol)
        bb, ba = book.best_bid(), book.best_ask()
        sym = self.symbols[symbol]
        if bb and ba:
            mid = (bb[0] + ba[0]) // 2
        elif bb or ba:
            mid = (bb or ba)[0]
        else:
            return self.funding[symbol].mark or sym.initial_price
        return mid - mid % sym.tick

    def mark(self, symbol: str) -> int:
        return self.funding[symbol].mark

    def marks(self) -> Dict[str, int]:
        return {s: f.mark for s, f in self.funding.items()}

    def sample_marks(self) -> None:
        """Mark price follows the mid (called every second; tests may call it directly)."""
        for s in self.symbols:
            self.funding[s].update_mark(self._mid(s))

    def next_funding_time(self) -> int:
        return (self.clock.now_ms() // self.funding_interval_ms + 1) * self.funding_interval_ms

    async def _mark_loop(self) -> None:
        ticks = 0
        while True:
            await asyncio.sleep(1.0)
            ticks += 1
            try:
                self.sample_marks()
                self.publish_mark_prices(every_3s=(ticks % 3 == 0))
                self.expire_good_till(self.clock.now_ms())
                self.check_margin_calls(self.clock.monotonic())
            except Exception:
                log.exception("mark price update failed")

    async def _funding_loop(self) -> None:
        last_due = 0
        while True:
            # a timer that fires a hair early must not settle the same funding time twice
            due = max(self.next_funding_time(), last_due + self.funding_interval_ms)
            while True:
                wait_ms = due - self.clock.now_ms()
                if wait_ms <= 0:
                    break
                await asyncio.sleep(wait_ms / 1000)
            last_due = due
            try:
                self.settle_funding(due)
            except Exception:
                log.exception("funding settlement failed")

    def mark_price_event(self, symbol: str, now: int) -> dict:
        return events.mark_price_event(self, symbol, now)

    def publish_mark_prices(self, every_3s: bool = True) -> None:
        now = self.clock.now_ms()
        events = [self.mark_price_event(s, now) for s in self.symbols]
        for ev in events:
            lname = ev["s"].lower()
            self.hub.publish(lname + "@markPrice@1s", ev)
            if every_3s:
                self.hub.publish(lname + "@markPrice", ev)
        self.hub.publish("!markPrice@arr@1s", events)
        if every_3s:
            self.hub.publish("!markPrice@arr", events)

    # -- risk ------------------------------------------------------------------------------------
    def check_margin_calls(self, now_s: float) -> List[int]:
        """MARGIN_CALL when an account's margin ratio (maintenance margin / margin balance) reaches
        ``MARGIN_CALL_RATIO``; at most once a minute per account. Returns the accounts called.
        (There is no liquidation: the call is a warning, as Binance's is.)"""
        called = []
        marks = self.marks()
        for account_id, acct in self.accounts.items():
            if not any(p.amount for p in acct.positions.values()):
                continue
            t = acct.totals(marks, self.open_order_margins(account_id))
            mm, balance = t["maint_margin"], t["margin_balance"]
            if mm <= 0 or (balance > 0 and mm * money.ONE < MARGIN_CALL_RATIO * balance):
                continue
            if now_s - self._last_margin_call.get(account_id, float("-inf")) < 60:
                continue
            self._last_margin_call[account_id] = now_s
            called.append(account_id)
            if self._listening(account_id):
                self._emit(account_id, events.margin_call(self, account_id))
        return called

    # -- funding ---------------------------------------------------------------------------------
    def settle_funding(self, time_ms: Optional[int] = None) -> Dict[str, int]:
        """Fix every symbol's rate and charge/pay every open position; returns symbol → rate."""
        t = self.clock.now_ms() if time_ms is None else time_ms
        self.sample_marks()
        rates = {}
        for symbol, f in self.funding.items():
            rec = f.settle(t)
            rates[symbol] = rec.rate
            for account_id, acct in self.accounts.items():
                if not any(p.amount for (s, _), p in acct.positions.items() if s == symbol):
                    continue
                paid = acct.apply_funding(symbol, rec.mark, rec.rate, t)
                if not self._listening(account_id):
                    continue
                # Binance: crossed positions → B only; an isolated position → B plus that P entry
                if acct.margin_type_of(symbol) == "ISOLATED":
                    sides = [side for side in acct.position_sides() if acct.position(symbol, side).amount]
                    ev = self.account_update(account_id, symbol, sides, t, reason="FUNDING_FEE")
                else:
                    ev = self.account_update(account_id, symbol, (), t, reason="FUNDING_FEE")
                ev["a"]["B"][0]["bc"] = money.text(paid)
                ev["a"]["S"] = symbol
                self._emit(account_id, ev)
        return rates

    async def run_funding(self) -> Dict[str, int]:
        """Test helper: settle funding now (the time of the call is the funding time)."""
        return self.settle_funding()

    # -- user events -----------------------------------------------------------------------------
    def _emit(self, account_id: int, event: dict) -> None:
        self.users.emit(account_id, event)

    def _listening(self, account_id: int) -> bool:
        """Anyone receiving this account's events? (building them is most of an order's cost)"""
        users = self.users
        if users.api_subs.get(account_id):
            return True
        hub = self.hub
        return any(lk.account_id == account_id and hub.has_subscribers(key) for key, lk in users.listen_keys.items())

    def _emit_order(self, o: "FuturesOrder", exec_type: str, now: int, fill=None) -> None:
        if self._listening(o.account_id):
            self.users.emit(o.account_id, self.order_event(o, exec_type, now, fill))

    def order_event(self, o: FuturesOrder, exec_type: str, now: int, fill=None) -> dict:
        return events.order_event(self, o, exec_type, now, fill)

    def account_update(self, account_id: int, symbol: str, sides, now: int, reason: str = "ORDER") -> dict:
        return events.account_update(self, account_id, symbol, sides, now, reason)

    @staticmethod
    def break_even(acct: FuturesAccount, pos) -> int:
        return events.break_even(acct, pos)

    # -- queries ---------------------------------------------------------------------------------
    def symbol(self, name: Optional[str]) -> FuturesSymbol:
        sym = self.symbols.get((name or "").upper()) if name else None
        if sym is None or name != sym.symbol:
            raise BinanceError(-1121, "Invalid symbol.")
        return sym

    def find_order(self, account_id: int, symbol: str, order_id: Optional[int], client_id: Optional[str]) -> Optional[FuturesOrder]:
        if order_id is not None:
            o = self.orders.get(order_id)
            if o is not None and o.account_id == account_id and o.symbol == symbol:
                if client_id is None or o.client_order_id == client_id:
                    return o
            return None
        return self.client_ids.get((account_id, symbol, client_id))

    def open_order_margins(self, account_id: int) -> List[OpenOrderMargin]:
        return [OpenOrderMargin(o.symbol, o.price, o.remaining, o.is_closing) for o in self.open_orders[account_id].values()]

    # -- placement -------------------------------------------------------------------------------
    def place_order(self, account_id: int, p: dict) -> FuturesOrder:
        """Validate and execute one ``POST /fapi/v1/order``; raises BinanceError."""
        acct = self.accounts[account_id]
        sym = self.symbol(_req(p, "symbol"))
        side = _req(p, "side")
        if side not in ("BUY", "SELL"):
            raise BinanceError(-1117, "Invalid side.")
        otype = _req(p, "type")
        if otype in CONDITIONAL_TYPES:  # moved to the Algo service (2025-12-09); not simulated
            raise BinanceError(-4120, "Order type not supported for this endpoint. Please use the Algo Order API endpoints instead.")
        if otype not in ("LIMIT", "MARKET"):
            raise BinanceError(-1116, "Invalid orderType.")
        position_side = p.get("positionSide") or BOTH
        if position_side not in (BOTH, LONG, SHORT):
            raise BinanceError(-1100, "Illegal characters found in parameter 'positionSide'; legal range is 'BOTH, LONG, SHORT'.")
        try:
            acct.check_position_side(position_side)
        except MarginError as e:
            raise BinanceError(e.code, e.msg)
        reduce_only = False
        if p.get("reduceOnly") not in (None, ""):
            if p["reduceOnly"].lower() not in ("true", "false"):
                raise BinanceError(-1100, "Illegal characters found in parameter 'reduceOnly'; legal range is 'true, false'.")
            reduce_only = p["reduceOnly"].lower() == "true"
            if acct.dual_side:
                raise BinanceError(-1106, "Parameter 'reduceOnly' sent when not required.")
        qty = parse_quantity(sym, _req(p, "quantity"), otype)
        tif = p.get("timeInForce") or ""
        price = 0
        if otype == "LIMIT":
            if not tif:
                raise BinanceError(-1102, "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed.")
            if tif not in TIME_IN_FORCE:
                raise BinanceError(-1115, "Invalid timeInForce.")
            price = parse_price(sym, _req(p, "price"))
            check_percent_price(sym, side, price, self.mark(sym.symbol))
        else:
            if p.get("price") not in (None, ""):
                raise BinanceError(-1106, "Parameter 'price' sent when not required.")
            tif = "GTC"
        good_till = 0
        if tif == "GTD":
            gtd = p.get("goodTillDate")
            if not gtd or not gtd.isdigit():
                raise BinanceError(-1102, "Mandatory parameter 'goodTillDate' was not sent, was empty/null, or malformed.")
            good_till = int(gtd)
            if good_till <= self.clock.now_ms() + 600_000:
                raise BinanceError(-4129, "goodTillDate must be greater than current time plus 600 seconds.")
        stp = p.get("selfTradePreventionMode") or "EXPIRE_MAKER"
        if stp not in STP_MODES:
            raise BinanceError(-1100, "Illegal characters found in parameter 'selfTradePreventionMode'; legal range is 'NONE, EXPIRE_TAKER, EXPIRE_MAKER, EXPIRE_BOTH'.")
        resp_type = p.get("newOrderRespType") or "ACK"
        if resp_type not in ("ACK", "RESULT"):
            raise BinanceError(-1100, "Illegal characters found in parameter 'newOrderRespType'; legal range is 'ACK, RESULT'.")
        client_id = p.get("newClientOrderId")
        if client_id is not None and client_id != "":
            if len(client_id) > 36:
                raise BinanceError(-4015, "Client order id length should not be more than 36 chars")
            if not CLIENT_ID.match(client_id):
                raise BinanceError(-1100, "Illegal characters found in parameter 'newClientOrderId'; legal range is '^[\\.A-Z\\:/a-z0-9_-]{1,36}$'.")
            prior = self.client_ids.get((account_id, sym.symbol, client_id))
            if prior is not None and prior.is_open:
                raise BinanceError(-4116, "ClientOrderId is duplicated.")
        else:
            client_id = f"sim{self._next_order_id}{self.rng.randrange(10**8):08d}"
        book = self.engine.book(sym.symbol)
        is_buy = side == "BUY"
        # reference price for notional and margin: the limit price, or the touch for MARKET
        if otype == "MARKET":
            touch = book.best_ask() if is_buy else book.best_bid()
            ref = touch[0] if touch else self.mark(sym.symbol)
        else:
            ref = price
        # risk-reducing part (reduce-only or hedge close) needs neither min notional nor margin
        reducing = acct.reducing_qty(sym.symbol, position_side, side, qty)
        try:
            if reduce_only:
                if reducing < qty:
                    raise MarginError(-2022, "ReduceOnly Order is rejected.")
            elif position_side != BOTH and reducing:
                pending = sum(o.remaining for o in self.open_orders[account_id].values()
                              if o.symbol == sym.symbol and o.position_side == position_side and o.side == side)
                acct.check_hedge_close(sym.symbol, position_side, side, qty, pending)
        except MarginError as e:
            raise BinanceError(e.code, e.msg)
        closing = reduce_only or (position_side != BOTH and reducing > 0)
        if not closing and money.mul(ref, qty) < sym.min_notional:
            raise BinanceError(-4164, f"Order's notional must be no smaller than {money.trimmed(sym.min_notional)} (unless you choose reduce only).")
        symbol_open = sum(1 for o in self.open_orders[account_id].values() if o.symbol == sym.symbol)
        if symbol_open >= MAX_OPEN_ORDERS:
            raise BinanceError(-2025, "Reach max open order limit.")
        if not closing:
            increasing = qty - reducing if position_side == BOTH else qty
            try:
                acct.check_margin(self.marks(), self.open_order_margins(account_id),
                                  OpenOrderMargin(sym.symbol, ref, increasing, False))
            except MarginError as e:
                raise BinanceError(e.code, e.msg)
        post_only = tif == "GTX"
        if post_only and self.gtx_reject and book.would_take(is_buy, price):
            raise BinanceError(-5022, "Due to the order could not be executed as maker, the Post Only order will be rejected.")
        if tif == "FOK" and book.fillable(is_buy, price, account_id if stp != "NONE" else None, qty) < qty:
            raise BinanceError(-5021, "Due to the order could not be filled immediately, the FOK order has been rejected. The order will not be recorded in the order history.")
        now = self.clock.now_ms()
        oid = self.new_order_id()
        rec = FuturesOrder(order_id=oid, client_order_id=client_id, account_id=account_id, symbol=sym.symbol,
                           side=side, type=otype, tif=tif, price=price, qty=qty, status="NEW",
                           reduce_only=reduce_only, position_side=position_side, time=now, update_time=now,
                           stp=stp, good_till=good_till, price_match=p.get("priceMatch") or "NONE")
        order = Order(oid, account_id, is_buy, price, qty, tag=rec)
        rec.engine_order = order
        self.orders[oid] = rec
        self.client_ids[(account_id, sym.symbol, client_id)] = rec
        if post_only and book.would_take(is_buy, price):  # old behaviour: accept, then expire
            self._emit_order(rec, "NEW", now)
            rec.status = "EXPIRED"
            self._emit_order(rec, "EXPIRED", now)
            return rec
        self._emit_order(rec, "NEW", now)
        engine_tif = tif if tif in ("IOC", "FOK") else "GTC"  # GTX/GTD rest like GTC
        result = book.submit(order, tif=engine_tif, market=otype == "MARKET", post_only=False, stp=stp)
        self._settle(sym, rec, result, now)
        return rec

    # -- settlement of engine results -----------------------------------------------------------
    def _settle(self, sym: FuturesSymbol, taker: Optional[FuturesOrder], result, now: int,
                taker_is_buy: Optional[bool] = None) -> None:
        """Book fills for both sides, update orders, emit events, publish trades."""
        touched: Dict[int, set] = {}
        for f in result.fills:
            for rec, maker in ((f.maker.tag, True), (taker, False)):
                if isinstance(rec, FuturesOrder):
                    self._fill(sym, rec, f.trade_id, f.price, f.qty, maker, now)
                    touched.setdefault(rec.account_id, set()).add(rec.position_side)
        for m in result.expired_makers:
            rec = m.tag
            if isinstance(rec, FuturesOrder):
                rec.status, rec.expire_reason, rec.update_time = "EXPIRED_IN_MATCH", "1", now
                self._close(rec)
                self._emit_order(rec, "EXPIRED", now)
        if taker is not None and taker.status in ("NEW", "PARTIALLY_FILLED") and not result.rested:
            if result.taker_stp:
                taker.status, taker.expire_reason = "EXPIRED_IN_MATCH", "1"
            else:
                taker.status = "EXPIRED"
                taker.expire_reason = "9" if taker.type == "MARKET" else "2"
            taker.update_time = now
            self._close(taker)
            self._emit_order(taker, "EXPIRED", now)
        elif taker is not None and result.rested:
            self.open_orders[taker.account_id][taker.order_id] = taker
        for account_id, sides in touched.items():
            if self._listening(account_id):
                self._emit(account_id, self.account_update(account_id, sym.symbol, sorted(sides), now))
            self._trim_closing_orders(account_id, sym.symbol, sides, now)
        if taker_is_buy is None:
            taker_is_buy = taker.side == "BUY"
        self._after_book_op(sym.symbol, result.fills, taker_is_buy)
        self.fills_total += len(result.fills)

    def _fill(self, sym: FuturesSymbol, rec: FuturesOrder, trade_id: int, price: int, qty: int, maker: bool, now: int) -> None:
        acct = self.accounts[rec.account_id]
        out = acct.apply_fill(sym.symbol, rec.position_side, rec.side, qty, price, maker, now, trade_id)
        rec.executed += qty
        rec.cum_quote += money.mul(price, qty)
        rec.update_time = now
        rec.status = "FILLED" if rec.executed >= rec.qty else "PARTIALLY_FILLED"
        if rec.status == "FILLED":
            self._close(rec)
        self.trades[rec.account_id].append({
            "symbol": sym.symbol, "id": trade_id, "orderId": rec.order_id, "side": rec.side,
            "price": sym.fmt_price(price), "qty": sym.fmt_qty(qty), "realizedPnl": money.text(out.realized_pnl),
            "quoteQty": money.text(money.mul(price, qty)), "commission": money.text(out.commission),
            "commissionAsset": "USDT", "time": now, "positionSide": rec.position_side,
            "buyer": rec.side == "BUY", "maker": maker, "marginAsset": "USDT",
        })
        self._emit_order(rec, "TRADE", now, (trade_id, price, qty, maker, out.commission, out.realized_pnl))

    def _trim_closing_orders(self, account_id: int, symbol: str, sides, now: int) -> None:
        """Keep open closing orders (reduce-only, hedge-mode closes) within the position they close:
        the newest beyond it expire (``er`` "4"), so a later maker fill can never open or flip a
        position — Binance likewise expires reduce-only orders when the position shrinks or closes."""
        acct = self.accounts[account_id]
        for side in sides:
            pos = acct.positions.get((symbol, side))
            amount = pos.amount if pos else 0
            closing = [o for o in self.open_orders[account_id].values()
                       if o.symbol == symbol and o.position_side == side and o.is_closing]
            if not closing:
                continue
            closing.sort(key=lambda o: o.order_id)
            room = 0
            for o in closing:
                reduces = (o.side == "SELL" and amount > 0) or (o.side == "BUY" and amount < 0)
                if reduces and room + o.remaining <= abs(amount):
                    room += o.remaining
                    continue
                self.engine.book(symbol).cancel(o.order_id)
                o.status, o.expire_reason, o.update_time = "EXPIRED", "4", now
                self._close(o)
                self._emit_order(o, "EXPIRED", now)
                self.market.book_changed(symbol)

    def expire_good_till(self, now: int) -> int:
        """Expire GTD orders whose ``goodTillDate`` has passed (checked every second)."""
        victims = [o for orders in self.open_orders.values() for o in orders.values()
                   if o.tif == "GTD" and o.good_till and o.good_till <= now]
        for o in victims:
            self.engine.book(o.symbol).cancel(o.order_id)
            o.status, o.update_time = "EXPIRED", now
            self._close(o)
            self._emit_order(o, "EXPIRED", now)
            self.market.book_changed(o.symbol)
        return len(victims)

    def _close(self, rec: FuturesOrder) -> None:
        self.open_orders[rec.account_id].pop(rec.order_id, None)
        # bounded history (Binance keeps 3–90 days): forget the oldest closed orders
        self._closed.append(rec.order_id)
        if len(self._closed) > HISTORY_LIMIT:
            old = self.orders.pop(self._closed.popleft(), None)
            if old is not None:
                key = (old.account_id, old.symbol, old.client_order_id)
                if self.client_ids.get(key) is old:
                    del self.client_ids[key]

    # -- cancel ----------------------------------------------------------------------------------
    def cancel_order(self, account_id: int, rec: Optional[FuturesOrder]) -> FuturesOrder:
        if rec is None or not rec.is_open:
            raise BinanceError(-2011, "Unknown order sent.")
        book = self.engine.book(rec.symbol)
        book.cancel(rec.order_id)
        now = self.clock.now_ms()
        rec.status, rec.update_time = "CANCELED", now
        self._close(rec)
        self._emit_order(rec, "CANCELED", now)
        self.market.book_changed(rec.symbol)
        return rec

    # -- modify (PUT /fapi/v1/order) -------------------------------------------------------------
    def modify_order(self, account_id: int, rec: Optional[FuturesOrder], p: dict) -> FuturesOrder:
        """Change an open LIMIT order's price and/or quantity. The order keeps its id and leaves
        the queue (re-inserted at the back, and it may match at once); a new quantity at or
        below the filled quantity cancels it, as on Binance. ORDER_TRADE_UPDATE x=AMENDMENT."""
        if rec is None or not rec.is_open:
            raise BinanceError(-2013, "Order does not exist.")
        if rec.type != "LIMIT":
            raise BinanceError(-4180, "Only limit orders can be modified.")
        side = _req(p, "side")
        if side not in ("BUY", "SELL"):
            raise BinanceError(-1117, "Invalid side.")
        if side != rec.side:
            raise BinanceError(-4167, "The side of the modified order must be the same as the original order.")
        sym = self.symbols[rec.symbol]
        qty = parse_quantity(sym, _req(p, "quantity"), "LIMIT")
        price = parse_price(sym, _req(p, "price"))
        check_percent_price(sym, side, price, self.mark(sym.symbol))
        if qty == rec.qty and price == rec.price:
            raise BinanceError(-5027, "No need to modify the order.")
        now = self.clock.now_ms()
        if qty <= rec.executed:
            return self.cancel_order(account_id, rec)
        if not rec.is_closing:
            acct = self.accounts[account_id]
            others = [m for o, m in zip(self.open_orders[account_id].values(), self.open_order_margins(account_id))
                      if o is not rec]
            try:
                acct.check_margin(self.marks(), others, OpenOrderMargin(rec.symbol, price, qty - rec.executed, False))
            except MarginError as e:
                raise BinanceError(e.code, e.msg)
        book = self.engine.book(rec.symbol)
        if rec.tif == "GTX" and self.gtx_reject and book.would_take(rec.side == "BUY", price):
            raise BinanceError(-5022, "Due to the order could not be executed as maker, the Post Only order will be rejected.")
        book.cancel(rec.order_id)
        self.open_orders[account_id].pop(rec.order_id, None)
        rec.qty, rec.price, rec.update_time = qty, price, now
        self._emit_order(rec, "AMENDMENT", now)
        order = Order(rec.order_id, account_id, rec.side == "BUY", price, qty - rec.executed, tag=rec)
        rec.engine_order = order
        result = book.submit(order, tif="GTC", stp=rec.stp)
        self._settle(sym, rec, result, now)
        return rec

    def cancel_all(self, account_id: int, symbol: str) -> int:
        victims = [o for o in self.open_orders[account_id].values() if o.symbol == symbol]
        for o in victims:
            self.cancel_order(account_id, o)
        return len(victims)

    # -- external activity (test helpers and agents) ---------------------------------------------
    def external_order(self, symbol: str, is_buy: bool, price: int, qty: int, *, market: bool = False,
                       tif: str = "GTC", quote_qty: int = 0):
        """An order of the outside market (owner None, no margin): agents, take(), seeding.
        Resting user orders it crosses are filled and settled like any other fill."""
        book = self.engine.book(symbol)
        order = Order(self.new_order_id(), None, is_buy, price, qty or money.MAX_ATOMS // 4)
        result = book.submit(order, tif=tif, market=market, quote_qty=quote_qty, stp="NONE")
        self._settle(self.symbols[symbol], None, result, self.clock.now_ms(), taker_is_buy=is_buy)
        return order, result.fills

    def external_cancel(self, symbol: str, order_id: int) -> bool:
        gone = self.engine.book(symbol).cancel(order_id) is not None
        if gone:
            self.market.book_changed(symbol)
        return gone

    def _after_book_op(self, symbol: str, fills, taker_is_buy: bool) -> None:
        if fills:
            self.market.publish_fills(symbol, fills, taker_is_buy)
        self.market.book_changed(symbol)

    async def take(self, symbol: str, side: str, qty) -> List[dict]:
        """Test helper: an external taker sends a MARKET ``side`` order for ``qty`` (base, text or
        Decimal); fills resting orders (user orders included) in price-time priority. Returns the
        fills as ``{"price", "qty", "tradeId", "makerOrderId"}`` (decimal strings), like spot."""
        sym = self.symbol((symbol or "").upper())
        side = str(side).upper()
        if side not in ("BUY", "SELL"):
            raise ValueError(f"take: side must be BUY or SELL, got {side!r}")
        if isinstance(qty, float):
            raise TypeError(f"take: float {qty!r} is not exact; pass a string or Decimal")
        atoms = money.parse(str(qty))
        if atoms <= 0:
            raise ValueError(f"take: qty must be > 0, got {qty!r}")
        _, fills = self.external_order(sym.symbol, side == "BUY", 0, atoms, market=True)
        return [{"price": money.text(f.price), "qty": money.text(f.qty), "tradeId": f.trade_id,
                 "makerOrderId": f.maker.order_id} for f in fills]

    def add_liquidity(self, symbol: str, side: str, price, qty) -> int:
        """Test helper (as spot's): rest an external limit order (matches if it crosses); returns its id."""
        sym = self.symbol((symbol or "").upper())
        for what, v in (("price", price), ("qty", qty)):
            if isinstance(v, float):
                raise TypeError(f"add_liquidity: float {what} {v!r} is not exact; pass a string or Decimal")
        order, _ = self.external_order(sym.symbol, str(side).upper() == "BUY", money.parse(str(price)),
                                       money.parse(str(qty)))
        return order.order_id

    def set_mid(self, symbol: str, price, levels: Optional[int] = None) -> None:
        """Test helper: rebuild the outside market's book around ``price`` (user orders it
        crosses are filled); the mark price follows at once."""
        sym = self.symbol((symbol or "").upper())
        p = money.parse(str(price))
        if p <= 0 or p % sym.tick:
            raise ValueError(f"set_mid: price {price!r} must be > 0 and a multiple of {sym.config.tick_size}")
        self.agents.reseed(sym.symbol, p, levels)
        self.funding[sym.symbol].update_mark(self._mid(sym.symbol))

    def deposit(self, account_id: int, amount, asset: str = "USDT") -> None:
        """Test helper: credit (negative: debit) the futures wallet; ACCOUNT_UPDATE m=DEPOSIT and
        an income row TRANSFER, as a transfer from spot would produce."""
        if asset.upper() != "USDT":
            raise ValueError("deposit: the simulated futures wallet holds USDT only")
        if isinstance(amount, float):
            raise TypeError(f"deposit: float {amount!r} is not exact; pass a string or Decimal")
        acct = self.accounts[account_id]
        delta = money.parse(str(amount))
        if acct.wallet["USDT"] + delta < 0:
            raise ValueError("deposit: wallet balance would go negative")
        acct.wallet["USDT"] += delta
        now = self.clock.now_ms()
        acct._add_income("", "TRANSFER", delta, now, "")
        wb = money.text(acct.wallet["USDT"])
        self._emit(account_id, {"e": "ACCOUNT_UPDATE", "E": now, "T": now, "a": {
            "m": "DEPOSIT" if delta >= 0 else "WITHDRAW",
            "B": [{"a": "USDT", "wb": wb, "cw": wb, "bc": money.text(delta)}], "P": []}})

    def position_amount(self, symbol: str, position_side: str = BOTH, account_id: int = 0) -> str:
        """Test convenience: signed position size as a decimal string."""
        pos = self.accounts[account_id].positions.get((symbol.upper(), position_side.upper()))
        return money.text(pos.amount if pos else 0)

    def wallet_balance(self, account_id: int = 0) -> str:
        return money.text(self.accounts[account_id].wallet["USDT"])

    def set_index_premium(self, symbol: str, premium) -> None:
        """Make index = mark / (1 + premium) (drives the funding rate; see funding.py)."""
        f = self.funding[self.symbol(symbol.upper()).symbol]
        if isinstance(premium, float):
            raise TypeError(f"set_index_premium: float {premium!r} is not exact; pass a string or Decimal")
        value = money.parse(str(premium))
        if not -money.ONE // 2 <= value <= money.ONE // 2:
            raise ValueError(f"set_index_premium: premium must be within ±0.5, got {premium!r}")
        f.index_premium = value
        f.update_mark(f.mark)


def _premium_option(value) -> int:
    """``SymbolConfig.options["index_premium"]`` (decimal text within ±0.5) → atoms."""
    if isinstance(value, float):
        raise TypeError(f"index_premium: float {value!r} is not exact; pass a string")
    atoms = money.parse(str(value))
    if not -money.ONE // 2 <= atoms <= money.ONE // 2:
        raise ValueError(f"index_premium must be within ±0.5, got {value!r}")
    return atoms
