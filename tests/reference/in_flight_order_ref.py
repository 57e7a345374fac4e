"""Plain-Python Decimal reference of exconnect.native.in_flight_order.InFlightOrder.

Written for clarity, not speed: every total is an exact Decimal sum over the fills, every state
rule is spelled out here again.  Property tests drive it and the compiled class with the same
updates and require identical results, so each rule is stated twice, independently.
"""
from __future__ import annotations

import asyncio
from decimal import Context, Decimal, Inexact, InvalidOperation, MAX_EMAX, MAX_PREC, MIN_EMIN
from typing import Any, Dict, Optional

from exconnect.types import (LimitOrder, OrderState, OrderType, OrderUpdate, PositionAction, TradeFee,
                             TradeType, TradeUpdate, split_trading_pair, to_decimal)

EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[Inexact, InvalidOperation])
INT64_MAX = 2 ** 63 - 1
INT128_MAX = 2 ** 127 - 1

S = OrderState
LIVE = {S.PENDING_CREATE, S.OPEN, S.PARTIALLY_FILLED, S.PENDING_CANCEL}
TERMINAL = {S.CANCELED, S.FILLED, S.FAILED, S.EXPIRED}
SUPPORTED = LIVE | TERMINAL
# Order-update moves between live states; any live state may also go to any terminal one.
LIVE_MOVES = {
    S.PENDING_CREATE: {S.OPEN, S.PARTIALLY_FILLED, S.PENDING_CANCEL},
    S.OPEN: {S.PARTIALLY_FILLED, S.PENDING_CANCEL},
    S.PARTIALLY_FILLED: {S.PENDING_CANCEL},
    S.PENDING_CANCEL: set(),
}


class OverfillError(ValueError):
    pass


def exact_units(value: Any, name: str, decimals: int, limit: int) -> Decimal:
    """The value as a Decimal if it has at most `decimals` decimals and |value*10^decimals| <= limit."""
    d = value if type(value) is Decimal else to_decimal(value, name)
    if not d.is_finite():
        raise ValueError(f"{name} {d}: not a number")
    scaled = EXACT.scaleb(d, decimals)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{name} {d}: more than {decimals} decimals")
    if scaled > limit or scaled < -limit:  # exact comparisons (abs() would round to 28 digits)
        raise ValueError(f"{name} {d}: out of range")
    return d


def exact_sum(values, start: Decimal = Decimal(0)) -> Decimal:
    """Sum without context rounding (built-in sum() would round to 28 digits)."""
    total = start
    for v in values:
        total = EXACT.add(total, v)
    return total


