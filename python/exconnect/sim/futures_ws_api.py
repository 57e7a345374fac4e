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

from aiohttp import web

from . import errors
from .ws_api import WsApiSession, rest_call, serve_ws_api, session_method, signed_key, weight_rate_limits

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
        return weight_rate_limits(limiter, ip)

    async def run(session: WsApiSession, method: str, params: dict, request, ip: str):
        result = session_method(session, method, params, sim)
        if result is not None:
            return result
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
        call = rest_call(request, params, ip, clock)
        if handler is None:
            handler = signed_methods.get(method)
            if handler is None:
                raise errors.BinanceError(-1020, f"Unsupported method '{method}'.")
            call.key = signed_key(sim, limiter, method, params, session.key)
        return await handler(call)

    async def handler(request: web.Request) -> web.StreamResponse:
        return await serve_ws_api(request, sim, venue.hub, limiter, WEIGHT, lambda conn: WsApiSession(), run,
                                  rate_limits)

    sim.futures_app.router.add_get("/ws-fapi/v1", handler)
