"""Helpers shared by the connector tests (imported by name: tests/ is not a package)."""
import asyncio
import json
from contextlib import asynccontextmanager

from exconnect.binance import BinanceExchange
from exconnect.events import MarketEvent

PAIR = "BTC-USDT"


class EventLog:
    """Records every event by tag; ``await wait_for(tag, n)`` waits for n of them (bounded)."""

    def __init__(self, connector):
        self.by_tag = {}
        self._cond = asyncio.Condition()
        for tag in MarketEvent:
            connector.add_listener(tag, self._make(tag))

    def _make(self, tag):
        def listener(ev):
            self.by_tag.setdefault(tag, []).append(ev)
            asyncio.get_running_loop().create_task(self._notify())
        return listener

    async def _notify(self):
        async with self._cond:
            self._cond.notify_all()

    def __getitem__(self, tag):
        return self.by_tag.get(tag, [])

    async def wait_for(self, tag, n=1, timeout=10.0):
        async def cond():
            async with self._cond:
                await self._cond.wait_for(lambda: len(self[tag]) >= n)
        await asyncio.wait_for(cond(), timeout)
        return self[tag]


async def eventually(predicate, timeout=10.0, interval=0.01):
    """Wait until ``predicate()`` is true (bounded, never a timed assertion of speed)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(interval)


def control_frames(sim, since):
    """(route, method, params) of every SUBSCRIBE/UNSUBSCRIBE the sim received after ``since``."""
    out = []
    for entry in list(sim.ws_log)[since:]:
        try:
            msg = json.loads(entry["data"])
        except ValueError:
            continue
        if msg.get("method") in ("SUBSCRIBE", "UNSUBSCRIBE"):
            out.append((entry["path"], msg["method"], msg["params"]))
    return out


def connector_params(tmp_path, **kw):
    """A test connector's arguments: the simulator's key, PAIR, a data folder under ``tmp_path`` and
    quick polls; ``kw`` adds or overrides."""
    params = dict(api_key="sim-key", api_secret="sim-secret", trading_pairs=[PAIR],
                  data_folder=str(tmp_path / "data"), short_poll_interval=0.2, long_poll_interval=0.5,
                  tick_interval=0.05)
    params.update(kw)
    return params


def make_connector(sim, tmp_path, **kw):
    conn = BinanceExchange.from_base_urls(sim.spot_url, **connector_params(tmp_path, **kw))
    conn.event_log = EventLog(conn)
    return conn


@asynccontextmanager
async def running(conn):
    """``conn`` started (ready within 20 s) for the block and stopped after it (for fixtures)."""
    await conn.start(timeout=20)
    try:
        yield conn
    finally:
        await conn.stop()
