"""Manual SIGKILL harness for the spot connector (not collected by pytest; the official crash test
belongs to the demo/benchmark work). Usage::

    python tests/connector/crash_harness.py [seed] [kills]

Starts the simulator in its own process (with market activity), runs a trading child that is
SIGKILLed at random moments ``kills`` times, each restart using the same data folder, then a
final child cancels everything, waits until nothing is in flight and compares the sqlite fill log
with the exchange's myTrades. Prints ``equal True`` when every fill was recorded exactly once.
"""
import asyncio
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from decimal import Decimal


async def child(url: str, folder: str, mode: str) -> None:
    from exconnect.binance import BinanceExchange
    from exconnect.types import OrderType
    conn = BinanceExchange.from_base_urls(url, api_key="sim-key", api_secret="sim-secret", trading_pairs=["BTC-USDT"],
                                          data_folder=folder, short_poll_interval=0.5, long_poll_interval=2)
    conn.UNKNOWN_OUTCOME_RECHECK = 0.1
    await conn.start(timeout=30)
    if mode == "settle":
        await conn.cancel_all(10)
        for _ in range(600):
            if not conn.in_flight_orders and not conn.order_tracker.lost_orders:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(2)
        rows = await conn._api_get("/api/v3/myTrades", {"symbol": "BTCUSDT", "limit": 1000}, is_auth_required=True)
        exchange = sorted(str(r["id"]) for r in rows)
        local = sorted(f["trade_id"] for f in conn.store.fills())
        print("exchange", len(exchange), "local", len(local), "equal", exchange == local,
              "in_flight", len(conn.in_flight_orders), "lost", len(conn.order_tracker.lost_orders))
        if exchange != local:
            print("missing", sorted(set(exchange) - set(local))[:10], "extra", sorted(set(local) - set(exchange))[:10])
        await conn.stop()
        return
    rng = random.Random()
    while True:
        book = conn.get_order_book("BTC-USDT")
        conn.buy("BTC-USDT", Decimal("0.002"), OrderType.LIMIT, book.get_price(False))
        conn.sell("BTC-USDT", Decimal("0.002"), OrderType.LIMIT, book.get_price(True))
        if rng.random() < 0.3:
            conn.buy("BTC-USDT", Decimal("0.001"), OrderType.MARKET)
        await asyncio.sleep(0.05)
        for oid in list(conn.in_flight_orders)[:-6]:
            conn.cancel("BTC-USDT", oid)
        await asyncio.sleep(0.05)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parent(seed: int, kills: int) -> None:
    port = _free_port()
    sim = subprocess.Popen([sys.executable, "-m", "exconnect.sim", "--port", str(port), "--futures-port",
                            str(_free_port()), "--seed", str(seed), "--activity-rate", "20"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    folder = tempfile.mkdtemp(prefix="exconnect-crash-")
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/api/v3/ping")
                break
            except OSError:
                time.sleep(0.1)
        rng = random.Random(seed)
        for _ in range(kills):
            proc = subprocess.Popen([sys.executable, __file__, "--child", url, folder, "trade"])
            time.sleep(rng.uniform(1.5, 4))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        subprocess.run([sys.executable, __file__, "--child", url, folder, "settle"], timeout=300)
    finally:
        sim.terminate()
        sim.wait()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        asyncio.run(child(sys.argv[2], sys.argv[3], sys.argv[4]))
    else:
        parent(int(sys.argv[1]) if len(sys.argv) > 1 else 1, int(sys.argv[2]) if len(sys.argv) > 2 else 6)
