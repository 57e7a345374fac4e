# cython: language_level=3
"""InFlightOrder: Hummingbot's order record with its state machine and fill totals in C.

Exactness: base amounts and prices are int64 at 8 decimals, quote amounts int128 at 16
decimals (core/order.h).  A fill with more decimals than that is refused with ValueError and
changes nothing.  Decimals are built only when a property is read, and cached until the next fill.

Semantics beyond Hummingbot's (documented in docs of the .pyi as well):
  * a trade or order update belongs to this order when its client id equals ours, or when both
    it and we carry an exchange id and they are equal (an un-acked order matches by client id only);
  * a trade update never sets the exchange id (Hummingbot TRK-11); an order update does;
  * fills move the state (PENDING_CREATE/OPEN -> PARTIALLY_FILLED, -> FILLED when complete);
    fills reported after a terminal state are counted, the state stays;
  * order updates perform legal transitions only (core/order.h); illegal ones return False;
  * cumulative fees: each fill's flat fees by token, plus its percent part
    price * base * percent valued in quote (Hummingbot's fee_amount_in_token), booked under
    percent_token if that is the quote or base asset (base: base * percent, i.e. converted at the
    fill price), under the quote asset otherwise (no rate oracle here; the fill keeps its fee).
"""
import asyncio
from decimal import Decimal, Context, Inexact, InvalidOperation, MAX_PREC, MAX_EMAX, MIN_EMIN
from types import MappingProxyType

from libc.stdint cimport int64_t
from cpython.unicode cimport PyUnicode_AsUTF8AndSize

from exconnect.native.cfixed cimport FX_OK, fx_parse, fx_format, fx_strerror
from exconnect.native.corder cimport (
    ord_i128, ord_order, ORD_SCALE, ORD_QUOTE_SCALE, ORD_CHANGED, ORD_UNCHANGED,
    ORD_ERR_ILLEGAL, ORD_ERR_OVERFILL, ORD_ERR_ARG, ORD_ERR_OVERFLOW,
    ORD_PENDING_CREATE, ORD_OPEN, ORD_PENDING_CANCEL, ORD_CANCELED, ORD_PARTIALLY_FILLED,
    ORD_FILLED, ORD_FAILED, ORD_EXPIRED,
    ord_init, ord_apply_state, ord_apply_fill, ord_add_fill_totals, ord_check_fill,
    ord_parse_i128, ord_format_i128, ord_strerror, ord_state_valid, ord_state_terminal,
)

from exconnect.types import (
    LimitOrder, OrderState, OrderType, OrderUpdate, PositionAction, TradeFee, TradeType,
    TradeUpdate, split_trading_pair, to_decimal,
)


class OverfillError(ValueError):
    """A fill would take the executed amount beyond the order amount; nothing was changed."""


GET_EXCHANGE_ORDER_ID_TIMEOUT = 10.0

cdef object _Decimal = Decimal
cdef object _ZERO = Decimal(0)
cdef object _TradeUpdate = TradeUpdate
cdef object _OrderUpdate = OrderUpdate
cdef object _TradeFee = TradeFee
cdef object _OrderState = OrderState
cdef object _OrderType = OrderType
cdef object _TradeType = TradeType
cdef object _PositionAction = PositionAction
cdef object _to_decimal = to_decimal
# Exact arithmetic for fee sums: huge precision and Inexact trapped, so a wrong result is an
# exception, never a rounding.
cdef object _EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[Inexact, InvalidOperation])

# OrderState members by value (None for values this machine does not use), and a flat tuple
# so that a member's value is found by identity (faster than Enum.value or hashing).
cdef list _STATE_BY_VALUE = [None] * 12
for _m in OrderState:
    if ord_state_valid(_m.value):
        _STATE_BY_VALUE[_m.value] = _m
cdef tuple _STATE_MEMBERS = tuple(OrderState)
cdef tuple _STATE_VALUES = tuple(m.value for m in OrderState)
cdef tuple _POSITIONS = ("OPEN", "CLOSE", "NIL")
cdef tuple _POSITION_MEMBERS = (PositionAction.OPEN, PositionAction.CLOSE, PositionAction.NIL)
cdef dict _PAIRS = {}


