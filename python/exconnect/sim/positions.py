"""USDⓈ-M futures account model: positions, cross margin, leverage brackets, PnL and income.

All money is exact fixed point (``exconnect.sim.numbers`` atoms, 1e-8), never float.

The margin model (deliberately simple, documented so tests and users can predict it):

* One margin asset (USDT). ``wallet_balance`` changes only by realized PnL, commissions and
  funding payments (plus deposits at start).
* Every position is marked at its symbol's **mark price**:
  ``unrealized = amount × (mark − entry)`` (amount signed: shorts negative).
* ``position initial margin = |amount| × mark / leverage`` (leverage of the symbol).
* ``open-order initial margin = Σ remaining × price / leverage`` over open orders that are not
  reduce-only (no netting against opposite positions — more conservative than Binance).
* ``maintenance margin = notional × mmr − maintenance amount`` from the symbol's leverage bracket.
* ``margin balance = wallet + Σ unrealized``; ``available = margin balance − position IM −
  open-order IM`` (floored at 0 where Binance shows it floored).
* A new order is accepted only if its own initial margin (notional at its price, or at the mark
  for MARKET, divided by leverage) is ≤ available; otherwise ``-2019 Margin is insufficient.``
  Orders that only reduce a position need no margin.
* Margin type: ``CROSSED``/``ISOLATED`` is stored and reported (``marginType``, ``mt``) but the
  arithmetic is always cross margin. Liquidation is not simulated; ``liquidationPrice`` is the
  cross-margin formula for the account's wallet and that one position.
* Entry price is the exact volume-weighted average of opening fills (kept as exact cost);
  realized PnL on a reduce = closed qty × (fill − entry) × direction, rounded toward zero to 1e-8.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Tuple

from .money import ONE, mul, parse

BOTH, LONG, SHORT = "BOTH", "LONG", "SHORT"
INCOME_HISTORY = 200_000
CROSSED, ISOLATED = "CROSSED", "ISOLATED"


def _div_toward_zero(num: int, den: int) -> int:
    q = abs(num) // abs(den)
    return q if (num >= 0) == (den > 0) else -q


@dataclass(frozen=True)
class Bracket:
    """One notional tier: positions up to ``notional_cap`` may use at most ``max_leverage``."""

    bracket: int
    max_leverage: int
    notional_floor: int  # atoms
    notional_cap: int  # atoms
    maint_margin_ratio: int  # atoms (0.004 → 400_000)
    cum: int  # maintenance amount, atoms


def _tiers(rows: Iterable[Tuple[str, int, str]]) -> Tuple[Bracket, ...]:
    """Build brackets from (cap, max leverage, mmr); ``cum`` follows Binance's continuity rule."""
    out: List[Bracket] = []
    floor = cum = 0
    prev_mmr = 0
    for i, (cap, lev, mmr) in enumerate(rows, start=1):
        cap_a, mmr_a = parse(cap), parse(mmr)
        cum += mul(floor, mmr_a - prev_mmr)
        out.append(Bracket(i, lev, floor, cap_a, mmr_a, cum))
        floor, prev_mmr = cap_a, mmr_a
    return tuple(out)


#: Default tiers (shape of Binance's BTCUSDT table, rounded): used for every symbol unless
#: configured. Leverage limits come from here: 1 ≤ leverage ≤ first tier's max.
DEFAULT_BRACKETS = _tiers(
    [
        ("50000", 125, "0.004"),
        ("600000", 100, "0.005"),
        ("3000000", 75, "0.0065"),
        ("12000000", 50, "0.01"),
        ("70000000", 25, "0.02"),
        ("100000000", 20, "0.025"),
        ("230000000", 10, "0.05"),
        ("480000000", 5, "0.1"),
        ("600000000", 4, "0.125"),
        ("800000000", 3, "0.15"),
        ("1200000000", 2, "0.25"),
        ("1800000000", 1, "0.5"),
    ]
)


