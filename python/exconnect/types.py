"""Enums and value types shared by every part of exconnect (Hummingbot's names and values).

Pure Python on purpose: the compiled modules in ``exconnect.native`` import from here, never the
other way round.  Money is ``Decimal`` (``str``/``int`` accepted where we convert; ``float`` is
refused with ``TypeError`` because a float has already lost the exact value the exchange sent).
Value types are NamedTuples or ``__slots__`` classes so that creating one per fill stays cheap.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

__all__ = [
    "OrderType", "TradeType", "OrderState", "PositionAction", "PositionSide", "PositionMode",
    "PriceType", "TokenAmount", "TradeFeeBase", "TradeFee", "AddedToCostTradeFee",
    "DeductedFromReturnsTradeFee", "TradeFeeSchema", "OrderUpdate", "TradeUpdate",
    "CancellationResult", "OpenOrder", "LimitOrder", "Position", "FundingInfo", "OrderBookRow",
    "OrderBookQueryResult", "to_decimal", "split_trading_pair",
]

_ZERO = Decimal(0)


def to_decimal(value: Any, name: str = "value", allow_nan: bool = False) -> Decimal:
    """Decimal from Decimal/str/int; TypeError for float/bool/other, ValueError for bad text."""
    if type(value) is Decimal:
        d = value
    elif isinstance(value, bool):
        raise TypeError(f"{name}: expected Decimal, str or int, got bool")
    elif isinstance(value, (int, str, Decimal)):
        try:
            d = Decimal(value)
        except InvalidOperation:
            raise ValueError(f"{name}: not a decimal number: {value!r}") from None
    elif isinstance(value, float):
        raise TypeError(f"{name}: floats are not accepted for money ({value!r}); pass a Decimal or str")
    else:
        raise TypeError(f"{name}: expected Decimal, str or int, got {type(value).__name__}")
    if not d.is_finite() and not (allow_nan and d.is_nan()):
        raise ValueError(f"{name}: not a finite number: {value!r}")
    return d


def split_trading_pair(trading_pair: str) -> Tuple[str, str]:
    """"BTC-USDT" -> ("BTC", "USDT"); ValueError for anything else (Hummingbot's pair format)."""
    if not isinstance(trading_pair, str):
        raise TypeError(f"trading_pair must be str, got {type(trading_pair).__name__}")
    base, sep, quote = trading_pair.partition("-")
    if not sep or not base or not quote or "-" in quote:
        raise ValueError(f"trading pair must look like 'BASE-QUOTE', got {trading_pair!r}")
    return base, quote


# --------------------------------------------------------------------------------------- enums
class OrderType(Enum):
    MARKET = 1
    LIMIT = 2
    LIMIT_MAKER = 3

    def is_limit_type(self) -> bool:
        return self is OrderType.LIMIT or self is OrderType.LIMIT_MAKER


class TradeType(Enum):
    BUY = 1
    SELL = 2
    RANGE = 3


class OrderState(Enum):
    PENDING_CREATE = 0
    OPEN = 1
    PENDING_CANCEL = 2
    CANCELED = 3
    PARTIALLY_FILLED = 4
    FILLED = 5
    FAILED = 6
    PENDING_APPROVAL = 7
    APPROVED = 8
    CREATED = 9
    COMPLETED = 10
    EXPIRED = 11  # ours: Binance's EXPIRED / EXPIRED_IN_MATCH (IOC/FOK/GTX leftovers, STP)


class PositionAction(Enum):
    OPEN = "OPEN"
    CLOSE = "CLOSE"
    NIL = "NIL"


class PositionSide(Enum):
    LONG = "LONG"
    SHORT = "SHORT"
    BOTH = "BOTH"


class PositionMode(Enum):
    HEDGE = True
    ONEWAY = False


class PriceType(Enum):
    MidPrice = 1
    BestBid = 2
    BestAsk = 3
    LastTrade = 4
    LastOwnTrade = 5
    InventoryCost = 6
    Custom = 7


# ----------------------------------------------------------------------------------------- fees
class TokenAmount(NamedTuple):
    token: str
    amount: Decimal

    def to_json(self) -> Dict[str, Any]:
        return {"token": self.token, "amount": str(self.amount)}

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> "TokenAmount":
        if "token" not in data or "amount" not in data:
            raise ValueError(f"token amount needs 'token' and 'amount', got {data!r}")
        return cls(str(data["token"]), to_decimal(data["amount"], "token amount"))


class TradeFee:
    """A fee: ``percent`` of the traded quote value (in ``percent_token`` if set) plus flat fees.

    Hummingbot's semantics: the percent part is ``price * amount * percent`` valued in the quote
    token; ``fee_amount_in_token`` converts it to another token at a rate.  We hold no rate
    oracle: the base token is converted exactly at the trade price (``amount * percent``), any
    third token needs an explicit ``rate`` (quote per unit of token) or raises ValueError.
    """

    __slots__ = ("percent", "percent_token", "flat_fees")
    type_descriptor = "TradeFee"

    def __init__(self, percent: Any = _ZERO, percent_token: Optional[str] = None,
                 flat_fees: Optional[List[TokenAmount]] = None):
        self.percent = to_decimal(percent, "fee percent")
        if percent_token is not None and not isinstance(percent_token, str):
            raise TypeError(f"percent_token must be str or None, got {type(percent_token).__name__}")
        self.percent_token = percent_token
        fees = []
        for f in flat_fees or ():
            if type(f) is not TokenAmount:
                if isinstance(f, dict):
                    f = TokenAmount.from_json(f)
                else:
                    token, amount = f
                    f = TokenAmount(token, to_decimal(amount, "flat fee amount"))
            elif type(f.amount) is not Decimal:
                f = TokenAmount(f.token, to_decimal(f.amount, "flat fee amount"))
            fees.append(f)
        self.flat_fees = fees

    @classmethod
    def type_descriptor_for_json(cls) -> str:
        return cls.type_descriptor

    def to_json(self) -> Dict[str, Any]:
        return {
            "fee_type": self.type_descriptor_for_json(),
            "percent": str(self.percent),
            "percent_token": self.percent_token,
            "flat_fees": [f.to_json() for f in self.flat_fees],
        }

    @staticmethod
    def from_json(data: Dict[str, Any]) -> "TradeFee":
        cls = _FEE_TYPES.get(data.get("fee_type", "TradeFee"))
        if cls is None:
            raise ValueError(f"unknown fee_type {data.get('fee_type')!r}")
        return cls(percent=data.get("percent", "0"), percent_token=data.get("percent_token"),
                   flat_fees=[TokenAmount.from_json(f) for f in data.get("flat_fees", ())])

    def fee_amount_in_token(self, trading_pair: str, price: Any, order_amount: Any, token: str,
                            rate: Any = None) -> Decimal:
        """Fee of a trade of ``order_amount`` base at ``price``, expressed in ``token`` (exact)."""
        base, quote = split_trading_pair(trading_pair)
        total = _ZERO
        if self.percent != 0:
            price = to_decimal(price, "price")
            order_amount = to_decimal(order_amount, "order_amount")
            total += _convert(price * order_amount * self.percent, price, base, quote, token, rate)
        for f in self.flat_fees:
            if f.token == token:
                total += f.amount
            else:
                raise ValueError(f"flat fee in {f.token} cannot be expressed in {token} without a rate")
        return total

    def __eq__(self, other: object) -> bool:
        return (type(self) is type(other) and self.percent == other.percent  # type: ignore[attr-defined]
                and self.percent_token == other.percent_token  # type: ignore[attr-defined]
                and self.flat_fees == other.flat_fees)  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), self.percent, self.percent_token, tuple(self.flat_fees)))

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(percent={self.percent!r}, percent_token={self.percent_token!r}, "
                f"flat_fees={self.flat_fees!r})")


