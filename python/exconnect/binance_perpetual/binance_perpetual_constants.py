"""Binance USDⓈ-M futures: endpoints, rate limits, error codes.

Base URLs are configuration (``BinancePerpetualUrls``): production, testnet, or the simulator's
futures port go through exactly the same code path.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional

from exconnect.connector.throttler import LinkedLimitWeightPair, RateLimit
from exconnect.types import OrderState

EXCHANGE_NAME = "binance_perpetual"
DEFAULT_DOMAIN = "com"
BROKER_ID = "excp"
MAX_ORDER_ID_LEN = 36

API_KEY_ENV = "EXCONNECT_BINANCE_API_KEY"
API_SECRET_ENV = "EXCONNECT_BINANCE_API_SECRET"
REST_URL_ENV = "EXCONNECT_BINANCE_PERPETUAL_REST_URL"
WS_URL_ENV = "EXCONNECT_BINANCE_PERPETUAL_WS_URL"

# REST paths
PING_PATH = "/fapi/v1/ping"
SERVER_TIME_PATH = "/fapi/v1/time"
EXCHANGE_INFO_PATH = "/fapi/v1/exchangeInfo"
SNAPSHOT_PATH = "/fapi/v1/depth"
TICKER_PRICE_CHANGE_PATH = "/fapi/v1/ticker/24hr"
PREMIUM_INDEX_PATH = "/fapi/v1/premiumIndex"
FUNDING_RATE_PATH = "/fapi/v1/fundingRate"
ORDER_PATH = "/fapi/v1/order"
OPEN_ORDERS_PATH = "/fapi/v1/openOrders"
CANCEL_ALL_PATH = "/fapi/v1/allOpenOrders"
USER_TRADES_PATH = "/fapi/v1/userTrades"
LEVERAGE_PATH = "/fapi/v1/leverage"
LEVERAGE_BRACKET_PATH = "/fapi/v1/leverageBracket"
POSITION_MODE_PATH = "/fapi/v1/positionSide/dual"
INCOME_PATH = "/fapi/v1/income"
ACCOUNT_PATH = "/fapi/v2/account"
BALANCE_PATH = "/fapi/v2/balance"
POSITION_RISK_PATH = "/fapi/v2/positionRisk"
LISTEN_KEY_PATH = "/fapi/v1/listenKey"

# WebSocket routes (mandatory on production since 2026-04-23: an unrouted /ws only carries /public
# streams, and /ws/<listenKey> is gone): depth on /public, aggTrade + markPrice on /market, user
# data on /private.
WS_PUBLIC_PATH = "/public/ws"
WS_MARKET_PATH = "/market/ws"
WS_PRIVATE_PATH = "/private/ws"

SNAPSHOT_LIMIT = 1000
HEARTBEAT_S = 20.0
LISTEN_KEY_KEEPALIVE_S = 30 * 60.0     # Binance expires a key after 60 min without keepalive
FUNDING_FEE_POLL_INTERVAL_S = 600.0    # income poll cadence (also triggered by FUNDING_FEE events)

# Order status -> OrderState. EXPIRED is ours (IOC/GTX leftovers, not a failure); insurance-fund
# and ADL orders are live until they finish.
ORDER_STATE = {
    "NEW": OrderState.OPEN, "PARTIALLY_FILLED": OrderState.PARTIALLY_FILLED, "FILLED": OrderState.FILLED,
    "CANCELED": OrderState.CANCELED, "REJECTED": OrderState.FAILED, "EXPIRED": OrderState.EXPIRED,
    "EXPIRED_IN_MATCH": OrderState.EXPIRED, "NEW_INSURANCE": OrderState.OPEN, "NEW_ADL": OrderState.OPEN,
}

PERPETUAL_CONTRACT_TYPES = frozenset({"PERPETUAL", "TRADIFI_PERPETUAL"})

# Error codes
ORDER_NOT_EXIST_ERROR_CODE = -2013
UNKNOWN_ORDER_ERROR_CODE = -2011
TIMESTAMP_ERROR_CODE = -1021
LISTEN_KEY_NOT_EXIST_CODE = -1125
NO_NEED_TO_CHANGE_POSITION_SIDE = -4059
POSITION_SIDE_NOT_MATCH = -4061
UNKNOWN_OUTCOME_CODES = frozenset({-1007, -1006})
SYSTEM_THROTTLED = -1008
BAD_SYMBOL_ERROR_CODE = -1121          # "Invalid symbol."
DEFINITE_503_MESSAGES = ("Service Unavailable", "Internal error; unable to process your request")

# Rate limits: futures publishes two order-count windows (10 s and 1 min) and one weight pool.
REQUEST_WEIGHT = "REQUEST_WEIGHT"
ORDERS_10S = "ORDERS_10S"
ORDERS_1MIN = "ORDERS_1MIN"
ONE_SECOND, ONE_MINUTE = 1, 60


def _endpoint(path: str, weight: int, orders: bool = False) -> RateLimit:
    links = [LinkedLimitWeightPair(REQUEST_WEIGHT, weight)]
    if orders:
        links += [LinkedLimitWeightPair(ORDERS_10S, 1), LinkedLimitWeightPair(ORDERS_1MIN, 1)]
    return RateLimit(path, limit=1_000_000, time_interval=ONE_MINUTE, weight=0, linked_limits=links)


RATE_LIMITS = [
    RateLimit(REQUEST_WEIGHT, limit=2400, time_interval=ONE_MINUTE),
    RateLimit(ORDERS_10S, limit=300, time_interval=10 * ONE_SECOND),
    RateLimit(ORDERS_1MIN, limit=1200, time_interval=ONE_MINUTE),
    _endpoint(PING_PATH, 1),
    _endpoint(SERVER_TIME_PATH, 1),
    _endpoint(EXCHANGE_INFO_PATH, 1),
    _endpoint(SNAPSHOT_PATH, 20),            # limit=1000
    _endpoint(TICKER_PRICE_CHANGE_PATH, 1),
    _endpoint(PREMIUM_INDEX_PATH, 1),
    _endpoint(FUNDING_RATE_PATH, 1),
    # order endpoints are split by verb: only POST counts against the order pools
    _endpoint(ORDER_PATH + ":POST", 1, orders=True),
    _endpoint(ORDER_PATH + ":DELETE", 1),
    _endpoint(ORDER_PATH + ":GET", 1),
    _endpoint(OPEN_ORDERS_PATH, 1),
    _endpoint(CANCEL_ALL_PATH, 1),
    _endpoint(USER_TRADES_PATH, 5),
    _endpoint(LEVERAGE_PATH, 1),
    _endpoint(LEVERAGE_BRACKET_PATH, 1),
    _endpoint(POSITION_MODE_PATH + ":GET", 30),
    _endpoint(POSITION_MODE_PATH + ":POST", 1),
    _endpoint(INCOME_PATH, 30),
    _endpoint(ACCOUNT_PATH, 5),
    _endpoint(BALANCE_PATH, 5),
    _endpoint(POSITION_RISK_PATH, 5),
    _endpoint(LISTEN_KEY_PATH, 1),
]

_INTERVAL_SECONDS = {"SECOND": 1, "MINUTE": 60, "HOUR": 3600, "DAY": 86400}


def interval_seconds(interval: str, num: int) -> int:
    return _INTERVAL_SECONDS[interval] * int(num)


@dataclass(frozen=True)
class BinancePerpetualUrls:
    """``rest``: https base without path; ``ws_stream``: wss base without route (routes are added)."""
    rest: str
    ws_stream: str

    @classmethod
    def production(cls, domain: str = DEFAULT_DOMAIN) -> "BinancePerpetualUrls":
        return cls(f"https://fapi.binance.{domain}", f"wss://fstream.binance.{domain}")

    @classmethod
    def testnet(cls) -> "BinancePerpetualUrls":
        return cls("https://testnet.binancefuture.com", "wss://stream.binancefuture.com")

    @classmethod
    def from_base(cls, rest_url: str, ws_url: Optional[str] = None) -> "BinancePerpetualUrls":
        """One host serving REST and streams (the simulator: ``sim.futures_url``)."""
        rest_url = rest_url.rstrip("/")
        if ws_url is None:
            ws_url = "ws" + rest_url[4:] if rest_url.startswith("http") else rest_url
        return cls(rest_url, ws_url.rstrip("/"))

    @classmethod
    def from_env(cls) -> "BinancePerpetualUrls":
        rest = os.environ.get(REST_URL_ENV)
        return cls.from_base(rest, os.environ.get(WS_URL_ENV)) if rest else cls.production()

    def rest_url(self, path: str) -> str:
        return self.rest + path

    @property
    def public_stream_url(self) -> str:
        return self.ws_stream + WS_PUBLIC_PATH

    @property
    def market_stream_url(self) -> str:
        return self.ws_stream + WS_MARKET_PATH

    def user_stream_url(self, listen_key: str) -> str:
        return f"{self.ws_stream}{WS_PRIVATE_PATH}?listenKey={listen_key}"
