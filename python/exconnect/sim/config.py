"""Simulator configuration: plain dataclasses, loadable from a JSON file or a dict.

Money fields are decimal *strings* (or Decimal/int; floats are refused: they are not exact).
``SimConfig.default(seed, market_activity)`` is what tests and the CLI use: BTCUSDT and ETHUSDT on
both spot and USDⓈ-M, one account ``sim-key``/``sim-secret``.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from decimal import Decimal
from typing import Any

from . import money


def _money(value: Any, what: str) -> str:
    if isinstance(value, float):
        raise TypeError(f"{what}: float {value!r} is not exact; pass a string or Decimal")
    try:
        money.parse(value if isinstance(value, (str, int, Decimal)) else str(value))
    except money.NumberError as exc:
        raise ValueError(f"{what}: {value!r} is not a decimal with at most 8 places") from exc
    return str(value)


@dataclass
class SymbolConfig:
    """One instrument. ``tick_size``/``step_size`` must divide the prices/quantities traded."""

    symbol: str
    base_asset: str
    quote_asset: str
    tick_size: str = "0.01"
    step_size: str = "0.00001"
    min_qty: str = "0.00001"
    max_qty: str = "9000"
    market_max_qty: str = "1000"
    min_price: str = "0.01"
    max_price: str = "1000000"
    min_notional: str = "5"
    max_notional: str = "9000000"
    #: starting mid price of the simulated market (agents drift around it)
    initial_price: str = "60000"
    #: free-form venue-specific settings (futures: max_leverage, maint_margin_rate, ...)
    options: dict = field(default_factory=dict)

    def __post_init__(self):
        self.symbol = str(self.symbol).upper()
        if not self.symbol.isalnum() or self.symbol != self.base_asset.upper() + self.quote_asset.upper():
            raise ValueError(f"symbol {self.symbol!r} must be base_asset + quote_asset, alphanumeric")
        for f in ("tick_size", "step_size", "min_qty", "max_qty", "market_max_qty", "min_price",
                  "max_price", "min_notional", "max_notional", "initial_price"):
            setattr(self, f, _money(getattr(self, f), f"{self.symbol}.{f}"))
        if money.parse(self.tick_size) <= 0 or money.parse(self.step_size) <= 0:
            raise ValueError(f"{self.symbol}: tick_size and step_size must be > 0")
        if money.parse(self.initial_price) % money.parse(self.tick_size):
            raise ValueError(f"{self.symbol}: initial_price must be a multiple of tick_size")


@dataclass
class AccountConfig:
    """An API key pair and its starting balances (asset → amount)."""

    api_key: str
    api_secret: str
    balances: dict = field(default_factory=dict)
    #: USDⓈ-M wallet balances; None → the futures venue uses ``balances``' USDT (futures engineer's call)
    futures_balances: dict | None = None

    def __post_init__(self):
        if not self.api_key or not self.api_secret:
            raise ValueError("api_key and api_secret must be non-empty")
        self.balances = {str(a).upper(): _money(v, f"balance {a}") for a, v in self.balances.items()}
        if self.futures_balances is not None:
            self.futures_balances = {
                str(a).upper(): _money(v, f"futures balance {a}") for a, v in self.futures_balances.items()
            }


@dataclass
class RateLimitConfig:
    """Per-IP request weight, per-account order counts, ban escalation. Reported in exchangeInfo."""

    weight_per_minute: int = 6000
    raw_requests_per_5m: int = 300000
    orders_per_10s: int = 1000
    #: spot's second order window (Binance spot: per day)
    orders_per_day: int = 200000
    #: futures' second order window (Binance USDⓈ-M: per minute, ``X-MBX-ORDER-COUNT-1M``)
    orders_per_minute: int = 6000
    #: requests answered 429 before the IP gets a 418 ban
    requests_past_limit_before_ban: int = 10
    ban_seconds: int = 120


@dataclass
class FaultConfig:
    """Start-up values of the runtime fault switches (see faults.FaultInjector)."""

    rest_delay_ms: int = 0
    response_delay_ms: int = 0
    rest_error_rate: float = 0.0      # share of REST calls answered 5xx (probability, not money)
    rest_timeout_rate: float = 0.0    # share of REST calls never answered
    order_503_but_placed_rate: float = 0.0
    duplicate_user_events_rate: float = 0.0
    reorder_user_events: bool = False
    clock_skew_ms: int = 0
    #: futures ``POST /fapi/v1/leverage``: answer 200 with this leverage instead of the requested one
    #: (the account's leverage is left unchanged); None = off
    leverage_answer: int | None = None
    #: trades on the user streams (futures ORDER_TRADE_UPDATE x=TRADE, spot executionReport
    #: x=TRADE) are sent without their commission fields ``n``/``N``
    user_trades_without_fee: bool = False


@dataclass
class SimConfig:
    spot_symbols: list = field(default_factory=list)
    futures_symbols: list = field(default_factory=list)
    accounts: list = field(default_factory=list)
    maker_fee: str = "0.001"
    taker_fee: str = "0.001"
    futures_maker_fee: str = "0.0002"
    futures_taker_fee: str = "0.0005"
    seed: int = 0
    market_activity: bool = True
    #: agent actions per second per symbol, and relative mid-price volatility per sqrt(second)
    activity_rate: float = 20.0
    volatility: float = 0.0005
    #: resting levels per side in the initial book (≥ 1000 so depth limit=1000 is full)
    book_levels: int = 1200
    funding_interval_s: float = 8 * 3600
    host: str = "127.0.0.1"
    spot_port: int = 0
    futures_port: int = 0
    ws_lifetime_s: float = 24 * 3600
    ws_ping_interval_s: float = 20.0
    #: incoming frames per second a market-stream connection may send (Binance: 5, then it is
    #: disconnected); 0 = unlimited (default, so bursts of SUBSCRIBEs in tests are fine)
    ws_max_incoming_per_s: float = 0
    listen_key_ttl_s: float = 3600.0
    depth_interval_ms: int = 100
    #: closed orders and own trades kept per account (and symbol) for queries; older ones are
    #: forgotten (a long paper-trading run must not grow without bound)
    max_history: int = 200_000
    rate_limits: RateLimitConfig = field(default_factory=RateLimitConfig)
    faults: FaultConfig = field(default_factory=FaultConfig)

    def __post_init__(self):
        self.spot_symbols = [s if isinstance(s, SymbolConfig) else SymbolConfig(**s) for s in self.spot_symbols]
        self.futures_symbols = [s if isinstance(s, SymbolConfig) else SymbolConfig(**s) for s in self.futures_symbols]
        self.accounts = [a if isinstance(a, AccountConfig) else AccountConfig(**a) for a in self.accounts]
        if isinstance(self.rate_limits, dict):
            self.rate_limits = RateLimitConfig(**self.rate_limits)
        if isinstance(self.faults, dict):
            self.faults = FaultConfig(**self.faults)
        for f in ("maker_fee", "taker_fee", "futures_maker_fee", "futures_taker_fee"):
            setattr(self, f, _money(getattr(self, f), f))
        keys = [a.api_key for a in self.accounts]
        if len(keys) != len(set(keys)):
            raise ValueError("duplicate api_key in accounts")
        if self.book_levels < 1:
            raise ValueError("book_levels must be >= 1")

    @classmethod
    def default(cls, seed: int = 0, market_activity: bool = True, **overrides) -> "SimConfig":
        btc = dict(symbol="BTCUSDT", base_asset="BTC", quote_asset="USDT", tick_size="0.01",
                   step_size="0.00001", min_qty="0.00001", initial_price="60000")
        eth = dict(symbol="ETHUSDT", base_asset="ETH", quote_asset="USDT", tick_size="0.01",
                   step_size="0.0001", min_qty="0.0001", initial_price="3000")
        fbtc = dict(btc, step_size="0.001", min_qty="0.001", min_notional="100", tick_size="0.10",
                    options={"max_leverage": 125})
        feth = dict(eth, step_size="0.001", min_qty="0.001", min_notional="20",
                    options={"max_leverage": 100})
        cfg = dict(
            spot_symbols=[SymbolConfig(**btc), SymbolConfig(**eth)],
            futures_symbols=[SymbolConfig(**fbtc), SymbolConfig(**feth)],
            accounts=[AccountConfig(api_key="sim-key", api_secret="sim-secret",
                                    balances={"USDT": "1000000", "BTC": "100", "ETH": "1000"})],
            seed=seed, market_activity=market_activity,
        )
        cfg.update(overrides)
        return cls(**cfg)

    @classmethod
    def from_dict(cls, data: dict) -> "SimConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown config keys: {sorted(unknown)}")
        return cls(**data)

    @classmethod
    def from_file(cls, path: str) -> "SimConfig":
        """Load JSON; keys missing from the file take ``default()``'s symbols/accounts."""
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh, parse_float=lambda s: s)   # keep decimals exact: numbers stay text
        base = asdict(cls.default())
        base.update(data)
        return cls.from_dict(base)

    def to_dict(self) -> dict:
        return asdict(self)
