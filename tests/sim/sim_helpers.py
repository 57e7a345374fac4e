"""Helpers for simulator tests (imported as ``sim_helpers``; tests/sim has no __init__)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from urllib.parse import urlencode

import aiohttp
import orjson
import yarl

from exconnect.sim import Simulator, SimConfig

KEY, SECRET = "sim-key", "sim-secret"


class Reply:
    def __init__(self, status, body, headers):
        self.status, self.body, self.headers = status, body, headers

    def __repr__(self):
        return f"Reply({self.status}, {self.body!r})"


class RestClient:
    """Minimal Binance REST client: signs query+body exactly like real clients do."""

    def __init__(self, session: aiohttp.ClientSession, base: str, key: str = KEY, secret: str = SECRET):
        self.session, self.base, self.key, self.secret = session, base, key, secret

    async def request(self, method: str, path: str, params: dict | None = None, *, signed: bool = False,
                      key: bool | None = None, in_body: bool = False, raw_query: str | None = None,
                      timestamp: int | None = None, headers: dict | None = None, timeout: float = 10) -> Reply:
        params = dict(params or {})
        if signed:
            params.setdefault("timestamp", timestamp if timestamp is not None else int(time.time() * 1000))
        text = raw_query if raw_query is not None else urlencode(params)
        if signed:
            sig = hmac.new(self.secret.encode(), text.encode(), hashlib.sha256).hexdigest()
            text = f"{text}&signature={sig}"
        hdrs = dict(headers or {})
        if signed or key:
            hdrs.setdefault("X-MBX-APIKEY", self.key)
        url = self.base + path
        kw = {}
        if in_body:
            kw["data"] = text.encode()
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        elif text:
            url += "?" + text
        # encoded=True: send the query exactly as signed (yarl would normalise %21 → !)
        async with self.session.request(method, yarl.URL(url, encoded=True), headers=hdrs, timeout=aiohttp.ClientTimeout(total=timeout), **kw) as r:
            raw = await r.read()
            try:
                body = orjson.loads(raw)
            except orjson.JSONDecodeError:
                body = raw.decode(errors="replace")
            return Reply(r.status, body, r.headers)

    async def get(self, path, params=None, **kw):
        return await self.request("GET", path, params, **kw)

    async def post(self, path, params=None, **kw):
        return await self.request("POST", path, params, **kw)

    async def delete(self, path, params=None, **kw):
        return await self.request("DELETE", path, params, **kw)

    async def order(self, **params) -> Reply:
        return await self.post("/api/v3/order", params, signed=True)


async def recv_json(ws, predicate=lambda m: True, timeout: float = 5.0):
    """Next JSON text frame satisfying ``predicate`` (skips others)."""
    async def _loop():
        while True:
            msg = await ws.receive()
            if msg.type != aiohttp.WSMsgType.TEXT:
                raise ConnectionError(f"socket ended: {msg.type} {msg.data!r}")
            data = orjson.loads(msg.data)
            if predicate(data):
                return data
    return await asyncio.wait_for(_loop(), timeout)


def make_config(**overrides) -> SimConfig:
    """Still market, seed 7; spot only unless ``futures_symbols`` is given (keeps spot tests fast)."""
    overrides.setdefault("futures_symbols", [])
    overrides.setdefault("market_activity", False)
    return SimConfig.default(seed=7, **overrides)




def best(sim, symbol="BTCUSDT"):
    """(best bid, best ask) of the simulator book as Decimal-free strings."""
    from exconnect.sim import money
    book = sim.spot.books[symbol]
    return money.text(book.best_bid()[0]), money.text(book.best_ask()[0])


def ws_signed_params(key: str = KEY, secret: str = SECRET, **extra) -> dict:
    """WebSocket-API signature: params sorted by name, ``k=v&...`` unencoded, HMAC hex."""
    params = {"apiKey": key, "timestamp": int(time.time() * 1000), **extra}
    payload = "&".join(f"{k}={params[k]}" for k in sorted(params))
    params["signature"] = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
    return params


async def ws_api_call(ws, method: str, params: dict | None = None, rid=None):
    rid = rid if rid is not None else method
    await ws.send_str(orjson.dumps({"id": rid, "method": method, "params": params or {}}).decode())
    return await recv_json(ws, lambda m: m.get("id") == rid and "status" in m)
