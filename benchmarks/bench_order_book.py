"""pytest-benchmark suite for exconnect.native.order_book (the book + Binance fast path).

    python -m pytest benchmarks/bench_order_book.py --benchmark-enable
    python benchmarks/bench_order_book.py          # prints ns/op figures vs the targets

Data: the deterministic replay workload (exconnect.replay: 1,000-level snapshot a side,
depthUpdate frames of ~12 changes, ~30% deletes, random-walk mid).  Batched benchmarks
store `ops` in extra_info: divide the round time by it for ns/op.
"""
from __future__ import annotations

import os
import time
from array import array
from decimal import Decimal

import orjson
import pytest

from exconnect.native.order_book import DEPTH_APPLIED, OrderBook
from exconnect.replay import load_workload

FRAMES = int(os.environ.get("EXCONNECT_BOOK_BENCH_FRAMES", "5000"))
SCALE = 8


def _workload(frames: int = FRAMES):
    return load_workload(frames=frames)


def _fresh_book(workload) -> OrderBook:
    book = OrderBook(SCALE, SCALE, symbol="BTCUSDT")
    book.apply_binance_snapshot(workload.snapshot)
    return book


def _preparsed(workload):
    """Every frame as (bids, asks, u) int64 arrays of interleaved price, qty — built before timing."""
    out = []
    unit = Decimal(10) ** SCALE
    for frame in workload.frames:
        msg = orjson.loads(frame)
        side = lambda rows: array("q", [int(Decimal(x) * unit) for row in rows for x in row])
        out.append((side(msg["b"]), side(msg["a"]), msg["u"]))
    return out


@pytest.fixture(scope="module")
def workload():
    return _workload()


@pytest.fixture(scope="module")
def replayed_book(workload):
    book = _fresh_book(workload)
    for frame in workload.frames:
        assert book.apply_binance_depth(frame) == DEPTH_APPLIED
    return book


def test_apply_binance_depth_bytes_to_book(benchmark, workload):
    state = {}

    def setup():
        state["book"] = _fresh_book(workload)
        return (), {}

    def replay():
        apply = state["book"].apply_binance_depth
        for frame in workload.frames:
            apply(frame)

    benchmark.pedantic(replay, setup=setup, rounds=5, iterations=1)
    benchmark.extra_info["ops"] = len(workload.frames)
    benchmark.extra_info["unit"] = "frame"


def test_orjson_loads_same_frames(benchmark, workload):
    def parse_all():
        loads = orjson.loads
        for frame in workload.frames:
            loads(frame)

    benchmark.pedantic(parse_all, rounds=5, iterations=1)
    benchmark.extra_info["ops"] = len(workload.frames)
    benchmark.extra_info["unit"] = "frame"


