"""Binance USDⓈ-M perpetual connector (Hummingbot's Derivative interface on exconnect's framework).

Built on the spot connector (signing, clock-error retry, symbol map, trade back-stop, order
outcome rules, open-order adoption, user stream loop) with the futures wire: ``/fapi`` paths and
field names (BinanceExchange's class attributes and hooks), positions, leverage, position mode,
funding. Construct from configuration — the same code talks to Binance or the simulator::

    BinancePerpetualDerivative(api_key, api_secret, trading_pairs=["BTC-USDT"])
    BinancePerpetualDerivative.from_base_urls(sim.futures_url, api_key="sim-key", api_secret="sim-secret",
                                              trading_pairs=["BTC-USDT"])

Order requests: LIMIT → timeInForce GTC, LIMIT_MAKER → LIMIT + GTX (post-only), MARKET. In HEDGE
mode ``positionSide`` follows the position action (OPEN buy → LONG, OPEN sell → SHORT, CLOSE buy →
SHORT, CLOSE sell → LONG); in ONEWAY mode a CLOSE is sent ``reduceOnly``.

Parts: ``account_config`` (position mode, leverage), ``user_stream_events`` (ORDER_TRADE_UPDATE,
ACCOUNT_UPDATE, ...), ``account_refresh`` (available margin and positions re-read promptly after
account/order events), ``order_amendments`` (orders modified on the exchange),
``funding_payment_tracker`` (payments once), ``perpetual_trading`` (local positions / leverage /
funding info), data sources for market data and the listenKey stream.
"""
from __future__ import annotations

import asyncio
import logging
import os
from decimal import Decimal
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from exconnect.binance.binance_exchange import BinanceExchange, _fmt
from exconnect.connector.exchange_base import ExchangeBase
from exconnect.connector.web import ReconnectBackoff, RequestRejected, UnknownOutcomeError
from exconnect.events import FundingInfoUpdate, MarketEvent
from exconnect.types import (AddedToCostTradeFee, FundingInfo, OrderState, OrderType, OrderUpdate,
                             Position, PositionAction, PositionMode, PositionSide, TradeFeeSchema,
                             TradeType, TradeUpdate)

from . import binance_perpetual_constants as CONSTANTS
from .account_config import AccountConfigMixin
from .account_refresh import AccountRefresher
from .binance_perpetual_order_book_data_source import BinancePerpetualAPIOrderBookDataSource
from .binance_perpetual_user_stream_data_source import BinancePerpetualUserStreamDataSource
from .funding_payment_tracker import FundingPaymentTracker
from .funding_payments import FundingPaymentStore
from .order_amendments import OrderAmendmentsMixin
from .perpetual_trading import PerpetualTrading
from .user_stream_events import UserStreamEventsMixin

__all__ = ["BinancePerpetualDerivative"]

_log = logging.getLogger(__name__)
_ZERO = Decimal(0)


def _is_definite_503_failure(e: UnknownOutcomeError) -> bool:
    """Binance futures tells its 503s apart: only "Unknown error, please check your request or try
    again later." leaves the order's fate unknown; "Service Unavailable.", "Internal error; unable to
    process your request." and -1008 (system throttling) mean it was not executed."""
    if e.status != 503:
        return False
    msg = e.msg if isinstance(e.msg, str) else ""
    return e.code == CONSTANTS.SYSTEM_THROTTLED or msg.startswith(CONSTANTS.DEFINITE_503_MESSAGES)


