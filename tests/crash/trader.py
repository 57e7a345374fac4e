"""Child process of the crash test: trades against a simulator until it is killed, or finishes.

    python trader.py trade  <spot_url> <data_folder>   # quote both sides forever (until SIGKILL)
    python trader.py finish <spot_url> <data_folder>   # restart, reconcile, cancel all, settle, exit

Prints READY once the connector is ready, and in `finish` mode a final JSON line
{"in_flight": n, "fills": n}. Uses the same quoting loop as the demo.
"""
import asyncio
import json
import sys
import time
from decimal import Decimal

from exconnect.binance import BinanceExchange
from exconnect.demo.metrics import DemoMetrics
from exconnect.demo.strategy import QuotingStrategy

PAIR = "BTC-USDT"


def make(spot_url: str, folder: str) -> BinanceExchange:
    return BinanceExchange.from_base_urls(spot_url, api_key="sim-key", api_secret="sim-secret",
                                          trading_pairs=[PAIR], data_folder=folder,
                                          short_poll_interval=0.2, long_poll_interval=0.5)


async def trade(spot_url: str, folder: str) -> None:
    conn = make(spot_url, folder)
    await conn.start(timeout=30)
    strategy = QuotingStrategy(conn, PAIR, DemoMetrics(), order_amount=Decimal("0.003"),
                               refresh_seconds=0.5, move_bps=Decimal("0.5"))
    print("READY", flush=True)
    await strategy.run(asyncio.Event())          # runs until the parent kills us


async def finish(spot_url: str, folder: str) -> None:
    conn = make(spot_url, folder)
    await conn.start(timeout=30)                 # restores tracking states from sqlite, reconciles
    print("READY", flush=True)
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        await conn.cancel_all(5.0)
        # let status polling settle lost / unknown orders and back-fill trades from myTrades
        await asyncio.sleep(1.0)
        if not conn.in_flight_orders:
            break
    await asyncio.sleep(1.5)                     # one more trades poll after the last order left
    result = {"in_flight": len(conn.in_flight_orders), "fills": len(conn.store.fills(PAIR))}
    await conn.stop()
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    mode, url, folder = sys.argv[1:4]
    asyncio.run(trade(url, folder) if mode == "trade" else finish(url, folder))