def test_apply_preparsed_levels(benchmark, workload):
    frames = _preparsed(workload)
    levels = sum((len(b) + len(a)) // 2 for b, a, _ in frames)
    state = {}

    def setup():
        state["book"] = _fresh_book(workload)
        return (), {}

    def replay():
        apply = state["book"].apply_levels_fixed
        for bids, asks, uid in frames:
            apply(bids, asks, uid)

    benchmark.pedantic(replay, setup=setup, rounds=5, iterations=1)
    benchmark.extra_info["ops"] = levels
    benchmark.extra_info["unit"] = "level (incl. one Python call per frame)"


def test_best_bid_ask_cdef(benchmark, replayed_book):
    benchmark(replayed_book._bench_best, 1000)
    benchmark.extra_info["ops"] = 1000
    benchmark.extra_info["unit"] = "best bid + best ask via cdef"


def test_best_bid_property(benchmark, replayed_book):
    benchmark(lambda: replayed_book.best_bid)


def test_get_price_decimal(benchmark, replayed_book):
    benchmark(replayed_book.get_price, True)


def test_top20_both_sides(benchmark, replayed_book):
    bids, asks = benchmark(replayed_book.top, 20)
    assert len(bids) == 40 and len(asks) == 40


def test_top20_into_preallocated(benchmark, replayed_book):
    out = array("q", bytes(8 * 80))
    assert benchmark(replayed_book.top_into, out, 20) == (20, 20)


def test_get_price_for_volume(benchmark, replayed_book):
    benchmark(replayed_book.get_price_for_volume, True, Decimal("5"))


def test_get_vwap_for_volume(benchmark, replayed_book):
    benchmark(replayed_book.get_vwap_for_volume, False, Decimal("5"))


def test_memory_per_level(benchmark, replayed_book):
    levels = replayed_book.bid_depth + replayed_book.ask_depth
    per_level = replayed_book.bytes_used / levels
    benchmark.extra_info["levels"] = levels
    benchmark.extra_info["bytes_per_level"] = round(per_level, 2)
    benchmark(lambda: replayed_book.bytes_used)
    assert per_level <= 32


# ------------------------------------------------------------------ plain runner
def _ns(fn, ops: int, repeat: int = 7) -> float:
    """Best-of-`repeat` process CPU time per op (the box is shared: CPU time, not wall)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time_ns()
        fn()
        best = min(best, time.process_time_ns() - t0)
    return best / ops


def _loop(fn, reps):
    def run():
        for _ in range(reps):
            fn()
    return run


def main() -> None:
    w = _workload()
    frames = w.frames

    def replay_bytes():
        book = _fresh_book(w)
        apply = book.apply_binance_depth
        t0 = time.process_time_ns()
        for f in frames:
            apply(f)
        return time.process_time_ns() - t0

    def loads_all():
        loads = orjson.loads
        for f in frames:
            loads(f)

    per_frame = min(replay_bytes() for _ in range(7)) / len(frames)
    loads = _ns(loads_all, len(frames))
    pre = _preparsed(w)
    levels = sum((len(b) + len(a)) // 2 for b, a, _ in pre)

    def replay_pre():
        book = _fresh_book(w)
        apply = book.apply_levels_fixed
        t0 = time.process_time_ns()
        for b, a, u in pre:
            apply(b, a, u)
        return time.process_time_ns() - t0

    per_level = min(replay_pre() for _ in range(7)) / levels
    book = _fresh_book(w)
    for f in frames:
        book.apply_binance_depth(f)
    best = _ns(lambda: book._bench_best(100000), 100000)
    top = _ns(_loop(lambda: book.top(20), 20000), 20000)
    out = array("q", bytes(8 * 80))
    top_into = _ns(_loop(lambda: book.top_into(out, 20), 20000), 20000)
    prop = _ns(_loop(lambda: book.best_bid, 20000), 20000)
    pfv = _ns(_loop(lambda: book.get_price_for_volume(True, "5"), 20000), 20000)
    mem = book.bytes_used / (book.bid_depth + book.ask_depth)
    print(f"frames {len(frames)}, {levels / len(frames):.1f} levels/frame, book {book.bid_depth}+{book.ask_depth} levels")
    print(f"bytes -> applied book   {per_frame:8.0f} ns/frame   (target <= 600; orjson.loads {loads:.0f} ns/frame,"
          f" ratio {per_frame / loads:.2f})")
    print(f"pre-parsed apply        {per_level:8.1f} ns/level   (target <= 30; includes one Python call per frame)")
    print(f"best bid + ask (cdef)   {best:8.1f} ns/pair    (target <= 30)")
    print(f"best_bid property       {prop:8.1f} ns         (Python attribute access incl. loop)")
    print(f"top(20) both sides      {top:8.0f} ns          (target <= 1500; top_into {top_into:.0f} ns)")
    print(f"get_price_for_volume    {pfv:8.0f} ns")
    print(f"memory                  {mem:8.1f} B/level    (target <= 32)")


if __name__ == "__main__":
    main()
