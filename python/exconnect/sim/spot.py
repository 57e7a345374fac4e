"""The spot venue: symbols and filters, balances, orders, settlement, user events, test helpers.

Layering: REST/WS handlers (``spot_rest.py``, ``ws_api.py``) parse and validate the wire format and
call :meth:`SpotVenue.place_order` / :meth:`cancel_order` / queries here; this module does the
pre-trade checks (filters, balance), locks balances, drives the account-agnostic matching engine,
settles fills with maker/taker fees (commission taken from the asset received), and emits
``executionReport`` / ``outboundAccountPosition`` / ``balanceUpdate`` through :class:`UserStreams`.

All amounts are ints in atoms (1e-8); see ``money.py``. Lock for a BUY limit order is
``ceil(price * remaining)``, released proportionally as it fills, so the quote spent at better
(maker) prices returns to ``free`` at once.
"""
from __future__ import annotations

import asyncio
import base64
import itertools
import random
import re

from . import errors, money
from .agents import MarketAgents
from .market_data import MarketDataPublisher
from .matching_engine import Book, MatchingEngine, Order
from .money import ONE
from .stream_hub import StreamHub
from .user_streams import UserStreams

CLIENT_ID = re.compile(r"^[a-zA-Z0-9_-]{1,36}$")
STREAM_NAME = re.compile(
    r"^([a-z0-9]+)@(depth(?:5|10|20)?(?:@100ms|@1000ms)?|trade|aggTrade|bookTicker|ticker|miniTicker"
    r"|kline_(?:1s|1m|3m|5m|15m|30m|1h|2h|4h|6h|8h|12h|1d|3d|1w))$")
STP_MODES = ("NONE", "EXPIRE_MAKER", "EXPIRE_TAKER", "EXPIRE_BOTH")


