"""ExchangeBase: the exchange-agnostic half of a Hummingbot-style connector.

It owns order placement/cancellation flow, order tracking (via ``ClientOrderTracker``), the
background loops (clock, status polling, trading rules, user stream listener), readiness, balances,
persistence and events. An exchange subclass supplies the wire: ``_place_order``, ``_place_cancel``,
``_request_order_status``, ``_all_trade_updates_for_order``, ``_update_trading_rules``,
``_update_balances``, ``_user_stream_event_listener``, data sources and error classification.

Outcome rules for placement (the source of most lost fills and stuck orders in the field):
* definite rejection  -> FAILED + MarketOrderFailureEvent, untracked;
* unknown outcome     -> stays tracked (PENDING_CREATE) and is re-checked until the exchange says;
* success             -> Created event, then any fills in the answer, then the final status.
"""
from __future__ import annotations

import asyncio
import logging
import os
import time
from decimal import Decimal
from enum import Enum
from typing import Any, Awaitable, Dict, Iterable, List, Optional, Sequence, Set, Tuple

from exconnect.events import MarketEvent, OrderBookEvent, PubSub
from exconnect.types import (CancellationResult, DeductedFromReturnsTradeFee, LimitOrder, OpenOrder,
                             OrderState, OrderType, OrderUpdate, TradeFee, TradeFeeSchema, TradeType,
                             TradeUpdate, split_trading_pair, to_decimal)

from .order_book_tracker import OrderBookTracker
from .order_tracker import ClientOrderTracker
from .persistence import ConnectorStore
from .tasks import cancel_and_wait
from .throttler import AsyncThrottler
from .time_sync import TimeSynchronizer
from .user_stream_tracker import UserStreamTracker
from .web import RequestRejected, RestClient

__all__ = ["ExchangeBase", "NetworkStatus"]

_log = logging.getLogger(__name__)
_NaN = Decimal("NaN")
_ZERO = Decimal(0)


class NetworkStatus(Enum):
    STOPPED = 0
    NOT_CONNECTED = 1
    CONNECTED = 2


_id_counter = [0]
_id_instance = os.urandom(3).hex()


def _fallback_client_order_id(is_buy: bool, trading_pair: str, prefix: str, max_len: Optional[int]) -> str:
    """prefix + B/S + ns clock (hex) + counter + per-process random: unique, only [A-Za-z0-9_-]."""
    _id_counter[0] = (_id_counter[0] + 1) & 0xFFFF
    tail = f"{'B' if is_buy else 'S'}{time.time_ns():x}{_id_counter[0]:04x}{_id_instance}"
    return (prefix + tail)[:max_len or 36] if len(prefix) + len(tail) > (max_len or 36) else prefix + tail


def _in_flight_order_class():
    from exconnect.native.in_flight_order import InFlightOrder
    return InFlightOrder


