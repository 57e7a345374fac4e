"""Hummingbot-compatible market events and a synchronous publish/subscribe hub.

Tag names and numeric values are Hummingbot's (``MarketEvent``, ``AccountEvent``), so strategies
written against Hummingbot can register the same listeners. Event payloads keep Hummingbot's field
names and order; money fields are ``Decimal``.

Dispatch is synchronous: ``trigger_event`` calls every listener in registration order before it
returns, so by the time a listener runs the connector's state (and its sqlite record) is already
updated. A listener that raises is logged and skipped; it never breaks the connector.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Union

__all__ = [
    "MarketEvent", "AccountEvent", "OrderBookEvent", "EventListener", "PubSub",
    "BuyOrderCreatedEvent", "SellOrderCreatedEvent", "OrderFilledEvent", "BuyOrderCompletedEvent",
    "SellOrderCompletedEvent", "OrderCancelledEvent", "MarketOrderFailureEvent", "OrderExpiredEvent",
    "MarketTransactionFailureEvent", "FundingPaymentCompletedEvent", "PositionModeChangeEvent",
    "FundingInfoUpdate", "OrderBookTradeEvent",
]

_log = logging.getLogger(__name__)


class MarketEvent(Enum):
    ReceivedAsset = 101
    BuyOrderCompleted = 102
    SellOrderCompleted = 103
    WithdrawAsset = 105
    OrderCancelled = 106
    OrderFilled = 107
    OrderExpired = 108
    OrderUpdate = 109
    TradeUpdate = 110
    OrderFailure = 198
    TransactionFailure = 199
    BuyOrderCreated = 200
    SellOrderCreated = 201
    FundingPaymentCompleted = 202
    FundingInfo = 203
    RangePositionLiquidityAdded = 300
    RangePositionLiquidityRemoved = 301
    RangePositionUpdate = 302
    RangePositionUpdateFailure = 303
    RangePositionFeeCollected = 304
    RangePositionClosed = 305


class AccountEvent(Enum):
    PositionModeChangeSucceeded = 400
    PositionModeChangeFailed = 401
    BalanceEvent = 402
    PositionUpdate = 403
    MarginCall = 404
    LiquidationEvent = 405


class OrderBookEvent(int, Enum):
    TradeEvent = 901
    OrderBookDataSourceUpdateEvent = 904


# ---------------------------------------------------------------------------------------------
# Event payloads (Hummingbot field names; NamedTuple where Hummingbot uses one, else dataclass)
# ---------------------------------------------------------------------------------------------

@dataclass
class _OrderCreatedEvent:
    """The fields of BuyOrderCreatedEvent and SellOrderCreatedEvent: separate types, as in Hummingbot
    (neither is an instance of the other), that share this private base."""
    timestamp: float
    type: Any                      # OrderType
    trading_pair: str
    amount: Decimal
    price: Decimal
    order_id: str
    creation_timestamp: float
    exchange_order_id: Optional[str] = None
    leverage: int = 1
    position: str = "NIL"


@dataclass
class BuyOrderCreatedEvent(_OrderCreatedEvent):
    pass


@dataclass
class SellOrderCreatedEvent(_OrderCreatedEvent):
    pass


class OrderFilledEvent(NamedTuple):
    timestamp: float
    order_id: str
    trading_pair: str
    trade_type: Any                # TradeType
    order_type: Any                # OrderType
    price: Decimal
    amount: Decimal
    trade_fee: Any                 # TradeFee
    exchange_trade_id: str = ""
    exchange_order_id: str = ""
    leverage: Optional[int] = 1
    position: Optional[str] = "NIL"


@dataclass
class _OrderCompletedEvent:
    """The fields of BuyOrderCompletedEvent and SellOrderCompletedEvent: separate types, as in Hummingbot
    (neither is an instance of the other), that share this private base."""
    timestamp: float
    order_id: str
    base_asset: str
    quote_asset: str
    base_asset_amount: Decimal
    quote_asset_amount: Decimal
    order_type: Any
    exchange_order_id: Optional[str] = None


@dataclass
class BuyOrderCompletedEvent(_OrderCompletedEvent):
    pass


@dataclass
class SellOrderCompletedEvent(_OrderCompletedEvent):
    pass


@dataclass
class OrderCancelledEvent:
    timestamp: float
    order_id: str
    exchange_order_id: Optional[str] = None


class MarketOrderFailureEvent(NamedTuple):
    timestamp: float
    order_id: str
    order_type: Any
    error_message: Optional[str] = None
    error_type: Optional[str] = None


class MarketTransactionFailureEvent(NamedTuple):
    timestamp: float
    order_id: str


class OrderExpiredEvent(NamedTuple):
    timestamp: float
    order_id: str


@dataclass
class FundingPaymentCompletedEvent:
    timestamp: float
    market: str
    trading_pair: str
    amount: Decimal
    funding_rate: Decimal


@dataclass
class PositionModeChangeEvent:
    timestamp: float
    trading_pair: str
    position_mode: Any             # PositionMode
    message: Optional[str] = None


@dataclass
class FundingInfoUpdate:
    trading_pair: str
    index_price: Optional[Decimal] = None
    mark_price: Optional[Decimal] = None
    next_funding_utc_timestamp: Optional[int] = None
    rate: Optional[Decimal] = None


@dataclass
class OrderBookTradeEvent:
    trading_pair: str
    timestamp: float
    type: Any                      # TradeType of the aggressor
    price: Decimal
    amount: Decimal
    trade_id: Optional[str] = None


# ---------------------------------------------------------------------------------------------
# Publish / subscribe
# ---------------------------------------------------------------------------------------------

class EventListener:
    """Base class for Hummingbot-style listener objects: override ``__call__(event)``.

    Any plain callable taking the event works as a listener too.
    """

    def __call__(self, arg: Any) -> None:  # pragma: no cover - interface
        raise NotImplementedError


Tag = Union[Enum, int]


def _tag_key(tag: Tag) -> int:
    if isinstance(tag, Enum):
        return tag.value
    if isinstance(tag, int):
        return tag
    raise TypeError(f"event tag must be an Enum member or an int, not {type(tag).__name__}")


class PubSub:
    """Listeners registered per event tag, called synchronously in registration order.

    Listeners are held strongly (unlike Hummingbot's weak references) so a lambda or bound method
    registered by a strategy can never disappear silently; remove it with ``remove_listener``.
    """

    def __init__(self) -> None:
        self._listeners: Dict[int, List[Callable[[Any], None]]] = {}

    def add_listener(self, event_tag: Tag, listener: Callable[[Any], None]) -> None:
        if not callable(listener):
            raise TypeError("listener must be callable")
        bucket = self._listeners.setdefault(_tag_key(event_tag), [])
        if listener not in bucket:
            bucket.append(listener)

    def remove_listener(self, event_tag: Tag, listener: Callable[[Any], None]) -> None:
        bucket = self._listeners.get(_tag_key(event_tag))
        if bucket and listener in bucket:
            bucket.remove(listener)

    def get_listeners(self, event_tag: Tag) -> List[Callable[[Any], None]]:
        return list(self._listeners.get(_tag_key(event_tag), ()))

    def trigger_event(self, event_tag: Tag, message: Any) -> None:
        bucket = self._listeners.get(_tag_key(event_tag))
        if not bucket:
            return
        # Iterate over a copy: a listener may remove itself (or others) while being called.
        for listener in tuple(bucket):
            try:
                listener(message)
            except Exception:
                _log.exception("Unexpected error in event listener %r for %s", listener, event_tag)
