"""Shared helpers for the futures simulator tests: a running simulator and a tiny signed client.

The simulator is the real ``exconnect.sim.server.Simulator``. While the spot side of the
simulator cannot be built (it is developed in parallel), the futures venue is hosted on its own
by :class:`FuturesOnlyHost`, which provides exactly the attributes ``FuturesVenue(sim)`` uses.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
import urllib.parse
from collections import deque

import aiohttp
import orjson
from aiohttp import web

from exconnect.sim.config import SimConfig

KEY, SECRET = "sim-key", "sim-secret"


class FuturesOnlyHost:
    """Futures port only, same wiring as ``Simulator`` (clock, keys, faults, limiter, routes)."""

    def __init__(self, cfg: SimConfig):
        from exconnect.sim.auth import KeyRegistry
        from exconnect.sim.clock import Clock
        from exconnect.sim.faults import FaultInjector
        from exconnect.sim.futures import FuturesVenue
        from exconnect.sim.rate_limit import RateLimiter
        from exconnect.sim.rest import RestApi

        self.config = cfg
        self.clock = Clock(cfg.faults.clock_skew_ms)
        self.keys = KeyRegistry(cfg.accounts)
        self.faults = FaultInjector(cfg.faults, self.clock, cfg.seed)
        self.request_log = deque(maxlen=10000)
        self.stopping = asyncio.Event()
        self.futures_app = web.Application()
        self.futures_rest = RestApi(self, self.futures_app, RateLimiter(cfg.rate_limits))
        self.futures = FuturesVenue(self)
        self._runner = None
        self.futures_port = 0

    def add_futures_route(self, method, path, handler, **kw):
        self.futures_rest.route(method, path, handler, **kw)

    async def __aenter__(self):
        self._runner = web.AppRunner(self.futures_app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.host, self.config.futures_port)
        await site.start()
        self.futures_port = self._runner.addresses[0][1]
        await self.futures.start()
        return self

    async def __aexit__(self, *exc):
        self.stopping.set()
        await self.futures.stop()
        await self._runner.cleanup()

    @property
    def futures_url(self):
        return f"http://{self.config.host}:{self.futures_port}"

    @property
    def futures_ws_url(self):
        return f"ws://{self.config.host}:{self.futures_port}"


def make_sim(cfg: SimConfig):
    """The full Simulator when it builds with a futures venue, else the futures-only host."""
    try:
        from exconnect.sim.server import Simulator

        sim = Simulator(cfg)
        if sim.futures is not None:
            return sim
    except Exception:
        pass
    return FuturesOnlyHost(cfg)


def config(**overrides) -> SimConfig:
    kw = dict(seed=7, market_activity=False, book_levels=1000)
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
            url, data = f"{self.base}{path}?{payload}", None
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
