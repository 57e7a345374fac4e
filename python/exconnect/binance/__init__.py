"""Binance spot connector."""
from .binance_constants import BinanceUrls
from .binance_exchange import BinanceExchange

__all__ = ["BinanceExchange", "BinanceUrls"]