TradeFeeBase = TradeFee  # Hummingbot's name for the base class


def _convert(quote_value: Decimal, price: Decimal, base: str, quote: str, token: str, rate: Any) -> Decimal:
    if token == quote:
        return quote_value
    if token == base:
        return quote_value / price if price else _ZERO
    if rate is None:
        raise ValueError(f"percent fee is valued in {quote}; converting it to {token} needs a rate")
    return quote_value / to_decimal(rate, "rate")


class AddedToCostTradeFee(TradeFee):
    """Fee paid on top of the order's cost (Hummingbot: perpetuals, some spot buys)."""
    __slots__ = ()
    type_descriptor = "AddedToCost"


class DeductedFromReturnsTradeFee(TradeFee):
    """Fee taken out of what the trade returns (Hummingbot: spot)."""
    __slots__ = ()
    type_descriptor = "DeductedFromReturns"


_FEE_TYPES = {c.type_descriptor: c for c in (TradeFee, AddedToCostTradeFee, DeductedFromReturnsTradeFee)}


class TradeFeeSchema:
    """Default fee levels of a venue (fractions, e.g. Decimal("0.001") for 0.1 %); mutable, as Hummingbot's."""

    __slots__ = ("maker_percent_fee_decimal", "taker_percent_fee_decimal", "percent_fee_token",
                 "buy_percent_fee_deducted_from_returns", "maker_fixed_fees", "taker_fixed_fees")

    def __init__(self, percent_fee_token: Optional[str] = None, maker_percent_fee_decimal: Any = _ZERO,
                 taker_percent_fee_decimal: Any = _ZERO, buy_percent_fee_deducted_from_returns: bool = False,
                 maker_fixed_fees: Optional[List[TokenAmount]] = None,
                 taker_fixed_fees: Optional[List[TokenAmount]] = None):
        self.percent_fee_token = percent_fee_token
        self.maker_percent_fee_decimal = to_decimal(maker_percent_fee_decimal, "maker_percent_fee_decimal")
        self.taker_percent_fee_decimal = to_decimal(taker_percent_fee_decimal, "taker_percent_fee_decimal")
        self.buy_percent_fee_deducted_from_returns = bool(buy_percent_fee_deducted_from_returns)
        self.maker_fixed_fees = list(maker_fixed_fees or [])
        self.taker_fixed_fees = list(taker_fixed_fees or [])

    def __eq__(self, other: object) -> bool:
        return type(other) is TradeFeeSchema and all(getattr(self, s) == getattr(other, s) for s in self.__slots__)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return "TradeFeeSchema(" + ", ".join(f"{s}={getattr(self, s)!r}" for s in self.__slots__) + ")"


