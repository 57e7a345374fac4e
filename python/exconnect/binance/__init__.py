"""Binance spot connector."""
from .binance_exchange import BinanceExchange

__all__ = ["BinanceExchange"]
