"""Hummingbot's TradingRule with compiled fixed-point quantizers (see the module docstring)."""
from decimal import Decimal
from typing import Any, Dict, Optional, Union

Number = Union[Decimal, str, int]  # float is refused with TypeError

class TradingRule:
    trading_pair: str
    supports_limit_orders: bool
    supports_market_orders: bool
    buy_order_collateral_token: Optional[str]
    sell_order_collateral_token: Optional[str]
    # Decimal fields; setting one recompiles the rule (ValueError leaves it unchanged)
    min_order_size: Decimal
    max_order_size: Decimal
    min_price_increment: Decimal          # 0: no tick
    min_base_amount_increment: Decimal    # 0: no step
    min_quote_amount_increment: Decimal
    min_notional_size: Decimal
    min_order_value: Decimal
    max_price_significant_digits: Decimal
    # compiled state (read-only): fixed-point fast paths available, and their scales
    price_fast: bool
    size_fast: bool
    notional_fast: bool
    price_scale: int
    size_scale: int
    notional_scale: int

    def __init__(
        self,
        trading_pair: str,
        min_order_size: Number = ...,               # 0
        max_order_size: Number = ...,               # 1e56
        min_price_increment: Number = ...,          # 1e-56
        min_base_amount_increment: Number = ...,    # 1e-56
        min_quote_amount_increment: Number = ...,   # 1e-56
        min_notional_size: Number = ...,            # 0
        min_order_value: Number = ...,              # 0
        max_price_significant_digits: Number = ..., # 1e56 (unlimited)
        supports_limit_orders: bool = True,
        supports_market_orders: bool = True,
        buy_order_collateral_token: Optional[str] = None,   # default: quote token
        sell_order_collateral_token: Optional[str] = None,
    ) -> None: ...
    def quantize_order_price(self, price: Number) -> Decimal:
        """Floor to get_order_price_quantum(price). A Decimal already on the grid is returned as is;
        otherwise the result has the tick's exponent."""
    def quantize_order_amount(self, amount: Number, price: Optional[Number] = None) -> Decimal:
        """Floor to the step; 0 below min_order_size, or (price > 0) notional below
        max(min_notional_size, min_order_value). price None or 0: unknown, notional not checked.
        Negative amount or price: ValueError. A Decimal on the step grid that passes is returned as is."""
    def get_order_price_quantum(self, price: Optional[Number] = None) -> Decimal:
        """The tick; with max_price_significant_digits N and price > 0:
        lcm(tick, 10^(adjusted(price) + 1 - N))."""
    def get_order_size_quantum(self, size: Optional[Number] = None) -> Decimal: ...
    def check_order(self, price: Optional[Number], amount: Number, order_type: Any) -> Optional[str]:
        """None if the order passes every rule, else a human-readable reason.
        order_type: OrderType or its name ("MARKET", "LIMIT", "LIMIT_MAKER")."""
    def to_json(self) -> Dict[str, Any]: ...
    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> "TradingRule": ...
