"""Crash test (issue 4): a trading process is SIGKILLed at random points and restarted from the
same data folder; in the end the local fill log equals the exchange's myTrades exactly — no fill
lost, none duplicated — and no order stays in flight, locally or on the exchange.

The simulator runs in its own process (it must outlive the trader), with market activity on so
resting orders are filled while the trader is dead, too.
"""
import hashlib
import hmac
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode
from urllib.request import Request, urlopen

import pytest

from exconnect.connector.persistence import ConnectorStore

HERE = Path(__file__).parent
TRADER = str(HERE / "trader.py")
KILLS = 4


def _start_sim(seed: int):
    proc = subprocess.Popen([sys.executable, "-u", "-m", "exconnect.sim", "--port", "0", "--futures-port", "0",
                             "--seed", str(seed), "--activity-rate", "60"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        m = re.search(r"spot\s+REST (http://[\d.]+:\d+)/api/v3", line)
        if m:
            return proc, m.group(1)
    proc.kill()
    raise RuntimeError("simulator did not print its URLs")


def _signed_get(base: str, path: str, **params):
    params["timestamp"] = int(time.time() * 1000)
    query = urlencode(params)
    sig = hmac.new(b"sim-secret", query.encode(), hashlib.sha256).hexdigest()
    req = Request(f"{base}{path}?{query}&signature={sig}", headers={"X-MBX-APIKEY": "sim-key"})
    with urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def _exchange_trades(base: str):
    trades, from_id = [], 0
    while True:
        page = _signed_get(base, "/api/v3/myTrades", symbol="BTCUSDT", fromId=from_id, limit=1000)
        trades += page
        if len(page) < 1000:
            return trades
        from_id = page[-1]["id"] + 1


def _wait_ready(proc, timeout=40):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            raise AssertionError(f"trader exited early with {proc.returncode}")
        if line.startswith("READY"):
            return
    raise AssertionError("trader not ready")


@pytest.mark.slow
def test_sigkill_at_random_points_loses_and_duplicates_no_fill(tmp_path):
    rng = random.Random(int(os.environ.get("EXCONNECT_CRASH_SEED", "20261122")))
    sim, base = _start_sim(seed=rng.randrange(1 << 30))
    folder = str(tmp_path / "data")
    try:
        for _ in range(KILLS):
            child = subprocess.Popen([sys.executable, "-u", TRADER, "trade", base, folder],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            _wait_ready(child)
            time.sleep(rng.uniform(0.2, 2.0))        # somewhere in the middle of quoting / filling
            child.send_signal(signal.SIGKILL)
            child.wait(10)
            assert child.returncode == -signal.SIGKILL
        finish = subprocess.run([sys.executable, "-u", TRADER, "finish", base, folder],
                                capture_output=True, text=True, timeout=120)
        assert finish.returncode == 0, finish.stderr[-3000:]
        summary = json.loads(finish.stdout.strip().splitlines()[-1])
        assert summary["in_flight"] == 0

        exchange = _exchange_trades(base)
        open_orders = _signed_get(base, "/api/v3/openOrders", symbol="BTCUSDT")
    finally:
        sim.send_signal(signal.SIGTERM)
        try:
            sim.wait(10)
        except subprocess.TimeoutExpired:
            sim.kill()

    store = ConnectorStore.in_folder(folder, "binance")
    try:
        local = store.fills("BTC-USDT")
        saved_states = store.load_tracking_states()
    finally:
        store.close()

    local_ids = [str(f["trade_id"]) for f in local]
    assert len(local_ids) == len(set(local_ids)), "a fill was recorded twice"
    exchange_by_id = {str(t["id"]): t for t in exchange}
    assert exchange, "the run produced no fills at all: the test proved nothing"
    assert set(local_ids) == set(exchange_by_id), (
        f"lost: {sorted(set(exchange_by_id) - set(local_ids))[:10]}, "
        f"phantom: {sorted(set(local_ids) - set(exchange_by_id))[:10]}")
    for f in local:                                    # and each fill is recorded exactly as traded
        t = exchange_by_id[str(f["trade_id"])]
        assert Decimal(f["price"]) == Decimal(t["price"])
        assert Decimal(f["amount"]) == Decimal(t["qty"])
    assert open_orders == []
    assert saved_states == {}
