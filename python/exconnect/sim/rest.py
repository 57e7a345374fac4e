"""REST plumbing shared by the spot and futures venues: routing, params, auth, weights, faults.

A venue registers handlers with :meth:`RestApi.route`; every request then goes through the same
pipeline, in Binance's order:

1. recorded in ``sim.request_log`` (tests read back exactly what a client sent);
2. REST faults (``sim.faults``): never answer / 5xx / delay;
3. params parsed from the raw query string and the form body (any verb; the query wins when a
   name is in both; a name twice in one part → -1101);
4. request weight charged to the client IP (429 / 418 past the limits);
5. security: ``NONE``, ``USER_STREAM`` (API key), ``SIGNED`` (key + HMAC + timestamp);
6. order count charged for ``order=True`` routes (-1015);
7. the handler: ``async def handler(call: RestCall) -> JSON-able``; it raises
   :class:`~exconnect.sim.errors.BinanceError` for Binance errors. Any other exception becomes
   -1000 (HTTP 500) and is logged: bad input never takes the server down.

Responses carry ``x-mbx-used-weight`` / ``x-mbx-used-weight-1m`` and, for order routes,
``x-mbx-order-count-10s`` and ``x-mbx-order-count-1d`` (spot) / ``x-mbx-order-count-1m`` (futures).
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Awaitable, Callable
from urllib.parse import unquote_plus

import orjson
from aiohttp import web

from . import auth, errors
from .rate_limit import RateLimiter

log = logging.getLogger(__name__)

NONE, USER_STREAM, SIGNED = "NONE", "USER_STREAM", "SIGNED"


def parse_urlencoded(raw: bytes, part: str) -> dict[str, str]:
    """Strict-enough form parser: duplicate names → -1101, undecodable bytes → -1100."""
    out: dict[str, str] = {}
    if not raw:
        return out
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise errors.BinanceError(-1100, f"Illegal characters found in the {part}.")
    for pair in text.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        try:
            name = unquote_plus(name, errors="strict")
            value = unquote_plus(value, errors="strict")
        except UnicodeDecodeError:
            raise errors.BinanceError(-1100, f"Illegal characters found in the {part}.")
        if name in out:
            raise errors.BinanceError(-1101, "Duplicate values for a parameter detected.")
        out[name] = value
    return out


def json_response(obj: Any, status: int = 200, headers: dict | None = None) -> web.Response:
    return web.Response(body=orjson.dumps(obj), status=status, headers=headers,
                        content_type="application/json")


class RestCall:
    """One request as a handler sees it."""

    __slots__ = ("request", "params", "key", "ip", "headers", "received_ms")

    def __init__(self, request: web.Request, params: dict, ip: str, received_ms: int):
        self.request = request
        self.params = params
        self.key: auth.ApiKey | None = None
        self.ip = ip
        self.headers: dict[str, str] = {}
        self.received_ms = received_ms

    @property
    def account_id(self) -> int:
        assert self.key is not None, "account_id on an unauthenticated route"
        return self.key.account_id

    def get(self, name: str, default: str | None = None) -> str | None:
        v = self.params.get(name)
        return default if v is None or v == "" else v

    def require(self, name: str) -> str:
        v = self.params.get(name)
        if v is None or v == "":
            raise errors.mandatory(name)
        return v

    def get_int(self, name: str, default: int | None = None, lo: int | None = None,
                hi: int | None = None) -> int | None:
        v = self.get(name)
        if v is None:
            return default
        try:
            n = int(v)
        except ValueError:
            raise errors.BinanceError(-1100, f"Illegal characters found in parameter '{name}'; legal range is '^[0-9]{{1,20}}$'.")
        if (lo is not None and n < lo) or (hi is not None and n > hi) or abs(n) > 2**63 - 1:
            raise errors.BinanceError(-1100 if n < 0 else -1130, f"Data sent for parameter '{name}' is not valid.")
        return n

    def get_bool(self, name: str, default: bool = False) -> bool:
        v = self.get(name)
        if v is None:
            return default
        if v.lower() in ("true", "false"):
            return v.lower() == "true"
        raise errors.BinanceError(-1100, f"Illegal characters found in parameter '{name}'; legal range is 'true|false'.")


Weight = int | Callable[[dict], int]
Handler = Callable[[RestCall], Awaitable[Any]]


class RestApi:
    """Routes of one port (aiohttp Application) with the shared request pipeline."""

    def __init__(self, sim, app: web.Application, limiter: RateLimiter):
        self.sim = sim
        self.app = app
        self.limiter = limiter

    def route(self, method: str, path: str, handler: Handler, *, weight: Weight = 1,
              security: str = NONE, order: bool = False, weight_on_success: int | None = None,
              limiter: RateLimiter | None = None) -> None:
        """Register ``handler``; ``weight_on_success`` (e.g. 0 for orders) replaces the weight if
        the call succeeds; ``limiter`` overrides the port's limiter (futures routes on the spot port)."""
        lim = limiter or self.limiter
        sim = self.sim

        async def endpoint(request: web.Request) -> web.StreamResponse:
            received_ms = sim.clock.now_ms()
            ip = request.remote or "?"
            try:
                raw_query = request.raw_path.partition("?")[2].encode("latin-1", "replace")
            except Exception:
                raw_query = b""
            raw_body = await request.read() if request.can_read_body else b""
            entry = {"time": received_ms, "method": request.method, "path": request.path,
                     "query": raw_query.decode("latin-1"), "body": raw_body.decode("latin-1"),
                     "api_key": request.headers.get("X-MBX-APIKEY"), "headers": dict(request.headers)}
            sim.request_log.append(entry)
            fault = sim.faults.rest_fault(request.path, request.method)
            if fault == "timeout":
                await sim.stopping.wait()      # never answer (until the simulator stops)
                return json_response(errors.unknown().body(), 503)
            if fault == "error":
                return json_response(sim.faults.rest_error_body, sim.faults.rest_error_status)
            if sim.faults.rest_delay_ms:
                await asyncio.sleep(sim.faults.rest_delay_ms / 1000)
            headers: dict[str, str] = {}
            charged = 0
            try:
                body_params = parse_urlencoded(raw_body, "body") if raw_body else {}
                params = parse_urlencoded(raw_query, "query string")
                if body_params:
                    merged = dict(body_params)
                    merged.update(params)
                    params = merged
                entry["params"] = params
                call = RestCall(request, params, ip, received_ms)
                charged = weight(params) if callable(weight) else weight
                used = lim.charge(ip, charged)
                headers["x-mbx-used-weight"] = headers["x-mbx-used-weight-1m"] = str(used)
                if security != NONE:
                    call.key = sim.keys.lookup(request.headers.get("X-MBX-APIKEY"))
                    if security == SIGNED:
                        auth.verify_rest(call.key, raw_query, raw_body, params, sim.clock)
                if order:
                    counts = lim.charge_order(call.key.account_id)
                    for name, count in zip(lim.order_count_headers, counts):
                        headers[name] = str(count)
                result = await handler(call)
                if weight_on_success is not None and charged != weight_on_success:
                    lim.refund(ip, charged - weight_on_success)
                    headers["x-mbx-used-weight"] = headers["x-mbx-used-weight-1m"] = str(lim.used_weight(ip))
                headers.update(call.headers)
                if sim.faults.response_delay_ms and (not sim.faults.rest_fault_path
                                                     or sim.faults.rest_fault_path in request.path):
                    await asyncio.sleep(sim.faults.response_delay_ms / 1000)
                if isinstance(result, web.StreamResponse):
                    return result
                return json_response(result, 200, headers)
            except errors.BinanceError as exc:
                headers.update(exc.headers)
                if "x-mbx-used-weight" not in headers:
                    used = lim.used_weight(ip)
                    headers["x-mbx-used-weight"] = headers["x-mbx-used-weight-1m"] = str(used)
                return json_response(exc.body(), exc.status, headers)
            except Exception:
                log.exception("unexpected error in %s %s", request.method, request.path)
                return json_response(errors.unknown().body(), 500, headers)

        endpoint.__name__ = f"{method} {path}"
        self.app.router.add_route(method, path, endpoint)
