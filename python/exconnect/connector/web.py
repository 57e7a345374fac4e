"""HTTP and WebSocket plumbing shared by connectors.

``RestClient`` owns the one aiohttp ``ClientSession`` of a connector, throttles every request and
turns each answer into exactly one of three outcomes, because for order placement they demand
different handling:

* success — the parsed JSON body;
* ``RequestRejected`` — the exchange definitely did not execute the request (4xx with an error
  body, 429/418, or the connection could not even be opened);
* ``UnknownOutcomeError`` — it may or may not have been executed (timeout, connection lost after
  sending, 5xx, or an error code the exchange documents as "status unknown"). Orders in this state
  stay tracked until the exchange says what happened.

Signed requests are signed by the caller over the exact query/body text; this module sends that
text byte for byte (``encoded=True``) so the signature always matches what goes on the wire.
"""
from __future__ import annotations

import asyncio
import logging
import random
from typing import Any, Callable, Dict, FrozenSet, Optional

import aiohttp
import orjson
from yarl import URL

from .throttler import AsyncThrottler

__all__ = [
    "ExchangeRequestError", "RequestRejected", "RateLimitedError", "UnknownOutcomeError",
    "RestClient", "ReconnectBackoff", "json_loads",
]

_log = logging.getLogger(__name__)
json_loads = orjson.loads


class ExchangeRequestError(IOError):
    """A REST request did not succeed. ``code``/``msg`` come from the exchange's error body."""

    def __init__(self, message: str, *, status: Optional[int] = None, code: Optional[int] = None,
                 msg: Optional[str] = None, url: str = "", body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.msg = msg
        self.url = url
        self.body = body


class RequestRejected(ExchangeRequestError):
    """Definitely not executed by the exchange."""


class RateLimitedError(RequestRejected):
    """HTTP 429 / 418: not executed; the throttler now pauses for ``retry_after`` seconds."""

    def __init__(self, message: str, *, retry_after: float, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class UnknownOutcomeError(ExchangeRequestError):
    """The request may or may not have been executed; only the exchange can tell later."""


class ReconnectBackoff:
    """Exponential back-off with full jitter for reconnect loops (avoids synchronized storms)."""

    def __init__(self, initial: float = 0.5, maximum: float = 30.0, factor: float = 2.0) -> None:
        self.initial, self.maximum, self.factor = initial, maximum, factor
        self._attempt = 0

    def next_delay(self) -> float:
        ceiling = min(self.maximum, self.initial * (self.factor ** self._attempt))
        self._attempt += 1
        return ceiling / 2 + random.random() * ceiling / 2

    def reset(self) -> None:
        self._attempt = 0

    @property
    def attempts(self) -> int:
        return self._attempt


def _strip_query(url: str) -> str:
    # Never put query strings (they carry signatures and keys) into errors or logs.
    return url.split("?", 1)[0]


class RestClient:
    """One shared ``aiohttp.ClientSession`` plus throttling and outcome classification.

    ``unknown_outcome_codes``: exchange error codes meaning "execution status unknown"
    (Binance -1007 TIMEOUT, -1006 UNEXPECTED_RESP).
    """

    def __init__(self, throttler: AsyncThrottler, *, timeout: float = 10.0,
                 unknown_outcome_codes: FrozenSet[int] = frozenset(),
                 on_response: Optional[Callable[[aiohttp.ClientResponse], None]] = None,
                 trace_configs: Optional[list] = None) -> None:
        self.throttler = throttler
        self.trace_configs = list(trace_configs or [])   # aiohttp tracing hooks (benchmarks, metrics)
        self.timeout = timeout
        self._unknown_codes = unknown_outcome_codes
        self._session: Optional[aiohttp.ClientSession] = None
        self._on_response = on_response

    async def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                json_serialize=lambda o: orjson.dumps(o).decode(),
                connector=aiohttp.TCPConnector(limit=100, ttl_dns_cache=300, enable_cleanup_closed=True),
                trace_configs=self.trace_configs or None,
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def request(self, method: str, url: str, *, query: str = "", body: Optional[str] = None,
                      headers: Optional[Dict[str, str]] = None, limit_id: Optional[str] = None,
                      timeout: Optional[float] = None) -> Any:
        """Send ``method url?query`` (``body`` form-encoded) and return the parsed JSON answer."""
        if limit_id is not None:
            await self.throttler.acquire(limit_id)
        session = await self.session()
        target = URL(f"{url}?{query}" if query else url, encoded=True)
        hdrs = dict(headers) if headers else {}
        if body is not None:
            hdrs.setdefault("Content-Type", "application/x-www-form-urlencoded")
        plain_url = _strip_query(url)
        try:
            async with session.request(method, target, data=body, headers=hdrs,
                                       timeout=aiohttp.ClientTimeout(total=timeout or self.timeout)) as resp:
                raw = await resp.read()
                status = resp.status
                if self._on_response is not None:
                    self._on_response(resp)
                retry_after_header = resp.headers.get("Retry-After")
        except asyncio.TimeoutError as e:
            raise UnknownOutcomeError(f"{method} {plain_url} timed out", url=plain_url) from e
        except aiohttp.ClientConnectorError as e:
            # The TCP connection could not be opened: nothing reached the exchange.
            raise RequestRejected(f"{method} {plain_url}: cannot connect ({e.__class__.__name__})",
                                  url=plain_url) from e
        except aiohttp.ClientError as e:
            raise UnknownOutcomeError(f"{method} {plain_url}: connection lost ({e.__class__.__name__}: {e})",
                                      url=plain_url) from e

        try:
            parsed = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            parsed = raw.decode(errors="replace")[:500]
        if 200 <= status < 300:
            if isinstance(parsed, str):
                raise UnknownOutcomeError(f"{method} {plain_url}: unparsable answer", status=status,
                                          url=plain_url, body=parsed)
            return parsed

        code = parsed.get("code") if isinstance(parsed, dict) else None
        msg = parsed.get("msg") if isinstance(parsed, dict) else (parsed if isinstance(parsed, str) else None)
        text = f"{method} {plain_url} failed: HTTP status is {status}. Error: {raw.decode(errors='replace')[:300]}"
        kw = dict(status=status, code=code, msg=msg, url=plain_url, body=parsed)
        if status in (429, 418):
            try:
                retry_after = float(retry_after_header) if retry_after_header else 60.0
            except ValueError:
                retry_after = 60.0
            self.throttler.backoff(retry_after)
            raise RateLimitedError(text, retry_after=retry_after, **kw)
        if status >= 500 or status == 408 or (code is not None and code in self._unknown_codes):
            raise UnknownOutcomeError(text, **kw)
        raise RequestRejected(text, **kw)
