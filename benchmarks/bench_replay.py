"""pytest-benchmark: one replay of the workload's frames (bytes → applied book) per round.

Each round replays every frame of `replay_workload` from a fresh snapshot; divide the round time
by the frame count (stored in extra_info) for ns/frame. benchmarks/replay_bench.py prints the full
side-by-side table with targets.
"""
import orjson
import pytest

from compare_peers import OrderBookPackageBook, PythonDepthBook, order_book_package_available


def _replay_rounds(benchmark, workload, reset, apply):
    frames = workload.frames

    def setup():
        reset(workload.snapshot)
        return (), {}

    def replay():
        statuses = set()
        for frame in frames:
            statuses.add(apply(frame))
        return statuses

    statuses = benchmark.pedantic(replay, setup=setup, rounds=5, iterations=1)
    benchmark.extra_info["frames"] = len(frames)
    benchmark.extra_info["level_changes"] = workload.level_count
    return statuses


def test_replay_exconnect_native_book(benchmark, replay_workload):
    order_book = pytest.importorskip("exconnect.native.order_book")
    book = order_book.OrderBook(price_scale=8, size_scale=8)
    statuses = _replay_rounds(benchmark, replay_workload, book.apply_binance_snapshot, book.apply_binance_depth)
    assert statuses == {order_book.DEPTH_APPLIED}


def test_orjson_loads_same_frames(benchmark, replay_workload):
    frames = replay_workload.frames

    def parse_all():
        loads = orjson.loads
        for frame in frames:
            loads(frame)
    benchmark.pedantic(parse_all, rounds=5, iterations=1)
    benchmark.extra_info["frames"] = len(frames)


def test_replay_sorted_dict_peer(benchmark, replay_workload):
    book = PythonDepthBook()
    statuses = _replay_rounds(benchmark, replay_workload, book.apply_snapshot, book.apply_depth)
    assert statuses == {"applied"}


@pytest.mark.skipif(not order_book_package_available(), reason="order-book package not installed")
def test_replay_order_book_package_peer(benchmark, replay_workload):
    book = OrderBookPackageBook()
    statuses = _replay_rounds(benchmark, replay_workload, book.apply_snapshot, book.apply_depth)
    assert statuses == {"applied"}
