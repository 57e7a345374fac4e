"""Spot WebSocket API ``/ws-api/v3``: session auth and user-data subscriptions.

Requests ``{"id", "method", "params"}`` → ``{"id", "status", "result", "rateLimits"}`` or
``{"id", "status", "error": {"code", "msg"}}``; methods may carry a ``v3/`` prefix.
Implemented: trading and market-data methods (``order.place``, ``order.cancel``, ``order.status``,
``openOrders.status``, ``openOrders.cancelAll``, ``allOrders``, ``account.status``, ``myTrades``,
``depth``, ``exchangeInfo``, ``ticker.*``, ``trades.*``, ``klines``, ``avgPrice``) through the same
handlers as REST; ``ping``, ``time``, ``session.logon`` / ``session.status`` / ``session.logout``,
``userDataStream.subscribe`` (after logon), ``userDataStream.subscribe.signature``,
``userDataStream.unsubscribe``, ``session.subscriptions``, and legacy
``userDataStream.start/ping/stop`` (listen keys).

Events for a subscription arrive as ``{"subscriptionId": N, "event": {...}}``; unsubscribing sends
``eventStreamTerminated``. Deviation: ``session.logon`` accepts HMAC signatures (Binance requires an
Ed25519 key); the simulator has HMAC keys only.
"""
from __future__ import annotations

import asyncio
import itertools
import logging

import orjson
from aiohttp import WSMsgType, web

from . import auth, errors
from .rest import RestCall
from .stream_hub import WsConnection

log = logging.getLogger(__name__)
WEIGHT = 2


class WsApiSession:
    """A WebSocket-API connection's logon state (spot and futures ports); see :func:`session_method`."""
    connected_since: int | None = None           # the futures port answers connectedSince: null

    def __init__(self) -> None:
        self.key: auth.ApiKey | None = None
        self.authorized_since: int | None = None

    def status(self, now_ms: int) -> dict:
        """The ``session.status`` result (also the answer to ``session.logon`` / ``session.logout``)."""
        return {"apiKey": self.key.api_key if self.key else None, "authorizedSince": self.authorized_since,
                "connectedSince": self.connected_since, "returnRateLimits": True, "serverTime": now_ms}


def session_method(s: WsApiSession, method: str, params: dict, sim) -> dict | None:
    """``ping``, ``time``, ``session.logon`` / ``session.status`` / ``session.logout`` as both ports
    answer them; None for any other method."""
    clock = sim.clock
    if method == "ping":
        return {}
    if method == "time":
        return {"serverTime": clock.now_ms()}
    if method == "session.logon":
        s.key = auth.verify_ws(sim.keys, params, clock)
        s.authorized_since = clock.now_ms()
    elif method == "session.logout":
        s.key = s.authorized_since = None
    elif method != "session.status":
        return None
    return s.status(clock.now_ms())


class _Session(WsApiSession):
    def __init__(self, conn: WsConnection, connected_ms: int):
        super().__init__()
        self.conn = conn
        self.connected_since = connected_ms
        self.subs: dict[int, int] = {}           # subscription id → account id
        self.sub_ids = itertools.count(0)

    def status(self, now_ms: int) -> dict:
        return {**super().status(now_ms), "userDataStream": bool(self.subs)}


def add_routes(sim, venue) -> None:
    limiter = sim.spot_rest.limiter
    clock = sim.clock
    us = venue.user_streams

    def rate_limits(ip: str) -> list:
        return weight_rate_limits(limiter, ip)

    def subscribe(s: _Session, account_id: int) -> dict:
        if account_id in s.subs.values():
            raise errors.BinanceError(-2035, "User Data Stream subscription already active.")
        sid = next(s.sub_ids)
        s.subs[sid] = account_id
        us.add_api_subscription(account_id, s.conn, sid)
        return {"subscriptionId": sid}

    def unsubscribe(s: _Session, sid: int | None) -> dict:
        if sid is not None and sid not in s.subs:
            raise errors.BinanceError(-2036, "User Data Stream subscription not active.")
        ids = [sid] if sid is not None else list(s.subs)
        for i in ids:
            us.remove_api_subscription(s.conn, i)
            del s.subs[i]
            # after the response frame (queued synchronously once dispatch returns)
            asyncio.get_running_loop().call_soon(s.conn.send_json, {
                "subscriptionId": i, "event": {"e": "eventStreamTerminated", "E": clock.now_ms()}})
        return {}

    def dispatch(s: _Session, method: str, params: dict):
        result = session_method(s, method, params, sim)
        if result is not None:
            return result
        if method == "userDataStream.subscribe":
            if s.key is None:
                raise errors.BinanceError(-2015, errors.INVALID_KEY, 401)
            return subscribe(s, s.key.account_id)
        if method == "userDataStream.subscribe.signature":
            key = auth.verify_ws(sim.keys, params, clock)
            return subscribe(s, key.account_id)
        if method == "userDataStream.unsubscribe":
            sid = params.get("subscriptionId")
            if sid is not None and not isinstance(sid, int):
                raise errors.mandatory("subscriptionId")
            return unsubscribe(s, sid)
        if method == "session.subscriptions":
            return [{"subscriptionId": i} for i in sorted(s.subs)]
        if method in ("userDataStream.start", "userDataStream.ping", "userDataStream.stop"):
            key = sim.keys.lookup(params.get("apiKey") or (s.key.api_key if s.key else None))
            if method == "userDataStream.start":
                return {"listenKey": us.create_listen_key(key.account_id)}
            if method == "userDataStream.ping":
                us.keepalive(params.get("listenKey"), key.account_id)
            else:
                us.close_listen_key(params.get("listenKey"), key.account_id)
            return {}
        raise errors.BinanceError(-1020, f"Unsupported method '{method}'.")

    async def call_rest_method(s: _Session, method: str, params: dict, request, ip: str):
        """Trading/market-data methods reuse the REST handlers (same validation, same answers)."""
        handler, signed = venue.ws_api_methods[method]
        call = rest_call(request, params, ip, clock)
        if signed:
            call.key = signed_key(sim, limiter, method, params, s.key)
        return await handler(call)

    async def run(s: _Session, method: str, params: dict, request, ip: str):
        if method.startswith("v3/"):
            method = method[3:]
        if method in venue.ws_api_methods:
            return await call_rest_method(s, method, params, request, ip)
        return dispatch(s, method, params)

    async def handler(request: web.Request) -> web.StreamResponse:
        return await serve_ws_api(
            request, sim, venue.hub, limiter, WEIGHT, lambda conn: _Session(conn, clock.now_ms()), run,
            rate_limits, on_close=us.remove_api_subscription)

    sim.spot_app.router.add_get("/ws-api/v3", handler)


