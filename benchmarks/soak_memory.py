"""Memory soak: does the connector's own memory stop growing under steady trading?

The Binance spot connector trades against the simulator (its own process, market agents on) for
``seconds``: every 0.25 s it quotes one bid and one ask at the top of the book and cancels both.
tracemalloc compares the halfway point with the end; what still grows in the second half is
printed by source line (connector code only matters: the simulator is another process).

Run: ``python benchmarks/soak_memory.py [seconds]`` (default 120).
"""
import asyncio
import gc
import logging
import os
import sys
import tempfile
import time
import tracemalloc
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_connector  # noqa: E402


async def run(seconds: float) -> None:
    from exconnect.binance import BinanceExchange
    from exconnect.types import OrderType
    logging.disable(logging.ERROR)         # post-only style rejections as the book moves: expected
    proc, url = await bench_connector._start_sim_process(market_activity=True, seed=5)
    try:
        conn = BinanceExchange.from_base_urls(url, api_key="sim-key", api_secret="sim-secret",
                                              trading_pairs=["BTC-USDT"], data_folder=tempfile.mkdtemp())
        await conn.start(timeout=30)
        tracemalloc.start(1)
        half = None
        t0, n = time.time(), 0
        while time.time() - t0 < seconds:
            book = conn.get_order_book("BTC-USDT")
            a = conn.buy("BTC-USDT", Decimal("0.001"), OrderType.LIMIT, book.get_price(False))
            b = conn.sell("BTC-USDT", Decimal("0.001"), OrderType.LIMIT, book.get_price(True))
            await asyncio.sleep(0.2)
            conn.cancel("BTC-USDT", a)
            conn.cancel("BTC-USDT", b)
            await asyncio.sleep(0.05)
            n += 1
            if half is None and time.time() - t0 > seconds / 2:
                gc.collect()
                half, n_half = tracemalloc.take_snapshot(), n
        gc.collect()
        end = tracemalloc.take_snapshot()
        stats = end.compare_to(half, "lineno")
        print(f"{n} quote/cancel cycles ({n_half} by halfway), {len(conn.in_flight_orders)} orders in flight at the end")
        print(f"second-half growth: {sum(s.size_diff for s in stats) / 1024:.1f} KiB; largest by line:")
        for s in stats[:8]:
            print("  ", s)
        await conn.cancel_all(10)
        await conn.stop()
    finally:
        proc.kill()


if __name__ == "__main__":
    asyncio.run(run(float(sys.argv[1]) if len(sys.argv) > 1 else 120))
