"""Warm cost of making a new order durable: ConnectorStore.journal_order (one append) against
ConnectorStore.save_order (a sqlite WAL commit), and of clearing the journal (ftruncate).

Same run, alternating, median of ``rounds`` rounds of ``n`` orders each; a fresh store per round in
a temporary folder on the data disk. Run: ``python benchmarks/bench_journal.py [n] [rounds]``
(defaults 3000, 5).
"""
import os
import statistics
import sys
import tempfile
import time

from exconnect.connector.persistence import ConnectorStore

# the shape of a new order's tracking state (InFlightOrder.to_json of a PENDING_CREATE limit order)
STATE = {"client_order_id": "x-XEKWYICXBBCUT1j0r0gepp5v05a6k2dcae", "exchange_order_id": None,
         "trading_pair": "BTC-USDT", "order_type": "LIMIT", "trade_type": "BUY", "price": "59000.00",
         "amount": "0.001", "creation_timestamp": 1765000000.0, "leverage": 1, "position": "NIL",
         "state": "PENDING_CREATE", "executed_amount_base": "0", "executed_amount_quote": "0",
         "cumulative_fee_paid": {}, "order_fills": {}}


def per_call_us(fn, n: int) -> float:
    t = time.perf_counter_ns()
    for i in range(n):
        fn(i)
    return (time.perf_counter_ns() - t) / n / 1000


def main(n: int, rounds: int) -> None:
    journal, commit, clear = [], [], []
    for _ in range(rounds):
        with tempfile.TemporaryDirectory(dir=os.path.expanduser("~")) as d:
            store = ConnectorStore.in_folder(d, "bench")
            journal.append(per_call_us(lambda i: store.journal_order(f"j{i}", STATE), n))
            commit.append(per_call_us(lambda i: store.save_order(f"s{i}", STATE), n))
            fd = store._journal_fd
            clear.append(per_call_us(lambda i: (os.write(fd, b"x" * 400 + b"\n"), os.ftruncate(fd, 0)), n)
                         - per_call_us(lambda i: os.write(fd, b"x" * 400 + b"\n"), n))
            store.close()
    j, c, f = statistics.median(journal), statistics.median(commit), statistics.median(clear)
    print(f"journal_order (append)      {j:6.2f} us")
    print(f"save_order (sqlite commit)  {c:6.2f} us   ratio append/commit = {j / c:.2f}")
    print(f"ftruncate (journal clear)   {f:6.2f} us")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3000, int(sys.argv[2]) if len(sys.argv) > 2 else 5)