cdef inline int _state_value(object state) except -2:
    cdef Py_ssize_t i
    for i in range(len(_STATE_MEMBERS)):
        if _STATE_MEMBERS[i] is state:
            return _STATE_VALUES[i]
    raise TypeError(f"expected an OrderState, got {state!r}")


cdef int64_t _fx(object v, str name) except? -1:
    """Decimal/str/int -> int64 at 8 decimals; ValueError naming the value if it does not fit."""
    cdef Py_ssize_t n = 0
    cdef const char *p
    cdef int64_t out = 0
    cdef int st
    if type(v) is not _Decimal:
        v = _to_decimal(v, name)
    s = str(v)
    p = PyUnicode_AsUTF8AndSize(s, &n)
    st = fx_parse(p, <size_t>n, ORD_SCALE, &out)
    if st != FX_OK:
        raise ValueError(f"{name} {s}: {fx_strerror(st).decode()} (at most 8 decimals, below 9.2e10)")
    return out


cdef int _fx128(object v, str name, ord_i128 *out) except -1:
    cdef Py_ssize_t n = 0
    cdef const char *p
    if type(v) is not _Decimal:
        v = _to_decimal(v, name)
    s = str(v)
    p = PyUnicode_AsUTF8AndSize(s, &n)
    if ord_parse_i128(p, <size_t>n, ORD_QUOTE_SCALE, out) != ORD_CHANGED:
        raise ValueError(f"{name} {s}: not exact at 16 decimals or out of range")
    return 0


cdef str _text64(int64_t v):
    cdef char buf[48]
    cdef int n = fx_format(v, ORD_SCALE, 1, buf, sizeof(buf))
    return buf[:n].decode("ascii")


cdef object _dec64(int64_t v):
    return _Decimal(_text64(v))


cdef str _text128(ord_i128 v):
    cdef char buf[96]
    cdef int n = ord_format_i128(v, ORD_QUOTE_SCALE, 1, buf, sizeof(buf))
    return buf[:n].decode("ascii")


cdef tuple _split_pair(str pair):
    cdef object r = _PAIRS.get(pair)
    if r is None:
        r = split_trading_pair(pair)
        if len(_PAIRS) < 10000:
            _PAIRS[pair] = r
    return r


cdef str _position_value(object position):
    cdef Py_ssize_t i
    for i in range(3):
        if _POSITION_MEMBERS[i] is position:
            return _POSITIONS[i]
    if isinstance(position, str) and position in _POSITIONS:
        return position
    raise ValueError(f"position must be a PositionAction or one of {_POSITIONS}, got {position!r}")


