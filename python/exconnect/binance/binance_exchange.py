"""Binance spot connector (Hummingbot's Exchange interface on exconnect's framework).

Construct from configuration — the same code talks to Binance, the testnet or the simulator::

    BinanceExchange(api_key, api_secret, trading_pairs=["BTC-USDT"])                 # production
    BinanceExchange.from_base_urls(sim.spot_url, api_key="sim-key", api_secret="sim-secret",
                                   trading_pairs=["BTC-USDT"])                        # simulator

Keys default to EXCONNECT_BINANCE_API_KEY / EXCONNECT_BINANCE_API_SECRET.
"""
from __future__ import annotations

import asyncio
import logging
import os
import time
from decimal import Decimal
from types import ModuleType
from typing import Any, Dict, Iterable, List, Optional, Tuple
from urllib.parse import urlencode

from exconnect.connector.exchange_base import ExchangeBase
from exconnect.connector.web import RequestRejected, UnknownOutcomeError
from exconnect.types import (OpenOrder, OrderState, OrderType, OrderUpdate, TokenAmount, TradeFee, TradeFeeSchema,
                             TradeType, TradeUpdate)

from . import binance_constants as CONSTANTS
from .binance_auth import BinanceAuth
from .binance_order_book_data_source import BinanceAPIOrderBookDataSource
from .binance_user_stream_data_source import BinanceAPIUserStreamDataSource

__all__ = ["BinanceExchange"]

_log = logging.getLogger(__name__)
_ZERO = Decimal(0)


