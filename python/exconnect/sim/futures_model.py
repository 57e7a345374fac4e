"""The futures venue's records and field rules: symbols (filters, text formats), orders, and the
parsing/validation of order fields with Binance's error codes. No state, no I/O."""
from __future__ import annotations

import re

from . import money
from .errors import BinanceError
from .money import ONE
from .positions import DEFAULT_BRACKETS, LONG, SHORT, Bracket, brackets_from_config

CONDITIONAL_TYPES = ("STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET")
TIME_IN_FORCE = ("GTC", "IOC", "FOK", "GTX", "GTD")
STP_MODES = ("NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH")
CLIENT_ID = re.compile(r"^[\.A-Z\:/a-z0-9_-]{1,36}$")


def decimals(step_text: str) -> int:
    """Number of decimals of an increment ("0.10" → 1, "0.001" → 3, "1" → 0)."""
    s = money.trimmed(money.parse(step_text))
    return len(s.partition(".")[2])


class FuturesSymbol:
    """A configured perpetual: filters in atoms plus the text exchangeInfo prints."""

    def __init__(self, sc):
        self.config = sc
        self.symbol = sc.symbol
        self.base = sc.base_asset
        self.quote = sc.quote_asset
        self.tick = money.parse(sc.tick_size)
        self.step = money.parse(sc.step_size)
        self.min_qty = money.parse(sc.min_qty)
        self.max_qty = money.parse(sc.max_qty)
        self.market_max_qty = money.parse(sc.market_max_qty)
        self.min_price = money.parse(sc.min_price)
        self.max_price = money.parse(sc.max_price)
        self.min_notional = money.parse(sc.min_notional)
        self.initial_price = money.parse(sc.initial_price)
        self.price_precision = decimals(sc.tick_size)
        self.qty_precision = decimals(sc.step_size)
        opts = sc.options or {}
        max_lev = int(opts.get("max_leverage", 125))
        if "brackets" in opts:
            self.brackets = brackets_from_config(opts["brackets"])
        else:  # default tiers, with the first tiers' leverage capped at the symbol's maximum
            self.brackets = tuple(
                Bracket(b.bracket, min(b.max_leverage, max_lev), b.notional_floor, b.notional_cap,
                        b.maint_margin_ratio, b.cum) for b in DEFAULT_BRACKETS)
        self.lname = self.symbol.lower()
        # PERCENT_PRICE filter, relative to the mark price
        self.percent_up = money.parse(str(opts.get("percent_price_up", "1.05")))
        self.percent_down = money.parse(str(opts.get("percent_price_down", "0.95")))
        # what exchangeInfo shows (tests of clients that must skip delivery contracts / halted symbols)
        self.contract_type = str(opts.get("contract_type", "PERPETUAL"))
        self.status = str(opts.get("status", "TRADING"))

    def fmt_price(self, atoms: int) -> str:
        return _fixed(atoms, self.price_precision)

    def fmt_qty(self, atoms: int) -> str:
        return _fixed(atoms, self.qty_precision)


def _fixed(atoms: int, places: int) -> str:
    """Atoms printed with ``places`` decimals when exact (Binance style), else all 8."""
    unit = 10 ** (money.SCALE - places)
    if atoms % unit:
        return money.text(atoms)
    sign = "-" if atoms < 0 else ""
    a = abs(atoms) // unit
    if places == 0:
        return f"{sign}{a}"
    return f"{sign}{a // 10**places}.{a % 10**places:0{places}d}"


class FuturesOrder:
    """The venue's record of a user order (the engine's ``Order.tag``)."""

    __slots__ = ("order_id", "client_order_id", "account_id", "symbol", "side", "type", "tif",
                 "price", "qty", "executed", "cum_quote", "status", "reduce_only", "position_side",
                 "time", "update_time", "stp", "good_till", "price_match", "engine_order", "expire_reason")

    def __init__(self, **kw):
        for k in self.__slots__:
            setattr(self, k, kw.get(k))
        self.executed = self.executed or 0
        self.cum_quote = self.cum_quote or 0
        self.expire_reason = self.expire_reason or "0"

    @property
    def is_open(self) -> bool:
        return self.status in ("NEW", "PARTIALLY_FILLED")

    @property
    def is_closing(self) -> bool:
        """Reduce-only, or a hedge-mode close (SELL LONG / BUY SHORT): reserves no margin."""
        return bool(self.reduce_only) or (self.position_side == LONG and self.side == "SELL") or \
            (self.position_side == SHORT and self.side == "BUY")

    @property
    def remaining(self) -> int:
        return self.qty - self.executed

    def avg_price(self) -> int:
        return self.cum_quote * ONE // self.executed if self.executed else 0


def _parse_number(text: str, param: str) -> int:
    """Decimal text → atoms, or the Binance error for parameter ``param`` (precision, characters)."""
    try:
        return money.parse(text)
    except money.NumberError as e:
        if e.kind == "precision":
            raise BinanceError(-1111, "Precision is over the maximum defined for this asset.")
        raise BinanceError(-1100, f"Illegal characters found in parameter '{param}'; "
                                  "legal range is '^([0-9]{1,20})(\\.[0-9]{1,20})?$'.")


def parse_quantity(sym: FuturesSymbol, text: str, otype: str) -> int:
    """Order quantity text → atoms, or the Binance error for it (precision, step, bounds)."""
    qty = _parse_number(text, "quantity")
    if qty <= 0:
        raise BinanceError(-4003, "Quantity less than or equal to zero.")
    if qty % sym.step:
        if qty % (10 ** (money.SCALE - sym.qty_precision)):
            raise BinanceError(-1111, "Precision is over the maximum defined for this asset.")
        raise BinanceError(-4023, "Quantity not increased by step size.")
    if qty < sym.min_qty:
        raise BinanceError(-4004, "Quantity less than min quantity.")
    if qty > (sym.market_max_qty if otype == "MARKET" else sym.max_qty):
        raise BinanceError(-4005, "Quantity greater than max quantity.")
    return qty

def parse_price(sym: FuturesSymbol, text: str) -> int:
    """Limit price text → atoms, or the Binance error (precision, bounds, tick)."""
    price = _parse_number(text, "price")
    if price <= 0:
        raise BinanceError(-4001, "Price less than 0.")
    if price % (10 ** (money.SCALE - sym.price_precision)):
        raise BinanceError(-1111, "Precision is over the maximum defined for this asset.")
    if price < sym.min_price:
        raise BinanceError(-4013, "Price less than min price.")
    if price > sym.max_price:
        raise BinanceError(-4016, "Price greater than max price.")
    if price % sym.tick:
        raise BinanceError(-4014, "Price not increased by tick size.")
    return price


def check_percent_price(sym: FuturesSymbol, side: str, price: int, mark: int) -> None:
    """PERCENT_PRICE (exchangeInfo): a BUY may not be above mark × multiplierUp, a SELL not
    below mark × multiplierDown (-4016 / -4024)."""
    if not mark:
        return
    if side == "BUY":
        cap = money.mul(mark, sym.percent_up)
        cap -= cap % sym.tick
        if price > cap:
            raise BinanceError(-4016, f"Limit price can't be higher than {sym.fmt_price(cap)}.")
    else:
        floor = money.mul(mark, sym.percent_down)
        floor += -floor % sym.tick
        if price < floor:
            raise BinanceError(-4024, f"Limit price can't be lower than {sym.fmt_price(floor)}.")


def required(p: dict, name: str) -> str:
    v = p.get(name)
    if v is None or v == "":
        raise BinanceError(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")
    return v