def _new_spot_fee(cls, fee_schema: TradeFeeSchema, trade_type: TradeType, percent: Any = _ZERO,
                  percent_token: Optional[str] = None, flat_fees: Optional[List[TokenAmount]] = None) -> TradeFee:
    """Hummingbot's rule: a buy pays on top of its cost unless the schema deducts buy fees from
    returns; a sell always has its fee deducted from what it returns."""
    if trade_type is TradeType.BUY and not fee_schema.buy_percent_fee_deducted_from_returns:
        return AddedToCostTradeFee(percent, percent_token, flat_fees)
    return DeductedFromReturnsTradeFee(percent, percent_token, flat_fees)


def _new_perpetual_fee(cls, fee_schema: TradeFeeSchema, position_action: PositionAction, percent: Any = _ZERO,
                       percent_token: Optional[str] = None,
                       flat_fees: Optional[List[TokenAmount]] = None) -> TradeFee:
    """Hummingbot's rule: opening a position (or any fee in a dedicated fee token) is added to the
    cost; closing without a fee token is deducted from the returns."""
    if position_action is PositionAction.OPEN or fee_schema.percent_fee_token is not None:
        return AddedToCostTradeFee(percent, percent_token, flat_fees)
    return DeductedFromReturnsTradeFee(percent, percent_token, flat_fees)


TradeFee.new_spot_fee = classmethod(_new_spot_fee)  # type: ignore[attr-defined]
TradeFee.new_perpetual_fee = classmethod(_new_perpetual_fee)  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------- order/trade updates
class OrderUpdate(NamedTuple):
    trading_pair: str
    update_timestamp: float
    new_state: OrderState
    client_order_id: Optional[str] = None
    exchange_order_id: Optional[str] = None
    misc_updates: Optional[Dict[str, Any]] = None


