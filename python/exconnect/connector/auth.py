"""HMAC-SHA256 request signing that keeps the secret out of logs, reprs and exceptions.

The secret is held only as a prepared HMAC object (``hmac.new(secret)``) — the raw text is not kept
on the instance at all, so ``repr``/``vars``/pickling/tracebacks cannot leak it. ``copy()`` of the
prepared object gives per-request HMACs without re-keying.
"""
from __future__ import annotations

import hashlib
import hmac
from typing import Any, Mapping
from urllib.parse import urlencode

__all__ = ["HmacSha256Signer", "mask_key"]


def mask_key(key: str) -> str:
    """``abcd…wxyz`` — enough to tell keys apart in logs, never the whole key."""
    if not key:
        return "<none>"
    if len(key) <= 8:
        return "****"
    return f"{key[:4]}…{key[-4:]}"


class HmacSha256Signer:
    __slots__ = ("_mac",)

    def __init__(self, secret: str) -> None:
        if not isinstance(secret, str) or not secret:
            raise ValueError("API secret must be a non-empty string")
        self._mac = hmac.new(secret.encode(), digestmod=hashlib.sha256)

    def sign(self, payload: str) -> str:
        """Hex HMAC-SHA256 of ``payload`` (UTF-8)."""
        mac = self._mac.copy()
        mac.update(payload.encode())
        return mac.hexdigest()

    def sign_query(self, params: Mapping[str, Any]) -> str:
        """Signature of the url-encoded ``params`` in insertion order (REST style)."""
        return self.sign(urlencode(params))

    def sign_sorted(self, params: Mapping[str, Any]) -> str:
        """Signature of ``k=v&...`` sorted by name, not percent-encoded (Binance WS-API style)."""
        return self.sign("&".join(f"{k}={params[k]}" for k in sorted(params)))

    def __repr__(self) -> str:
        return "HmacSha256Signer(secret=<hidden>)"

    def __reduce__(self):  # never serialise the key material
        raise TypeError("HmacSha256Signer cannot be pickled")