def _ceil_mul(price: int, qty: int) -> int:
    return -(-price * qty // ONE)


class SymbolInfo:
    """A symbol's config in atoms, for the hot path."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.symbol = cfg.symbol
        self.base = cfg.base_asset.upper()
        self.quote = cfg.quote_asset.upper()
        p = money.parse
        self.tick, self.step = p(cfg.tick_size), p(cfg.step_size)
        self.min_qty, self.max_qty = p(cfg.min_qty), p(cfg.max_qty)
        self.market_max_qty = p(cfg.market_max_qty)
        self.min_price, self.max_price = p(cfg.min_price), p(cfg.max_price)
        self.min_notional, self.max_notional = p(cfg.min_notional), p(cfg.max_notional)
        self.initial_price = p(cfg.initial_price)


class SpotOrder:
    """The venue's record of one user order (also the engine Order's ``tag``)."""

    __slots__ = ("symbol", "order_id", "client_order_id", "account_id", "side", "type", "tif",
                 "price", "qty", "quote_order_qty", "executed", "cum_quote", "status", "time",
                 "update_time", "working_time", "stp", "locked", "engine", "strategy_id",
                 "strategy_type", "prevented_qty")

    def __init__(self, **kw):
        self.prevented_qty = 0
        self.strategy_id = self.strategy_type = None
        for k, v in kw.items():
            setattr(self, k, v)

    @property
    def is_buy(self) -> bool:
        return self.side == "BUY"

    @property
    def is_open(self) -> bool:
        return self.status in ("NEW", "PARTIALLY_FILLED")


class MyTrade:
    __slots__ = ("symbol", "id", "order_id", "price", "qty", "quote", "commission", "commission_asset",
                 "time", "is_buyer", "is_maker")

    def __init__(self, **kw):
        for k, v in kw.items():
            setattr(self, k, v)

    def to_json(self) -> dict:
        t = money.text
        return {"symbol": self.symbol, "id": self.id, "orderId": self.order_id, "orderListId": -1,
                "price": t(self.price), "qty": t(self.qty), "quoteQty": t(self.quote),
                "commission": t(self.commission), "commissionAsset": self.commission_asset,
                "time": self.time, "isBuyer": self.is_buyer, "isMaker": self.is_maker, "isBestMatch": True}


class SpotAccount:
    def __init__(self, account_id: int, balances: dict):
        self.account_id = account_id
        self.free: dict[str, int] = {a: money.parse(v) for a, v in balances.items()}
        self.locked: dict[str, int] = {a: 0 for a in self.free}
        self.orders: dict[int, SpotOrder] = {}
        self.open_by_client_id: dict[tuple[str, str], SpotOrder] = {}
        self.last_by_client_id: dict[tuple[str, str], SpotOrder] = {}
        self.trades: dict[str, list[MyTrade]] = {}
        self.update_time = 0

    def ensure(self, asset: str) -> None:
        if asset not in self.free:
            self.free[asset] = 0
            self.locked[asset] = 0


class PlaceResult:
    __slots__ = ("order", "fills", "time")

    def __init__(self, order, fills, time):
        self.order, self.fills, self.time = order, fills, time


class SpotVenue:
    def __init__(self, sim):
        self.sim = sim
        cfg = sim.config
        self.clock = sim.clock
        self.symbols: dict[str, SymbolInfo] = {s.symbol: SymbolInfo(s) for s in cfg.spot_symbols}
        self.engine = MatchingEngine()
        for info in self.symbols.values():
            self.engine.add_symbol(info.symbol, info.step)
        self.books: dict[str, Book] = self.engine.books
        self.hub = StreamHub(self.is_valid_stream)
        self.user_streams = UserStreams(self.hub, self.clock, sim.faults, cfg.listen_key_ttl_s)
        self.publisher = MarketDataPublisher(self.hub, self.books, self.clock, tick_ms=cfg.depth_interval_ms)
        sim.faults.register_hub(self.hub)
        sim.faults.register_depth_publisher(self.publisher)
        self.accounts = [SpotAccount(i, a.balances) for i, a in enumerate(cfg.accounts)]
        self.maker_fee = money.parse(cfg.maker_fee)
        self.taker_fee = money.parse(cfg.taker_fee)
        self._ids = itertools.count(1)
        self._exec_ids = itertools.count(1)
        self._rng = random.Random(cfg.seed)
        self.agents = MarketAgents(self, cfg, random.Random(cfg.seed * 7919 + 1))
        self.orders_accepted = 0
        self.max_history = cfg.max_history
        from . import spot_rest, ws_api
        spot_rest.add_routes(sim, self)
        ws_api.add_routes(sim, self)
        self._add_stream_routes(sim)
        self.agents.seed_books()

    def _add_stream_routes(self, sim) -> None:
        """Market (and legacy listen-key) stream paths real clients use on the spot port."""
        from .ws_streams import stream_handler
        raw = stream_handler(sim, self.hub, combined=False, is_listen_key=self.user_streams.is_listen_key)
        combined = stream_handler(sim, self.hub, combined=True, is_listen_key=self.user_streams.is_listen_key)
        add = sim.spot_app.router.add_get
        add("/ws", raw)
        add("/ws/{tail:.*}", raw)
        add("/stream", combined)
        add("/stream/ws", raw)              # ccxt.pro spot base URL must contain "/stream"
        add("/stream/ws/{tail:.*}", raw)

    # -- lifecycle -------------------------------------------------------------------------------
    async def start(self) -> None:
        self.publisher.start()
        self.user_streams.start()
        if self.sim.config.market_activity:
            self.agents.start()

    async def stop(self) -> None:
        await self.agents.stop()
        await self.publisher.stop()
        await self.user_streams.stop()
        await asyncio.gather(*(conn.close(1001, b"server shutdown") for conn in list(self.hub.connections)),
                             return_exceptions=True)

    # -- lookups ---------------------------------------------------------------------------------
    # The futures venue's names for the same objects, so fault drills read alike on both venues.
    @property
    def users(self) -> UserStreams:
        return self.user_streams

    @property
    def market(self) -> MarketDataPublisher:
        return self.publisher

    def is_valid_stream(self, name: str) -> bool:
        m = STREAM_NAME.match(name)
        return bool(m) and m.group(1).upper() in self.symbols

    def symbol(self, name: str | None) -> SymbolInfo:
        if not name:
            raise errors.mandatory("symbol")
        info = self.symbols.get(name)
        if info is None:
            raise errors.bad_symbol()
        return info

    def account(self, account_id: int) -> SpotAccount:
        return self.accounts[account_id]

    def new_client_id(self) -> str:
        """22 random URL-safe characters, like Binance's generated ids (seeded)."""
        return base64.urlsafe_b64encode(self._rng.getrandbits(132).to_bytes(17, "big")).decode()[:22]

    def next_order_id(self) -> int:
        return next(self._ids)

    # -- filters ---------------------------------------------------------------------------------
    def reference_price(self, info: SymbolInfo) -> int:
        book = self.books[info.symbol]
        bb, ba = book.best_bid(), book.best_ask()
        if book.last_price:
            return book.last_price
        if bb and ba:
            return (bb[0] + ba[0]) // 2
        return (bb or ba or (info.initial_price, 0))[0]

    def check_filters(self, info: SymbolInfo, order_type: str, price: int, qty: int,
                      quote_qty: int = 0) -> None:
        """Binance's symbol filters; -1013 "Filter failure: <NAME>"."""
        if order_type != "MARKET":
            if price <= 0 or price < info.min_price or price > info.max_price or price % info.tick:
                raise errors.filter_failure("PRICE_FILTER")
        if qty or not quote_qty:
            if qty <= 0 or qty < info.min_qty or qty > info.max_qty or qty % info.step:
                raise errors.filter_failure("LOT_SIZE")
            if order_type == "MARKET" and qty > info.market_max_qty:
                raise errors.filter_failure("MARKET_LOT_SIZE")
        ref = price if order_type != "MARKET" else self.reference_price(info)
        notional = quote_qty if quote_qty else money.mul(ref, qty)
        if notional < info.min_notional or (order_type != "MARKET" and notional > info.max_notional):
            raise errors.filter_failure("NOTIONAL")

    # -- placement -------------------------------------------------------------------------------
    def place_order(self, account_id: int, symbol: str, side: str, order_type: str, *,
                    tif: str | None = None, qty: int = 0, price: int = 0, quote_qty: int = 0,
                    client_order_id: str | None = None, stp: str = "EXPIRE_MAKER",
                    strategy_id: int | None = None, strategy_type: int | None = None,
                    test_only: bool = False) -> PlaceResult | None:
        """Validate, lock, match and settle one order; emits user events. Raises BinanceError."""
        info = self.symbol(symbol)
        acct = self.accounts[account_id]
        self.check_filters(info, order_type, price, qty, quote_qty)
        if client_order_id is None:
            client_order_id = self.new_client_id()
        elif not CLIENT_ID.match(client_order_id):
            raise errors.illegal_chars("newClientOrderId")
        if (symbol, client_order_id) in acct.open_by_client_id:
            raise errors.new_order_rejected(errors.DUPLICATE_ORDER)
        is_buy = side == "BUY"
        book = self.books[symbol]
        acct.ensure(info.base)
        acct.ensure(info.quote)
        # pre-trade balance check and lock amount
        if order_type == "MARKET":
            if is_buy:
                need = quote_qty or book.sweep(True, qty, account_id)[1]
                asset = info.quote
            else:
                need = qty or book.sweep(False, 0, account_id, quote_qty)[0]
                asset = info.base
            lock = 0
        else:
            asset = info.quote if is_buy else info.base
            need = lock = _ceil_mul(price, qty) if is_buy else qty
        if acct.free.get(asset, 0) < need:
            raise errors.new_order_rejected(errors.INSUFFICIENT_BALANCE)
        if order_type == "LIMIT_MAKER" and book.would_take(is_buy, price):
            raise errors.new_order_rejected(errors.WOULD_TAKE)
        if test_only:
            return None
        now = self.clock.now_ms()
        oid = self.next_order_id()
        rec = SpotOrder(symbol=symbol, order_id=oid, client_order_id=client_order_id, account_id=account_id,
                        side=side, type=order_type, tif=tif or "GTC", price=price, qty=qty,
                        quote_order_qty=quote_qty, executed=0, cum_quote=0, status="NEW", time=now,
                        update_time=now, working_time=-1, stp=stp, locked=lock, engine=None)
        rec.strategy_id, rec.strategy_type = strategy_id, strategy_type
        eng_qty = qty if qty else money.MAX_ATOMS // 4
        eo = Order(oid, account_id, is_buy, price, eng_qty, rec)
        rec.engine = eo
        acct.orders[oid] = rec
        acct.last_by_client_id[(symbol, client_order_id)] = rec
        if len(acct.orders) > self.max_history * 1.1:
            self._trim_history(acct)
        self.orders_accepted += 1
        if lock:
            acct.free[asset] -= lock
            acct.locked[asset] += lock
        if order_type != "MARKET":
            rec.working_time = now
        self._report(rec, "NEW", now)
        result = book.submit(eo, tif="GTC" if order_type == "LIMIT_MAKER" else (tif or "GTC"),
                             market=order_type == "MARKET", post_only=order_type == "LIMIT_MAKER",
                             quote_qty=quote_qty, stp=stp)
        changed = {account_id: {info.base, info.quote}}
        fills_out = []
        for maker in result.expired_makers:
            self._expire_stp(maker, oid, now, changed)
        for f in result.fills:
            fills_out.append(self._settle(info, f, now, changed))
        if result.rested:
            rec.status = "PARTIALLY_FILLED" if rec.executed else "NEW"
            acct.open_by_client_id[(symbol, client_order_id)] = rec
        elif rec.executed and rec.executed == qty and qty:
            rec.status = "FILLED"
        else:
            # IOC/FOK/MARKET remainder, STP-expired taker, or a quote-qty market order that finished
            rec.status = "FILLED" if (quote_qty and rec.cum_quote and self._quote_done(rec)) else "EXPIRED"
            if result.rejected == "FOK":
                rec.status = "EXPIRED"
            elif result.taker_stp:
                rec.status = "EXPIRED_IN_MATCH"
            if rec.status != "FILLED":
                rec.working_time = -1 if not rec.executed else rec.working_time
                self._release(acct, rec, info)
                self._report(rec, "EXPIRED" if rec.status == "EXPIRED" else "TRADE_PREVENTION", now)
        if rec.status == "FILLED":
            self._release(acct, rec, info)
        rec.update_time = now
        self._after_book_op(symbol, result.fills, is_buy)
        self._account_positions(changed, now)
        return PlaceResult(rec, fills_out, now)

    def _trim_history(self, acct: SpotAccount) -> None:
        """Forget the oldest closed orders and own trades beyond ``max_history`` (amortised)."""
        excess = len(acct.orders) - self.max_history
        for oid in list(acct.orders):
            if excess <= 0:
                break
            rec = acct.orders[oid]
            if not rec.is_open:
                del acct.orders[oid]
                if acct.last_by_client_id.get((rec.symbol, rec.client_order_id)) is rec:
                    del acct.last_by_client_id[(rec.symbol, rec.client_order_id)]
                excess -= 1
        for sym, trades in acct.trades.items():
            if len(trades) > self.max_history:
                del trades[: len(trades) - self.max_history]

    def _quote_done(self, rec: SpotOrder) -> bool:
        """A quoteOrderQty market order is FILLED when what is left can't buy one step."""
        info = self.symbols[rec.symbol]
        book = self.books[rec.symbol]
        left = rec.quote_order_qty - rec.cum_quote
        top = book.best_ask() if rec.is_buy else book.best_bid()
        if left <= 0:
            return True
        return top is not None and money.mul(top[0], info.step) > left

    def _release(self, acct: SpotAccount, rec: SpotOrder, info: SymbolInfo) -> None:
        if rec.locked:
            asset = info.quote if rec.is_buy else info.base
            acct.locked[asset] -= rec.locked
            acct.free[asset] += rec.locked
            rec.locked = 0

    def _settle(self, info: SymbolInfo, f, now: int, changed: dict) -> dict:
        """Apply one fill to the user side(s); returns the taker's FULL ``fills`` entry."""
        entry = None
        for rec_order, is_maker in ((f.maker, True), (f.taker, False)):
            rec = rec_order.tag
            if rec is None:            # market agent / external taker: no balances
                continue
            acct = self.accounts[rec.account_id]
            fee_rate = self.maker_fee if is_maker else self.taker_fee
            if rec.is_buy:
                fee = f.qty * fee_rate // ONE
                if rec.locked:
                    remaining_after = rec.engine.remaining
                    new_lock = _ceil_mul(rec.price, remaining_after)
                    released = rec.locked - new_lock
                    rec.locked = new_lock
                    acct.locked[info.quote] -= released
                    acct.free[info.quote] += released - f.quote
                else:
                    acct.free[info.quote] -= f.quote
                acct.free[info.base] += f.qty - fee
                fee_asset = info.base
            else:
                fee = f.quote * fee_rate // ONE
                if rec.locked:
                    rec.locked -= f.qty
                    acct.locked[info.base] -= f.qty
                else:
                    acct.free[info.base] -= f.qty
                acct.free[info.quote] += f.quote - fee
                fee_asset = info.quote
            if not rec.executed:
                self.sim.spot_rest.limiter.order_filled(rec.account_id)
            rec.executed += f.qty
            rec.cum_quote += f.quote
            rec.update_time = now
            done = rec.executed >= rec.qty and rec.qty > 0
            if is_maker:
                rec.status = "FILLED" if f.maker_done else "PARTIALLY_FILLED"
                if f.maker_done:
                    self.accounts[rec.account_id].open_by_client_id.pop((rec.symbol, rec.client_order_id), None)
                    self._release(acct, rec, info)
            else:
                rec.status = "FILLED" if done else "PARTIALLY_FILLED"
            trade = MyTrade(symbol=info.symbol, id=f.trade_id, order_id=rec.order_id, price=f.price,
                            qty=f.qty, quote=f.quote, commission=fee, commission_asset=fee_asset,
                            time=now, is_buyer=rec.is_buy, is_maker=is_maker)
            acct.trades.setdefault(info.symbol, []).append(trade)
            changed.setdefault(rec.account_id, set()).update((info.base, info.quote))
            self._report(rec, "TRADE", now, trade=trade)
            if not is_maker:
                entry = {"price": money.text(f.price), "qty": money.text(f.qty),
                         "commission": money.text(fee), "commissionAsset": fee_asset, "tradeId": f.trade_id}
        return entry

    def _expire_stp(self, maker: Order, taker_id: int, now: int, changed: dict) -> None:
        rec = maker.tag
        if rec is None:
            return
        acct = self.accounts[rec.account_id]
        info = self.symbols[rec.symbol]
        rec.status = "EXPIRED_IN_MATCH"
        rec.prevented_qty = maker.remaining
        rec.update_time = now
        acct.open_by_client_id.pop((rec.symbol, rec.client_order_id), None)
        self._release(acct, rec, info)
        changed.setdefault(rec.account_id, set()).update((info.base, info.quote))
        self._report(rec, "TRADE_PREVENTION", now, prevented_match=taker_id)

    # -- cancel ----------------------------------------------------------------------------------
    def find_order(self, account_id: int, symbol: str, order_id: int | None,
                   client_order_id: str | None) -> SpotOrder | None:
        acct = self.accounts[account_id]
        if order_id is not None:
            rec = acct.orders.get(order_id)
            if rec is None or rec.symbol != symbol:
                return None
            if client_order_id is not None and rec.client_order_id != client_order_id:
                return None
            return rec
        if client_order_id is not None:
            rec = acct.open_by_client_id.get((symbol, client_order_id))
            return rec or acct.last_by_client_id.get((symbol, client_order_id))
        return None

    def cancel_order(self, account_id: int, symbol: str, order_id: int | None = None,
                     client_order_id: str | None = None, cancel_client_id: str | None = None,
                     restriction: str | None = None) -> tuple[SpotOrder, str]:
        """Cancel an open order → (order, cancel client id); -2011 if unknown or not open."""
        info = self.symbol(symbol)
        rec = self.find_order(account_id, symbol, order_id, client_order_id)
        if rec is None or not rec.is_open:
            raise errors.cancel_rejected(errors.UNKNOWN_ORDER)
        if restriction == "ONLY_NEW" and rec.status != "NEW" or \
                restriction == "ONLY_PARTIALLY_FILLED" and rec.status != "PARTIALLY_FILLED":
            raise errors.cancel_rejected("Order was not canceled due to cancel restrictions.")
        if cancel_client_id is not None and not CLIENT_ID.match(cancel_client_id):
            raise errors.illegal_chars("newClientOrderId")
        cancel_id = cancel_client_id or self.new_client_id()
        book = self.books[symbol]
        book.cancel(rec.order_id)
        now = self.clock.now_ms()
        acct = self.accounts[account_id]
        rec.status = "CANCELED"
        rec.update_time = now
        acct.open_by_client_id.pop((symbol, rec.client_order_id), None)
        self._release(acct, rec, info)
        self._report(rec, "CANCELED", now, cancel_id=cancel_id)
        self._after_book_op(symbol, (), True)
        self._account_positions({account_id: {info.base, info.quote}}, now)
        return rec, cancel_id

    def open_orders(self, account_id: int, symbol: str | None = None) -> list[SpotOrder]:
        acct = self.accounts[account_id]
        out = [o for o in acct.open_by_client_id.values() if symbol is None or o.symbol == symbol]
        out.sort(key=lambda o: o.order_id)
        return out

    # -- events ----------------------------------------------------------------------------------
    def _report(self, rec: SpotOrder, x: str, now: int, *, trade: MyTrade | None = None,
                cancel_id: str | None = None, prevented_match: int | None = None) -> None:
        if not self.user_streams.has_listeners(rec.account_id):
            next(self._exec_ids)
            return
        t = money.text
        ev = {"e": "executionReport", "E": now, "s": rec.symbol,
              "c": cancel_id if cancel_id else rec.client_order_id, "S": rec.side, "o": rec.type,
              "f": rec.tif if rec.type != "MARKET" else "GTC", "q": t(rec.qty), "p": t(rec.price),
              "P": "0.00000000", "F": "0.00000000", "g": -1, "C": rec.client_order_id if cancel_id else "",
              "x": x, "X": rec.status, "r": "NONE", "i": rec.order_id,
              "l": t(trade.qty) if trade else "0.00000000", "z": t(rec.executed),
              "L": t(trade.price) if trade else "0.00000000",
              "n": t(trade.commission) if trade else "0", "N": trade.commission_asset if trade else None,
              "T": now, "t": trade.id if trade else -1, "I": next(self._exec_ids),
              "w": rec.is_open and rec.working_time != -1, "m": trade.is_maker if trade else False,
              "M": False, "O": rec.time, "Z": t(rec.cum_quote),
              "Y": t(trade.quote) if trade else "0.00000000", "Q": t(rec.quote_order_qty),
              "V": rec.stp}
        if rec.working_time != -1:
            ev["W"] = rec.working_time
        if prevented_match is not None:
            ev["v"] = prevented_match
            ev["A"] = t(rec.prevented_qty)
            ev["B"] = t(rec.prevented_qty)
        if x == "EXPIRED":
            ev["eR"] = "UNFILLED_FOK_ORDER_EXPIRED" if rec.tif == "FOK" else (
                "INSUFFICIENT_LIQUIDITY" if rec.type == "MARKET" else "UNFILLED_IOC_QUANTITY_EXPIRED")
        if rec.strategy_id is not None:
            ev["j"] = rec.strategy_id
        if rec.strategy_type is not None:
            ev["J"] = rec.strategy_type
        self.user_streams.emit(rec.account_id, ev)

    def _account_positions(self, changed: dict, now: int) -> None:
        for account_id, assets in changed.items():
            acct = self.accounts[account_id]
            acct.update_time = now
            if not self.user_streams.has_listeners(account_id):
                continue
            self.user_streams.emit(account_id, {
                "e": "outboundAccountPosition", "E": now, "u": now,
                "B": [{"a": a, "f": money.text(acct.free.get(a, 0)), "l": money.text(acct.locked.get(a, 0))}
                      for a in sorted(assets)]})

    def _after_book_op(self, symbol: str, fills, taker_is_buy: bool) -> None:
        if fills:
            self.publisher.publish_fills(symbol, fills, taker_is_buy)
        self.publisher.book_changed(symbol)

    # -- market participants (agents, helpers) ---------------------------------------------------
    def external_order(self, symbol: str, is_buy: bool, price: int, qty: int, *, market: bool = False,
                       tif: str = "GTC", quote_qty: int = 0) -> tuple[Order, list]:
        """An order of the outside market (no account, no balances): agents, take(), seeding."""
        book = self.books[symbol]
        eo = Order(self.next_order_id(), None, is_buy, price, qty or money.MAX_ATOMS // 4)
        result = book.submit(eo, tif=tif, market=market, quote_qty=quote_qty)
        now = self.clock.now_ms()
        changed: dict = {}
        for f in result.fills:
            self._settle(self.symbols[symbol], f, now, changed)
        self._after_book_op(symbol, result.fills, is_buy)
        if changed:
            self._account_positions(changed, now)
        return eo, result.fills

    def external_cancel(self, symbol: str, order_id: int) -> bool:
        gone = self.books[symbol].cancel(order_id) is not None
        if gone:
            self._after_book_op(symbol, (), True)
        return gone

    async def take(self, symbol: str, side: str, qty) -> list[dict]:
        """Test helper: an external taker sends a MARKET ``side`` order for ``qty`` (base).

        Fills resting orders (user orders included) in price-time priority; returns the fills as
        ``{"price", "qty", "tradeId", "makerOrderId"}`` (Decimal strings).
        """
        info = self.symbol(symbol)
        atoms = money.parse(str(qty))
        if atoms <= 0:
            raise ValueError(f"take: qty must be > 0, got {qty!r}")
        _, fills = self.external_order(info.symbol, side.upper() == "BUY", 0, atoms, market=True)
        return [{"price": money.text(f.price), "qty": money.text(f.qty), "tradeId": f.trade_id,
                 "makerOrderId": f.maker.order_id} for f in fills]

    def add_liquidity(self, symbol: str, side: str, price, qty) -> int:
        """Test helper: rest an external limit order (matches if it crosses); returns its id."""
        info = self.symbol(symbol)
        eo, _ = self.external_order(info.symbol, side.upper() == "BUY", money.parse(str(price)),
                                    money.parse(str(qty)))
        return eo.order_id

    def set_mid(self, symbol: str, price, levels: int | None = None) -> None:
        """Test helper: move the market: agents' book is rebuilt around ``price``.

        Resting user orders the new book crosses are filled (the market moved through them).
        """
        info = self.symbol(symbol)
        p = money.parse(str(price))
        if p <= 0 or p % info.tick:
            raise ValueError(f"set_mid: price {price!r} must be > 0 and a multiple of {info.cfg.tick_size}")
        self.agents.reseed(info.symbol, p, levels)

    def deposit(self, account_id: int, asset: str, amount) -> None:
        """Test helper: credit (or debit, negative) ``asset``; emits balanceUpdate + position."""
        acct = self.accounts[account_id]
        asset = asset.upper()
        delta = money.parse(str(amount))
        acct.ensure(asset)
        if acct.free[asset] + delta < 0:
            raise ValueError("deposit: balance would go negative")
        acct.free[asset] += delta
        now = self.clock.now_ms()
        self.user_streams.emit(account_id, {"e": "balanceUpdate", "E": now, "a": asset,
                                            "d": money.text(delta), "T": now})
        self._account_positions({account_id: {asset}}, now)

    def balances(self, account_id: int = 0) -> dict:
        """{asset: (free, locked)} as Decimal strings (test convenience)."""
        acct = self.accounts[account_id]
        return {a: (money.text(acct.free[a]), money.text(acct.locked[a])) for a in sorted(acct.free)}