def _fmt(d: Decimal) -> str:
    """Plain decimal text, never exponent notation (Binance rejects 1E+2)."""
    text = format(d, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def _order_type_param(order_type: OrderType) -> str:
    return order_type.name      # LIMIT, LIMIT_MAKER, MARKET are Binance's names too


#: class attributes a Binance wire takes by name from its constants module (``WIRE_CONSTANTS``)
_WIRE_NAMES = ("PING_PATH", "SERVER_TIME_PATH", "EXCHANGE_INFO_PATH", "TICKER_PRICE_CHANGE_PATH", "ORDER_PATH",
               "OPEN_ORDERS_PATH", "MY_TRADES_PATH", "ACCOUNTS_PATH", "ORDER_STATE", "RATE_LIMITS",
               "UNKNOWN_OUTCOME_CODES", "MAX_ORDER_ID_LEN")


def _take_wire_constants(cls: type) -> None:
    """Set ``cls``'s wire attributes to its ``WIRE_CONSTANTS`` module's constants of the same name,
    except those the class body sets itself: plain class attributes, read on the order path at no
    extra cost."""
    for name in _WIRE_NAMES:
        if name not in cls.__dict__:
            setattr(cls, name, getattr(cls.WIRE_CONSTANTS, name))


class BinanceExchange(ExchangeBase):
    DEFAULT_FEE_SCHEMA = TradeFeeSchema(maker_percent_fee_decimal=Decimal("0.001"),
                                        taker_percent_fee_decimal=Decimal("0.001"),
                                        buy_percent_fee_deducted_from_returns=True)

    # REST paths and wire choices the shared code uses: a connector on another Binance wire (the
    # USDⓈ-M perpetual connector) overrides these instead of copying the methods that use them.
    # WIRE_CONSTANTS is the wire's constants module: the attributes named in _WIRE_NAMES (PING_PATH,
    # SERVER_TIME_PATH, EXCHANGE_INFO_PATH, TICKER_PRICE_CHANGE_PATH, ORDER_PATH, OPEN_ORDERS_PATH,
    # MY_TRADES_PATH — the account's trades —, ACCOUNTS_PATH, ORDER_STATE — order status text →
    # OrderState —, RATE_LIMITS, UNKNOWN_OUTCOME_CODES, MAX_ORDER_ID_LEN) are its constants of the
    # same name, so a subclass naming its own module states only the attributes that differ.
    WIRE_CONSTANTS: ModuleType = CONSTANTS
    MY_TRADES_MAKER_FIELD = "isMaker"                   # a myTrades row's maker flag
    CANCEL_TIME_FIELD = "transactTime"                  # the cancel answer's timestamp
    ORDER_TIME_FALLBACK_FIELD = "transactTime"          # an order answer's time when updateTime is absent
    VENUE_LABEL = "Binance"                             # in error texts

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "WIRE_CONSTANTS" in cls.__dict__:            # another wire: its own constants
            _take_wire_constants(cls)

    def __init__(self, api_key: Optional[str] = None, api_secret: Optional[str] = None,
                 trading_pairs: Iterable[str] = (), *, trading_required: bool = True,
                 urls: Optional[CONSTANTS.BinanceUrls] = None, domain: str = CONSTANTS.DEFAULT_DOMAIN,
                 client_order_id_prefix: str = CONSTANTS.BROKER_ID,
                 cancel_all_uses_open_orders_endpoint: bool = True, **kwargs: Any) -> None:
        api_key = api_key if api_key is not None else os.environ.get(CONSTANTS.API_KEY_ENV, "")
        api_secret = api_secret if api_secret is not None else os.environ.get(CONSTANTS.API_SECRET_ENV, "")
        if trading_required and (not api_key or not api_secret):
            raise ValueError(f"Binance API key and secret are required for trading: pass them or set "
                             f"{CONSTANTS.API_KEY_ENV} / {CONSTANTS.API_SECRET_ENV}")
        self._domain = domain
        self._urls = urls or (CONSTANTS.BinanceUrls.from_env() if domain == CONSTANTS.DEFAULT_DOMAIN
                              else CONSTANTS.BinanceUrls.production(domain))
        self._client_order_id_prefix = client_order_id_prefix
        self._cancel_all_uses_open_orders = cancel_all_uses_open_orders_endpoint
        self._auth: Optional[BinanceAuth] = None
        if api_key and api_secret:
            # The secret goes into the signer only; nothing else on this object holds it.
            self._auth = BinanceAuth(api_key, api_secret, time_ms=lambda: self._time_synchronizer.time_ms())
        del api_secret
        self._last_trades_poll_ms: Dict[str, int] = {}
        self._last_trades_poll_mono = 0.0
        self._foreign_orders: set = set()      # exchange order ids known not to be ours
        super().__init__(trading_pairs, trading_required=trading_required, **kwargs)
        for pair in self._trading_pairs:
            self._trading_pair_symbol_map.setdefault(pair.replace("-", ""), pair)
        if self._user_stream_tracker is not None:
            self._user_stream_tracker.data_source.on_connected = self._on_user_stream_connected

    @classmethod
    def from_base_urls(cls, rest_url: str, ws_url: Optional[str] = None, **kwargs: Any) -> "BinanceExchange":
        """Connector for a Binance-compatible host (e.g. ``sim.spot_url``) serving REST + WS + WS API."""
        return cls(urls=CONSTANTS.BinanceUrls.from_base(rest_url, ws_url), **kwargs)

    def __repr__(self) -> str:
        return f"BinanceExchange(pairs={self._trading_pairs}, rest={self._urls.rest!r}, auth={self._auth!r})"

    # ------------------------------------------------------------------ identity
    @property
    def name(self) -> str:
        return "binance" if self._domain == CONSTANTS.DEFAULT_DOMAIN else f"binance_{self._domain}"

    @property
    def urls(self) -> CONSTANTS.BinanceUrls:
        return self._urls

    @property
    def authenticator(self) -> Optional[BinanceAuth]:
        return self._auth

    @property
    def rate_limits_rules(self) -> list:
        return self.RATE_LIMITS

    @property
    def unknown_outcome_error_codes(self) -> frozenset:
        return self.UNKNOWN_OUTCOME_CODES

    @property
    def client_order_id_prefix(self) -> str:
        return self._client_order_id_prefix

    @property
    def client_order_id_max_length(self) -> int:
        return self.MAX_ORDER_ID_LEN

    def supported_order_types(self) -> List[OrderType]:
        return [OrderType.LIMIT, OrderType.LIMIT_MAKER, OrderType.MARKET]

    # ------------------------------------------------------------------ symbols
    def exchange_symbol_associated_to_pair(self, trading_pair: str) -> str:
        return trading_pair.replace("-", "")

    def trading_pair_associated_to_exchange_symbol(self, symbol: str) -> str:
        pair = self._trading_pair_symbol_map.get(symbol)
        if pair is None:
            raise KeyError(f"unknown Binance symbol {symbol!r}")
        return pair

    # ------------------------------------------------------------------ data sources
    def _create_order_book_data_source(self):
        return BinanceAPIOrderBookDataSource(self._trading_pairs, self._rest, self._urls)

    def _create_user_stream_data_source(self):
        return BinanceAPIUserStreamDataSource(self._auth, self._rest, self._urls,
                                              resync_time=self._update_time_synchronizer)

    async def add_trading_pair(self, trading_pair: str) -> bool:
        added = await super().add_trading_pair(trading_pair)
        if added:
            self._trading_pair_symbol_map.setdefault(self.exchange_symbol_associated_to_pair(trading_pair),
                                                     trading_pair)
        return added

    def _on_user_stream_connected(self) -> None:
        # Events may have been missed while the stream was down: reconcile by polling now.
        self._poll_notifier.set()

    # ------------------------------------------------------------------ REST
    def _limit_id(self, path: str, method: str) -> str:
        keyed = f"{path}:{method}"
        return keyed if self._throttler.limit(keyed) is not None else path

    async def _api_request(self, path: str, method: str = "GET", params: Optional[Dict[str, Any]] = None,
                           is_auth_required: bool = False, limit_id: Optional[str] = None,
                           timeout: Optional[float] = None) -> Any:
        """Throttled, (optionally) signed request; a -1021 clock error resyncs and retries once."""
        url = self._urls.rest_url(path)
        limit = limit_id or self._limit_id(path, method)
        params = params or {}
        for attempt in (0, 1):
            headers = None
            if is_auth_required:
                if self._auth is None:
                    raise RequestRejected(f"{method} {path} needs API keys", url=url)
                query = self._auth.signed_query(params)
                headers = self._auth.header_for_authentication()
            else:
                query = urlencode(params)
            # Parameters go in the query string for every verb (Binance accepts that for POST too):
            # the request then leaves in one send() instead of headers + body in two.
            body = None
            try:
                return await self._rest.request(method, url, query=query, body=body, headers=headers,
                                                limit_id=limit, timeout=timeout)
            except RequestRejected as e:
                if is_auth_required and attempt == 0 and e.code == CONSTANTS.TIMESTAMP_ERROR_CODE:
                    _log.warning("Clock error from Binance (%s); resynchronising time and retrying once.", e.msg)
                    # A clock step makes old samples wrong: start the estimate afresh.
                    self._time_synchronizer.clear_time_offset_ms_samples()
                    await self._update_time_synchronizer()
                    continue
                raise

    async def _api_get(self, path: str, params=None, is_auth_required=False, **kw):
        return await self._api_request(path, "GET", params, is_auth_required, **kw)

    async def _api_post(self, path: str, params=None, is_auth_required=False, **kw):
        return await self._api_request(path, "POST", params, is_auth_required, **kw)

    async def _api_delete(self, path: str, params=None, is_auth_required=False, **kw):
        return await self._api_request(path, "DELETE", params, is_auth_required, **kw)

    async def _ping(self) -> None:
        await self._api_get(self.PING_PATH)

    async def _get_server_time_ms(self) -> float:
        answer = await self._api_get(self.SERVER_TIME_PATH)
        return float(answer["serverTime"])

    async def _update_time_synchronizer(self) -> None:
        try:
            await self._time_synchronizer.update_server_time_offset_with_time_provider(self._get_server_time_ms)
        except asyncio.CancelledError:
            raise
        except Exception as e:
            _log.error("Error getting server time. (%s)", e)

    # ------------------------------------------------------------------ trading rules
    async def _update_trading_rules(self) -> None:
        await self._update_time_synchronizer()      # one cheap sample per refresh keeps the offset fresh
        info = await self._api_get(self.EXCHANGE_INFO_PATH)
        self._apply_rate_limits(info.get("rateLimits") or [])
        self._initialize_trading_pair_symbols_from_exchange_info(info)
        rules = self._format_trading_rules(info)
        self._trading_rules = {r.trading_pair: r for r in rules}

    def _apply_rate_limits(self, rate_limits: List[Dict[str, Any]]) -> None:
        seen: Dict[str, int] = {}
        for rl in rate_limits:
            try:
                kind = rl["rateLimitType"]
                seconds = CONSTANTS.interval_seconds(rl["interval"], rl["intervalNum"])
                limit = int(rl["limit"])
            except (KeyError, ValueError, TypeError):
                continue
            nth = seen.get(kind, 0)
            seen[kind] = nth + 1
            pool = self._rate_limit_pool(kind, seconds, nth)
            if pool is None:
                continue
            current = self._throttler.limit(pool)
            if current is None or current.limit != limit or current.time_interval != seconds:
                self._throttler.update_pool_limit(pool, limit, seconds)

    @staticmethod
    def _rate_limit_pool(kind: str, seconds: float, nth: int) -> Optional[str]:
        """The throttler pool an exchangeInfo rate limit sets (``nth``: how many of this kind came
        before it); None: not one we keep."""
        if kind == "ORDERS":
            return CONSTANTS.ORDERS if nth == 0 else CONSTANTS.ORDERS_24HR
        if kind in (CONSTANTS.REQUEST_WEIGHT, CONSTANTS.RAW_REQUESTS):
            return kind
        return None

    @staticmethod
    def is_exchange_information_valid(symbol_info: Dict[str, Any]) -> bool:
        if symbol_info.get("status") != "TRADING":
            return False
        sets = symbol_info.get("permissionSets")
        if sets:
            return any("SPOT" in s for s in sets)
        perms = symbol_info.get("permissions")
        if perms:
            return "SPOT" in perms
        return bool(symbol_info.get("isSpotTradingAllowed", False))

    def _initialize_trading_pair_symbols_from_exchange_info(self, info: Dict[str, Any]) -> None:
        mapping: Dict[str, str] = {}
        for s in info.get("symbols", ()):
            if self.is_exchange_information_valid(s):
                mapping[s["symbol"]] = f"{s['baseAsset']}-{s['quoteAsset']}"
        for pair in self._trading_pairs:
            mapping.setdefault(pair.replace("-", ""), pair)
        self._trading_pair_symbol_map = mapping

    def _format_trading_rules(self, exchange_info: Dict[str, Any]) -> list:
        from exconnect.native.trading_rule import TradingRule
        rules = []
        for s in exchange_info.get("symbols", ()):
            if not self.is_exchange_information_valid(s):
                continue
            try:
                pair = f"{s['baseAsset']}-{s['quoteAsset']}"
                filters = {f["filterType"]: f for f in s["filters"]}
                price_filter = filters["PRICE_FILTER"]
                lot = filters["LOT_SIZE"]
                rules.append(TradingRule(
                    trading_pair=pair, min_order_size=Decimal(lot["minQty"]), max_order_size=Decimal(lot["maxQty"]),
                    min_price_increment=Decimal(price_filter["tickSize"]),
                    min_base_amount_increment=Decimal(lot["stepSize"]),
                    **self._trading_rule_extras(s, filters)))
            except Exception:
                _log.exception("Error parsing the trading pair rule %s. Skipping.", s)
        return rules

    def _trading_rule_extras(self, symbol_info: Dict[str, Any], filters: Dict[str, Dict[str, Any]]) -> Dict[str, Any]:
        """TradingRule fields beyond price and lot size: min notional (and, for subclasses, collateral)."""
        notional = filters.get("NOTIONAL") or filters.get("MIN_NOTIONAL") or {}
        return {"min_notional_size": Decimal(notional.get("minNotional", "0"))}

    async def all_trading_pairs(self) -> List[str]:
        try:
            info = await self._api_get(self.EXCHANGE_INFO_PATH)
        except asyncio.CancelledError:
            raise
        except Exception:
            return []
        return [f"{s['baseAsset']}-{s['quoteAsset']}" for s in info.get("symbols", ())
                if self.is_exchange_information_valid(s)]

    async def get_last_traded_prices(self, trading_pairs: List[str]) -> Dict[str, Decimal]:
        out = {}
        for pair in trading_pairs:
            t = await self._api_get(self.TICKER_PRICE_CHANGE_PATH,
                                    {"symbol": self.exchange_symbol_associated_to_pair(pair)})
            out[pair] = Decimal(t["lastPrice"])
        return out

    # ------------------------------------------------------------------ parsing helpers
    def _fee(self, asset: Optional[str], amount: Any) -> TradeFee:
        """A fill's commission as this connector's fee class (see _fee_class)."""
        fee_class = self._fee_class()
        if not asset:
            return fee_class()
        return fee_class(percent_token=asset, flat_fees=[TokenAmount(asset, Decimal(amount))])

    def _trade_from_my_trades_row(self, row: Dict[str, Any], order) -> TradeUpdate:
        price, qty = Decimal(row["price"]), Decimal(row["qty"])
        quote = Decimal(row["quoteQty"]) if row.get("quoteQty") is not None else price * qty
        return TradeUpdate(str(row["id"]), order.client_order_id, str(row["orderId"]), order.trading_pair,
                           row["time"] / 1000.0, price, qty, quote,
                           self._fee(row.get("commissionAsset"), row.get("commission", "0")),
                           not row.get(self.MY_TRADES_MAKER_FIELD, False))

    def _order_update_from_rest(self, order, data: Dict[str, Any], timestamp_ms: Optional[int] = None) -> OrderUpdate:
        status = data.get("status", "NEW")
        state = self.ORDER_STATE.get(status)
        if state is None:
            raise UnknownOutcomeError(f"unknown {self.VENUE_LABEL} order status {status!r}")
        ts = timestamp_ms or data.get("updateTime") or data.get(self.ORDER_TIME_FALLBACK_FIELD) or time.time() * 1000
        misc: Dict[str, Any] = {}
        if data.get("executedQty") is not None:
            misc["executed_amount_base"] = Decimal(data["executedQty"])
        return OrderUpdate(order.trading_pair, ts / 1000.0, state, order.client_order_id,
                           str(data["orderId"]) if data.get("orderId") is not None else None, misc or None)

    # ------------------------------------------------------------------ orders
    async def _place_order(self, order) -> Tuple[OrderUpdate, List[TradeUpdate]]:
        params: Dict[str, Any] = {
            "symbol": self.exchange_symbol_associated_to_pair(order.trading_pair),
            "side": "BUY" if order.trade_type is TradeType.BUY else "SELL",
            "type": _order_type_param(order.order_type),
            "quantity": _fmt(order.amount),
            "newClientOrderId": order.client_order_id,
            "newOrderRespType": "FULL",
        }
        if order.order_type is OrderType.LIMIT:
            params["timeInForce"] = "GTC"
            params["price"] = _fmt(order.price)
        elif order.order_type is OrderType.LIMIT_MAKER:
            params["price"] = _fmt(order.price)
        answer = await self._api_post(self.ORDER_PATH, params, is_auth_required=True)
        try:
            update = self._order_update_from_rest(order, answer, answer.get("transactTime"))
            trades = []
            ts = answer.get("transactTime", time.time() * 1000) / 1000.0
            for f in answer.get("fills") or ():
                price, qty = Decimal(f["price"]), Decimal(f["qty"])
                trades.append(TradeUpdate(str(f["tradeId"]), order.client_order_id, update.exchange_order_id,
                                          order.trading_pair, ts, price, qty, price * qty,
                                          self._fee(f.get("commissionAsset"), f.get("commission", "0")), True))
        except UnknownOutcomeError:
            raise
        except Exception as e:
            raise UnknownOutcomeError(f"unparsable order answer for {order.client_order_id}: {e!r}") from e
        return update, trades

    async def _place_cancel(self, order) -> Optional[OrderUpdate]:
        answer = await self._api_delete(self.ORDER_PATH, {
            "symbol": self.exchange_symbol_associated_to_pair(order.trading_pair),
            "origClientOrderId": order.client_order_id}, is_auth_required=True)
        return self._order_update_from_rest(order, answer, answer.get(self.CANCEL_TIME_FIELD))

    def _is_order_not_found_during_cancelation_error(self, e: BaseException) -> bool:
        return (isinstance(e, RequestRejected) and e.code == CONSTANTS.UNKNOWN_ORDER_ERROR_CODE
                and CONSTANTS.UNKNOWN_ORDER_MESSAGE in str(e.msg))

    def _is_order_not_found_during_status_update_error(self, e: BaseException) -> bool:
        return (isinstance(e, RequestRejected) and e.code == CONSTANTS.ORDER_NOT_EXIST_ERROR_CODE
                and CONSTANTS.ORDER_NOT_EXIST_MESSAGE in str(e.msg))

    async def _request_order_status(self, order) -> OrderUpdate:
        answer = await self._api_get(self.ORDER_PATH, {
            "symbol": self.exchange_symbol_associated_to_pair(order.trading_pair),
            "origClientOrderId": order.client_order_id}, is_auth_required=True)
        self._on_order_status_answer(order, answer)
        return self._order_update_from_rest(order, answer)

    def _on_order_status_answer(self, order, answer: Dict[str, Any]) -> None:
        """Hook: an order status answer, before its state is taken (nothing more on spot)."""

    async def _all_trade_updates_for_order(self, order) -> List[TradeUpdate]:
        exchange_order_id = order.exchange_order_id
        if exchange_order_id is None:
            return []
        rows = await self._api_get(self.MY_TRADES_PATH, {
            "symbol": self.exchange_symbol_associated_to_pair(order.trading_pair),
            "orderId": exchange_order_id}, is_auth_required=True)
        return [self._trade_from_my_trades_row(r, order) for r in rows if str(r.get("orderId")) == exchange_order_id]

    async def _cancel_all_for_pair(self, trading_pair: str, orders: List[Any]) -> None:
        remaining = list(orders)
        if self._cancel_all_uses_open_orders and len(orders) > 1:
            try:
                reports = await self._api_delete(self.OPEN_ORDERS_PATH, {
                    "symbol": self.exchange_symbol_associated_to_pair(trading_pair)}, is_auth_required=True)
            except asyncio.CancelledError:
                raise
            except Exception as e:
                _log.warning("DELETE openOrders for %s failed (%s); cancelling order by order.", trading_pair, e)
                reports = []
            by_client = {o.client_order_id: o for o in orders}
            for report in reports if isinstance(reports, list) else ():
                order = by_client.get(report.get("origClientOrderId") or report.get("clientOrderId"))
                if order is None:
                    continue
                try:
                    update = self._order_update_from_rest(order, report, report.get("transactTime"))
                except Exception:
                    continue
                await self._process_cancel_answer(order, update)
            # (an order awaiting cancel confirmation was accepted: not sent again)
            remaining = [o for o in orders if not o.is_done and not o.is_pending_cancel_confirmation]
        if remaining:
            await asyncio.gather(*(self._execute_order_cancel(o) for o in remaining), return_exceptions=True)

    async def _reconcile_open_orders(self) -> None:
        """Adopt open orders carrying our client id prefix that no saved state knows (e.g. a lost
        data folder, or a crash in a previous version): they are tracked, their fills recorded."""
        prefix = self._client_order_id_prefix
        if not prefix or not self._trading_required:
            return
        if (type(self)._place_order is not BinanceExchange._place_order
                and type(self)._adopted_order is BinanceExchange._adopted_order):
            return      # a subclass on another wire that does not say how to read its open orders
        await self._before_adopting_open_orders()
        from exconnect.connector.exchange_base import _in_flight_order_class
        cls = _in_flight_order_class()
        tracker = self._order_tracker
        for pair in self._trading_pairs:
            rows = await self._api_get(self.OPEN_ORDERS_PATH,
                                       {"symbol": self.exchange_symbol_associated_to_pair(pair)},
                                       is_auth_required=True)
            for r in rows:
                cid = r.get("clientOrderId", "")
                if not cid.startswith(prefix) or tracker.fetch_order(cid, str(r["orderId"])) is not None:
                    continue
                order = self._adopted_order(cls, pair, cid, r)
                if order is None:
                    continue
                _log.warning("Adopting open order %s (%s) found on the exchange but not in the saved state.",
                             cid, pair)
                tracker.start_tracking_order(order)
                await self._process_order_update_with_fills(order, self._order_update_from_rest(order, r))

    async def _before_adopting_open_orders(self) -> None:
        """What must be known before open orders can be adopted (nothing on spot)."""

    def _adopted_order(self, cls, pair: str, client_order_id: str, r: Dict[str, Any]):
        """The order to track for an open-orders row of ours; None for an order type we do not place."""
        if r.get("type") not in OrderType.__members__:
            return None
        return cls(client_order_id, pair, OrderType[r["type"]], TradeType.BUY if r["side"] == "BUY" else TradeType.SELL,
                   Decimal(r["origQty"]), r.get("time", 0) / 1000.0, price=Decimal(r["price"]),
                   exchange_order_id=str(r["orderId"]), initial_state=OrderState.OPEN)

    def _open_order_type(self, r: Dict[str, Any]) -> OrderType:
        """An open-orders row's order type as ours (LIMIT when the exchange's has no match)."""
        return OrderType[r["type"]] if r["type"] in OrderType.__members__ else OrderType.LIMIT

    async def get_open_orders(self) -> List[OpenOrder]:
        out: List[OpenOrder] = []
        for pair in self._trading_pairs:
            rows = await self._api_get(self.OPEN_ORDERS_PATH,
                                       {"symbol": self.exchange_symbol_associated_to_pair(pair)},
                                       is_auth_required=True)
            for r in rows:
                out.append(OpenOrder(
                    client_order_id=r["clientOrderId"], trading_pair=pair, price=Decimal(r["price"]),
                    amount=Decimal(r["origQty"]), executed_amount=Decimal(r["executedQty"]), status=r["status"],
                    order_type=self._open_order_type(r), is_buy=r["side"] == "BUY", time=int(r["time"]),
                    exchange_order_id=str(r["orderId"])))
        return out

    # ------------------------------------------------------------------ balances
    async def _update_balances(self) -> None:
        account = await self._api_get(self.ACCOUNTS_PATH, is_auth_required=True)
        total: Dict[str, Decimal] = {}
        available: Dict[str, Decimal] = {}
        for b in account.get("balances", ()):
            free, locked = Decimal(b["free"]), Decimal(b["locked"])
            available[b["asset"]] = free
            total[b["asset"]] = free + locked
        self._account_balances = total
        self._account_available_balances = available

    def _process_balance_message(self, balance_msg: Dict[str, Any]) -> None:
        for b in balance_msg.get("B", ()):
            free, locked = Decimal(b["f"]), Decimal(b["l"])
            self._account_available_balances[b["a"]] = free
            self._account_balances[b["a"]] = free + locked

    # ------------------------------------------------------------------ trade back-stop
    async def _update_order_fills_from_trades(self) -> None:
        """Poll recent account trades per pair and record any fill no other channel delivered."""
        tracker = self._order_tracker
        pairs_with_orders = {o.trading_pair for o in tracker.all_updatable_orders.values()}
        now_mono = time.monotonic()
        long_due = now_mono - self._last_trades_poll_mono >= self.LONG_POLL_INTERVAL
        known = self._trade_poll_pairs(pairs_with_orders)
        pairs = known if long_due else [p for p in known if p in pairs_with_orders]
        if not pairs:
            return
        if long_due:
            self._last_trades_poll_mono = now_mono
        server_now_ms = self._time_synchronizer.time_ms()
        for pair in pairs:
            params: Dict[str, Any] = {"symbol": self.exchange_symbol_associated_to_pair(pair), "limit": 1000}
            since = self._last_trades_poll_ms.get(pair)
            if since is not None:
                params["startTime"] = since
            rows = await self._api_get(self.MY_TRADES_PATH, params, is_auth_required=True)
            # Next window overlaps by a margin: trade times are the exchange's, our clock may lag.
            self._last_trades_poll_ms[pair] = server_now_ms - 10_000
            for row in rows:
                cid = self._process_trade_row(pair, row)
                if cid is None and self._store is not None and not self._store.has_fill(pair, str(row["id"])):
                    await self._attribute_unknown_trade(pair, row)

    def _trade_poll_pairs(self, pairs_with_orders: set) -> List[str]:
        """Pairs the trade back-stop may poll. Pairs with orders count even if removed from the
        pair list meanwhile (their fills matter)."""
        return list(dict.fromkeys([*self._trading_pairs, *sorted(pairs_with_orders)]))

    def _process_trade_row(self, pair: str, row: Dict[str, Any]) -> Optional[str]:
        """Record one myTrades row; returns the client order id it belongs to (None: unknown)."""
        tracker = self._order_tracker
        exchange_order_id = str(row["orderId"])
        order = tracker.fetch_order(None, exchange_order_id)
        if order is not None:
            tracker.process_trade_update(self._trade_from_my_trades_row(row, order))
            return order.client_order_id
        store = self._store
        cid = tracker.client_order_id_for(exchange_order_id) or (store.client_order_id_for(exchange_order_id)
                                                                   if store else None)
        if cid is None or store is None:
            return cid
        if not store.has_fill(pair, str(row["id"])):
            self._recreate_missing_trade(pair, cid, row)
        return cid

    async def _attribute_unknown_trade(self, pair: str, row: Dict[str, Any]) -> None:
        """A trade of an order nothing local knows: ours if its client id carries our prefix
        (e.g. the data folder was lost, or an order restored from a state saved before its ack);
        then it is recorded like any missing trade (with the order answer, for subclasses that
        need more than the trade row)."""
        prefix = self._client_order_id_prefix
        exchange_order_id = str(row["orderId"])
        if not prefix or exchange_order_id in self._foreign_orders:
            return
        try:
            info = await self._api_get(self.ORDER_PATH, {"symbol": self.exchange_symbol_associated_to_pair(pair),
                                                              "orderId": exchange_order_id}, is_auth_required=True)
        except RequestRejected:
            self._foreign_orders.add(exchange_order_id)
            return
        cid = str(info.get("clientOrderId", ""))
        if not cid.startswith(prefix):
            self._foreign_orders.add(exchange_order_id)
            return
        self._order_tracker.remember_exchange_order_id(exchange_order_id, cid)
        self._recreate_missing_trade(pair, cid, row, info)

    def _recreate_missing_trade(self, pair: str, client_order_id: str, row: Dict[str, Any],
                                order_info: Optional[Dict[str, Any]] = None) -> None:
        self._record_missing_trade(pair, client_order_id, row)

    @staticmethod
    def _my_trades_row_is_buy(row: Dict[str, Any]) -> bool:
        return bool(row.get("isBuyer"))

    def _record_missing_trade(self, pair: str, client_order_id: str, row: Dict[str, Any], *event_extra: Any) -> None:
        """Write a trade-history row to the fill log and announce it (once); ``event_extra``: the
        OrderFilledEvent fields after exchange_order_id (leverage, position)."""
        from exconnect.events import MarketEvent, OrderFilledEvent
        price, qty = Decimal(row["price"]), Decimal(row["qty"])
        fee = self._fee(row.get("commissionAsset"), row.get("commission", "0"))
        trade_type = TradeType.BUY if self._my_trades_row_is_buy(row) else TradeType.SELL
        _log.info("Recreating missing trade in TradeFill: %s", row)
        if self._store.record_fill(pair, str(row["id"]), client_order_id, str(row["orderId"]), trade_type.name,
                                   str(price), str(qty), fee.to_json(), row["time"] / 1000.0):
            self.trigger_event(MarketEvent.OrderFilled, OrderFilledEvent(
                row["time"] / 1000.0, client_order_id, pair, trade_type,
                OrderType.LIMIT_MAKER if row.get(self.MY_TRADES_MAKER_FIELD) else OrderType.LIMIT, price, qty, fee,
                str(row["id"]), str(row["orderId"]), *event_extra))

    # ------------------------------------------------------------------ user stream
    async def _user_stream_event_listener(self) -> None:
        queue = self._user_stream_tracker.user_stream
        while True:
            event = await queue.get()
            try:
                self._process_user_stream_event(event)
            except asyncio.CancelledError:
                raise
            except Exception:
                _log.exception("Unexpected error in user stream listener loop.")
                await asyncio.sleep(0.05)

    def _process_user_stream_event(self, event: Dict[str, Any]) -> None:
        """One user data event (the perpetual connector has its own event kinds)."""
        kind = event.get("e")
        if kind == "executionReport":
            self._process_execution_report(event)
        elif kind == "outboundAccountPosition":
            self._process_balance_message(event)
        elif kind == "balanceUpdate":
            pass    # an outboundAccountPosition with the new totals follows

    def _process_execution_report(self, event: Dict[str, Any]) -> None:
        tracker = self._order_tracker
        # For cancels ``c`` is the cancel request's id; the order's own id is in ``C``.
        client_order_id = event.get("C") or event.get("c")
        exchange_order_id = str(event["i"])
        order = tracker.fetch_order(client_order_id, exchange_order_id)
        if order is None:
            return
        if event.get("X") != "REJECTED":       # a rejected order was never live: no Created event
            self._ensure_created(order, exchange_order_id, event["E"] / 1000.0)
        if event.get("x") == "TRADE":
            self._process_trade_message(event, order)
        self._process_order_message(event, order)

    def _process_trade_message(self, event: Dict[str, Any], order=None) -> None:
        """One fill, from an executionReport (x=TRADE) or a REST myTrades row."""
        if "e" not in event and "orderId" in event:          # REST myTrades row
            order = order or self._order_tracker.fetch_order(None, str(event["orderId"]))
            if order is not None:
                self._order_tracker.process_trade_update(self._trade_from_my_trades_row(event, order))
            return
        if order is None:
            order = self._order_tracker.fetch_order(event.get("C") or event.get("c"), str(event["i"]))
            if order is None:
                return
        price, qty = Decimal(event["L"]), Decimal(event["l"])
        quote = Decimal(event["Y"]) if event.get("Y") is not None else price * qty
        self._order_tracker.process_trade_update(TradeUpdate(
            str(event["t"]), order.client_order_id, str(event["i"]), order.trading_pair, event["T"] / 1000.0,
            price, qty, quote, self._fee(event.get("N"), event.get("n", "0")), not event.get("m", False)))

    def _process_order_message(self, event: Dict[str, Any], order=None) -> None:
        """An order status, from an executionReport or a REST order answer."""
        if "e" not in event and "status" in event:           # REST order answer
            order = order or self._order_tracker.fetch_order(event.get("clientOrderId"), str(event.get("orderId")))
            if order is not None:
                self._order_tracker.process_order_update(self._order_update_from_rest(order, event))
            return
        if order is None:
            order = self._order_tracker.fetch_order(event.get("C") or event.get("c"), str(event["i"]))
            if order is None:
                return
        self._apply_stream_order_status(order, str(event["i"]), event["E"], event.get("X"), event.get("z"),
                                        "executionReport")

    def _apply_stream_order_status(self, order, exchange_order_id: str, event_time_ms: int, status: Optional[str],
                                   cumulative_qty: Optional[str], source: str) -> None:
        """An order status from a user stream event (status ``X``, cumulative filled quantity ``z``)."""
        state = self.ORDER_STATE.get(status)
        if state is None:
            _log.warning("Unknown order status %r in %s; ignored", status, source)
            return
        executed = Decimal(cumulative_qty) if cumulative_qty is not None else None
        update = OrderUpdate(order.trading_pair, event_time_ms / 1000.0, state, order.client_order_id,
                             exchange_order_id, {"executed_amount_base": executed} if executed is not None else None)
        if (state in (OrderState.CANCELED, OrderState.EXPIRED) and executed is not None
                and executed > order.executed_amount_base):
            # A fill report is missing (dropped or reordered): fetch trades before finishing.
            self._spawn(self._process_order_update_with_fills(order, update))
            return
        self._order_tracker.process_order_update(update)


_take_wire_constants(BinanceExchange)