class TradeUpdate(NamedTuple):
    trade_id: str
    client_order_id: str
    exchange_order_id: str
    trading_pair: str
    fill_timestamp: float
    fill_price: Decimal
    fill_base_amount: Decimal
    fill_quote_amount: Decimal
    fee: TradeFeeBase
    is_taker: bool = True

    def to_json(self) -> Dict[str, Any]:
        return {
            "trade_id": self.trade_id,
            "client_order_id": self.client_order_id,
            "exchange_order_id": self.exchange_order_id,
            "trading_pair": self.trading_pair,
            "fill_timestamp": self.fill_timestamp,
            "fill_price": str(self.fill_price),
            "fill_base_amount": str(self.fill_base_amount),
            "fill_quote_amount": str(self.fill_quote_amount),
            "fee": self.fee.to_json(),
            "is_taker": self.is_taker,
        }

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> "TradeUpdate":
        """Also normalises a dict from code: Decimal/str/int amounts, fee as TradeFee or its json."""
        missing = [k for k in _TRADE_UPDATE_REQUIRED if k not in data]
        if missing:
            raise ValueError(f"trade update lacks {', '.join(missing)}")
        fee = data.get("fee")
        if fee is None:
            fee = TradeFee()
        elif isinstance(fee, dict):
            fee = TradeFeeBase.from_json(fee)
        elif not isinstance(fee, TradeFeeBase):
            raise TypeError(f"fee must be a TradeFee or its json, got {type(fee).__name__}")
        ts = data["fill_timestamp"]
        if isinstance(ts, bool) or not isinstance(ts, (int, float)):
            raise TypeError(f"fill_timestamp must be a number, got {type(ts).__name__}")
        return cls(
            str(data["trade_id"]), data.get("client_order_id"), data.get("exchange_order_id"),
            data["trading_pair"], ts,
            to_decimal(data["fill_price"], "fill_price"),
            to_decimal(data["fill_base_amount"], "fill_base_amount"),
            to_decimal(data["fill_quote_amount"], "fill_quote_amount"),
            fee, bool(data.get("is_taker", True)),
        )


_TRADE_UPDATE_REQUIRED = ("trade_id", "trading_pair", "fill_timestamp", "fill_price", "fill_base_amount",
                          "fill_quote_amount")


class CancellationResult(NamedTuple):
    order_id: str
    success: bool


class OpenOrder(NamedTuple):
    client_order_id: str
    trading_pair: str
    price: Decimal
    amount: Decimal
    executed_amount: Decimal
    status: str
    order_type: OrderType
    is_buy: bool
    time: int
    exchange_order_id: str


