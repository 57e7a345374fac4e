"""WebSocket market-stream endpoints (``/ws``, ``/ws/<s1>/<s2>``, ``/stream?streams=``, ...).

:func:`stream_handler` builds an aiohttp handler for one hub; the venue mounts it on the paths its
clients use. Behaviour, as on Binance:

* ``/ws/<tokens>``: raw mode, each token that is a valid stream (or listen key) is subscribed;
  other tokens (ccxt's numeric ``/ws/0``) are ignored → an empty raw connection;
* ``/stream?streams=a/b``: combined mode (``{"stream":..,"data":..}``);
* ``?listenKey=<k>`` subscribes the key (futures ``/private/ws?listenKey=``);
* JSON control frames: SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS, SET_PROPERTY/GET_PROPERTY
  ``combined``; bad requests get ``{"error":{"code":2|3,"msg":..},"id":..}`` and the connection stays;
* more than ``ws_max_incoming_per_s`` incoming frames in a second (if set) → closed, code 1008;
* server pings every ``ws_ping_interval_s`` (aiohttp heartbeat: no pong → closed), server-side
  close after ``ws_lifetime_s``.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Callable

import orjson
from aiohttp import WSMsgType, web

from .stream_hub import StreamHub, WsConnection

log = logging.getLogger(__name__)


def _valid_id(v) -> bool:
    if v is None:
        return True
    if isinstance(v, bool):
        return False
    if isinstance(v, int):
        return -(2**63) <= v < 2**63
    return isinstance(v, str) and 0 < len(v) <= 36 and v.isalnum()


def stream_handler(sim, hub: StreamHub, *, combined: bool, is_listen_key: Callable[[str], bool],
                   tail_param: str | None = "tail"):
    """aiohttp handler for one path family; ``tail_param`` names the ``{tail:.*}`` match (raw streams)."""

    async def handler(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(heartbeat=sim.config.ws_ping_interval_s, max_msg_size=1 << 20)
        initial: list[str] = []
        if tail_param and request.match_info.get(tail_param):
            initial += [t for t in request.match_info[tail_param].split("/") if t]
        if "streams" in request.query:
            initial += [t for t in request.query["streams"].split("/") if t]
        if "listenKey" in request.query:
            initial.append(request.query["listenKey"])
        kind = "user" if any(is_listen_key(t) for t in initial) else "market"
        conn = WsConnection(ws, request, combined, kind)
        hub.register(conn)
        for name in initial:
            if is_listen_key(name) or hub.is_valid_stream(name):
                hub.subscribe(conn, name)
        try:
            await ws.prepare(request)     # subscribed before the client sees the socket open
        except Exception:
            hub.unregister(conn)
            raise
        conn.start()
        lifetime = asyncio.get_running_loop().call_later(
            sim.config.ws_lifetime_s, lambda: asyncio.ensure_future(conn.close(1000, b"connection lifetime reached")))
        limit = sim.config.ws_max_incoming_per_s
        window_start, window_count = 0.0, 0
        loop = asyncio.get_running_loop()
        try:
            async for msg in ws:
                if limit:
                    now = loop.time()
                    if now - window_start >= 1.0:
                        window_start, window_count = now, 0
                    window_count += 1
                    if window_count > limit:
                        await conn.close(1008, b"Too many requests")
                        break
                if msg.type == WSMsgType.TEXT:
                    sim.ws_log.append({"time": sim.clock.now_ms(), "path": request.path, "data": msg.data})
                    _control(conn, hub, msg.data, is_listen_key)
                elif msg.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                    break
        except Exception:
            log.exception("market stream connection failed")
        finally:
            lifetime.cancel()
            hub.unregister(conn)
        return ws

    return handler


def _control(conn: WsConnection, hub: StreamHub, text: str, is_listen_key) -> None:
    try:
        req = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        conn.send_json({"error": {"code": 3, "msg": f"Invalid JSON: {exc}"}, "id": None})
        return
    if not isinstance(req, dict):
        conn.send_json({"error": {"code": 3, "msg": "Invalid JSON: expected an object"}, "id": None})
        return
    rid = req.get("id")
    if not _valid_id(rid):
        conn.send_json({"error": {"code": 2, "msg": "Invalid request: request ID must be an unsigned integer or alphanumeric string"}, "id": None})
        return
    method = req.get("method")
    params = req.get("params", [])
    if not isinstance(params, list):
        conn.send_json({"error": {"code": 2, "msg": "Invalid request: 'params' must be an array"}, "id": rid})
        return
    if method in ("SUBSCRIBE", "UNSUBSCRIBE"):
        names = []
        for p in params:
            if not isinstance(p, str) or not (is_listen_key(p) or hub.is_valid_stream(p)):
                conn.send_json({"error": {"code": 2, "msg": f"Invalid request: invalid stream name {p!r}"}, "id": rid})
                return
            names.append(p)
        for name in names:
            if method == "SUBSCRIBE":
                if not hub.subscribe(conn, name):
                    conn.send_json({"error": {"code": 2, "msg": "Invalid request: too many streams"}, "id": rid})
                    return
            else:
                hub.unsubscribe(conn, name)
        conn.send_json({"result": None, "id": rid})
    elif method == "LIST_SUBSCRIPTIONS":
        conn.send_json({"result": sorted(conn.streams), "id": rid})
    elif method in ("SET_PROPERTY", "GET_PROPERTY"):
        if not params or params[0] != "combined":
            conn.send_json({"error": {"code": 0, "msg": "Unknown property"}, "id": rid})
        elif method == "GET_PROPERTY":
            conn.send_json({"result": conn.combined, "id": rid})
        elif len(params) != 2 or not isinstance(params[1], bool):
            conn.send_json({"error": {"code": 1, "msg": "Invalid value type: expected Boolean"}, "id": rid})
        else:
            conn.combined = params[1]
            conn.send_json({"result": None, "id": rid})
    else:
        conn.send_json({"error": {"code": 2, "msg": f"Invalid request: unknown method {method!r}"}, "id": rid})
