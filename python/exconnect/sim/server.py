"""The :class:`Simulator`: two aiohttp servers on loopback (spot port, futures port) and the venues.

Spot port: ``/api/v3/*`` REST, spot market streams (``/ws``, ``/stream``, ``/stream/ws/<n>``),
``/ws-api/v3``, and every ``/fapi`` REST route too. Futures port: ``/fapi`` REST plus whatever
WebSocket routes the futures venue mounts.

Futures hook: if ``exconnect.sim.futures`` defines ``FuturesVenue``, the Simulator builds
``FuturesVenue(sim)`` after the spot venue (apps are still unfrozen: the venue adds its REST routes
with :meth:`Simulator.add_futures_route`, which serves them on both ports, and its WebSocket routes
on ``sim.futures_app.router``). Optional ``async start()`` / ``async stop()`` are awaited with the
server. A futures module that fails to import is logged and ``sim.futures`` stays None, so the spot
side keeps working while the futures side is being built.
"""
from __future__ import annotations

import asyncio
import logging
from collections import deque

from aiohttp import web

from .auth import KeyRegistry
from .clock import Clock
from .config import SimConfig
from .faults import FaultInjector
from .rate_limit import RateLimiter
from .rest import NONE, RestApi

log = logging.getLogger(__name__)


class Simulator:
    def __init__(self, config: SimConfig | None = None):
        self.config = config or SimConfig.default()
        cfg = self.config
        self.clock = Clock(cfg.faults.clock_skew_ms)
        self.keys = KeyRegistry(cfg.accounts)
        self.faults = FaultInjector(cfg.faults, self.clock, cfg.seed)
        #: every REST request as received: dicts with time, method, path, query, body, params, api_key
        self.request_log: deque = deque(maxlen=10000)
        #: every text frame clients sent on WebSockets: dicts with time, path, data (SUBSCRIBE, WS-API calls)
        self.ws_log: deque = deque(maxlen=10000)
        self.stopping = asyncio.Event()
        self.spot_app = web.Application(client_max_size=1 << 20)
        self.futures_app = web.Application(client_max_size=1 << 20)
        self.spot_rest = RestApi(self, self.spot_app, RateLimiter(cfg.rate_limits))
        self.futures_rest = RestApi(self, self.futures_app, RateLimiter(cfg.rate_limits, long_window="1m"))
        self._runners: list[web.AppRunner] = []
        self.spot_port = 0
        self.futures_port = 0

        from .spot import SpotVenue
        self.spot = SpotVenue(self)
        self.futures = None
        if cfg.futures_symbols:
            # A configuration that asks for futures symbols gets them or a clear error: a simulator
            # silently running spot-only would fail later in confusing ways.
            from .futures import FuturesVenue
            self.futures = FuturesVenue(self)

    # -- futures hook ----------------------------------------------------------------------------
    def add_futures_route(self, method: str, path: str, handler, *, weight=1, security: str = NONE,
                          order: bool = False, weight_on_success: int | None = None) -> None:
        """Register a ``/fapi`` REST route on the futures port and on the spot port (same limiter)."""
        limiter = self.futures_rest.limiter
        for api in (self.futures_rest, self.spot_rest):
            api.route(method, path, handler, weight=weight, security=security, order=order,
                      weight_on_success=weight_on_success, limiter=limiter)

    # -- lifecycle -------------------------------------------------------------------------------
    async def start(self) -> "Simulator":
        cfg = self.config
        self.stopping.clear()
        for app, port_attr, port in ((self.spot_app, "spot_port", cfg.spot_port),
                                     (self.futures_app, "futures_port", cfg.futures_port)):
            runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
            await runner.setup()
            site = web.TCPSite(runner, cfg.host, port, reuse_address=True)
            await site.start()
            self._runners.append(runner)
            setattr(self, port_attr, runner.addresses[0][1])
        await self.spot.start()
        if self.futures is not None and hasattr(self.futures, "start"):
            await self.futures.start()
        return self

    async def stop(self) -> None:
        self.stopping.set()
        if self.futures is not None and hasattr(self.futures, "stop"):
            await self.futures.stop()
        await self.spot.stop()
        for runner in self._runners:
            await runner.cleanup()
        self._runners.clear()

    async def __aenter__(self) -> "Simulator":
        return await self.start()

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    # -- URLs ------------------------------------------------------------------------------------
    @property
    def spot_url(self) -> str:
        return f"http://{self.config.host}:{self.spot_port}"

    @property
    def spot_ws_url(self) -> str:
        return f"ws://{self.config.host}:{self.spot_port}"

    @property
    def futures_url(self) -> str:
        return f"http://{self.config.host}:{self.futures_port}"

    @property
    def futures_ws_url(self) -> str:
        return f"ws://{self.config.host}:{self.futures_port}"
