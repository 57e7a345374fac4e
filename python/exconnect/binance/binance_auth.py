"""Binance request signing (REST query/body HMAC and WS-API sorted-parameter HMAC).

Shared by the spot and USDⓈ-M connectors. The secret lives only inside the signer's prepared HMAC
state; ``repr`` shows a masked API key.
"""
from __future__ import annotations

import re
from typing import Any, Callable, Dict, Mapping
from urllib.parse import urlencode

from exconnect.connector.auth import HmacSha256Signer, mask_key

__all__ = ["BinanceAuth", "encode_params"]

_URL_SAFE = re.compile(r"[A-Za-z0-9._~-]*").fullmatch


def encode_params(params: Mapping[str, Any]) -> str:
    """``urlencode`` with a fast path: order parameters are almost always URL-safe already."""
    parts = []
    for k, v in params.items():
        text = v if type(v) is str else str(v)
        if _URL_SAFE(text) is None or _URL_SAFE(k) is None:
            return urlencode(params)
        parts.append(f"{k}={text}")
    return "&".join(parts)


class BinanceAuth:
    __slots__ = ("_api_key", "_signer", "_time_ms", "recv_window_ms")

    def __init__(self, api_key: str, secret_key: str, time_ms: Callable[[], int],
                 recv_window_ms: int | None = None) -> None:
        if not isinstance(api_key, str) or not api_key:
            raise ValueError("API key must be a non-empty string")
        self._api_key = api_key
        self._signer = HmacSha256Signer(secret_key)
        self._time_ms = time_ms
        self.recv_window_ms = recv_window_ms

    @property
    def api_key(self) -> str:
        return self._api_key

    def signed_query(self, params: Mapping[str, Any]) -> str:
        """``params`` + timestamp (+ recvWindow), url-encoded in order, then ``&signature=...`` last."""
        items = dict(params)
        if self.recv_window_ms is not None:
            items["recvWindow"] = self.recv_window_ms
        items["timestamp"] = self._time_ms()
        query = encode_params(items)
        return f"{query}&signature={self._signer.sign(query)}"

    def add_auth_to_params(self, params: Mapping[str, Any]) -> Dict[str, Any]:
        """Hummingbot-shaped helper: the params dict with timestamp and signature added."""
        items = dict(params)
        items["timestamp"] = self._time_ms()
        items["signature"] = self._signer.sign(urlencode(items))
        return items

    def header_for_authentication(self) -> Dict[str, str]:
        return {"X-MBX-APIKEY": self._api_key}

    def ws_signed_params(self, params: Mapping[str, Any] | None = None) -> Dict[str, Any]:
        """WS-API params: apiKey + timestamp (+ given), signature over the name-sorted ``k=v`` list."""
        items: Dict[str, Any] = dict(params or {})
        items["apiKey"] = self._api_key
        items["timestamp"] = self._time_ms()
        items["signature"] = self._signer.sign_sorted(items)
        return items

    def sign_ws_params(self, params: Mapping[str, Any]) -> str:
        return self._signer.sign_sorted(params)

    def __repr__(self) -> str:
        return f"BinanceAuth(api_key={mask_key(self._api_key)!r}, secret=<hidden>)"

    __str__ = __repr__
