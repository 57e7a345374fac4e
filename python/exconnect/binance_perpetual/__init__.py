"""Binance USDⓈ-M perpetual futures connector."""
from .binance_perpetual_derivative import BinancePerpetualDerivative

__all__ = ["BinancePerpetualDerivative"]