cdef object _enum_by_name(object enum, object name):
    try:
        return enum[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown {enum.__name__} {name!r}") from None


cdef object _saved_state(object value):
    """last_state as saved: the state number as text (Hummingbot), a number, or a state name."""
    state = None
    if isinstance(value, str) and not value.isdigit():
        state = _OrderState.__members__.get(value)
    else:
        try:
            number = int(value)
        except (TypeError, ValueError):
            number = -1
        if 0 <= number < len(_STATE_BY_VALUE):
            state = _STATE_BY_VALUE[number]
    if state is None or not ord_state_valid(_state_value(state)):
        raise ValueError(f"unsupported saved last_state {value!r}")
    return state


cdef object _saved_int(object value, str name):
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValueError(f"saved {name} is not an integer: {value!r}") from None


cdef object _as_trade_update(object tu):
    if isinstance(tu, _TradeUpdate):
        return tu
    if isinstance(tu, dict):
        return _TradeUpdate.from_json(tu)
    raise TypeError(f"expected a TradeUpdate or its dict, got {type(tu).__name__}")


cdef class InFlightOrder:
    """An order tracked from creation to its end (Hummingbot's InFlightOrder, compiled)."""

    def __init__(self, str client_order_id not None, str trading_pair not None, order_type, trade_type,
                 amount, creation_timestamp, price=None, exchange_order_id=None,
                 initial_state=OrderState.PENDING_CREATE, leverage=1, position=PositionAction.NIL):
        if not client_order_id:
            raise ValueError("client_order_id must not be empty")
        if not isinstance(order_type, _OrderType):
            raise TypeError(f"order_type must be an OrderType, got {order_type!r}")
        if not isinstance(trade_type, _TradeType):
            raise TypeError(f"trade_type must be a TradeType, got {trade_type!r}")
        if exchange_order_id is not None and not isinstance(exchange_order_id, str):
            raise TypeError(f"exchange_order_id must be str or None, got {type(exchange_order_id).__name__}")
        if isinstance(leverage, bool) or not isinstance(leverage, int) or leverage < 1:
            raise ValueError(f"leverage must be an int >= 1, got {leverage!r}")
        if type(creation_timestamp) is not float and (
                isinstance(creation_timestamp, bool) or not isinstance(creation_timestamp, int)):
            raise TypeError(f"creation_timestamp must be a number, got {type(creation_timestamp).__name__}")
        if price is not None:
            if type(price) is not _Decimal:
                price = _to_decimal(price, "price", True)
            if price.is_finite():
                if price.is_signed():
                    raise ValueError(f"price must not be negative, got {price}")
            elif not price.is_nan():
                raise ValueError(f"price must be finite (or NaN for none), got {price}")
        if type(amount) is not _Decimal:
            amount = _to_decimal(amount, "amount")
        cdef int64_t fx_amount = _fx(amount, "amount")
        cdef int state = _state_value(initial_state)
        if ord_init(&self._o, fx_amount, state) != ORD_CHANGED:
            if fx_amount <= 0:
                raise ValueError(f"amount must be positive, got {amount}")
            raise ValueError(f"unsupported initial state {initial_state!r}")
        base, quote = _split_pair(trading_pair)
        self.client_order_id = client_order_id
        self.trading_pair = trading_pair
        self.base_asset = base
        self.quote_asset = quote
        self.order_type = order_type
        self.trade_type = trade_type
        self.price = price
        self.amount = amount
        self.creation_timestamp = creation_timestamp
        self.last_update_timestamp = creation_timestamp
        self.leverage = leverage
        self.position = _position_value(position)
        self._exchange_order_id = exchange_order_id
        self._fills = {}

    # ------------------------------------------------------------------ identity and state
    @property
    def exchange_order_id(self):
        return self._exchange_order_id

    @property
    def current_state(self):
        return _STATE_BY_VALUE[self._o.state]

    @property
    def attributes(self):
        return (self.client_order_id, self.trading_pair, self.order_type, self.trade_type,
                self.price, self.amount)

    @property
    def is_pending_create(self):
        return self._o.state == ORD_PENDING_CREATE

    @property
    def is_pending_cancel_confirmation(self):
        return self._o.state == ORD_PENDING_CANCEL

    @property
    def is_open(self):
        cdef int s = self._o.state
        return s == ORD_PENDING_CREATE or s == ORD_OPEN or s == ORD_PARTIALLY_FILLED or s == ORD_PENDING_CANCEL

    @property
    def is_done(self):
        return ord_state_terminal(self._o.state) != 0

    @property
    def is_filled(self):
        return self._o.state == ORD_FILLED or self._o.executed_base == self._o.amount

    @property
    def is_fully_executed(self):
        return self._o.executed_base == self._o.amount

    @property
    def is_failure(self):
        return self._o.state == ORD_FAILED

    @property
    def is_cancelled(self):
        return self._o.state == ORD_CANCELED

    @property
    def is_expired(self):
        return self._o.state == ORD_EXPIRED

    @property
    def is_processed_by_exchange(self):
        return self._o.state != ORD_PENDING_CREATE

    # ------------------------------------------------------------------ amounts (lazy Decimals)
    @property
    def executed_amount_base(self):
        if self._c_base is None:
            self._c_base = _dec64(self._o.executed_base)
        return self._c_base

    @property
    def executed_amount_quote(self):
        if self._c_quote is None:
            self._c_quote = _Decimal(_text128(self._o.executed_quote))
        return self._c_quote

    @property
    def average_executed_price(self):
        """Volume-weighted fill price (sum price*base / sum base, default Decimal context); None without fills."""
        if self._o.fill_count == 0 or self._o.executed_base == 0:
            return None
        if self._c_avg is None:
            self._c_avg = _Decimal(_text128(self._o.notional)) / _dec64(self._o.executed_base)
        return self._c_avg

    @property
    def order_fills(self):
        """Read-only view: trade id -> TradeUpdate, in arrival order."""
        if self._fills_view is None:
            self._fills_view = MappingProxyType(self._fills)
        return self._fills_view

    @property
    def cumulative_fees(self):
        """Fees paid so far, by token (see the module doc for percent fees)."""
        if self._c_fees is None:
            self._c_fees = self._compute_fees()
        return dict(self._c_fees)

    def cumulative_fee_paid(self, str token):
        """Fees paid so far in `token` (no conversion between tokens)."""
        if self._c_fees is None:
            self._c_fees = self._compute_fees()
        return self._c_fees.get(token, _ZERO)

    def _compute_fees(self):
        cdef dict fees = {}
        add = _EXACT.add
        mul = _EXACT.multiply
        for tu in self._fills.values():
            fee = tu.fee
            if fee.percent != 0:
                token = fee.percent_token
                if token == self.base_asset:
                    value = mul(tu.fill_base_amount, fee.percent)
                else:
                    token = self.quote_asset
                    value = mul(mul(tu.fill_price, tu.fill_base_amount), fee.percent)
                fees[token] = add(fees.get(token, _ZERO), value)
            for flat in fee.flat_fees:
                fees[flat.token] = add(fees.get(flat.token, _ZERO), flat.amount)
        return fees

    # ------------------------------------------------------------------ exchange order id
    @property
    def exchange_order_id_update_event(self):
        if self._eid_event is None:
            self._eid_event = asyncio.Event()
            if self._exchange_order_id is not None:
                self._eid_event.set()
        return self._eid_event

    @property
    def completely_filled_event(self):
        if self._filled_event is None:
            self._filled_event = asyncio.Event()
            if self._o.executed_base == self._o.amount:
                self._filled_event.set()
        return self._filled_event

    @property
    def processed_by_exchange_event(self):
        if self._processed_event is None:
            self._processed_event = asyncio.Event()
            if self._o.state != ORD_PENDING_CREATE:
                self._processed_event.set()
        return self._processed_event

    def update_exchange_order_id(self, str exchange_order_id not None):
        self._exchange_order_id = exchange_order_id
        if self._eid_event is not None:
            self._eid_event.set()

    async def get_exchange_order_id(self, timeout=GET_EXCHANGE_ORDER_ID_TIMEOUT):
        """The exchange id, waiting up to `timeout` s for the ack (asyncio.TimeoutError after)."""
        if self._exchange_order_id is None:
            await asyncio.wait_for(self.exchange_order_id_update_event.wait(), timeout)
        return self._exchange_order_id

    async def wait_until_completely_filled(self):
        await self.completely_filled_event.wait()

    async def wait_until_processed_by_exchange(self):
        await self.processed_by_exchange_event.wait()

    def check_filled_condition(self):
        if self._o.executed_base == self._o.amount and self._filled_event is not None:
            self._filled_event.set()

    # ------------------------------------------------------------------ updates
    cdef bint _is_mine(self, object client_order_id, object exchange_order_id) except -1:
        if client_order_id is not None and client_order_id == self.client_order_id:
            return True
        return (exchange_order_id is not None and self._exchange_order_id is not None
                and exchange_order_id == self._exchange_order_id)

    cdef void _state_changed(self, int old_state) except *:
        if old_state == ORD_PENDING_CREATE and self._processed_event is not None:
            self._processed_event.set()

    def update_with_order_update(self, order_update):
        """Apply an OrderUpdate; True only if the state or the exchange id changed."""
        return self.c_update_with_order_update(order_update) == 1

    cdef int c_update_with_order_update(self, object order_update) except -1:
        cdef tuple t
        if not isinstance(order_update, _OrderUpdate):
            if isinstance(order_update, dict):
                order_update = _OrderUpdate(**order_update)
            else:
                raise TypeError(f"expected an OrderUpdate, got {type(order_update).__name__}")
        t = <tuple>order_update
        ts = t[1]
        new_state = t[2]
        eid = t[4]
        if not self._is_mine(t[3], eid):
            return 0
        cdef int target = _state_value(new_state)
        if isinstance(ts, bool) or not isinstance(ts, (int, float)):
            raise TypeError(f"update_timestamp must be a number, got {type(ts).__name__}")
        if eid is not None and not isinstance(eid, str):
            raise TypeError(f"exchange_order_id must be str or None, got {type(eid).__name__}")
        cdef int changed = 0
        cdef int old = self._o.state
        if ord_apply_state(&self._o, target) == ORD_CHANGED:
            changed = 1
            self._state_changed(old)
        if self._exchange_order_id is None and eid is not None:
            self._exchange_order_id = eid
            if self._eid_event is not None:
                self._eid_event.set()
            changed = 1
        if changed:
            self.last_update_timestamp = ts
        return changed

    def update_with_trade_update(self, trade_update):
        """Count a fill; False for a duplicate trade id or another order's trade.

        Raises OverfillError (nothing changed) if the fill exceeds the order amount, ValueError
        or TypeError for malformed fills.
        """
        return self.c_update_with_trade_update(trade_update) == 1

    cdef int c_update_with_trade_update(self, object trade_update) except -1:
        cdef tuple t
        cdef int64_t base, price
        cdef ord_i128 quote = 0
        cdef int r, old
        if type(trade_update) is not _TradeUpdate:
            trade_update = _as_trade_update(trade_update)
        t = <tuple>trade_update
        trade_id = t[0]
        if type(trade_id) is not str:
            if isinstance(trade_id, int) and not isinstance(trade_id, bool):
                trade_id = str(trade_id)
                trade_update = trade_update._replace(trade_id=trade_id)
                t = <tuple>trade_update
            else:
                raise TypeError(f"trade_id must be str, got {type(trade_id).__name__}")
        if trade_id in self._fills:
            return 0
        if not self._is_mine(t[1], t[2]):
            return 0
        ts = t[4]
        if type(ts) is not float and (isinstance(ts, bool) or not isinstance(ts, int)):
            raise TypeError(f"fill_timestamp must be a number, got {type(ts).__name__}")
        if not isinstance(t[8], _TradeFee):
            raise TypeError(f"fee must be a TradeFee, got {type(t[8]).__name__}")
        price = _fx(t[5], "fill_price")
        base = _fx(t[6], "fill_base_amount")
        _fx128(t[7], "fill_quote_amount", &quote)
        old = self._o.state
        r = ord_apply_fill(&self._o, base, price, quote)
        if r != ORD_CHANGED:
            if r == ORD_ERR_OVERFILL:
                raise OverfillError(
                    f"order {self.client_order_id}: fill {trade_id} of {t[6]} would exceed the amount "
                    f"{self.amount} (executed {self.executed_amount_base})")
            raise ValueError(f"order {self.client_order_id}: fill {trade_id} refused: {ord_strerror(r).decode()} "
                             f"(base {t[6]}, price {t[5]}, quote {t[7]})")
        self._fills[trade_id] = trade_update
        self.last_update_timestamp = ts
        self._c_base = None
        self._c_quote = None
        self._c_avg = None
        self._c_fees = None
        if self._o.state != old:
            self._state_changed(old)
        if self._filled_event is not None and self._o.executed_base == self._o.amount:
            self._filled_event.set()
        return 1

    # ------------------------------------------------------------------ persistence
    def to_json(self):
        """JSON-serialisable dict (Hummingbot's keys); from_json restores it exactly."""
        return {
            "client_order_id": self.client_order_id,
            "exchange_order_id": self._exchange_order_id,
            "trading_pair": self.trading_pair,
            "order_type": self.order_type.name,
            "trade_type": self.trade_type.name,
            "price": None if self.price is None else str(self.price),
            "amount": str(self.amount),
            # plain text without exponent or trailing zeros ("0.0000001", not "1E-7")
            "executed_amount_base": _text64(self._o.executed_base),
            "executed_amount_quote": _text128(self._o.executed_quote),
            "last_state": str(self._o.state),
            "leverage": str(self.leverage),
            "position": self.position,
            "creation_timestamp": self.creation_timestamp,
            "last_update_timestamp": self.last_update_timestamp,
            "order_fills": {k: v.to_json() for k, v in self._fills.items()},
        }

    @staticmethod
    def from_json(data):
        """Rebuild an order saved by to_json (or by Hummingbot); ValueError if it is inconsistent."""
        cdef InFlightOrder o
        cdef int64_t stored_base
        cdef ord_i128 quote = 0, stored_quote = 0
        cdef int r
        if not isinstance(data, dict):
            raise TypeError(f"expected a dict, got {type(data).__name__}")
        missing = [k for k in ("client_order_id", "trading_pair", "order_type", "trade_type", "amount",
                               "last_state") if k not in data]
        if missing:
            raise ValueError(f"saved order lacks {', '.join(missing)}")
        raw_price = data.get("price")
        o = InFlightOrder(
            data["client_order_id"], data["trading_pair"], _enum_by_name(_OrderType, data["order_type"]),
            _enum_by_name(_TradeType, data["trade_type"]), _to_decimal(data["amount"], "amount"),
            data.get("creation_timestamp", -1),
            price=None if raw_price is None or raw_price == "None" else _to_decimal(raw_price, "price", True),
            exchange_order_id=data.get("exchange_order_id"),
            initial_state=_saved_state(data["last_state"]),
            leverage=_saved_int(data.get("leverage", 1), "leverage"),
            position=data.get("position", "NIL"),
        )
        for key, fill_json in (data.get("order_fills") or {}).items():
            tu = _TradeUpdate.from_json(fill_json)
            if tu.trade_id != key:
                raise ValueError(f"saved fill under {key!r} has trade id {tu.trade_id!r}")
            _fx128(tu.fill_quote_amount, "fill_quote_amount", &quote)
            r = ord_add_fill_totals(&o._o, _fx(tu.fill_base_amount, "fill_base_amount"),
                                    _fx(tu.fill_price, "fill_price"), quote)
            if r != ORD_CHANGED:
                raise ValueError(f"saved fill {key!r} refused: {ord_strerror(r).decode()}")
            o._fills[key] = tu
        if "executed_amount_base" in data:
            stored_base = _fx(data["executed_amount_base"], "executed_amount_base")
            _fx128(data.get("executed_amount_quote", "0"), "executed_amount_quote", &stored_quote)
            if o._o.fill_count == 0:
                # Saved without fills (Hummingbot PER-05): trust the saved totals.
                if stored_base < 0 or stored_base > o._o.amount or stored_quote < 0:
                    raise ValueError(f"saved executed amounts out of range: {data['executed_amount_base']}")
                o._o.executed_base = stored_base
                o._o.executed_quote = stored_quote
            elif stored_base != o._o.executed_base or stored_quote != o._o.executed_quote:
                raise ValueError("saved executed amounts disagree with the saved fills")
        ts = data.get("last_update_timestamp")
        if ts is not None:
            if isinstance(ts, bool) or not isinstance(ts, (int, float)):
                raise TypeError(f"last_update_timestamp must be a number, got {type(ts).__name__}")
            o.last_update_timestamp = ts
        return o

    def to_limit_order(self):
        return LimitOrder(
            self.client_order_id, self.trading_pair, self.trade_type is _TradeType.BUY,
            self.base_asset, self.quote_asset, self.price, self.amount,
            filled_quantity=self.executed_amount_base,
            creation_timestamp=int(self.creation_timestamp * 1e6),
            status=_STATE_BY_VALUE[self._o.state],
            position=_PositionAction(self.position),
        )

    def __reduce__(self):
        # pickle/copy go through the exact json form (never through the C struct's raw fields)
        return (_from_json, (self.to_json(),))

    def __eq__(self, other):
        if not isinstance(other, InFlightOrder):
            return NotImplemented
        return self.to_json() == (<InFlightOrder>other).to_json()

    __hash__ = None

    def __repr__(self):
        return (f"InFlightOrder(client_order_id={self.client_order_id!r}, exchange_order_id="
                f"{self._exchange_order_id!r}, trading_pair={self.trading_pair!r}, "
                f"{self.order_type.name} {self.trade_type.name} {self.amount} @ {self.price}, "
                f"state={_STATE_BY_VALUE[self._o.state].name}, executed={self.executed_amount_base})")


def _from_json(data):
    return InFlightOrder.from_json(data)
