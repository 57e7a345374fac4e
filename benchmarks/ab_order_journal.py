"""Same-run A/B of how a new order is made durable before its request is sent: the journal append
(what the connector does) against a sqlite commit (what it did before, still the path for every
later state). Runs ``bench_connector.run`` alternately with each, ``rounds`` times.

Run: ``python benchmarks/ab_order_journal.py [rounds] [iterations]`` (defaults 3, 200; ~20 s a run).
"""
import asyncio
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_connector  # noqa: E402

from exconnect.connector.order_tracker import ClientOrderTracker  # noqa: E402

_journal = ClientOrderTracker.start_tracking_order


def _sqlite(self, order, new_order=False):
    return _journal(self, order, new_order=False)


def main(rounds: int, iterations: int) -> None:
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    p50 = {"journal": {}, "sqlite": {}}
    for rnd in range(rounds):
        for name, method in (("journal", _journal), ("sqlite", _sqlite)):
            ClientOrderTracker.start_tracking_order = method
            for r in asyncio.run(bench_connector.run(iterations)):
                p50[name].setdefault(r["name"], []).append(r["p50_us"])
            print(f"round {rnd} {name}: " + ", ".join(f"{k} {v[-1]}" for k, v in p50[name].items()), flush=True)
    ClientOrderTracker.start_tracking_order = _journal
    print("\nmedian of the rounds' p50, microseconds (journal / sqlite = ratio)")
    for key in p50["journal"]:
        j, s = statistics.median(p50["journal"][key]), statistics.median(p50["sqlite"][key])
        print(f"  {key:28s} {j:8.1f} / {s:8.1f} = {j / s:.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3, int(sys.argv[2]) if len(sys.argv) > 2 else 200)
