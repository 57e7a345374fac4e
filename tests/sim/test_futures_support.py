"""Shared helpers for the futures simulator tests: a running simulator and a tiny signed client."""
from __future__ import annotations

import hashlib
import hmac
import time
import urllib.parse

import aiohttp
import orjson
import yarl

from exconnect.sim.config import SimConfig
from exconnect.sim.server import Simulator

KEY, SECRET = "sim-key", "sim-secret"


def make_sim(cfg: SimConfig):
    """The real two-port simulator (its constructor raises if the futures venue cannot start)."""
    sim = Simulator(cfg)
    assert sim.futures is not None
    return sim


def config(**overrides) -> SimConfig:
    # 200 levels keep start-up cheap; tests of depth=1000 snapshots ask for more
    kw = dict(seed=7, market_activity=False, book_levels=200)
    kw.update(overrides)
    return SimConfig.default(**kw)


class Client:
    """Signs like Binance clients do: HMAC over the urlencoded query (GET/DELETE) or body (POST/PUT)."""

    def __init__(self, session: aiohttp.ClientSession, base: str, key: str = KEY, secret: str = SECRET):
        self.s, self.base, self.key, self.secret = session, base, key, secret

    def sign(self, params: dict) -> str:
        q = urllib.parse.urlencode({**params, "timestamp": int(time.time() * 1000)})
        return q + "&signature=" + hmac.new(self.secret.encode(), q.encode(), hashlib.sha256).hexdigest()

    async def public(self, path: str, **params):
        async with self.s.get(self.base + path, params=params) as r:
            return r.status, orjson.loads(await r.read()), r.headers

    async def signed(self, method: str, path: str, **params):
        payload = self.sign(params)
        headers = {"X-MBX-APIKEY": self.key}
        if method in ("GET", "DELETE"):
            # encoded=True: send the query exactly as signed (yarl would normalise %2C etc.)
            url, data = yarl.URL(f"{self.base}{path}?{payload}", encoded=True), None
        else:
            url, data = self.base + path, payload
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        async with self.s.request(method, url, data=data, headers=headers) as r:
            return r.status, orjson.loads(await r.read()), r.headers

    async def ok(self, method: str, path: str, **params):
        status, body, _ = await self.signed(method, path, **params)
        assert status == 200, (status, body)
        return body

    async def err(self, method: str, path: str, **params):
        status, body, _ = await self.signed(method, path, **params)
        assert status >= 400 and "code" in body, (status, body)
        return body["code"]

    async def key_only(self, method: str, path: str, **params):
        async with self.s.request(method, self.base + path, params=params or None,
                                  headers={"X-MBX-APIKEY": self.key}) as r:
            return r.status, orjson.loads(await r.read())


async def next_json(ws, predicate=lambda m: True, limit: int = 500):
    """Next message matching ``predicate`` (skipping others); bounded by message count, and a
    generous receive timeout only so a broken simulator fails the test instead of hanging it."""
    for _ in range(limit):
        msg = await ws.receive(timeout=20)
        if msg.type != aiohttp.WSMsgType.TEXT:
            raise AssertionError(f"socket ended: {msg.type} {msg.data!r}")
        data = orjson.loads(msg.data)
        if predicate(data):
            return data
    raise AssertionError("no matching message")
