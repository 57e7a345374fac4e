"""API keys and HMAC-SHA256 request signing, exactly as Binance checks them.

HMAC only: RSA and Ed25519 keys are not simulated (``session.logon`` therefore accepts HMAC
signatures too, which real Binance refuses; noted in README).

REST: payload = raw query string + raw body, as received (no re-encoding, no re-ordering), with the
``signature=...`` pair removed from whichever part carries it. WebSocket API: params except
``signature`` sorted by name, joined ``k=v&...`` without percent-encoding.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from . import errors
from .clock import Clock

_KEY_FORMAT = re.compile(r"^[A-Za-z0-9_\-]{1,128}$")
_RECV_WINDOW = re.compile(r"^[0-9]{1,20}(\.[0-9]{1,3})?$")
MAX_RECV_WINDOW_MS = 60000
DEFAULT_RECV_WINDOW_MS = 5000


@dataclass
class ApiKey:
    api_key: str
    api_secret: str
    account_id: int


class KeyRegistry:
    """api_key → ApiKey; one account per key pair (``account_id`` is its index in the config)."""

    def __init__(self, accounts):
        self._by_key = {a.api_key: ApiKey(a.api_key, a.api_secret, i) for i, a in enumerate(accounts)}

    def lookup(self, api_key: str | None) -> ApiKey:
        """The key's record, or -2014 (malformed) / -2015 (missing or unknown), HTTP 401."""
        if not api_key:
            raise errors.bad_api_key()
        if not _KEY_FORMAT.match(api_key):
            raise errors.bad_api_key(fmt=True)
        found = self._by_key.get(api_key)
        if found is None:
            raise errors.bad_api_key()
        return found

    def __iter__(self):
        return iter(self._by_key.values())


def sign(secret: str, payload: str | bytes) -> str:
    if isinstance(payload, str):
        payload = payload.encode()
    return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def _strip_signature(raw: bytes) -> tuple[bytes, bytes | None]:
    """Remove the ``signature=`` pair from a raw urlencoded part → (rest, signature or None)."""
    if b"signature=" not in raw:
        return raw, None
    kept, sig = [], None
    for pair in raw.split(b"&"):
        if pair.startswith(b"signature="):
            sig = pair[len(b"signature="):]
        else:
            kept.append(pair)
    return b"&".join(kept), sig


def rest_payload(raw_query: bytes, raw_body: bytes) -> tuple[bytes, bytes | None]:
    """The signed payload and the signature found, from the request exactly as received."""
    q, sig_q = _strip_signature(raw_query)
    b, sig_b = _strip_signature(raw_body)
    return q + b, sig_q if sig_q is not None else sig_b


def check_timestamp(params: dict, clock: Clock) -> None:
    """Binance's rule: ``timestamp < server + 1000`` and ``server - timestamp <= recvWindow``."""
    ts_text = params.get("timestamp")
    if ts_text is None or ts_text == "":
        raise errors.mandatory("timestamp")
    try:
        ts = int(ts_text)
        if ts < 0:
            raise ValueError(ts_text)
    except (TypeError, ValueError):
        raise errors.BinanceError(-1100, "Illegal characters found in parameter 'timestamp'; legal range is '^[0-9]{1,20}$'.")
    if ts > 10**14:            # microseconds accepted too
        ts //= 1000
    window = DEFAULT_RECV_WINDOW_MS
    rw = params.get("recvWindow")
    if rw is not None:
        # a duration in ms with up to 3 decimals (µs); a strict pattern keeps out nan/inf/1e9
        if not _RECV_WINDOW.match(str(rw)):
            raise errors.BinanceError(-1100, "Illegal characters found in parameter 'recvWindow'; legal range is '^[0-9]{1,20}(\\.[0-9]{1,3})?$'.")
        window = float(rw)
        if window > MAX_RECV_WINDOW_MS or window < 0:
            raise errors.BinanceError(-1131, "recvWindow must be less than 60000")
    now = clock.now_ms()
    if ts >= now + 1000:
        raise errors.timestamp_ahead()
    if now - ts > window:
        raise errors.timestamp_outside()


def verify_rest(key: ApiKey, raw_query: bytes, raw_body: bytes, params: dict, clock: Clock) -> None:
    """Signature then timestamp checks for a SIGNED REST call; raises BinanceError."""
    payload, sig = rest_payload(raw_query, raw_body)
    if not sig:
        raise errors.mandatory("signature")
    if "timestamp" not in params:
        raise errors.mandatory("timestamp")
    expected = sign(key.api_secret, payload)
    if not hmac.compare_digest(expected.encode(), sig.lower()):   # bytes: any junk compares, no crash
        raise errors.bad_signature()
    check_timestamp(params, clock)


def _ws_value(v) -> str:
    # Clients sign the JSON text of each value: booleans are "true"/"false", not Python's True/False.
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def ws_payload(params: dict) -> str:
    return "&".join(f"{k}={_ws_value(params[k])}" for k in sorted(params) if k != "signature")


def verify_ws(registry: KeyRegistry, params: dict, clock: Clock) -> ApiKey:
    """WebSocket API signed request (``apiKey``, ``timestamp``, ``signature`` in params)."""
    for name in ("apiKey", "timestamp", "signature"):
        if params.get(name) in (None, ""):
            raise errors.mandatory(name)
    key = registry.lookup(str(params["apiKey"]))
    expected = sign(key.api_secret, ws_payload(params))
    if not hmac.compare_digest(expected.encode(), str(params["signature"]).lower().encode("utf-8", "replace")):
        raise errors.bad_signature()
    check_timestamp({k: str(v) for k, v in params.items() if k in ("timestamp", "recvWindow")}, clock)
    return key