def canonical(d: Decimal) -> str:
    """Plain decimal text without trailing fractional zeros ("1.50" -> "1.5", "0E-8" -> "0")."""
    s = format(d, "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _number(ts: Any, name: str) -> float:
    if isinstance(ts, bool) or not isinstance(ts, (int, float)):
        raise TypeError(f"{name} must be a number, got {type(ts).__name__}")
    return float(ts)


class InFlightOrderRef:
    def __init__(self, client_order_id, trading_pair, order_type, trade_type, amount, creation_timestamp,
                 price=None, exchange_order_id=None, initial_state=OrderState.PENDING_CREATE, leverage=1,
                 position=PositionAction.NIL):
        if not isinstance(client_order_id, str) or not isinstance(trading_pair, str):
            raise TypeError("client_order_id and trading_pair must be str")
        if not client_order_id:
            raise ValueError("client_order_id must not be empty")
        if not isinstance(order_type, OrderType) or not isinstance(trade_type, TradeType):
            raise TypeError("order_type / trade_type")
        if exchange_order_id is not None and not isinstance(exchange_order_id, str):
            raise TypeError("exchange_order_id")
        if isinstance(leverage, bool) or not isinstance(leverage, int) or leverage < 1:
            raise ValueError("leverage")
        creation_timestamp = _number(creation_timestamp, "creation_timestamp")
        if price is not None:
            price = to_decimal(price, "price", allow_nan=True)
            if price.is_signed() and not price.is_nan():
                raise ValueError("negative price")
        amount = exact_units(to_decimal(amount, "amount"), "amount", 8, INT64_MAX)
        if not isinstance(initial_state, OrderState):
            raise TypeError("initial_state")
        if amount <= 0:
            raise ValueError("amount must be positive")
        if initial_state not in SUPPORTED:
            raise ValueError("unsupported initial state")
        self.base_asset, self.quote_asset = split_trading_pair(trading_pair)
        if isinstance(position, PositionAction):
            position = position.value
        if position not in ("OPEN", "CLOSE", "NIL"):
            raise ValueError("position")
        self.client_order_id = client_order_id
        self.trading_pair = trading_pair
        self.order_type = order_type
        self.trade_type = trade_type
        self.price = price
        self.amount = amount
        self.creation_timestamp = creation_timestamp
        self.last_update_timestamp = creation_timestamp
        self.leverage = leverage
        self.position = position
        self.exchange_order_id = exchange_order_id
        self.current_state = initial_state
        self.order_fills: Dict[str, TradeUpdate] = {}
        self._restored_base = Decimal(0)   # totals saved without their fills (from_json)
        self._restored_quote = Decimal(0)
        self._eid_event: Optional[asyncio.Event] = None

    # ---- derived values, recomputed from the fills every time
    @property
    def executed_amount_base(self) -> Decimal:
        return exact_sum((f.fill_base_amount for f in self.order_fills.values()), self._restored_base)

    @property
    def executed_amount_quote(self) -> Decimal:
        return exact_sum((f.fill_quote_amount for f in self.order_fills.values()), self._restored_quote)

    @property
    def average_executed_price(self) -> Optional[Decimal]:
        if not self.order_fills or self.executed_amount_base == 0:
            return None
        notional = exact_sum(EXACT.multiply(f.fill_price, f.fill_base_amount) for f in self.order_fills.values())
        return Decimal(canonical(notional)) / Decimal(canonical(self.executed_amount_base))

    @property
    def cumulative_fees(self) -> Dict[str, Decimal]:
        fees: Dict[str, Decimal] = {}
        for f in self.order_fills.values():
            if f.fee.percent != 0:
                if f.fee.percent_token == self.base_asset:
                    token, value = self.base_asset, EXACT.multiply(f.fill_base_amount, f.fee.percent)
                else:
                    token = self.quote_asset
                    value = EXACT.multiply(EXACT.multiply(f.fill_price, f.fill_base_amount), f.fee.percent)
                fees[token] = EXACT.add(fees.get(token, Decimal(0)), value)
            for flat in f.fee.flat_fees:
                fees[flat.token] = EXACT.add(fees.get(flat.token, Decimal(0)), flat.amount)
        return fees

    def cumulative_fee_paid(self, token: str) -> Decimal:
        return self.cumulative_fees.get(token, Decimal(0))

    @property
    def is_pending_create(self): return self.current_state == S.PENDING_CREATE
    @property
    def is_pending_cancel_confirmation(self): return self.current_state == S.PENDING_CANCEL
    @property
    def is_open(self): return self.current_state in LIVE
    @property
    def is_done(self): return self.current_state in TERMINAL
    @property
    def is_filled(self): return self.current_state == S.FILLED or self.executed_amount_base == self.amount
    @property
    def is_fully_executed(self): return self.executed_amount_base == self.amount
    @property
    def is_failure(self): return self.current_state == S.FAILED
    @property
    def is_cancelled(self): return self.current_state == S.CANCELED
    @property
    def is_expired(self): return self.current_state == S.EXPIRED

    def update_exchange_order_id(self, exchange_order_id: str) -> None:
        self.exchange_order_id = exchange_order_id

    # ---- updates
    def _is_mine(self, client_order_id, exchange_order_id) -> bool:
        if client_order_id is not None and client_order_id == self.client_order_id:
            return True
        return (exchange_order_id is not None and self.exchange_order_id is not None
                and exchange_order_id == self.exchange_order_id)

    def update_with_order_update(self, ou) -> bool:
        if not isinstance(ou, OrderUpdate):
            if isinstance(ou, dict):
                ou = OrderUpdate(**ou)
            else:
                raise TypeError("expected an OrderUpdate")
        if not self._is_mine(ou.client_order_id, ou.exchange_order_id):
            return False
        if not isinstance(ou.new_state, OrderState):
            raise TypeError("new_state")
        ts = _number(ou.update_timestamp, "update_timestamp")
        if ou.exchange_order_id is not None and not isinstance(ou.exchange_order_id, str):
            raise TypeError("exchange_order_id")
        changed = False
        new, cur = ou.new_state, self.current_state
        if new in SUPPORTED and new != cur and cur in LIVE and (new in TERMINAL or new in LIVE_MOVES[cur]):
            self.current_state = new
            changed = True
        if self.exchange_order_id is None and ou.exchange_order_id is not None:
            self.exchange_order_id = ou.exchange_order_id
            changed = True
        if changed:
            self.last_update_timestamp = ts
        return changed

    def update_with_trade_update(self, tu) -> bool:
        if not isinstance(tu, TradeUpdate):
            if isinstance(tu, dict):
                tu = TradeUpdate.from_json(tu)
            else:
                raise TypeError("expected a TradeUpdate")
        if not isinstance(tu.trade_id, str):
            if isinstance(tu.trade_id, int) and not isinstance(tu.trade_id, bool):
                tu = tu._replace(trade_id=str(tu.trade_id))
            else:
                raise TypeError("trade_id")
        if tu.trade_id in self.order_fills:
            return False
        if not self._is_mine(tu.client_order_id, tu.exchange_order_id):
            return False
        ts = _number(tu.fill_timestamp, "fill_timestamp")
        if not isinstance(tu.fee, TradeFee):
            raise TypeError("fee")
        price = exact_units(tu.fill_price, "fill_price", 8, INT64_MAX)
        base = exact_units(tu.fill_base_amount, "fill_base_amount", 8, INT64_MAX)
        quote = exact_units(tu.fill_quote_amount, "fill_quote_amount", 16, INT128_MAX)
        if base <= 0 or price <= 0 or quote < 0:
            raise ValueError("fill amounts must be positive")
        executed = self.executed_amount_base + base
        if executed > self.amount:
            raise OverfillError("fill exceeds the order amount")
        self.order_fills[tu.trade_id] = tu
        self.last_update_timestamp = ts
        if self.current_state in LIVE:
            if executed == self.amount:
                self.current_state = S.FILLED
            elif self.current_state in (S.PENDING_CREATE, S.OPEN):
                self.current_state = S.PARTIALLY_FILLED
        return True

    # ---- persistence
    def to_json(self) -> Dict[str, Any]:
        return {
            "client_order_id": self.client_order_id,
            "exchange_order_id": self.exchange_order_id,
            "trading_pair": self.trading_pair,
            "order_type": self.order_type.name,
            "trade_type": self.trade_type.name,
            "price": None if self.price is None else str(self.price),
            "amount": str(self.amount),
            "executed_amount_base": canonical(self.executed_amount_base),
            "executed_amount_quote": canonical(self.executed_amount_quote),
            "last_state": str(self.current_state.value),
            "leverage": str(self.leverage),
            "position": self.position,
            "creation_timestamp": self.creation_timestamp,
            "last_update_timestamp": self.last_update_timestamp,
            "order_fills": {k: v.to_json() for k, v in self.order_fills.items()},
        }

    @staticmethod
    def from_json(data: Dict[str, Any]) -> "InFlightOrderRef":
        price = data.get("price")
        o = InFlightOrderRef(
            data["client_order_id"], data["trading_pair"], OrderType[data["order_type"]],
            TradeType[data["trade_type"]], to_decimal(data["amount"], "amount"),
            data.get("creation_timestamp", -1),
            price=None if price in (None, "None") else to_decimal(price, "price", allow_nan=True),
            exchange_order_id=data.get("exchange_order_id"),
            initial_state=OrderState(int(data["last_state"])),
            leverage=int(data.get("leverage", 1)), position=data.get("position", "NIL"))
        for key, fill in (data.get("order_fills") or {}).items():
            tu = TradeUpdate.from_json(fill)
            if tu.trade_id != key:
                raise ValueError("fill key")
            o.order_fills[key] = tu
        if o.executed_amount_base > o.amount:
            raise ValueError("saved fills exceed the amount")
        if "executed_amount_base" in data:
            base = exact_units(to_decimal(data["executed_amount_base"]), "base", 8, INT64_MAX)
            quote = exact_units(to_decimal(data.get("executed_amount_quote", "0")), "quote", 16, INT128_MAX)
            if not o.order_fills:
                if base < 0 or base > o.amount or quote < 0:
                    raise ValueError("saved executed amounts out of range")
                o._restored_base, o._restored_quote = base, quote
            elif base != o.executed_amount_base or quote != o.executed_amount_quote:
                raise ValueError("saved executed amounts disagree with the saved fills")
        if data.get("last_update_timestamp") is not None:
            o.last_update_timestamp = _number(data["last_update_timestamp"], "last_update_timestamp")
        return o

    def to_limit_order(self) -> LimitOrder:
        return LimitOrder(self.client_order_id, self.trading_pair, self.trade_type is TradeType.BUY,
                          self.base_asset, self.quote_asset, self.price, self.amount,
                          filled_quantity=self.executed_amount_base,
                          creation_timestamp=int(self.creation_timestamp * 1e6),
                          status=self.current_state, position=PositionAction(self.position))