def brackets_from_config(rows) -> Tuple[Bracket, ...]:
    """``rows``: iterable of (notional cap, max leverage, maintenance margin rate) as text/int."""
    return _tiers((str(c), int(l), str(m)) for c, l, m in rows)


def bracket_for_notional(brackets: Tuple[Bracket, ...], notional: int) -> Bracket:
    for b in brackets:
        if notional <= b.notional_cap:
            return b
    return brackets[-1]


def max_notional_for_leverage(brackets: Tuple[Bracket, ...], leverage: int) -> int:
    """Largest position notional allowed at ``leverage`` (Binance's ``maxNotionalValue``)."""
    best = 0
    for b in brackets:
        if b.max_leverage >= leverage:
            best = b.notional_cap
    return best


@dataclass
class Position:
    symbol: str
    side: str  # BOTH / LONG / SHORT
    amount: int = 0  # signed atoms (SHORT and short BOTH are negative)
    cost: int = 0  # exact Σ |qty| × price of the open part, in atoms² (scale 1e-16)
    realized: int = 0  # accumulated realized PnL before fees (ACCOUNT_UPDATE "cr")
    update_time: int = 0

    @property
    def entry_price(self) -> int:
        if self.amount == 0:
            return 0
        return self.cost // abs(self.amount)

    def unrealized(self, mark: int) -> int:
        if self.amount == 0:
            return 0
        signed_cost = self.cost if self.amount > 0 else -self.cost
        return _div_toward_zero(self.amount * mark - signed_cost, ONE)

    def notional(self, mark: int) -> int:
        """Signed notional at mark (Binance's ``notional``)."""
        return _div_toward_zero(self.amount * mark, ONE)


@dataclass
class IncomeRow:
    symbol: str
    income_type: str  # REALIZED_PNL, COMMISSION, FUNDING_FEE, TRANSFER
    income: int  # signed atoms
    asset: str
    time: int
    tran_id: int
    trade_id: str = ""
    info: str = ""

    def to_json(self, text) -> dict:
        return {
            "symbol": self.symbol,
            "incomeType": self.income_type,
            "income": text(self.income),
            "asset": self.asset,
            "info": self.info,
            "time": self.time,
            "tranId": self.tran_id,
            "tradeId": self.trade_id,
        }


@dataclass
class FillOutcome:
    """What one fill did to the account (feeds the trade row, income and ACCOUNT_UPDATE)."""

    realized_pnl: int
    commission: int
    position: Position
    opened: int  # qty that opened/increased exposure
    closed: int  # qty that reduced exposure


class MarginError(Exception):
    """Raised by checks; ``code``/``msg`` are the Binance error to answer with."""

    def __init__(self, code: int, msg: str):
        super().__init__(f"{code}: {msg}")
        self.code = code
        self.msg = msg


@dataclass
class OpenOrderMargin:
    """What the account needs to know about one open order to reserve margin for it."""

    symbol: str
    price: int
    remaining: int
    reduce_only: bool


