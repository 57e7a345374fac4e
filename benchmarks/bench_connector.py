"""Connector latency on loopback against the simulator (quiet market, one pair).

* tick-to-order: a depth frame reaches the connector -> the local book is updated -> a strategy
  callback (order book update listener) calls ``buy()`` -> the order request's headers are on the
  wire (aiohttp ``on_request_headers_sent``). Includes book apply, rule check, quantize, tracking
  + sqlite write, signing and the HTTP write.
* order round trip: ``buy()`` -> BuyOrderCreatedEvent (exchange ack processed, event delivered).
* cancel round trip: ``cancel()`` -> OrderCancelledEvent.

The simulator runs in a separate process (``python -m exconnect.sim``) so that only the
connector's own work is on the measured event loop; a second REST client makes the depth changes.

Run: ``python -m pytest benchmarks/bench_connector.py --benchmark-enable -s`` or
``python benchmarks/bench_connector.py [iterations]``; prints p50/p99 in microseconds.
"""
from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from decimal import Decimal

import aiohttp

PAIR = "BTC-USDT"


def _pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def summary(name, ns):
    us = [v / 1000 for v in ns]
    return {"name": name, "n": len(us), "p50_us": round(_pct(us, 0.50), 1), "p99_us": round(_pct(us, 0.99), 1),
            "mean_us": round(statistics.fmean(us), 1)}


def _free_port() -> int:
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _start_sim_process(market_activity: bool = False, seed: int = 11):
    """The simulator in its own process, so its work does not share our event loop."""
    import subprocess
    port = _free_port()
    args = [sys.executable, "-m", "exconnect.sim", "--port", str(port), "--futures-port", str(_free_port()),
            "--seed", str(seed)] + ([] if market_activity else ["--no-market-activity"])
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as s:
        for _ in range(200):
            try:
                async with s.get(url + "/api/v3/ping") as r:
                    if r.status == 200:
                        return proc, url
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    proc.kill()
    raise RuntimeError("simulator did not start")


async def run(iterations: int = 200) -> list:
    from exconnect.binance import BinanceExchange
    from exconnect.binance.binance_auth import BinanceAuth
    from exconnect.events import MarketEvent
    from exconnect.types import OrderType

    results = []
    sent_at = {}
    trace = aiohttp.TraceConfig()

    async def on_headers(session, ctx, params):
        if params.method == "POST" and params.url.path == "/api/v3/order":
            sent_at["t"] = time.perf_counter_ns()

    async def on_start(session, ctx, params):
        if params.method == "POST" and params.url.path == "/api/v3/order":
            sent_at["start"] = time.perf_counter_ns()

    trace.on_request_start.append(on_start)
    trace.on_request_headers_sent.append(on_headers)
    proc, url = await _start_sim_process()
    driver = aiohttp.ClientSession()
    driver_auth = BinanceAuth("sim-key", "sim-secret", time_ms=lambda: int(time.time() * 1000))

    async def driver_order(price: str) -> None:
        """Another participant's order far from the touch: just makes a depth diff."""
        q = driver_auth.signed_query({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
                                      "quantity": "0.001", "price": price, "newOrderRespType": "ACK"})
        async with driver.post(url + "/api/v3/order", data=q, headers={
                **driver_auth.header_for_authentication(),
                "Content-Type": "application/x-www-form-urlencoded"}) as r:
            await r.read()

    try:
        with tempfile.TemporaryDirectory() as folder:
            conn = BinanceExchange.from_base_urls(url, api_key="sim-key", api_secret="sim-secret",
                                                  trading_pairs=[PAIR], data_folder=folder)
            conn._rest.trace_configs.append(trace)
            tracker = conn.order_book_tracker
            frame_at = {}
            original_on_frame = tracker._on_frame

            def timed_on_frame(frame: bytes) -> None:
                frame_at["t"] = time.perf_counter_ns()
                original_on_frame(frame)

            tracker._on_frame = timed_on_frame        # before start: the data source binds it then
            await conn.start(timeout=30)
            loop = asyncio.get_running_loop()
            try:
                # ---- tick-to-order
                state = {"armed": False}
                marks = []
                phases = {}

                def strategy(pair, book):
                    if state["armed"]:
                        state["armed"] = False
                        marks.append(time.perf_counter_ns() - frame_at["t"])
                        conn.buy(PAIR, Decimal("0.001"), OrderType.LIMIT, book.get_price(False) - Decimal("2000"))
                        sent_at["buy_returned"] = time.perf_counter_ns()

                tracker.add_update_listener(strategy)
                tick_to_order = []
                for i in range(iterations):
                    sent_at.clear()
                    state["armed"] = True
                    await driver_order(f"{50000 - i * 0.01:.2f}")
                    deadline = loop.time() + 5
                    while "t" not in sent_at and loop.time() < deadline:
                        await asyncio.sleep(0.0005)
                    if "t" in sent_at:
                        tick_to_order.append(sent_at["t"] - frame_at["t"])
                        phases.setdefault("buy_call", []).append(sent_at["buy_returned"] - frame_at["t"] - marks[-1])
                        phases.setdefault("buy_to_request_start", []).append(sent_at["start"] - sent_at["buy_returned"])
                        phases.setdefault("request_start_to_wire", []).append(sent_at["t"] - sent_at["start"])
                    await asyncio.sleep(0.005)
                tracker.remove_update_listener(strategy)
                results.append(summary("tick_to_order", tick_to_order))
                results.append(summary("frame_to_strategy_callback", marks))
                for name, values in phases.items():
                    results.append(summary(name, values))
                await conn.cancel_all(10)

                # ---- order and cancel round trips
                created_evt = asyncio.Event()
                cancelled_evt = asyncio.Event()
                conn.add_listener(MarketEvent.BuyOrderCreated, lambda e: created_evt.set())
                conn.add_listener(MarketEvent.OrderCancelled, lambda e: cancelled_evt.set())
                bid = conn.get_order_book(PAIR).get_price(False)
                rtt, ctt = [], []
                for i in range(iterations):
                    created_evt.clear()
                    cancelled_evt.clear()
                    t0 = time.perf_counter_ns()
                    oid = conn.buy(PAIR, Decimal("0.001"), OrderType.LIMIT, bid - Decimal("500"))
                    await asyncio.wait_for(created_evt.wait(), 5)
                    rtt.append(time.perf_counter_ns() - t0)
                    t0 = time.perf_counter_ns()
                    conn.cancel(PAIR, oid)
                    await asyncio.wait_for(cancelled_evt.wait(), 5)
                    ctt.append(time.perf_counter_ns() - t0)
                results.append(summary("order_round_trip", rtt))
                results.append(summary("cancel_round_trip", ctt))
            finally:
                await conn.stop()
    finally:
        await driver.close()
        proc.terminate()
        proc.wait(10)
    return results


def test_connector_latency(benchmark):
    out = {}

    def go():
        try:
            import uvloop
            uvloop.install()
        except ImportError:
            pass
        out["r"] = asyncio.run(run(100))

    benchmark.pedantic(go, rounds=1, iterations=1)
    for r in out["r"]:
        benchmark.extra_info[r["name"]] = r
        print(r)
    assert all(r["n"] > 0 for r in out["r"])


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    for r in asyncio.run(run(n)):
        print(r)
