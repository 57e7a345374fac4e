"""Resident memory per price level, measured in a fresh interpreter per book kind."""
from __future__ import annotations

import os
import subprocess
import sys
from typing import Optional

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))


# Run in a fresh interpreter per book kind: memory freed by earlier measurements would otherwise be
# reused by the allocator and hide the growth being measured.
_MEMORY_PROBE = r"""
import gc, os, sys
sys.path.insert(0, {bench_dir!r})
kind, path, books = sys.argv[1], sys.argv[2], int(sys.argv[3])
body = open(path, "rb").read()
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
if kind == "native":
    from exconnect.native.order_book import OrderBook
    def make():
        b = OrderBook(price_scale=8, size_scale=8)
        b.apply_binance_snapshot(body)
        return b
else:
    from compare_peers import OrderBookPackageBook, PythonDepthBook
    cls = PythonDepthBook if kind == "sorted_dict" else OrderBookPackageBook
    def make():
        b = cls()
        b.apply_snapshot(body)
        return b
make()
gc.collect()
before = rss()
held = [make() for _ in range(books)]
gc.collect()
print(rss() - before)
"""


def rss_growth(kind: str, snapshot_path: str, books: int) -> Optional[int]:
    """RSS growth (bytes) while `books` books of `kind` each hold the snapshot at `snapshot_path`.

    kind: "native", "sorted_dict" or "order_book". None (reason on stderr) if the probe fails.
    """
    code = _MEMORY_PROBE.format(bench_dir=BENCH_DIR)
    result = subprocess.run([sys.executable, "-c", code, kind, snapshot_path, str(books)],
                            capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        print(f"memory probe {kind} failed: {result.stderr.strip()[-300:]}", file=sys.stderr)
        return None
    return int(result.stdout.strip())
