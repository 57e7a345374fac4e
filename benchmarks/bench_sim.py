"""Simulator throughput: orders/s through the matching engine, the spot venue and HTTP; depth
and trade messages/s published to WebSocket subscribers.

    python -m pytest benchmarks/bench_sim.py --benchmark-enable --benchmark-columns=mean,ops
    python benchmarks/bench_sim.py          # prints the same figures as a table, no pytest

Each benchmark stores its rate in ``extra_info`` (orders_per_s / messages_per_s).
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import random
import time
from urllib.parse import urlencode

import aiohttp

from exconnect.sim import SimConfig, Simulator, money
from exconnect.sim.matching_engine import Book, Order

N_ENGINE = 20000
N_VENUE = 5000
N_HTTP = 1000
HTTP_CONCURRENCY = 8
WS_SUBSCRIBERS = 10
WS_EVENTS = 500


def _engine_orders(n: int, seed: int = 1):
    """A mix that rests and crosses around 60000 (about half the orders trade)."""
    rng = random.Random(seed)
    P = money.parse
    out = []
    for i in range(n):
        is_buy = rng.random() < 0.5
        off = rng.randint(-20, 200) * P("0.01")
        price = P("60000") - off if is_buy else P("60000") + off
        out.append((i + 1, is_buy, price, rng.randint(1, 100) * P("0.001")))
    return out


def run_engine(orders) -> tuple[int, int]:
    book = Book("BTCUSDT", money.parse("0.001"))
    fills = 0
    for oid, is_buy, price, qty in orders:
        res = book.submit(Order(oid, oid % 7, is_buy, price, qty))
        fills += len(res.fills)
    return len(orders), fills


def test_engine_orders(benchmark):
    orders = _engine_orders(N_ENGINE)
    n, fills = benchmark(run_engine, orders)
    if benchmark.stats is not None:        # None with --benchmark-disable (the default)
        benchmark.extra_info["orders_per_s"] = round(n / benchmark.stats.stats.mean)
    benchmark.extra_info["fills_per_order"] = round(fills / n, 3)


def _run(coro):
    return asyncio.new_event_loop().run_until_complete(coro)


async def _venue_round(n: int) -> int:
    """Place + settle through SpotVenue (filters, balances, events) without HTTP."""
    sim = Simulator(SimConfig.default(seed=1, market_activity=False, book_levels=1000))
    venue = sim.spot
    P = money.parse
    rng = random.Random(2)
    bid = venue.books["BTCUSDT"].best_bid()[0]
    ask = venue.books["BTCUSDT"].best_ask()[0]
    t0 = time.perf_counter()
    for i in range(n):
        is_buy = rng.random() < 0.5
        if rng.random() < 0.3:       # crossing: trades against the agents' book
            price = ask + P("5") if is_buy else bid - P("5")
        else:
            price = bid - P("10") if is_buy else ask + P("10")
        venue.place_order(0, "BTCUSDT", "BUY" if is_buy else "SELL", "LIMIT", tif="GTC",
                          qty=P("0.001"), price=price)
    return n, time.perf_counter() - t0


def test_venue_orders(benchmark):
    result = benchmark.pedantic(lambda: _run(_venue_round(N_VENUE)), rounds=3, iterations=1)
    n, secs = result
    benchmark.extra_info["orders_per_s"] = round(n / secs)


def _sign(params: dict) -> str:
    q = urlencode(params)
    return q + "&signature=" + hmac.new(b"sim-secret", q.encode(), hashlib.sha256).hexdigest()


async def _http_round(n: int, conc: int) -> tuple[int, float]:
    async with Simulator(SimConfig.default(seed=1, market_activity=False, book_levels=1000)) as sim:
        url = sim.spot_url + "/api/v3/order"
        conn = aiohttp.TCPConnector(limit=conc)
        async with aiohttp.ClientSession(connector=conn, headers={"X-MBX-APIKEY": "sim-key"}) as s:
            sem = asyncio.Semaphore(conc)

            async def one(i):
                side = "BUY" if i % 2 else "SELL"
                price = "59000" if side == "BUY" else "61000"
                if i % 4 == 0:
                    side, price = "BUY", "60100"        # crosses the book: matched + settled
                body = _sign({"symbol": "BTCUSDT", "side": side, "type": "LIMIT", "timeInForce": "GTC",
                              "quantity": "0.001", "price": price, "newOrderRespType": "ACK",
                              "timestamp": int(time.time() * 1000)})
                async with sem:
                    async with s.post(url, data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}) as r:
                        assert r.status == 200, await r.text()
                        await r.read()

            t0 = time.perf_counter()
            await asyncio.gather(*(one(i) for i in range(n)))
            return n, time.perf_counter() - t0


def test_http_orders(benchmark):
    n, secs = benchmark.pedantic(lambda: _run(_http_round(N_HTTP, HTTP_CONCURRENCY)), rounds=2, iterations=1)
    benchmark.extra_info["orders_per_s"] = round(n / secs)


async def _ws_round(stream: str, subscribers: int, events: int) -> tuple[int, float]:
    """``events`` book changes → published to ``subscribers`` real WS clients; time until all received."""
    async with Simulator(SimConfig.default(seed=1, market_activity=False, book_levels=1000)) as sim:
        pub = sim.spot.publisher
        await pub.stop()                    # drive ticks by hand: one diff per change
        async with aiohttp.ClientSession() as s:
            socks = [await s.ws_connect(f"{sim.spot_ws_url}/ws/btcusdt@{stream}") for _ in range(subscribers)]
            counts = [0] * subscribers

            async def drain(i, ws):
                while counts[i] < events:
                    m = await ws.receive()
                    if m.type != aiohttp.WSMsgType.TEXT:
                        return
                    counts[i] += 1

            readers = [asyncio.ensure_future(drain(i, ws)) for i, ws in enumerate(socks)]
            t0 = time.perf_counter()
            for k in range(events):
                await sim.spot.take("BTCUSDT", "BUY" if k % 2 else "SELL", "0.00001")
                if stream.startswith("depth"):
                    pub._ticks = 0          # each tick is "due" for the 100 ms stream
                    pub.tick()
                if k % 50 == 0:
                    await asyncio.sleep(0)
            await asyncio.gather(*readers)
            secs = time.perf_counter() - t0
            for ws in socks:
                await ws.close()
            return sum(counts), secs


def test_depth_messages(benchmark):
    n, secs = benchmark.pedantic(lambda: _run(_ws_round("depth@100ms", WS_SUBSCRIBERS, WS_EVENTS)), rounds=2, iterations=1)
    benchmark.extra_info["messages_per_s"] = round(n / secs)


def test_trade_messages(benchmark):
    n, secs = benchmark.pedantic(lambda: _run(_ws_round("trade", WS_SUBSCRIBERS, WS_EVENTS)), rounds=2, iterations=1)
    benchmark.extra_info["messages_per_s"] = round(n / secs)


def http_orders_separate_process(n: int = 3000, conc: int = 16) -> float:
    """Orders/s against ``python -m exconnect.sim`` (uvloop) in its own process: server cost alone."""
    import json
    import os
    import socket
    import subprocess
    import sys
    import tempfile

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cfg = {"rate_limits": {"orders_per_10s": 10**9, "orders_per_day": 10**9, "weight_per_minute": 10**9},
           "book_levels": 1000, "futures_symbols": []}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(cfg, fh)
    proc = subprocess.Popen([sys.executable, "-m", "exconnect.sim", "--port", str(port), "--futures-port", "0",
                             "--no-market-activity", "--config", fh.name], stdout=subprocess.PIPE, text=True)
    try:
        proc.stdout.readline()                      # URLs printed: the server is up

        async def run():
            conn = aiohttp.TCPConnector(limit=conc)
            async with aiohttp.ClientSession(connector=conn, headers={"X-MBX-APIKEY": "sim-key"}) as s:
                sem = asyncio.Semaphore(conc)
                url = f"http://127.0.0.1:{port}/api/v3/order"

                async def one(i):
                    side = "BUY" if i % 2 else "SELL"
                    body = _sign({"symbol": "BTCUSDT", "side": side, "type": "LIMIT", "timeInForce": "GTC",
                                  "quantity": "0.001", "price": "59000" if side == "BUY" else "61000",
                                  "newOrderRespType": "ACK", "timestamp": int(time.time() * 1000)})
                    async with sem:
                        async with s.post(url, data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}) as r:
                            assert r.status == 200, await r.text()
                            await r.read()
                t0 = time.perf_counter()
                await asyncio.gather(*(one(i) for i in range(n)))
                return n / (time.perf_counter() - t0)
        return _run(run())
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        os.unlink(fh.name)


if __name__ == "__main__":
    orders = _engine_orders(N_ENGINE)
    t0 = time.perf_counter()
    n, fills = run_engine(orders)
    print(f"engine           {n / (time.perf_counter() - t0):>10,.0f} orders/s  ({fills / n:.2f} fills/order)")
    n, s = _run(_venue_round(N_VENUE))
    print(f"spot venue       {n / s:>10,.0f} orders/s  (filters, locks, settlement, events)")
    n, s = _run(_http_round(N_HTTP, HTTP_CONCURRENCY))
    print(f"HTTP POST order  {n / s:>10,.0f} orders/s  ({HTTP_CONCURRENCY} connections, signed, ACK)")
    print(f"HTTP POST order  {http_orders_separate_process():>10,.0f} orders/s  (server in its own process, uvloop, 16 connections)")
    n, s = _run(_ws_round("depth@100ms", WS_SUBSCRIBERS, WS_EVENTS))
    print(f"depth diffs      {n / s:>10,.0f} messages/s delivered ({WS_SUBSCRIBERS} subscribers)")
    n, s = _run(_ws_round("trade", WS_SUBSCRIBERS, WS_EVENTS))
    print(f"trades           {n / s:>10,.0f} messages/s delivered ({WS_SUBSCRIBERS} subscribers)")
