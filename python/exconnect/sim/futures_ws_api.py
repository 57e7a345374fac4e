"""USDⓈ-M WebSocket API ``/ws-fapi/v1`` (futures port): request/response over one socket.

Requests ``{"id", "method", "params"}`` → ``{"id", "status": 200, "result", "rateLimits"}`` or
``{"id", "status", "error": {"code", "msg"}, "rateLimits"}``. Methods run the same handlers as
the REST routes (same validation, same answers):

* ``order.place``, ``order.modify``, ``order.cancel``, ``order.status``, ``openOrders.status``,
  ``openOrders.cancelAll``; ``account.status`` / ``account.balance`` / ``account.position`` (REST
  v2 shapes) and their ``v2/`` forms (REST v3 shapes, as on Binance);
* ``depth``, ``ticker.price``, ``ticker.book``, ``ping``, ``time``;
* ``session.logon`` / ``session.status`` / ``session.logout`` (HMAC accepted: the simulator has
  no Ed25519 keys), ``userDataStream.start`` / ``ping`` / ``stop`` (listen keys, ``apiKey``).

Signed methods take ``apiKey``, ``timestamp``, ``signature`` (params sorted, ``k=v&...``, not
percent-encoded) unless the session is logged on. Not simulated: algo orders.
"""
from __future__ import annotations

import asyncio
import logging

import orjson
from aiohttp import WSMsgType, web

from . import auth, errors
from .rest import RestCall
from .stream_hub import WsConnection

log = logging.getLogger(__name__)
WEIGHT = 1


def install(venue, routes) -> None:
    """Mount ``/ws-fapi/v1`` on the futures port; ``routes`` is the venue's FuturesRoutes."""
    sim = venue.sim
    clock = sim.clock
    limiter = sim.futures_rest.limiter
    users = venue.users
    signed_methods = {
        "order.place": routes.new_order, "order.cancel": routes.cancel_order, "order.modify": routes.modify_order,
        "order.status": routes.get_order, "openOrders.status": routes.open_orders,
        "openOrders.cancelAll": routes.cancel_all,
        "account.status": routes.account_v2, "v2/account.status": routes.account_v3,
        "account.balance": routes.balance, "v2/account.balance": routes.balance,
        "account.position": routes.position_risk_v2, "v2/account.position": routes.position_risk_v3,
    }
    public_methods = {"depth": routes.depth, "ticker.price": routes.ticker_price, "ticker.book": routes.book_ticker}

    def rate_limits(ip: str) -> list:
        return [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
                 "limit": limiter.cfg.weight_per_minute, "count": limiter.used_weight(ip)}]

    def text(v) -> str:
        return ("true" if v else "false") if isinstance(v, bool) else str(v)

    def verify(params: dict) -> auth.ApiKey:
        # JSON booleans are signed as "true"/"false" (as clients print them), not Python's "True"
        return auth.verify_ws(sim.keys, {k: text(v) for k, v in params.items()}, clock)

    class Session:
        key: auth.ApiKey | None = None
        since: int | None = None

    async def run(session: Session, method: str, params: dict, request, ip: str):
        if method == "ping":
            return {}
        if method == "time":
            return {"serverTime": clock.now_ms()}
        if method == "session.logon":
            session.key = verify(params)
            session.since = clock.now_ms()
            method = "session.status"
        if method == "session.status":
            return {"apiKey": session.key.api_key if session.key else None, "authorizedSince": session.since,
                    "connectedSince": None, "returnRateLimits": True, "serverTime": clock.now_ms()}
        if method == "session.logout":
            session.key = session.since = None
            return {"apiKey": None, "authorizedSince": None, "connectedSince": None,
                    "returnRateLimits": True, "serverTime": clock.now_ms()}
        if method in ("userDataStream.start", "userDataStream.ping", "userDataStream.stop"):
            key = sim.keys.lookup(params.get("apiKey") or (session.key.api_key if session.key else None))
            if method == "userDataStream.start":
                return {"listenKey": users.create_listen_key(key.account_id)}
            lk = params.get("listenKey") or next(
                (k for k, v in users.listen_keys.items() if v.account_id == key.account_id), None)
            if lk is None or lk not in users.listen_keys:
                raise users.missing_key()
            if method == "userDataStream.ping":
                users.keepalive(lk, key.account_id)
                return {"listenKey": lk}
            users.close_listen_key(lk, key.account_id)
            return {}
        handler = public_methods.get(method)
        call = RestCall(request, {k: text(v) for k, v in params.items() if v is not None}, ip, clock.now_ms())
        if handler is None:
            handler = signed_methods.get(method)
            if handler is None:
                raise errors.BinanceError(-1020, f"Unsupported method '{method}'.")
            if "signature" in params:
                call.key = verify(params)
            elif session.key is not None:
                auth.check_timestamp({k: text(params[k]) for k in ("timestamp", "recvWindow") if k in params}, clock)
                call.key = session.key
            else:
                raise errors.mandatory("apiKey")
            if method == "order.place":
                limiter.charge_order(call.key.account_id)
        return await handler(call)

    async def handler(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(heartbeat=sim.config.ws_ping_interval_s, max_msg_size=1 << 20)
        await ws.prepare(request)
        conn = WsConnection(ws, request, combined=False, kind="api")
        conn.start()
        venue.hub.register(conn)
        session = Session()
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
                    limiter.charge(ip, WEIGHT)
                    result = await run(session, method, params, request, ip)
                    conn.send_json({"id": rid, "status": 200, "result": result, "rateLimits": rate_limits(ip)})
                except errors.BinanceError as exc:
                    conn.send_json({"id": rid, "status": exc.status, "error": exc.body(), "rateLimits": rate_limits(ip)})
                except Exception:
                    log.exception("ws-fapi request failed")
                    conn.send_json({"id": rid, "status": 500, "error": errors.unknown().body()})
        finally:
            lifetime.cancel()
            venue.hub.unregister(conn)
        return ws

    sim.futures_app.router.add_get("/ws-fapi/v1", handler)