class FuturesAccount:
    """One API key's USDⓈ-M account. Pure state + arithmetic: no I/O, no clock."""

    def __init__(
        self,
        balances: Dict[str, int],
        margin_asset: str = "USDT",
        default_leverage: int = 20,
        brackets: Optional[Dict[str, Tuple[Bracket, ...]]] = None,
        fee_maker: int = parse("0.0002"),
        fee_taker: int = parse("0.0005"),
    ):
        self.margin_asset = margin_asset
        self.wallet: Dict[str, int] = {margin_asset: balances.get(margin_asset, 0)}
        self.dual_side = False
        self.default_leverage = default_leverage
        self.leverage: Dict[str, int] = {}
        self.margin_type: Dict[str, str] = {}
        self.brackets: Dict[str, Tuple[Bracket, ...]] = dict(brackets or {})
        self.positions: Dict[Tuple[str, str], Position] = {}
        self.income: deque = deque(maxlen=INCOME_HISTORY)  # bounded: a long paper-trading run stays small
        self.fee_maker = fee_maker
        self.fee_taker = fee_taker
        self._tran_id = 0
        self.update_time = 0

    # -- configuration ---------------------------------------------------------------------
    def brackets_of(self, symbol: str) -> Tuple[Bracket, ...]:
        return self.brackets.get(symbol, DEFAULT_BRACKETS)

    def leverage_of(self, symbol: str) -> int:
        return self.leverage.get(symbol, self.default_leverage)

    def margin_type_of(self, symbol: str) -> str:
        return self.margin_type.get(symbol, CROSSED)

    def max_leverage(self, symbol: str) -> int:
        return self.brackets_of(symbol)[0].max_leverage

    def set_leverage(self, symbol: str, leverage: int, mark: int) -> int:
        """Change leverage; returns the new ``maxNotionalValue`` (atoms)."""
        if leverage < 1 or leverage > self.max_leverage(symbol):
            raise MarginError(-4028, f"Leverage {leverage} is not valid")
        cap = max_notional_for_leverage(self.brackets_of(symbol), leverage)
        for side in (BOTH, LONG, SHORT):
            pos = self.positions.get((symbol, side))
            if pos is not None and abs(pos.notional(mark)) > cap:
                raise MarginError(-2027, "Exceeded the maximum allowable position at current leverage.")
        self.leverage[symbol] = leverage
        return cap

    def set_margin_type(self, symbol: str, margin_type: str, has_open_orders: bool) -> None:
        if margin_type not in (CROSSED, ISOLATED):
            raise MarginError(-1100, "Illegal characters found in parameter 'marginType'; legal range is 'ISOLATED, CROSSED'.")
        if self.margin_type_of(symbol) == margin_type:
            raise MarginError(-4046, "No need to change margin type.")
        if has_open_orders:
            raise MarginError(-4047, "Margin type cannot be changed if there exists open orders.")
        if any(p.amount for (s, _), p in self.positions.items() if s == symbol):
            raise MarginError(-4048, "Margin type cannot be changed if there exists position.")
        self.margin_type[symbol] = margin_type

    def set_dual_side(self, dual: bool, has_open_orders: bool) -> None:
        if dual == self.dual_side:
            raise MarginError(-4059, "No need to change position side.")
        if has_open_orders:
            raise MarginError(-4067, "Position side cannot be changed if there exists open orders.")
        if any(p.amount for p in self.positions.values()):
            raise MarginError(-4068, "Position side cannot be changed if there exists position.")
        self.dual_side = dual

    # -- positions -------------------------------------------------------------------------
    def position(self, symbol: str, side: str) -> Position:
        key = (symbol, side)
        pos = self.positions.get(key)
        if pos is None:
            pos = self.positions[key] = Position(symbol, side)
        return pos

    def position_sides(self) -> Tuple[str, ...]:
        return (LONG, SHORT) if self.dual_side else (BOTH,)

    def check_position_side(self, position_side: str) -> None:
        """-4061 when the order's positionSide does not fit the account's mode."""
        if position_side not in (BOTH, LONG, SHORT):
            raise MarginError(-1100, "Illegal characters found in parameter 'positionSide'; legal range is 'BOTH, LONG, SHORT'.")
        if self.dual_side != (position_side != BOTH):
            raise MarginError(-4061, "Order's position side does not match user's setting.")

    def reducing_qty(self, symbol: str, position_side: str, side: str, qty: int) -> int:
        """How much of an order of ``qty`` on ``side`` would reduce the existing position."""
        pos = self.positions.get((symbol, position_side))
        amt = pos.amount if pos else 0
        if position_side == LONG:
            return min(qty, amt) if side == "SELL" else 0
        if position_side == SHORT:
            return min(qty, -amt) if side == "BUY" else 0
        if side == "SELL" and amt > 0:
            return min(qty, amt)
        if side == "BUY" and amt < 0:
            return min(qty, -amt)
        return 0

    def check_reduce_only(self, symbol: str, position_side: str, side: str, qty: int) -> None:
        """-2022 if a reduce-only order could not reduce (flat or same direction)."""
        if self.reducing_qty(symbol, position_side, side, qty) <= 0:
            raise MarginError(-2022, "ReduceOnly Order is rejected.")

    def check_hedge_close(self, symbol: str, position_side: str, side: str, qty: int, pending_close: int = 0) -> None:
        """Hedge mode: a closing order (SELL LONG / BUY SHORT) may not exceed the position."""
        if position_side == BOTH:
            return
        closing = (position_side == LONG and side == "SELL") or (position_side == SHORT and side == "BUY")
        if not closing:
            return
        pos = self.positions.get((symbol, position_side))
        avail = abs(pos.amount) if pos else 0
        if qty + pending_close > avail:
            raise MarginError(-2022, "ReduceOnly Order is rejected.")

    def apply_fill(
        self, symbol: str, position_side: str, side: str, qty: int, price: int, maker: bool, time_ms: int, trade_id: int
    ) -> FillOutcome:
        """Book one fill: position, realized PnL and commission (both into the wallet + income)."""
        pos = self.position(symbol, position_side)
        signed = qty if side == "BUY" else -qty
        realized = 0
        closed = 0
        if pos.amount == 0 or (pos.amount > 0) == (signed > 0):
            pos.cost += qty * price
            pos.amount += signed
            opened = qty
        else:
            closed = min(qty, abs(pos.amount))
            cost_closed = pos.cost * closed // abs(pos.amount)
            direction = 1 if pos.amount > 0 else -1
            realized = _div_toward_zero(direction * (closed * price - cost_closed), ONE)
            pos.cost -= cost_closed
            pos.amount += closed if pos.amount < 0 else -closed
            opened = qty - closed
            if pos.amount == 0:
                pos.cost = 0
            if opened:  # one-way flip: the rest opens the other direction at this price
                pos.amount = opened if signed > 0 else -opened
                pos.cost = opened * price
        pos.realized += realized
        pos.update_time = time_ms
        rate = self.fee_maker if maker else self.fee_taker
        commission = mul(mul(price, qty), rate)
        asset = self.margin_asset
        self.wallet[asset] = self.wallet.get(asset, 0) + realized - commission
        tid = str(trade_id)
        if realized:
            self._add_income(symbol, "REALIZED_PNL", realized, time_ms, tid)
        if commission:
            self._add_income(symbol, "COMMISSION", -commission, time_ms, tid)
        self.update_time = time_ms
        return FillOutcome(realized, commission, pos, opened, closed)

    def apply_funding(self, symbol: str, mark: int, rate: int, time_ms: int) -> int:
        """Settle one funding payment for every open position in ``symbol``; returns the total
        (signed, atoms; negative = paid). Positive rate ⇒ longs pay shorts."""
        total = 0
        for side in (BOTH, LONG, SHORT):
            pos = self.positions.get((symbol, side))
            if pos is None or pos.amount == 0:
                continue
            notional = pos.amount * mark  # atoms², signed
            total += _div_toward_zero(-notional * rate, ONE * ONE)
        if total or any(
            (p := self.positions.get((symbol, s))) is not None and p.amount for s in (BOTH, LONG, SHORT)
        ):
            self.wallet[self.margin_asset] += total
            self._add_income(symbol, "FUNDING_FEE", total, time_ms, "")
            self.update_time = time_ms
        return total

    def _add_income(self, symbol: str, kind: str, amount: int, time_ms: int, trade_id: str) -> None:
        self._tran_id += 1
        self.income.append(IncomeRow(symbol, kind, amount, self.margin_asset, time_ms, self._tran_id, trade_id))

    def query_income(
        self,
        symbol: Optional[str] = None,
        income_type: Optional[str] = None,
        start: Optional[int] = None,
        end: Optional[int] = None,
        limit: int = 100,
    ) -> List[IncomeRow]:
        """Binance's order: ascending by time; without startTime the most recent ``limit`` rows."""
        rows = [
            r
            for r in self.income
            if (symbol is None or r.symbol == symbol)
            and (income_type is None or r.income_type == income_type)
            and (start is None or r.time >= start)
            and (end is None or r.time <= end)
        ]
        return rows[:limit] if start is not None else rows[-limit:] if limit else []

    # -- margin ----------------------------------------------------------------------------
    def unrealized(self, marks: Dict[str, int], symbol: Optional[str] = None) -> int:
        return sum(
            p.unrealized(marks.get(p.symbol, 0))
            for p in self.positions.values()
            if p.amount and (symbol is None or p.symbol == symbol)
        )

    def position_initial_margin(self, pos: Position, mark: int) -> int:
        return abs(pos.notional(mark)) // self.leverage_of(pos.symbol)

    def maint_margin(self, pos: Position, mark: int) -> int:
        notional = abs(pos.notional(mark))
        if not notional:
            return 0
        b = bracket_for_notional(self.brackets_of(pos.symbol), notional)
        return max(0, mul(notional, b.maint_margin_ratio) - b.cum)

    def order_initial_margin(self, orders: Iterable[OpenOrderMargin], symbol: Optional[str] = None) -> int:
        return sum(
            mul(o.price, o.remaining) // self.leverage_of(o.symbol)
            for o in orders
            if not o.reduce_only and (symbol is None or o.symbol == symbol)
        )

    def totals(self, marks: Dict[str, int], orders: Iterable[OpenOrderMargin]) -> Dict[str, int]:
        orders = list(orders)
        wallet = self.wallet[self.margin_asset]
        upnl = self.unrealized(marks)
        pim = sum(self.position_initial_margin(p, marks.get(p.symbol, 0)) for p in self.positions.values() if p.amount)
        mm = sum(self.maint_margin(p, marks.get(p.symbol, 0)) for p in self.positions.values() if p.amount)
        oim = self.order_initial_margin(orders)
        margin_balance = wallet + upnl
        available = margin_balance - pim - oim
        return {
            "wallet": wallet,
            "unrealized": upnl,
            "margin_balance": margin_balance,
            "position_im": pim,
            "open_order_im": oim,
            "initial_margin": pim + oim,
            "maint_margin": mm,
            "available": available,
            "max_withdraw": max(0, min(wallet, available)),
        }

    def check_margin(self, marks: Dict[str, int], orders: Iterable[OpenOrderMargin], new: OpenOrderMargin) -> None:
        """-2019 if the new order's initial margin exceeds the available balance."""
        if new.reduce_only:
            return
        need = mul(new.price, new.remaining) // self.leverage_of(new.symbol)
        if need > self.totals(marks, orders)["available"]:
            raise MarginError(-2019, "Margin is insufficient.")

    def liquidation_price(self, pos: Position, marks: Dict[str, int]) -> int:
        """Cross-margin liquidation price for ``pos`` holding everything else at mark (0 if none)."""
        if pos.amount == 0:
            return 0
        mark = marks.get(pos.symbol, 0)
        b = bracket_for_notional(self.brackets_of(pos.symbol), abs(pos.notional(mark)))
        others = sum(
            p.unrealized(marks.get(p.symbol, 0)) - self.maint_margin(p, marks.get(p.symbol, 0))
            for p in self.positions.values()
            if p.amount and p is not pos
        )
        wb = self.wallet[self.margin_asset] + others + b.cum
        # LP = (WB − amt × EP) / (|amt| × mmr − amt), all in atoms
        amt, ep, mmr = pos.amount, pos.entry_price, b.maint_margin_ratio
        num = wb * ONE - amt * ep  # atoms²
        den = abs(amt) * mmr // ONE - amt  # atoms
        if den == 0:
            return 0
        lp = num // den
        return max(0, lp)