class ExchangeBase(PubSub):
    SHORT_POLL_INTERVAL = 5.0
    LONG_POLL_INTERVAL = 120.0
    USER_STREAM_SILENCE_LIMIT = 60.0       # no private message for this long -> poll fast
    TRADING_RULES_INTERVAL = 30 * 60.0
    TICK_INTERVAL = 1.0
    FILLS_WAIT_TIMEOUT = 5.0               # FILLED reported, trades missing: how long to fetch them
    UNKNOWN_OUTCOME_RECHECK = 1.0          # re-query an order whose placement outcome is unknown
    LOST_ORDER_CANCEL_INTERVAL: Optional[float] = None   # None: SHORT_POLL_INTERVAL
    DEFAULT_FEE_SCHEMA = TradeFeeSchema()
    # True: an accepted cancel request means the order is cancelled (Binance). False: the exchange
    # only queues the request; the order waits in PENDING_CANCEL for the user stream or the status
    # poll to confirm it (and may still fill meanwhile).
    IS_CANCEL_REQUEST_SYNCHRONOUS = True

    def __init__(self, trading_pairs: Iterable[str] = (), *, trading_required: bool = True,
                 data_folder: Optional[str] = "./data", lost_order_count_limit: int = 3,
                 fee_overrides: Optional[Dict[str, Any]] = None,
                 short_poll_interval: Optional[float] = None, long_poll_interval: Optional[float] = None,
                 tick_interval: Optional[float] = None, rate_limits_share_pct: float = 100) -> None:
        super().__init__()
        self._trading_pairs: List[str] = list(dict.fromkeys(trading_pairs))
        for pair in self._trading_pairs:
            split_trading_pair(pair)          # ValueError for a malformed pair, up front
        self._trading_required = trading_required
        if short_poll_interval is not None:
            self.SHORT_POLL_INTERVAL = float(short_poll_interval)
        if long_poll_interval is not None:
            self.LONG_POLL_INTERVAL = float(long_poll_interval)
        if tick_interval is not None:
            self.TICK_INTERVAL = float(tick_interval)
        self._fee_overrides = self._parse_fee_overrides(fee_overrides)
        self._current_timestamp = time.time()
        self._last_timestamp = 0.0
        self._poll_notifier = asyncio.Event()
        self._time_synchronizer = TimeSynchronizer()
        self._throttler = AsyncThrottler(self.rate_limits_rules, limits_share_percentage=rate_limits_share_pct)
        self._rest = RestClient(self._throttler, unknown_outcome_codes=self.unknown_outcome_error_codes)
        self._trading_rules: Dict[str, Any] = {}
        self._trading_pair_symbol_map: Dict[str, str] = {}      # exchange symbol -> BASE-QUOTE
        self._account_balances: Dict[str, Decimal] = {}
        self._account_available_balances: Dict[str, Decimal] = {}
        self._account_balances_initialized = False
        # Exchanges that push balances (Binance's user stream) report available funds that already
        # exclude open orders; others need the estimate of ``get_available_balance``.
        self._real_time_balance_update = True
        self._in_flight_orders_snapshot: Dict[str, Tuple[Any, str, Decimal]] = {}
        self._store: Optional[ConnectorStore] = None
        if data_folder is not None:
            self._store = ConnectorStore.in_folder(data_folder, self.store_name)
        self._order_tracker = ClientOrderTracker(
            trigger_event=self.trigger_event, current_timestamp=lambda: self.current_timestamp,
            store=self._store, lost_order_count_limit=lost_order_count_limit,
            on_fills_missing=self._on_fills_missing, exchange_name=self.name)
        self._order_book_tracker = OrderBookTracker(self._create_order_book_data_source(), self._trading_pairs)
        # Public trades reach strategies as Hummingbot's OrderBookEvent.TradeEvent on the connector.
        self._order_book_tracker.add_trade_listener(
            lambda trade: self.trigger_event(OrderBookEvent.TradeEvent, trade) if self.get_listeners(
                OrderBookEvent.TradeEvent) else None)
        self._user_stream_tracker: Optional[UserStreamTracker] = None
        if trading_required:
            self._user_stream_tracker = UserStreamTracker(self._create_user_stream_data_source())
        self._tasks: List[asyncio.Task] = []
        self._side_tasks: Set[asyncio.Task] = set()
        self._orders_being_placed: Set[str] = set()
        self._states_restored = False
        self._open_orders_reconciled = False
        self._network_status = NetworkStatus.STOPPED
        self._network_started = False

    # ================================================================== subclass interface
    @property
    def name(self) -> str:
        raise NotImplementedError

    @property
    def store_name(self) -> str:
        """Name of the sqlite file / connector key in the data folder."""
        return self.name

    @property
    def is_cancel_request_in_exchange_synchronous(self) -> bool:
        """Hummingbot's flag; reads ``IS_CANCEL_REQUEST_SYNCHRONOUS``."""
        return self.IS_CANCEL_REQUEST_SYNCHRONOUS

    @property
    def rate_limits_rules(self) -> list:
        return []

    @property
    def unknown_outcome_error_codes(self) -> frozenset:
        return frozenset()

    @property
    def client_order_id_prefix(self) -> str:
        return ""

    @property
    def client_order_id_max_length(self) -> Optional[int]:
        return None

    def supported_order_types(self) -> List[OrderType]:
        return [OrderType.LIMIT, OrderType.LIMIT_MAKER, OrderType.MARKET]

    def _create_order_book_data_source(self):
        raise NotImplementedError

    def _create_user_stream_data_source(self):
        raise NotImplementedError

    async def _place_order(self, order) -> Tuple[OrderUpdate, List[TradeUpdate]]:
        """Send the order; return its status update and any fills reported in the answer."""
        raise NotImplementedError

    async def _place_cancel(self, order) -> Optional[OrderUpdate]:
        raise NotImplementedError

    async def _request_order_status(self, order) -> OrderUpdate:
        raise NotImplementedError

    async def _all_trade_updates_for_order(self, order) -> List[TradeUpdate]:
        raise NotImplementedError

    async def _update_trading_rules(self) -> None:
        raise NotImplementedError

    async def _update_balances(self) -> None:
        raise NotImplementedError

    async def _update_time_synchronizer(self) -> None:
        return None

    async def _update_order_fills_from_trades(self) -> None:
        """Optional back-stop: poll recent account trades and record any missing fill."""
        return None

    async def _user_stream_event_listener(self) -> None:
        raise NotImplementedError

    async def _reconcile_open_orders(self) -> None:
        """Optional, once per start: adopt open orders of ours the local state does not know."""
        return None

    async def _ping(self) -> None:
        raise NotImplementedError

    async def _cancel_all_for_pair(self, trading_pair: str, orders: List[Any]) -> None:
        """Cancel ``orders`` of one pair; default one request per order."""
        await asyncio.gather(*(self._execute_order_cancel(o) for o in orders), return_exceptions=True)

    def _is_order_not_found_during_status_update_error(self, e: BaseException) -> bool:
        return False

    def _is_order_not_found_during_cancelation_error(self, e: BaseException) -> bool:
        return False

    def _fee_class(self):
        return DeductedFromReturnsTradeFee

    # ======================================================================== properties
    @property
    def trading_pairs(self) -> List[str]:
        return list(self._trading_pairs)

    @property
    def current_timestamp(self) -> float:
        return self._current_timestamp

    @property
    def throttler(self) -> AsyncThrottler:
        return self._throttler

    @property
    def time_synchronizer(self) -> TimeSynchronizer:
        return self._time_synchronizer

    @property
    def order_books(self) -> Dict[str, Any]:
        return self._order_book_tracker.order_books

    @property
    def order_book_tracker(self) -> OrderBookTracker:
        return self._order_book_tracker

    @property
    def user_stream_tracker(self) -> Optional[UserStreamTracker]:
        return self._user_stream_tracker

    @property
    def trading_rules(self) -> Dict[str, Any]:
        return self._trading_rules

    @property
    def in_flight_orders(self) -> Dict[str, Any]:
        return self._order_tracker.active_orders

    @property
    def order_tracker(self) -> ClientOrderTracker:
        return self._order_tracker

    @property
    def store(self) -> Optional[ConnectorStore]:
        return self._store

    @property
    def limit_orders(self) -> List[LimitOrder]:
        return [o.to_limit_order() for o in self._order_tracker.active_orders.values()]

    @property
    def tracking_states(self) -> Dict[str, Any]:
        return self._order_tracker.tracking_states

    @property
    def status_dict(self) -> Dict[str, bool]:
        required = self._trading_required
        last_recv = self._user_stream_tracker.last_recv_time if self._user_stream_tracker else 0
        return {
            "symbols_mapping_initialized": bool(self._trading_pair_symbol_map),
            "order_books_initialized": self._order_book_tracker.ready,
            "account_balance": not required or self._account_balances_initialized,
            "trading_rule_initialized": bool(self._trading_rules) if required else True,
            "user_stream_initialized": not required or last_recv > 0,
        }

    @property
    def ready(self) -> bool:
        return all(self.status_dict.values())

    @property
    async def _http_client(self):
        """The connector's one shared aiohttp ClientSession (``session = await conn._http_client``)."""
        return await self._rest.session()

    async def get_http_client(self):
        return await self._rest.session()

    # =========================================================================== balances
    def get_balance(self, currency: str) -> Decimal:
        return self._account_balances.get(currency, _ZERO)

    @property
    def real_time_balance_update(self) -> bool:
        """True: available balances are the exchange's own, kept current by the user stream."""
        return self._real_time_balance_update

    @real_time_balance_update.setter
    def real_time_balance_update(self, value: bool) -> None:
        self._real_time_balance_update = bool(value)

    def get_available_balance(self, currency: str) -> Decimal:
        """Exchange-reported available balance; without real-time balance updates, adjusted for
        orders placed or finished since the last balance poll (Hummingbot's estimate)."""
        reported = self._account_available_balances.get(currency, _ZERO)
        if self._real_time_balance_update:
            return reported
        return reported + self._available_balance_adjustment(currency)

    @staticmethod
    def _locked_by(order) -> Optional[Tuple[str, Decimal]]:
        """(asset, amount) an open order keeps locked: quote for buys, base for sells."""
        remaining = order.amount - order.executed_amount_base
        if order.trade_type == TradeType.BUY:
            if order.price is None or order.price.is_nan():
                return None            # market buy: nothing rests on the book
            return order.quote_asset, remaining * order.price
        return order.base_asset, remaining

    def _acked_open_order_ids(self) -> Set[str]:
        # Not yet acked: the exchange may not hold its funds yet; counted as new until it is.
        return {cid for cid, o in self._order_tracker.active_orders.items()
                if not o.is_done and o.current_state != OrderState.PENDING_CREATE}

    def _take_in_flight_orders_snapshot(self, open_before: Optional[Set[str]] = None) -> None:
        """Orders the balances just fetched surely account for: open (acked) both before the request
        and after the answer. Orders placed or finished meanwhile are left out, which errs on the
        low side: one placed is subtracted although it may be locked already, one finished is not
        given back although it may be released already."""
        snapshot = {}
        for cid in self._acked_open_order_ids():
            if open_before is not None and cid not in open_before:
                continue
            o = self._order_tracker.active_orders[cid]
            locked = self._locked_by(o)
            if locked is not None:
                snapshot[cid] = (o, locked[0], locked[1])
        self._in_flight_orders_snapshot = snapshot

    def _available_balance_adjustment(self, currency: str) -> Decimal:
        now = {cid: o for cid, o in self._order_tracker.active_orders.items() if not o.is_done}
        adjustment = _ZERO
        for cid, (order, asset, locked_then) in self._in_flight_orders_snapshot.items():
            if asset != currency or cid in now:
                continue
            # Gone since the poll: what is still unfilled was released (a filled part was spent).
            locked_now = self._locked_by(order)
            adjustment += min(locked_then, locked_now[1]) if locked_now else _ZERO
        for cid, order in now.items():
            if cid in self._in_flight_orders_snapshot:
                continue
            locked = self._locked_by(order)
            if locked is not None and locked[0] == currency:
                adjustment -= locked[1]
        return adjustment

    def get_all_balances(self) -> Dict[str, Decimal]:
        return dict(self._account_balances)

    def in_flight_asset_balances(self) -> Dict[str, Decimal]:
        """Funds locked by open orders: quote for buys (remaining × price), base for sells."""
        locked: Dict[str, Decimal] = {}
        for o in self._order_tracker.active_orders.values():
            if o.is_done:
                continue
            remaining = o.amount - o.executed_amount_base
            if o.trade_type == TradeType.BUY:
                if o.price is None or o.price.is_nan():
                    continue
                locked[o.quote_asset] = locked.get(o.quote_asset, _ZERO) + remaining * o.price
            else:
                locked[o.base_asset] = locked.get(o.base_asset, _ZERO) + remaining
        return locked

    # ========================================================================= clock/tick
    def tick(self, timestamp: float) -> None:
        """Called by the clock loop every TICK_INTERVAL (or by an external clock)."""
        now = time.time()
        last_recv = self._user_stream_tracker.last_recv_time if self._user_stream_tracker else 0.0
        poll_interval = (self.SHORT_POLL_INTERVAL if now - last_recv > self.USER_STREAM_SILENCE_LIMIT
                         else self.LONG_POLL_INTERVAL)
        if int(timestamp / poll_interval) > int(self._last_timestamp / poll_interval):
            self._poll_notifier.set()
        self._last_timestamp = timestamp
        self._current_timestamp = timestamp

    async def _clock_loop(self) -> None:
        interval = min(self.TICK_INTERVAL, self.SHORT_POLL_INTERVAL / 2)
        while True:
            self.tick(time.time())
            await asyncio.sleep(interval)

    # ===================================================================== trading rules
    def _rule(self, trading_pair: str):
        rule = self._trading_rules.get(trading_pair)
        if rule is None:
            raise ValueError(f"no trading rule for {trading_pair} (unknown pair or rules not loaded yet)")
        return rule

    def get_order_price_quantum(self, trading_pair: str, price: Decimal = _NaN) -> Decimal:
        return self._rule(trading_pair).min_price_increment

    def get_order_size_quantum(self, trading_pair: str, order_size: Decimal = _NaN) -> Decimal:
        return self._rule(trading_pair).min_base_amount_increment

    def quantize_order_price(self, trading_pair: str, price: Decimal) -> Decimal:
        if price is None or (isinstance(price, Decimal) and price.is_nan()):
            return price
        return self._rule(trading_pair).quantize_order_price(price)

    def quantize_order_amount(self, trading_pair: str, amount: Decimal, price: Optional[Decimal] = None) -> Decimal:
        """Floor to the step; 0 below the minimum size or, when ``price`` is given, below min notional."""
        if price is None or (isinstance(price, Decimal) and price.is_nan()):
            return self._rule(trading_pair).quantize_order_amount(amount)
        return self._rule(trading_pair).quantize_order_amount(amount, price)

    async def _trading_rules_polling_loop(self) -> None:
        while True:
            try:
                await self._update_trading_rules()
                await asyncio.sleep(self.TRADING_RULES_INTERVAL)
            except asyncio.CancelledError:
                raise
            except Exception:
                _log.exception("Unexpected error while fetching trading rules.")
                await asyncio.sleep(0.5)

    # ============================================================================== fees
    @staticmethod
    def _parse_fee_overrides(overrides: Optional[Dict[str, Any]]) -> Dict[str, Decimal]:
        out: Dict[str, Decimal] = {}
        for key, value in (overrides or {}).items():
            if key not in ("maker_percent_fee", "taker_percent_fee"):
                raise ValueError(f"unknown fee override {key!r} (use maker_percent_fee / taker_percent_fee, "
                                 f"as a fraction, e.g. Decimal('0.001') for 0.1 %)")
            out[key] = to_decimal(value, key)
        return out

    def get_fee(self, base_currency: str, quote_currency: str, order_type: OrderType, order_side: TradeType,
                amount: Decimal, price: Decimal = _NaN, is_maker: Optional[bool] = None) -> TradeFee:
        """Estimated fee: maker rate for LIMIT_MAKER (or is_maker=True), else taker rate."""
        maker = order_type is OrderType.LIMIT_MAKER if is_maker is None else is_maker
        schema = self.DEFAULT_FEE_SCHEMA
        if maker:
            pct = self._fee_overrides.get("maker_percent_fee", schema.maker_percent_fee_decimal)
        else:
            pct = self._fee_overrides.get("taker_percent_fee", schema.taker_percent_fee_decimal)
        return self._fee_class()(percent=pct, percent_token=schema.percent_fee_token)

    # ======================================================================== placing
    def buy(self, trading_pair: str, amount: Decimal, order_type: OrderType = OrderType.LIMIT,
            price: Decimal = _NaN, **kwargs: Any) -> str:
        return self._submit(True, trading_pair, amount, order_type, price, **kwargs)

    def sell(self, trading_pair: str, amount: Decimal, order_type: OrderType = OrderType.LIMIT,
             price: Decimal = _NaN, **kwargs: Any) -> str:
        return self._submit(False, trading_pair, amount, order_type, price, **kwargs)

    def _new_client_order_id(self, is_buy: bool, trading_pair: str) -> str:
        try:
            from exconnect.native.client_order_id import get_new_client_order_id
        except ImportError:     # compiled generator not built: same shape, pure Python
            return _fallback_client_order_id(is_buy, trading_pair, self.client_order_id_prefix,
                                             self.client_order_id_max_length)
        return get_new_client_order_id(is_buy, trading_pair, hbot_order_id_prefix=self.client_order_id_prefix,
                                       max_id_len=self.client_order_id_max_length)

    def _submit(self, is_buy: bool, trading_pair: str, amount: Any, order_type: OrderType, price: Any,
                **kwargs: Any) -> str:
        amount = to_decimal(amount, "amount")
        price = _NaN if price is None else (price if isinstance(price, Decimal) else to_decimal(price, "price"))
        if not isinstance(order_type, OrderType):
            raise TypeError(f"order_type must be an OrderType, got {order_type!r}")
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError("buy()/sell() must be called from the event loop the connector runs on") from None
        order_id = self._new_client_order_id(is_buy, trading_pair)
        trade_type = TradeType.BUY if is_buy else TradeType.SELL
        order = self._prepare_order(order_id, trading_pair, amount, trade_type, order_type, price, **kwargs)
        if order is not None:
            self._spawn(self._send_order(order))
        return order_id

    async def _create_order(self, trade_type: TradeType, order_id: str, trading_pair: str, amount: Decimal,
                            order_type: OrderType, price: Optional[Decimal] = None, **kwargs: Any) -> str:
        """Check rules, quantize, track (PENDING_CREATE), sign + send, record the exchange id."""
        order = self._prepare_order(order_id, trading_pair, to_decimal(amount, "amount"), trade_type, order_type,
                                    _NaN if price is None else price, **kwargs)
        if order is not None:
            await self._send_order(order)
        return order_id

    def _prepare_order(self, order_id: str, trading_pair: str, amount: Decimal, trade_type: TradeType,
                       order_type: OrderType, price: Decimal, **kwargs: Any):
        """Synchronous half of placement: rule checks and tracking. None if the order failed."""
        reason = None
        rule = self._trading_rules.get(trading_pair)
        if order_type not in self.supported_order_types():
            reason = f"{order_type} is not in the list of supported order types"
        elif rule is None:
            reason = f"no trading rule for {trading_pair} (unknown pair or rules not loaded yet)"
        if reason is None:
            q_price = price if order_type is OrderType.MARKET or price.is_nan() else rule.quantize_order_price(price)
            if order_type is not OrderType.MARKET and (q_price.is_nan() or q_price <= 0):
                reason = f"a {order_type.name} order needs a positive price (got {price})"
        if reason is None:
            q_amount = rule.quantize_order_amount(amount)
            check_price = q_price
            if check_price.is_nan():
                check_price = self._reference_price(trading_pair, trade_type)
            if amount < rule.min_order_size or q_amount <= 0:
                reason = (f"Order amount {amount} is lower than minimum order size {rule.min_order_size} for the "
                          f"pair {trading_pair}. The order will not be created.")
            else:
                reason = rule.check_order(check_price, q_amount, order_type) if check_price is not None else None
        if reason is not None:
            _log.warning("Order %s has failed: %s", order_id, reason)
            self._schedule_failure(order_id, trading_pair, order_type, trade_type, amount, price, reason)
            return None
        order = _in_flight_order_class()(
            order_id, trading_pair, order_type, trade_type, q_amount, self.current_timestamp,
            price=None if q_price.is_nan() else q_price, **self._order_extra_kwargs(kwargs))
        self._order_tracker.start_tracking_order(order, new_order=True)
        self._orders_being_placed.add(order_id)
        return order

    def _order_extra_kwargs(self, kwargs: Dict[str, Any]) -> Dict[str, Any]:
        return {}

    def _reference_price(self, trading_pair: str, trade_type: TradeType) -> Optional[Decimal]:
        book = self.order_books.get(trading_pair)
        if book is None:
            return None
        try:
            return book.get_price(trade_type is TradeType.BUY)
        except Exception:
            return None

    def _schedule_failure(self, order_id: str, trading_pair: str, order_type: OrderType, trade_type: TradeType,
                          amount: Decimal, price: Decimal, reason: str) -> None:
        from exconnect.events import MarketOrderFailureEvent

        def emit() -> None:
            self.trigger_event(MarketEvent.OrderFailure,
                               MarketOrderFailureEvent(self.current_timestamp, order_id, order_type, reason,
                                                       "ValueError"))
        # After buy()/sell() has returned the id, so the strategy knows the order it hears about.
        try:
            asyncio.get_running_loop().call_soon(emit)
        except RuntimeError:
            emit()

    async def _send_order(self, order) -> None:
        cid = order.client_order_id
        try:
            update, trades = await self._place_order(order)
        except asyncio.CancelledError:
            raise
        except RequestRejected as e:
            self._orders_being_placed.discard(cid)
            _log.error("Error submitting %s %s order to %s for %s %s %s. (%s)", order.trade_type.name.lower(),
                       order.order_type.name, self.name, order.amount, order.trading_pair, order.price, e)
            self._order_tracker.process_order_update(OrderUpdate(
                order.trading_pair, self.current_timestamp, OrderState.FAILED, cid,
                misc_updates={"error_message": str(e.msg or e), "error_type": type(e).__name__,
                              "error_code": e.code}))
            return
        except Exception as e:
            # Timeout, 5xx, lost connection, unparsable answer: the order may exist. Keep it.
            self._orders_being_placed.discard(cid)
            _log.warning("Outcome of %s order %s is unknown (%s: %s); keeping it tracked until the exchange "
                         "reports it.", order.order_type.name, cid, type(e).__name__, e)
            self._spawn(self._recheck_unknown_order(cid))
            return
        self._orders_being_placed.discard(cid)
        self._process_placement(order, update, trades)

    def _process_placement(self, order, update: OrderUpdate, trades: List[TradeUpdate]) -> None:
        tracker = self._order_tracker
        if update.exchange_order_id:
            tracker.remember_exchange_order_id(update.exchange_order_id, order.client_order_id)
        self._ensure_created(order, update.exchange_order_id, update.update_timestamp)
        for trade in trades:
            tracker.process_trade_update(trade)
        tracker.process_order_update(update)

    def _ensure_created(self, order, exchange_order_id: Optional[str], timestamp: float) -> None:
        """First sign of life from the exchange: PENDING_CREATE -> OPEN with the exchange id."""
        if order.current_state == OrderState.PENDING_CREATE and exchange_order_id:
            self._order_tracker.process_order_update(OrderUpdate(
                order.trading_pair, timestamp, OrderState.OPEN, order.client_order_id, str(exchange_order_id)))

    async def _recheck_unknown_order(self, client_order_id: str) -> None:
        delay = self.UNKNOWN_OUTCOME_RECHECK
        while True:
            await asyncio.sleep(delay)
            order = self._order_tracker.active_orders.get(client_order_id)
            if order is None or order.current_state != OrderState.PENDING_CREATE:
                return
            await self._update_orders_status([order])
            delay = min(delay * 2, self.SHORT_POLL_INTERVAL)

    # ====================================================================== cancelling
    def cancel(self, trading_pair: str, client_order_id: str) -> str:
        self._spawn(self._execute_cancel(trading_pair, client_order_id))
        return client_order_id

    async def _execute_cancel(self, trading_pair: str, order_id: str) -> Optional[str]:
        order = self._order_tracker.active_orders.get(order_id)
        if order is None:
            _log.debug("Cancel of %s ignored: not a tracked order", order_id)
            return None
        ok = await self._execute_order_cancel(order)
        return order_id if ok else None

    async def _execute_order_cancel(self, order) -> bool:
        cid = order.client_order_id
        try:
            update = await self._place_cancel(order)
        except asyncio.CancelledError:
            raise
        except Exception as e:
            if self._is_order_not_found_during_cancelation_error(e) and cid in self._order_tracker.lost_orders:
                # Expected for most lost orders; the status poll removes them once confirmed.
                _log.debug("Lost order %s is unknown to the exchange on cancel.", cid)
            elif self._is_order_not_found_during_cancelation_error(e):
                _log.warning("Failed to cancel order %s (order not found)", cid)
                self._order_tracker.process_order_not_found(cid)
                # It may have just filled or never existed: ask the exchange now.
                if cid in self._order_tracker.active_orders:
                    self._spawn(self._update_orders_status([order]))
            else:
                _log.error("Failed to cancel order %s: %s", cid, e)
            return False
        if update is None:
            return False
        await self._process_cancel_answer(order, update)
        return self._cancel_accepted(order)

    def _cancel_answer_update(self, update: OrderUpdate) -> OrderUpdate:
        """The state a cancel answer puts the order in. On an asynchronous-cancel exchange an
        answer saying CANCELED only means the request was accepted: PENDING_CANCEL until the
        exchange confirms (user stream or status poll)."""
        if not self.is_cancel_request_in_exchange_synchronous and update.new_state == OrderState.CANCELED:
            return update._replace(new_state=OrderState.PENDING_CANCEL)
        return update

    async def _process_cancel_answer(self, order, update: OrderUpdate) -> None:
        await self._process_order_update_with_fills(order, self._cancel_answer_update(update))

    def _cancel_accepted(self, order) -> bool:
        """After the cancel answer: cancelled (synchronous), or cancelled / awaiting confirmation
        (asynchronous: the request counts as accepted, as in Hummingbot)."""
        if order.current_state == OrderState.CANCELED or order.is_cancelled:
            return True
        return not self.is_cancel_request_in_exchange_synchronous and order.is_pending_cancel_confirmation

    async def cancel_all(self, timeout_seconds: float) -> List[CancellationResult]:
        """Cancel every tracked open order; each is reported True only once confirmed cancelled.

        On an asynchronous-cancel exchange an accepted request is not enough (Hummingbot counts
        it; we keep the documented meaning "successfully cancelled"): after the requests, one
        status poll is asked for and the call waits, within ``timeout_seconds``, for the exchange
        to confirm; an order still PENDING_CANCEL at the deadline (or filled meanwhile) is False.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_seconds / 2
        # An order whose placement answer is still in flight would survive a cancel sent now
        # (the exchange may not have it yet): give those answers a moment to arrive first.
        while (any(cid in self._orders_being_placed for cid in self._order_tracker.active_orders)
               and loop.time() < deadline):
            await asyncio.sleep(0.002)
        orders = [o for o in self._order_tracker.active_orders.values() if not o.is_done]
        by_pair: Dict[str, List[Any]] = {}
        for o in orders:
            by_pair.setdefault(o.trading_pair, []).append(o)
        try:
            await asyncio.wait_for(self._cancel_all_and_confirm(by_pair), timeout_seconds)
        except asyncio.TimeoutError:
            _log.warning("cancel_all: not every cancellation was confirmed within %s s", timeout_seconds)
        except Exception:
            _log.exception("Unexpected error cancelling orders.")
        ok = [CancellationResult(o.client_order_id, True) for o in orders if o.is_cancelled]
        # (an order still awaiting confirmation stays tracked: the stream or the poll finishes it)
        failed = [CancellationResult(o.client_order_id, False) for o in orders if not o.is_cancelled]
        return ok + failed

    async def _cancel_all_and_confirm(self, by_pair: Dict[str, List[Any]]) -> None:
        await asyncio.gather(*(self._cancel_all_for_pair(p, os_) for p, os_ in by_pair.items()),
                             return_exceptions=True)
        if self.is_cancel_request_in_exchange_synchronous:
            return
        pending = [o for os_ in by_pair.values() for o in os_ if o.is_pending_cancel_confirmation]
        if pending:
            self._poll_notifier.set()          # confirmation even if the user stream is down
        while any(o.is_pending_cancel_confirmation for o in pending):
            await asyncio.sleep(0.01)

    # ======================================================================= tracking
    def start_tracking_order(self, order_id: str, exchange_order_id: Optional[str], trading_pair: str,
                             trade_type: TradeType, price: Decimal, amount: Decimal, order_type: OrderType,
                             **kwargs: Any) -> None:
        order = _in_flight_order_class()(order_id, trading_pair, order_type, trade_type, amount,
                                         self.current_timestamp, price=price, exchange_order_id=exchange_order_id,
                                         **self._order_extra_kwargs(kwargs))
        self._order_tracker.start_tracking_order(order)

    def stop_tracking_order(self, order_id: str) -> None:
        self._order_tracker.stop_tracking_order(order_id)

    def restore_tracking_states(self, saved_states: Dict[str, Any]) -> None:
        """Re-track saved orders (open ones active, FAILED ones as lost); reconciled at the next poll."""
        cls = _in_flight_order_class()
        n = self._order_tracker.restore_tracking_states(saved_states, cls.from_json)
        self._states_restored = True
        if n:
            _log.info("Restored %d in-flight orders; reconciling them with the exchange.", n)
            self._poll_notifier.set()

    async def _process_order_update_with_fills(self, order, update: OrderUpdate) -> None:
        """Process a status, first fetching trades if the exchange reports more executed than we hold."""
        # Created (with the exchange id, needed to query its trades) before fills, fills before status.
        self._ensure_created(order, update.exchange_order_id, update.update_timestamp)
        if order.exchange_order_id is None and update.exchange_order_id:
            # A lost (FAILED) order never acked: its trades can only be fetched by this id.
            order.update_exchange_order_id(str(update.exchange_order_id))
        executed = (update.misc_updates or {}).get("executed_amount_base")
        if executed is not None and executed > order.executed_amount_base:
            await self._fetch_and_process_trades(order)
        self._order_tracker.process_order_update(update)

    async def _fetch_and_process_trades(self, order) -> None:
        try:
            trades = await self._all_trade_updates_for_order(order)
        except asyncio.CancelledError:
            raise
        except Exception as e:
            _log.warning("Error fetching trades update for the order %s: %s.", order.client_order_id, e)
            return
        for trade in trades:
            self._order_tracker.process_trade_update(trade)

    def _on_fills_missing(self, order) -> None:
        self._spawn(self._wait_for_missing_fills(order))

    async def _wait_for_missing_fills(self, order) -> None:
        cid = order.client_order_id
        deadline = time.monotonic() + self.FILLS_WAIT_TIMEOUT
        delay = 0.05
        while self._order_tracker.is_waiting_for_fills(cid):
            await self._fetch_and_process_trades(order)
            if not self._order_tracker.is_waiting_for_fills(cid):
                return
            if time.monotonic() >= deadline:
                self._order_tracker.force_complete(cid)
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)

    # ===================================================================== polling
    async def _status_polling_loop(self) -> None:
        while True:
            await self._poll_notifier.wait()
            self._poll_notifier.clear()
            try:
                await self._status_polling_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                _log.exception("Unexpected error while fetching account updates.")
                await asyncio.sleep(0.5)

    async def _status_polling_once(self) -> None:
        balances_ok = True
        if not self._open_orders_reconciled:
            try:
                await self._reconcile_open_orders()
                self._open_orders_reconciled = True
            except asyncio.CancelledError:
                raise
            except Exception as e:
                balances_ok = False       # not ready until it worked once
                _log.warning("Could not reconcile open orders with the exchange yet: %s", e)
        results = await asyncio.gather(self._update_balances_with_snapshot(),
                                       self._update_order_fills_from_trades(), return_exceptions=True)
        for r in results:
            if isinstance(r, asyncio.CancelledError):
                raise r
            if isinstance(r, Exception):
                balances_ok = False
                _log.warning("Failed to update balances or trades. Error: %s", r)
        await self._update_order_status()
        if balances_ok:
            self._account_balances_initialized = True

    async def _update_balances_with_snapshot(self) -> None:
        open_before = self._acked_open_order_ids()
        await self._update_balances()
        self._take_in_flight_orders_snapshot(open_before)

    async def _update_order_status(self) -> None:
        orders = [o for o in self._order_tracker.all_updatable_orders.values()
                  if o.client_order_id not in self._orders_being_placed]
        await self._update_orders_status(orders)

    async def _update_orders_status(self, orders: Sequence[Any]) -> None:
        if not orders:
            return
        results = await asyncio.gather(*(self._request_order_status(o) for o in orders), return_exceptions=True)
        tracker = self._order_tracker
        for order, result in zip(orders, results):
            cid = order.client_order_id
            if isinstance(result, asyncio.CancelledError):
                raise result
            if isinstance(result, Exception):
                if self._is_order_not_found_during_status_update_error(result):
                    if cid in tracker.lost_orders:
                        # A lost order the exchange has never heard of: nothing more will come
                        # (a late trade is still attributed by exchange id through the fill log).
                        _log.info("Lost order %s does not exist on the exchange; no longer tracked.", cid)
                        tracker.stop_tracking_order(cid, cache=False)
                    else:
                        tracker.process_order_not_found(cid)
                else:
                    _log.warning("Error fetching status update for the order %s: %s", cid, result)
                continue
            await self._process_order_update_with_fills(order, result)

    # ==================================================================== lost orders
    async def _lost_orders_loop(self) -> None:
        """Keep trying to cancel lost orders: one that does exist after all (read-after-write lag,
        an answer lost on the way) must not keep resting on the book unwatched."""
        while True:
            await asyncio.sleep(self.LOST_ORDER_CANCEL_INTERVAL or self.SHORT_POLL_INTERVAL)
            try:
                await self._cancel_lost_orders()
            except asyncio.CancelledError:
                raise
            except Exception:
                _log.exception("Unexpected error cancelling lost orders.")

    async def _cancel_lost_orders(self) -> None:
        """One cancel attempt per lost order. Success ends its tracking (it stays FAILED, no
        OrderCancelled: its failure event was already sent); a failure leaves it lost."""
        lost = list(self._order_tracker.lost_orders.values())
        if lost:
            await asyncio.gather(*(self._execute_order_cancel(o) for o in lost), return_exceptions=True)

    # =================================================================== user stream
    async def _user_stream_event_listener(self) -> None:  # noqa: F811 - documented hook
        raise NotImplementedError

    # ======================================================================= network
    async def start_network(self) -> None:
        await self.stop_network()
        self._network_started = True
        loop = asyncio.get_running_loop()
        if self._trading_required and not self._states_restored and self._store is not None:
            saved = self._store.load_tracking_states()
            if saved:
                self.restore_tracking_states(saved)
            self._states_restored = True
        self._order_book_tracker.start()
        self._network_status = NetworkStatus.NOT_CONNECTED
        self._tasks.append(loop.create_task(self._network_check_loop()))
        self._tasks.append(loop.create_task(self._clock_loop()))
        self._tasks.append(loop.create_task(self._trading_rules_polling_loop()))
        if self._trading_required:
            self._poll_notifier.set()          # first poll right away (also reconciles restored orders)
            self._tasks.append(loop.create_task(self._status_polling_loop()))
            self._tasks.append(loop.create_task(self._lost_orders_loop()))
            self._user_stream_tracker.start()
            self._tasks.append(loop.create_task(self._user_stream_event_listener()))

    async def stop_network(self) -> None:
        tasks, self._tasks = self._tasks, []
        await cancel_and_wait(tasks)
        await self._order_book_tracker.stop()
        if self._user_stream_tracker is not None:
            await self._user_stream_tracker.stop()
        self._last_timestamp = 0.0
        self._network_status = NetworkStatus.STOPPED

    NETWORK_CHECK_INTERVAL = 10.0

    @property
    def network_status(self) -> NetworkStatus:
        """Last result of the periodic ``check_network`` (STOPPED before ``start_network``)."""
        return self._network_status

    async def _network_check_loop(self) -> None:
        while True:
            try:
                self._network_status = await asyncio.wait_for(self.check_network(), 5.0)
            except asyncio.CancelledError:
                raise
            except Exception:
                self._network_status = NetworkStatus.NOT_CONNECTED
            await asyncio.sleep(self.NETWORK_CHECK_INTERVAL)

    async def check_network(self) -> NetworkStatus:
        try:
            await self._ping()
        except asyncio.CancelledError:
            raise
        except Exception:
            return NetworkStatus.NOT_CONNECTED
        return NetworkStatus.CONNECTED

    async def start(self, wait_ready: bool = True, timeout: float = 30.0) -> None:
        """Convenience: ``start_network`` and wait until ``ready``."""
        await self.start_network()
        if wait_ready:
            await self.wait_until_ready(timeout)

    async def wait_until_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.ready:
            if time.monotonic() > deadline:
                missing = [k for k, v in self.status_dict.items() if not v]
                raise TimeoutError(f"{self.name} not ready after {timeout}s: waiting for {missing}")
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        """Stop everything and release the HTTP session and the database."""
        await self.stop_network()
        side, self._side_tasks = self._side_tasks, set()
        await cancel_and_wait(side)
        await self._rest.close()
        if self._store is not None:
            self._store.close()

    async def __aenter__(self):
        await self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()

    # ============================================================= pairs at runtime
    async def add_trading_pair(self, trading_pair: str) -> bool:
        """Start market data (order book, public trades) for one more pair while running.
        False if it is already tracked or its book could not be set up (nothing is kept then)."""
        split_trading_pair(trading_pair)
        if not await self._order_book_tracker.add_trading_pair(trading_pair):
            return False
        if trading_pair not in self._trading_pairs:
            self._trading_pairs.append(trading_pair)
        return True

    async def remove_trading_pair(self, trading_pair: str) -> bool:
        """Stop market data for a pair. Orders on it stay tracked (fills, cancels) until done."""
        if not await self._order_book_tracker.remove_trading_pair(trading_pair):
            return False
        if trading_pair in self._trading_pairs:
            self._trading_pairs.remove(trading_pair)
        return True

    # ========================================================================= misc
    def get_order_book(self, trading_pair: str):
        book = self._order_book_tracker.order_books.get(trading_pair)
        if book is None:
            raise ValueError(f"No order book exists for '{trading_pair}'.")
        return book

    def get_price(self, trading_pair: str, is_buy: bool) -> Decimal:
        return self.get_order_book(trading_pair).get_price(is_buy)

    def get_mid_price(self, trading_pair: str) -> Decimal:
        book = self.get_order_book(trading_pair)
        return (book.get_price(True) + book.get_price(False)) / 2

    async def get_open_orders(self) -> List[OpenOrder]:
        raise NotImplementedError

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coro)
        self._side_tasks.add(task)
        task.add_done_callback(self._side_task_done)
        return task

    def _side_task_done(self, task: asyncio.Task) -> None:
        self._side_tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            _log.error("Background task failed", exc_info=task.exception())