class BinancePerpetualDerivative(AccountConfigMixin, UserStreamEventsMixin, OrderAmendmentsMixin, BinanceExchange):
    DEFAULT_FEE_SCHEMA = TradeFeeSchema(maker_percent_fee_decimal=Decimal("0.0002"),
                                        taker_percent_fee_decimal=Decimal("0.0005"),
                                        buy_percent_fee_deducted_from_returns=False)

    # The futures wire for the code shared with the spot connector (see BinanceExchange): its wire
    # constants (PING_PATH, ORDER_PATH, ORDER_STATE, RATE_LIMITS, ...) come from this module; below,
    # only what differs from the spot wire's names and choices.
    WIRE_CONSTANTS = CONSTANTS
    MY_TRADES_PATH = CONSTANTS.USER_TRADES_PATH
    ACCOUNTS_PATH = CONSTANTS.ACCOUNT_PATH
    MY_TRADES_MAKER_FIELD = "maker"
    CANCEL_TIME_FIELD = "updateTime"
    ORDER_TIME_FALLBACK_FIELD = "time"
    VENUE_LABEL = "Binance futures"

    def __init__(self, api_key: Optional[str] = None, api_secret: Optional[str] = None,
                 trading_pairs: Iterable[str] = (), *, trading_required: bool = True,
                 urls: Optional[CONSTANTS.BinancePerpetualUrls] = None, domain: str = CONSTANTS.DEFAULT_DOMAIN,
                 client_order_id_prefix: str = CONSTANTS.BROKER_ID,
                 funding_payment_span: Sequence[int] = (0, 0),
                 funding_fee_poll_interval: float = CONSTANTS.FUNDING_FEE_POLL_INTERVAL_S,
                 listen_key_keepalive_interval: float = CONSTANTS.LISTEN_KEY_KEEPALIVE_S,
                 **kwargs: Any) -> None:
        trading_pairs = list(dict.fromkeys(trading_pairs))
        self._perpetual = PerpetualTrading(trading_pairs, funding_payment_span)
        if funding_fee_poll_interval <= 0 or listen_key_keepalive_interval <= 0:
            raise ValueError("funding_fee_poll_interval and listen_key_keepalive_interval must be positive")
        self._funding_fee_poll_interval = float(funding_fee_poll_interval)
        self._listen_key_keepalive_interval = float(listen_key_keepalive_interval)
        self._position_mode_initialized = False
        self._positions_initialized = False
        self._position_events = 0          # ACCOUNT_UPDATE position changes seen (see _update_account_positions)
        self._balance_events = 0           # ACCOUNT_UPDATE balance changes seen (see _update_balances)
        self._funding_store: Optional[FundingPaymentStore] = None
        if urls is None:
            urls = (CONSTANTS.BinancePerpetualUrls.from_env() if domain == CONSTANTS.DEFAULT_DOMAIN
                    else CONSTANTS.BinancePerpetualUrls.production(domain))
        super().__init__(api_key, api_secret, trading_pairs, trading_required=trading_required, urls=urls,
                         domain=domain, client_order_id_prefix=client_order_id_prefix, **kwargs)
        funding_path = None
        if self._store is not None:
            funding_path = os.path.join(os.path.dirname(os.path.abspath(self._store.path)),
                                        f"{self.store_name}_funding.sqlite")
        self._funding_store = FundingPaymentStore(funding_path, self.store_name)
        self._funding_payments = FundingPaymentTracker(
            store=self._funding_store, market=self.name, trading_pairs=self._trading_pairs, api_get=self._api_get,
            symbol_for=self.exchange_symbol_associated_to_pair, server_time_ms=self._time_synchronizer.time_ms,
            current_rate=self._current_funding_rate, trigger_event=self.trigger_event, spawn=self._spawn)
        self._account_refresher = AccountRefresher(self._refresh_account, self._spawn)

    @classmethod
    def from_base_urls(cls, rest_url: str, ws_url: Optional[str] = None, **kwargs: Any) -> "BinancePerpetualDerivative":
        """Connector for a Binance-futures-compatible host (e.g. ``sim.futures_url``)."""
        return cls(urls=CONSTANTS.BinancePerpetualUrls.from_base(rest_url, ws_url), **kwargs)

    def __repr__(self) -> str:
        return (f"BinancePerpetualDerivative(pairs={self._trading_pairs}, rest={self._urls.rest!r}, "
                f"auth={self._auth!r})")

    # ------------------------------------------------------------------ identity
    @property
    def name(self) -> str:
        return "binance_perpetual" if self._domain == CONSTANTS.DEFAULT_DOMAIN else f"binance_perpetual_{self._domain}"

    def _fee_class(self):
        return AddedToCostTradeFee

    # ------------------------------------------------------------------ derivative state
    @property
    def account_positions(self) -> Dict[str, Position]:
        return self._perpetual.account_positions

    def get_position(self, trading_pair: str, side: Optional[PositionSide] = None) -> Optional[Position]:
        return self._perpetual.get_position(trading_pair, side)

    @property
    def _account_positions(self) -> Dict[str, Position]:     # Hummingbot strategies read this name
        return self._perpetual.account_positions

    @property
    def _funding_payment_span(self) -> List[int]:
        return self._perpetual.funding_payment_span

    @property
    def position_mode(self) -> PositionMode:
        return self._perpetual.position_mode

    def supported_position_modes(self) -> List[PositionMode]:
        return [PositionMode.ONEWAY, PositionMode.HEDGE]

    def get_leverage(self, trading_pair: str) -> int:
        return self._perpetual.get_leverage(trading_pair)

    def get_buy_collateral_token(self, trading_pair: str) -> str:
        return self._rule(trading_pair).buy_order_collateral_token

    def get_sell_collateral_token(self, trading_pair: str) -> str:
        return self._rule(trading_pair).sell_order_collateral_token

    @property
    def funding_payment_span(self) -> List[int]:
        return self._perpetual.funding_payment_span

    @property
    def _funding_info(self) -> Dict[str, FundingInfo]:
        return self._perpetual.funding_info

    def get_funding_info(self, trading_pair: str) -> FundingInfo:
        return self._perpetual.get_funding_info(trading_pair)

    @property
    def funding_payments(self) -> List[Dict[str, Any]]:
        """Every funding payment this connector recorded (persisted), oldest first."""
        return self._funding_payments.payments

    @property
    def status_dict(self) -> Dict[str, bool]:
        status = super().status_dict
        status["funding_info"] = self._perpetual.is_funding_info_initialized()
        if self._trading_required:
            status["position_mode"] = self._position_mode_initialized
            # positions and the exchange's leverage: orders must not be stamped with a guessed one
            status["account_positions"] = self._positions_initialized
        return status

    def in_flight_asset_balances(self) -> Dict[str, Decimal]:
        """Margin held by open orders: remaining × price / leverage in the collateral token, for
        orders that open (closing orders need no margin)."""
        locked: Dict[str, Decimal] = {}
        for o in self._order_tracker.active_orders.values():
            if o.is_done or o.position == PositionAction.CLOSE.value or o.price is None or o.price.is_nan():
                continue
            rule = self._trading_rules.get(o.trading_pair)
            token = rule.buy_order_collateral_token if rule is not None else o.quote_asset
            margin = (o.amount - o.executed_amount_base) * o.price / max(int(o.leverage), 1)
            locked[token] = locked.get(token, _ZERO) + margin
        return locked

    # ------------------------------------------------------------------ data sources
    def _create_order_book_data_source(self):
        return BinancePerpetualAPIOrderBookDataSource(self._trading_pairs, self._rest, self._urls,
                                                      on_mark_price=self._on_mark_price)

    def _create_user_stream_data_source(self):
        return BinancePerpetualUserStreamDataSource(self._auth, self._rest, self._urls,
                                                    keepalive_interval=self._listen_key_keepalive_interval)

    # ------------------------------------------------------------------ pairs at runtime
    async def add_trading_pair(self, trading_pair: str) -> bool:
        """Order book, public trades and funding info for one more pair while running (OB-23/29):
        funding info is read at once (premiumIndex) and then follows the markPrice stream."""
        if not await super().add_trading_pair(trading_pair):
            return False
        self._perpetual.add_trading_pair(trading_pair)
        if self._network_started:
            try:
                await self._update_funding_info([trading_pair])
            except asyncio.CancelledError:
                raise
            except Exception as e:      # the markPrice stream brings it within a second or so
                _log.warning("Could not read funding info of %s yet (%s).", trading_pair, e)
        return True

    async def remove_trading_pair(self, trading_pair: str) -> bool:
        """Stop market data and funding info of a pair (OB-30). Its orders stay tracked to the end,
        its position and leverage stay (account state, still polled)."""
        if not await super().remove_trading_pair(trading_pair):
            return False
        self._perpetual.remove_trading_pair(trading_pair)
        return True

    async def get_last_traded_prices(self, trading_pairs: List[str]) -> Dict[str, Decimal]:
        """{pair: lastPrice of /fapi/v1/ticker/24hr} (NET-24); a pair the exchange does not know is
        dropped with an ERROR (the others are still answered); other failures raise."""
        out: Dict[str, Decimal] = {}
        for pair in trading_pairs:
            try:
                t = await self._api_get(self.TICKER_PRICE_CHANGE_PATH,
                                        {"symbol": self.exchange_symbol_associated_to_pair(pair)})
            except RequestRejected as e:
                if e.code != CONSTANTS.BAD_SYMBOL_ERROR_CODE:
                    raise
                _log.error("Could not get the last traded price of %s: %s", pair, e.msg or e)
                continue
            out[pair] = Decimal(t["lastPrice"])
        return out

    # ------------------------------------------------------------------ trading rules
    @staticmethod
    def _rate_limit_pool(kind: str, seconds: float, nth: int) -> Optional[str]:
        if kind == CONSTANTS.REQUEST_WEIGHT and seconds == 60:
            return CONSTANTS.REQUEST_WEIGHT
        if kind == "ORDERS" and seconds == 10:
            return CONSTANTS.ORDERS_10S
        if kind == "ORDERS" and seconds == 60:
            return CONSTANTS.ORDERS_1MIN
        return None

    @staticmethod
    def is_exchange_information_valid(symbol_info: Dict[str, Any]) -> bool:
        # Delivery contracts (BTCUSDT_230331) share the endpoint: only perpetuals are ours.
        return (symbol_info.get("status") == "TRADING"
                and symbol_info.get("contractType") in CONSTANTS.PERPETUAL_CONTRACT_TYPES)

    def _trading_rule_extras(self, symbol_info: Dict[str, Any], filters: Dict[str, Dict[str, Any]]) -> Dict[str, Any]:
        min_notional = filters.get("MIN_NOTIONAL") or {}
        margin = symbol_info.get("marginAsset") or symbol_info["quoteAsset"]
        return {"min_notional_size": Decimal(min_notional.get("notional", "0")),
                "buy_order_collateral_token": margin, "sell_order_collateral_token": margin}

    def get_fee(self, base_currency: str, quote_currency: str, order_type: OrderType, order_side: TradeType,
                amount: Decimal, price: Decimal = Decimal("NaN"), is_maker: Optional[bool] = None,
                position_action: Any = PositionAction.OPEN) -> AddedToCostTradeFee:
        """Estimated fee (perpetual signature: the position action does not change Binance's rate)."""
        return super().get_fee(base_currency, quote_currency, order_type, order_side, amount, price, is_maker)

    # ------------------------------------------------------------------ placing
    def buy(self, trading_pair: str, amount: Decimal, order_type: OrderType = OrderType.LIMIT,
            price: Decimal = Decimal("NaN"), position_action: Any = PositionAction.OPEN, **kwargs: Any) -> str:
        return self._submit(True, trading_pair, amount, order_type, price, position_action=position_action, **kwargs)

    def sell(self, trading_pair: str, amount: Decimal, order_type: OrderType = OrderType.LIMIT,
             price: Decimal = Decimal("NaN"), position_action: Any = PositionAction.OPEN, **kwargs: Any) -> str:
        return self._submit(False, trading_pair, amount, order_type, price, position_action=position_action, **kwargs)

    async def _create_order(self, trade_type: TradeType, order_id: str, trading_pair: str, amount: Decimal,
                            order_type: OrderType, price: Optional[Decimal] = None,
                            position_action: Any = PositionAction.OPEN, **kwargs: Any) -> str:
        return await super()._create_order(trade_type, order_id, trading_pair, amount, order_type, price,
                                           position_action=position_action, **kwargs)

    def _position_action_problem(self, position_action: Any) -> Tuple[Optional[PositionAction], Optional[str]]:
        try:
            action = position_action if isinstance(position_action, PositionAction) else PositionAction(position_action)
        except ValueError:
            return None, f"position_action must be PositionAction.OPEN or CLOSE, got {position_action!r}"
        if action is PositionAction.NIL and self.position_mode is PositionMode.HEDGE:
            return None, "position_action OPEN or CLOSE is required in HEDGE mode (it decides the position side)"
        return action, None

    def _prepare_order(self, order_id: str, trading_pair: str, amount: Decimal, trade_type: TradeType,
                       order_type: OrderType, price: Decimal, position_action: Any = PositionAction.OPEN,
                       **kwargs: Any):
        action, reason = self._position_action_problem(position_action)
        if reason is not None:
            _log.warning("Order %s has failed: %s", order_id, reason)
            self._schedule_failure(order_id, trading_pair, order_type, trade_type, amount, price, reason)
            return None
        kwargs["_perpetual"] = (self.get_leverage(trading_pair), action)
        rules = self._trading_rules
        rule = rules.get(trading_pair)
        if action is not PositionAction.CLOSE or rule is None or rule.min_notional_size == 0:
            return super()._prepare_order(order_id, trading_pair, amount, trade_type, order_type, price, **kwargs)
        # Binance exempts closing orders from MIN_NOTIONAL ("unless you choose reduce only"): a small
        # leftover position must stay closable. Checked with the rule minus the notional (synchronous:
        # nothing else can see the swap).
        rules[trading_pair] = self._closing_rule(rule)
        try:
            return super()._prepare_order(order_id, trading_pair, amount, trade_type, order_type, price, **kwargs)
        finally:
            rules[trading_pair] = rule

    @staticmethod
    def _closing_rule(rule):
        from exconnect.native.trading_rule import TradingRule
        data = rule.to_json()
        data["min_notional_size"] = "0"
        return TradingRule.from_json(data)

    def _order_extra_kwargs(self, kwargs: Dict[str, Any]) -> Dict[str, Any]:
        if "_perpetual" in kwargs:
            leverage, action = kwargs["_perpetual"]
            return {"leverage": leverage, "position": action}
        out: Dict[str, Any] = {}     # start_tracking_order(..., leverage=, position=)
        if kwargs.get("leverage") is not None:
            out["leverage"] = int(kwargs["leverage"])
        position = kwargs.get("position", kwargs.get("position_action"))
        if position is not None:
            out["position"] = position
        return out

    def _order_params(self, order) -> Dict[str, Any]:
        is_buy = order.trade_type is TradeType.BUY
        params: Dict[str, Any] = {
            "symbol": self.exchange_symbol_associated_to_pair(order.trading_pair),
            "side": "BUY" if is_buy else "SELL",
            "type": "MARKET" if order.order_type is OrderType.MARKET else "LIMIT",
            "quantity": _fmt(order.amount),
            "newClientOrderId": order.client_order_id,
            "newOrderRespType": "RESULT",
        }
        if order.order_type is OrderType.LIMIT:
            params["price"] = _fmt(order.price)
            params["timeInForce"] = "GTC"
        elif order.order_type is OrderType.LIMIT_MAKER:
            params["price"] = _fmt(order.price)
            params["timeInForce"] = "GTX"
        closing = order.position == PositionAction.CLOSE.value
        if self.position_mode is PositionMode.HEDGE:
            params["positionSide"] = ("SHORT" if is_buy else "LONG") if closing else ("LONG" if is_buy else "SHORT")
        elif closing:
            params["reduceOnly"] = "true"
        return params

    async def _place_order(self, order) -> Tuple[OrderUpdate, List[TradeUpdate]]:
        try:
            answer = await self._api_post(CONSTANTS.ORDER_PATH, self._order_params(order), is_auth_required=True)
        except UnknownOutcomeError as e:
            if _is_definite_503_failure(e):
                raise RequestRejected(str(e), status=e.status, code=e.code, msg=e.msg, url=e.url, body=e.body) from e
            raise
        except RequestRejected as e:
            if e.code == CONSTANTS.POSITION_SIDE_NOT_MATCH:
                # The mode was changed elsewhere: re-read it (not ready until then) and let this fail.
                _log.warning("Position mode changed outside this connector; reading it again.")
                self._position_mode_initialized = False
                self._poll_notifier.set()
            raise
        try:
            update = self._order_update_from_rest(order, answer, answer.get("updateTime"))
        except UnknownOutcomeError:
            raise
        except Exception as e:
            raise UnknownOutcomeError(f"unparsable order answer for {order.client_order_id}: {e!r}") from e
        return update, []      # fills come from the user stream / userTrades (the answer has none)

    def _is_order_not_found_during_cancelation_error(self, e: BaseException) -> bool:
        return isinstance(e, RequestRejected) and e.code in (CONSTANTS.UNKNOWN_ORDER_ERROR_CODE,
                                                             CONSTANTS.ORDER_NOT_EXIST_ERROR_CODE)

    def _is_order_not_found_during_status_update_error(self, e: BaseException) -> bool:
        return isinstance(e, RequestRejected) and e.code == CONSTANTS.ORDER_NOT_EXIST_ERROR_CODE

    def _on_order_status_answer(self, order, answer: Dict[str, Any]) -> None:
        # the order may have been modified on the exchange (quantity / price)
        if answer.get("origQty") is not None and order.order_type is not OrderType.MARKET:
            self._apply_order_amendment(order, Decimal(answer["origQty"]), Decimal(answer["price"]), "order status")

    async def _cancel_all_for_pair(self, trading_pair: str, orders: List[Any]) -> None:
        await ExchangeBase._cancel_all_for_pair(self, trading_pair, orders)

    async def _before_adopting_open_orders(self) -> None:
        """Adopted orders are tracked with the position they act on: that needs the position mode."""
        await self._initialize_position_mode()
        if not self._position_mode_initialized:
            raise IOError("position mode unknown: cannot tell what adopted orders do")

    def _adopted_order(self, cls, pair: str, client_order_id: str, r: Dict[str, Any]):
        if r.get("type") not in ("LIMIT", "MARKET"):
            return None
        is_buy = r["side"] == "BUY"
        side = r.get("positionSide", "BOTH")
        if side == "BOTH":
            closing = bool(r.get("reduceOnly"))
        else:
            closing = (side == "SHORT") if is_buy else (side == "LONG")
        return cls(client_order_id, pair, self._open_order_type(r), TradeType.BUY if is_buy else TradeType.SELL,
                   Decimal(r["origQty"]), r.get("time", 0) / 1000.0, price=Decimal(r["price"]),
                   exchange_order_id=str(r["orderId"]), initial_state=OrderState.OPEN,
                   leverage=self.get_leverage(pair),
                   position=PositionAction.CLOSE if closing else PositionAction.OPEN)

    def _open_order_type(self, r: Dict[str, Any]) -> OrderType:
        # post-only orders are LIMIT + GTX on the futures wire
        return (OrderType.MARKET if r["type"] == "MARKET" else
                OrderType.LIMIT_MAKER if r.get("timeInForce") == "GTX" else OrderType.LIMIT)

    # ------------------------------------------------------------------ trade back-stop
    def _recreate_missing_trade(self, pair: str, client_order_id: str, row: Dict[str, Any],
                                order_info: Optional[Dict[str, Any]] = None) -> None:
        """Record a trade found only in the account's trade history, with the leverage and position
        action of its order: from the tracked (e.g. restored) order itself, else its saved tracking
        state, else what the exchange says about the order/trade (leverage: the pair's current one).
        ``order_info``: the exchange's order answer when the order was attributed by its client id
        (BinanceExchange._attribute_unknown_trade)."""
        tracker = self._order_tracker
        order = tracker.fetch_order(client_order_id)
        if order is not None:
            if order.exchange_order_id is None:
                order.update_exchange_order_id(str(row["orderId"]))     # restored before its ack
            _log.info("Fill %s of order %s found in the trade history.", row["id"], client_order_id)
            tracker.process_trade_update(self._trade_from_my_trades_row(row, order))
            return
        leverage, position = self._leverage_and_position_of(pair, client_order_id, row, order_info)
        self._record_missing_trade(pair, client_order_id, row, leverage, position)

    @staticmethod
    def _my_trades_row_is_buy(row: Dict[str, Any]) -> bool:
        return row.get("buyer", row.get("side") == "BUY")

    def _leverage_and_position_of(self, pair: str, client_order_id: str, row: Dict[str, Any],
                                  order_info: Optional[Dict[str, Any]]) -> Tuple[int, str]:
        saved = self._store.load_tracking_states().get(client_order_id) if self._store is not None else None
        if saved is not None and saved.get("leverage") is not None:
            return int(saved["leverage"]), str(saved.get("position") or PositionAction.NIL.value)
        # The trade's positionSide decides in HEDGE mode; in ONEWAY only the order's reduceOnly does.
        side = row.get("positionSide") or (order_info or {}).get("positionSide") or "BOTH"
        is_buy = self._my_trades_row_is_buy(row)
        if side == "BOTH":
            reduce_only = (order_info or {}).get("reduceOnly")
            position = (PositionAction.NIL if reduce_only is None
                        else PositionAction.CLOSE if reduce_only else PositionAction.OPEN)
        else:
            closing = (side == "SHORT") if is_buy else (side == "LONG")
            position = PositionAction.CLOSE if closing else PositionAction.OPEN
        leverage = self.get_leverage(pair)
        _log.info("Fill %s of order %s: no local record of the order; leverage %s (the pair's current) "
                  "and position %s (from the exchange) assumed.", row["id"], client_order_id, leverage,
                  position.value)
        return leverage, position.value

    # ------------------------------------------------------------------ balances and positions
    async def _update_balances(self) -> None:
        seen = self._balance_events
        account = await self._api_get(CONSTANTS.ACCOUNT_PATH, is_auth_required=True)
        total: Dict[str, Decimal] = {}
        available: Dict[str, Decimal] = {}
        for a in account.get("assets", ()):
            total[a["asset"]] = Decimal(a["walletBalance"])
            available[a["asset"]] = Decimal(a["availableBalance"])
        # Its available margin is newer than ours in any case (so a steady stream of events cannot
        # starve it); its wallet totals are not if a balance event arrived while it was in flight:
        # then the event's ``wb`` stays, and the read the event requested (account_refresh) follows.
        self._account_available_balances = available
        if seen == self._balance_events or not self._account_balances:
            self._account_balances = total

    async def _refresh_account(self) -> None:
        """Available margin and positions right after account-changing events (AccountRefresher)."""
        results = await asyncio.gather(self._update_balances(), self._update_account_positions(),
                                       return_exceptions=True)
        for r in results:
            if isinstance(r, BaseException):
                raise r

    async def _update_account_positions(self) -> None:
        # A position event that arrives while this request is in flight is newer than its answer:
        # then the answer's positions are dropped (the next poll is consistent again); its leverage
        # values are still current (position events do not carry leverage).
        seen = self._position_events
        rows = await self._api_get(CONSTANTS.POSITION_RISK_PATH, is_auth_required=True)
        self._process_position_risk(rows, positions=seen == self._position_events)
        self._positions_initialized = True

    def _process_position_risk(self, rows: List[Dict[str, Any]], positions: bool = True) -> None:
        """Leverage per pair and (if ``positions``) the full position list from /fapi/v2/positionRisk."""
        fresh = []
        for r in rows:
            pair = self._trading_pair_symbol_map.get(r.get("symbol"))
            if pair is None:
                continue          # another product (delivery contract) or a pair we do not trade
            leverage = int(r.get("leverage") or self.get_leverage(pair))
            if leverage != self._perpetual.get_leverage(pair):
                self._perpetual.set_leverage(pair, leverage)
            fresh.append((pair, PositionSide(r["positionSide"]), Decimal(r["positionAmt"]), Decimal(r["entryPrice"]),
                          Decimal(r["unRealizedProfit"]), leverage))
        if positions:
            self._perpetual.replace_positions(fresh)

    async def _status_polling_once(self) -> None:
        results = await asyncio.gather(super()._status_polling_once(), self._update_account_positions(),
                                       self._initialize_position_mode(), return_exceptions=True)
        for r in results:
            if isinstance(r, asyncio.CancelledError):
                raise r
            if isinstance(r, Exception):
                _log.warning("Failed to update account state. Error: %s", r)

    # ------------------------------------------------------------------ funding info
    def _on_mark_price(self, data: Dict[str, Any]) -> None:
        pair = data["trading_pair"]
        if pair not in self._trading_pairs:
            return          # removed (its stream may still deliver until the unsubscribe lands)
        info = self._perpetual.update_funding_info(pair, Decimal(data["i"]), Decimal(data["p"]),
                                                   int(data["T"]) // 1000, Decimal(data["r"]))
        self._emit_funding_info(info)

    def _emit_funding_info(self, info: FundingInfo) -> None:
        if self.get_listeners(MarketEvent.FundingInfo):
            self.trigger_event(MarketEvent.FundingInfo, FundingInfoUpdate(
                info.trading_pair, info.index_price, info.mark_price, info.next_funding_utc_timestamp, info.rate))

    async def _update_funding_info(self, trading_pairs: Optional[Iterable[str]] = None) -> None:
        for pair in list(self._trading_pairs if trading_pairs is None else trading_pairs):
            r = await self._api_get(CONSTANTS.PREMIUM_INDEX_PATH,
                                    {"symbol": self.exchange_symbol_associated_to_pair(pair)})
            info = self._perpetual.update_funding_info(pair, Decimal(r["indexPrice"]), Decimal(r["markPrice"]),
                                                       int(r["nextFundingTime"]) // 1000,
                                                       Decimal(r["lastFundingRate"]))
            self._emit_funding_info(info)

    # ------------------------------------------------------------------ funding payments
    def _request_funding_payment_update(self) -> None:
        self._funding_payments.request_update()

    async def _update_funding_payments(self) -> None:
        await self._funding_payments.update()

    def _current_funding_rate(self, trading_pair: str) -> Optional[Decimal]:
        info = self._perpetual.funding_info.get(trading_pair)
        return info.rate if info is not None else None

    # ------------------------------------------------------------------ lifecycle
    def tick(self, timestamp: float) -> None:
        last = self._last_timestamp
        super().tick(timestamp)
        interval = self._funding_fee_poll_interval
        if (self._trading_required and self._network_started and last > 0
                and int(timestamp / interval) > int(last / interval)):
            self._request_funding_payment_update()

    async def start_network(self) -> None:
        await super().start_network()
        if self._trading_required:
            self._funding_payments.mark_start()
        self._tasks.append(asyncio.get_running_loop().create_task(self._initialize_derivative_state()))

    async def _initialize_derivative_state(self) -> None:
        """Funding info (all), then position mode, positions and missed funding payments (trading)."""
        backoff = ReconnectBackoff(initial=0.2, maximum=10.0)
        while True:
            try:
                if not self._perpetual.is_funding_info_initialized():
                    await self._update_funding_info()
                if self._trading_required:
                    await self._initialize_position_mode()
                    if not self._position_mode_initialized:
                        raise IOError("position mode unknown")
                    await self._update_account_positions()
                    self._request_funding_payment_update()
                return
            except asyncio.CancelledError:
                raise
            except Exception as e:
                _log.warning("Derivative state initialisation failed (%s); retrying.", e)
                await asyncio.sleep(backoff.next_delay())

    async def stop(self) -> None:
        await super().stop()
        if self._funding_store is not None:
            self._funding_store.close()