async def serve_ws_api(request: web.Request, sim, hub, limiter, weight: int, new_session, run, rate_limits,
                       on_close=None) -> web.StreamResponse:
    """One WebSocket-API connection (spot ``/ws-api/v3`` and futures ``/ws-fapi/v1``): every text
    frame is logged (``sim.ws_log``), parsed as ``{"id", "method", "params"}`` (-1100 / mandatory
    ``method`` otherwise), charged ``weight`` and answered with ``await run(session, method, params,
    request, ip)`` as ``{"id", "status": 200, "result", "rateLimits"}``, or the BinanceError it
    raises as ``{"id", "status", "error", "rateLimits"}``; anything else is -1000/500 and logged.
    ``new_session(conn)`` makes the per-connection state; ``on_close(conn)`` runs at the end."""
    clock = sim.clock
    ws = web.WebSocketResponse(heartbeat=sim.config.ws_ping_interval_s, max_msg_size=1 << 20)
    await ws.prepare(request)
    conn = WsConnection(ws, request, combined=False, kind="api")
    conn.start()
    hub.register(conn)
    session = new_session(conn)
    ip = request.remote or "?"
    lifetime = asyncio.get_running_loop().call_later(
        sim.config.ws_lifetime_s, lambda: asyncio.ensure_future(conn.close(1000, b"connection lifetime reached")))
    try:
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                if msg.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                    break
                continue
            rid = None
            sim.ws_log.append({"time": clock.now_ms(), "path": request.path, "data": msg.data})
            try:
                try:
                    req = orjson.loads(msg.data)
                except orjson.JSONDecodeError:
                    raise errors.BinanceError(-1100, "Malformed request: invalid JSON.")
                if not isinstance(req, dict):
                    raise errors.BinanceError(-1100, "Malformed request: expected a JSON object.")
                rid = req.get("id")
                method = req.get("method")
                params = req.get("params") or {}
                if not isinstance(method, str) or not method:
                    raise errors.mandatory("method")
                if not isinstance(params, dict):
                    raise errors.BinanceError(-1100, "Malformed request: 'params' must be an object.")
                limiter.charge(ip, weight)
                result = await run(session, method, params, request, ip)
                conn.send_json({"id": rid, "status": 200, "result": result, "rateLimits": rate_limits(ip)})
            except errors.BinanceError as exc:
                conn.send_json({"id": rid, "status": exc.status, "error": exc.body(), "rateLimits": rate_limits(ip)})
            except Exception:
                log.exception("ws-api request failed (%s)", request.path)
                conn.send_json({"id": rid, "status": 500, "error": errors.unknown().body()})
    finally:
        lifetime.cancel()
        if on_close is not None:
            on_close(conn)
        hub.unregister(conn)
    return ws


def weight_rate_limits(limiter, ip: str) -> list:
    """The ``rateLimits`` of a WebSocket-API answer: the IP's request weight this minute."""
    return [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
             "limit": limiter.cfg.weight_per_minute, "count": limiter.used_weight(ip)}]


def ws_param_text(v) -> str:
    """A JSON parameter as REST text (booleans as clients print them: "true"/"false")."""
    return ("true" if v else "false") if isinstance(v, bool) else str(v)


def rest_call(request, params: dict, ip: str, clock) -> RestCall:
    """A WebSocket-API call as the REST handlers take it."""
    return RestCall(request, {k: ws_param_text(v) for k, v in params.items() if v is not None}, ip, clock.now_ms())


def signed_key(sim, limiter, method: str, params: dict, session_key):
    """The account of a signed WebSocket-API call: its own signature, else the logged-on session
    (timestamp/recvWindow still checked), else -1102 apiKey; ``order.place`` counts an order."""
    if "signature" in params:
        key = auth.verify_ws(sim.keys, params, sim.clock)
    elif session_key is not None:
        auth.check_timestamp({k: ws_param_text(params[k]) for k in ("timestamp", "recvWindow") if k in params},
                             sim.clock)
        key = session_key
    else:
        raise errors.mandatory("apiKey")
    if method == "order.place":
        limiter.charge_order(key.account_id)
    return key
