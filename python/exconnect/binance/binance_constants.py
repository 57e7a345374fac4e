"""Binance spot: endpoints, rate limits, status mapping, error codes.

Base URLs are configuration (``BinanceUrls``): production, testnet, or a simulator on loopback go
through exactly the same code path.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional

from exconnect.connector.throttler import LinkedLimitWeightPair, RateLimit
from exconnect.types import OrderState

EXCHANGE_NAME = "binance"
DEFAULT_DOMAIN = "com"
BROKER_ID = "exc"             # client order id prefix (ours; not Hummingbot's broker id)
MAX_ORDER_ID_LEN = 36         # Binance newClientOrderId: ^[a-zA-Z0-9-_]{1,36}$

API_KEY_ENV = "EXCONNECT_BINANCE_API_KEY"
API_SECRET_ENV = "EXCONNECT_BINANCE_API_SECRET"

# REST paths
PING_PATH = "/api/v3/ping"
SERVER_TIME_PATH = "/api/v3/time"
EXCHANGE_INFO_PATH = "/api/v3/exchangeInfo"
SNAPSHOT_PATH = "/api/v3/depth"
TICKER_PRICE_CHANGE_PATH = "/api/v3/ticker/24hr"
ORDER_PATH = "/api/v3/order"
OPEN_ORDERS_PATH = "/api/v3/openOrders"
ACCOUNTS_PATH = "/api/v3/account"
MY_TRADES_PATH = "/api/v3/myTrades"

WS_STREAM_PATH = "/ws"
WS_API_PATH = "/ws-api/v3"

SNAPSHOT_LIMIT = 1000
RECV_WINDOW_MS = 5000
HEARTBEAT_S = 20.0

# executionReport / REST status -> our OrderState. EXPIRED gets our own state (IOC/MARKET
# leftovers, not a failure); Hummingbot maps it to FAILED.
ORDER_STATE = {
    "PENDING_NEW": OrderState.PENDING_CREATE,
    "NEW": OrderState.OPEN,
    "PARTIALLY_FILLED": OrderState.PARTIALLY_FILLED,
    "FILLED": OrderState.FILLED,
    "PENDING_CANCEL": OrderState.OPEN,
    "CANCELED": OrderState.CANCELED,
    "REJECTED": OrderState.FAILED,
    "EXPIRED": OrderState.EXPIRED,
    "EXPIRED_IN_MATCH": OrderState.EXPIRED,
}

# Error codes
ORDER_NOT_EXIST_ERROR_CODE = -2013
ORDER_NOT_EXIST_MESSAGE = "Order does not exist"
UNKNOWN_ORDER_ERROR_CODE = -2011
UNKNOWN_ORDER_MESSAGE = "Unknown order sent"
TIMESTAMP_ERROR_CODE = -1021
UNKNOWN_OUTCOME_CODES = frozenset({-1007, -1006})   # TIMEOUT / UNEXPECTED_RESP: status unknown

# Rate limits (exchangeInfo values override the pools at start-up)
REQUEST_WEIGHT = "REQUEST_WEIGHT"
ORDERS = "ORDERS"
ORDERS_24HR = "ORDERS_24HR"
RAW_REQUESTS = "RAW_REQUESTS"
ONE_MINUTE, ONE_SECOND, ONE_DAY = 60, 1, 86400


def _endpoint(path: str, weight: int, orders: bool = False) -> RateLimit:
    links = [LinkedLimitWeightPair(REQUEST_WEIGHT, weight), LinkedLimitWeightPair(RAW_REQUESTS, 1)]
    if orders:
        links += [LinkedLimitWeightPair(ORDERS, 1), LinkedLimitWeightPair(ORDERS_24HR, 1)]
    return RateLimit(path, limit=1_000_000, time_interval=ONE_MINUTE, weight=0, linked_limits=links)


RATE_LIMITS = [
    RateLimit(REQUEST_WEIGHT, limit=6000, time_interval=ONE_MINUTE),
    RateLimit(ORDERS, limit=100, time_interval=10 * ONE_SECOND),
    RateLimit(ORDERS_24HR, limit=200_000, time_interval=ONE_DAY),
    RateLimit(RAW_REQUESTS, limit=300_000, time_interval=5 * ONE_MINUTE),
    _endpoint(PING_PATH, 1),
    _endpoint(SERVER_TIME_PATH, 1),
    _endpoint(EXCHANGE_INFO_PATH, 20),
    _endpoint(SNAPSHOT_PATH, 50),
    _endpoint(TICKER_PRICE_CHANGE_PATH, 2),
    _endpoint(ORDER_PATH + ":POST", 1, orders=True),
    _endpoint(ORDER_PATH + ":DELETE", 1),
    _endpoint(ORDER_PATH + ":GET", 4),
    _endpoint(OPEN_ORDERS_PATH + ":DELETE", 1),
    _endpoint(OPEN_ORDERS_PATH + ":GET", 6),
    _endpoint(ACCOUNTS_PATH, 20),
    _endpoint(MY_TRADES_PATH, 20),
    _endpoint(WS_API_PATH, 2),
]

_INTERVAL_SECONDS = {"SECOND": 1, "MINUTE": 60, "HOUR": 3600, "DAY": 86400}


def interval_seconds(interval: str, num: int) -> int:
    return _INTERVAL_SECONDS[interval] * int(num)


@dataclass(frozen=True)
class BinanceUrls:
    """Where to talk to. ``rest``: https base without path; ``ws_stream``/``ws_api``: wss bases."""
    rest: str
    ws_stream: str
    ws_api: str

    @classmethod
    def production(cls, domain: str = DEFAULT_DOMAIN) -> "BinanceUrls":
        return cls(f"https://api.binance.{domain}", f"wss://stream.binance.{domain}:9443",
                   f"wss://ws-api.binance.{domain}:443")

    @classmethod
    def testnet(cls) -> "BinanceUrls":
        return cls("https://testnet.binance.vision", "wss://stream.testnet.binance.vision",
                   "wss://ws-api.testnet.binance.vision")

    @classmethod
    def from_base(cls, rest_url: str, ws_url: Optional[str] = None) -> "BinanceUrls":
        """One host serving REST, streams and WS API (our simulator: ``sim.spot_url``)."""
        rest_url = rest_url.rstrip("/")
        if ws_url is None:
            ws_url = "ws" + rest_url[4:] if rest_url.startswith("http") else rest_url
        ws_url = ws_url.rstrip("/")
        return cls(rest_url, ws_url, ws_url)

    @classmethod
    def from_env(cls) -> "BinanceUrls":
        """EXCONNECT_BINANCE_REST_URL (+ optional _WS_URL / _WS_API_URL), else production."""
        rest = os.environ.get("EXCONNECT_BINANCE_REST_URL")
        if not rest:
            return cls.production()
        ws = os.environ.get("EXCONNECT_BINANCE_WS_URL")
        urls = cls.from_base(rest, ws)
        api = os.environ.get("EXCONNECT_BINANCE_WS_API_URL")
        return cls(urls.rest, urls.ws_stream, api.rstrip("/") if api else urls.ws_api)

    def rest_url(self, path: str) -> str:
        return self.rest + path

    @property
    def stream_url(self) -> str:
        return self.ws_stream + WS_STREAM_PATH

    @property
    def api_url(self) -> str:
        return self.ws_api + WS_API_PATH