# -------------------------------------------------------------------------------- orders, market
class LimitOrder:
    """An order as strategies see it (Hummingbot's LimitOrder); creation_timestamp in µs."""

    __slots__ = ("client_order_id", "trading_pair", "is_buy", "base_currency", "quote_currency",
                 "price", "quantity", "filled_quantity", "creation_timestamp", "status", "position")

    def __init__(self, client_order_id: str, trading_pair: str, is_buy: bool, base_currency: str,
                 quote_currency: str, price: Optional[Decimal], quantity: Decimal,
                 filled_quantity: Decimal = _ZERO, creation_timestamp: int = 0,
                 status: OrderState = OrderState.PENDING_CREATE,
                 position: PositionAction = PositionAction.NIL):
        self.client_order_id = client_order_id
        self.trading_pair = trading_pair
        self.is_buy = bool(is_buy)
        self.base_currency = base_currency
        self.quote_currency = quote_currency
        self.price = None if price is None else to_decimal(price, "price", allow_nan=True)
        self.quantity = to_decimal(quantity, "quantity")
        self.filled_quantity = to_decimal(filled_quantity, "filled_quantity")
        self.creation_timestamp = int(creation_timestamp)
        self.status = status
        self.position = PositionAction(position) if not isinstance(position, PositionAction) else position

    def _key(self) -> tuple:
        return tuple(getattr(self, s) for s in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return type(other) is LimitOrder and self._key() == other._key()  # type: ignore[union-attr]

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (f"LimitOrder({self.client_order_id!r}, {self.trading_pair!r}, is_buy={self.is_buy}, "
                f"price={self.price}, quantity={self.quantity}, filled={self.filled_quantity}, "
                f"status={self.status.name}, position={self.position.value})")


class Position:
    """A derivative position (amount negative for shorts)."""

    __slots__ = ("trading_pair", "position_side", "unrealized_pnl", "entry_price", "amount", "leverage")

    def __init__(self, trading_pair: str, position_side: PositionSide, unrealized_pnl: Any,
                 entry_price: Any, amount: Any, leverage: Any):
        self.trading_pair = trading_pair
        self.position_side = PositionSide(position_side)
        self.unrealized_pnl = to_decimal(unrealized_pnl, "unrealized_pnl")
        self.entry_price = to_decimal(entry_price, "entry_price")
        self.amount = to_decimal(amount, "amount")
        self.leverage = to_decimal(leverage, "leverage")

    def update_position(self, position_side: Optional[PositionSide] = None, unrealized_pnl: Any = None,
                        entry_price: Any = None, amount: Any = None, leverage: Any = None) -> None:
        if position_side is not None:
            self.position_side = PositionSide(position_side)
        if unrealized_pnl is not None:
            self.unrealized_pnl = to_decimal(unrealized_pnl, "unrealized_pnl")
        if entry_price is not None:
            self.entry_price = to_decimal(entry_price, "entry_price")
        if amount is not None:
            self.amount = to_decimal(amount, "amount")
        if leverage is not None:
            self.leverage = to_decimal(leverage, "leverage")

    def to_json(self) -> Dict[str, Any]:
        return {"trading_pair": self.trading_pair, "position_side": self.position_side.value,
                "unrealized_pnl": str(self.unrealized_pnl), "entry_price": str(self.entry_price),
                "amount": str(self.amount), "leverage": str(self.leverage)}

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> "Position":
        return cls(data["trading_pair"], PositionSide(data["position_side"]), data["unrealized_pnl"],
                   data["entry_price"], data["amount"], data["leverage"])

    def __eq__(self, other: object) -> bool:
        return type(other) is Position and all(getattr(self, s) == getattr(other, s) for s in self.__slots__)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (f"Position({self.trading_pair!r}, {self.position_side.name}, amount={self.amount}, "
                f"entry_price={self.entry_price}, unrealized_pnl={self.unrealized_pnl}, leverage={self.leverage})")


class FundingInfo:
    """Funding state of a perpetual market (next_funding_utc_timestamp in seconds)."""

    __slots__ = ("trading_pair", "index_price", "mark_price", "next_funding_utc_timestamp", "rate")

    def __init__(self, trading_pair: str, index_price: Any, mark_price: Any,
                 next_funding_utc_timestamp: int, rate: Any):
        self.trading_pair = trading_pair
        self.index_price = to_decimal(index_price, "index_price")
        self.mark_price = to_decimal(mark_price, "mark_price")
        self.next_funding_utc_timestamp = int(next_funding_utc_timestamp)
        self.rate = to_decimal(rate, "rate")

    def update(self, index_price: Any = None, mark_price: Any = None,
               next_funding_utc_timestamp: Optional[int] = None, rate: Any = None) -> None:
        if index_price is not None:
            self.index_price = to_decimal(index_price, "index_price")
        if mark_price is not None:
            self.mark_price = to_decimal(mark_price, "mark_price")
        if next_funding_utc_timestamp is not None:
            self.next_funding_utc_timestamp = int(next_funding_utc_timestamp)
        if rate is not None:
            self.rate = to_decimal(rate, "rate")

    def __eq__(self, other: object) -> bool:
        return type(other) is FundingInfo and all(getattr(self, s) == getattr(other, s) for s in self.__slots__)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (f"FundingInfo({self.trading_pair!r}, index={self.index_price}, mark={self.mark_price}, "
                f"next={self.next_funding_utc_timestamp}, rate={self.rate})")


class OrderBookRow(NamedTuple):
    price: Decimal
    amount: Decimal
    update_id: int


class OrderBookQueryResult(NamedTuple):
    query_price: Decimal
    query_volume: Decimal
    result_price: Decimal
    result_volume: Decimal
