"""Replay benchmark: exconnect's hot paths on a Binance-shaped workload, beside peers, in one run.

    python benchmarks/replay_bench.py [--frames N] [--runs R] [--json out.json]

Measures (each a median of R runs; the minimum is shown too, since the machine may be shared):
  bytes → applied book per frame (OrderBook.apply_binance_depth) vs orjson.loads of the same frames,
  pre-parsed apply per level, best bid/ask, top-20 both sides, memory per level, InFlightOrder
  lifecycle, TradingRule quantize, client order id; and the same replay through a SortedDict book
  and the `order-book` package. Components not built yet are reported as SKIPPED, not hidden.
Per-call figures (best bid/ask, top-20, quantize, client id) subtract the cost of an empty Python
loop iteration, which is printed, so they are the cost of the call itself as a Python caller sees it.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import asdict
from decimal import Decimal
from itertools import repeat
from typing import List, Optional

import orjson

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_memory import rss_growth  # noqa: E402
from compare_peers import OrderBookPackageBook, PythonDepthBook, order_book_package_available  # noqa: E402
from compare_report import (Report, Timing, attribute_batch, empty_loop_ns, import_native,  # noqa: E402
                            load_average, machine_facts, per_call, perf_counter_ns, replay_batch,
                            time_batches)

from exconnect.replay import WorkloadConfig, load_workload  # noqa: E402


# ------------------------------------------------------------------------------------- sections
def bench_replay(report: Report, workload, runs: int, with_futures: bool = True) -> dict:
    """bytes → book through each implementation, plus orjson.loads alone; returns Timing by name.

    The contenders take turns run by run (round robin), so a change of load on the shared
    machine hits them alike and the ratios stay meaningful.
    """
    frames = workload.frames
    n = len(frames)
    contenders = {"orjson": (None, replay_batch(orjson.loads, frames))}
    checks = {}

    ob = import_native("order_book", "OrderBook", "DEPTH_APPLIED")
    if not isinstance(ob, str):
        book = ob.OrderBook(price_scale=8, size_scale=8, symbol=workload.config.symbol)
        book.apply_binance_snapshot(workload.snapshot)
        statuses = {book.apply_binance_depth(frame) for frame in frames}
        correct = _native_matches(book, workload)
        checks["exconnect"] = ("all frames applied, final book = expected"
                               if statuses == {ob.DEPTH_APPLIED} and correct else
                               f"CHECK FAILED: statuses {sorted(statuses)}, final book {'ok' if correct else 'WRONG'}")
        contenders["exconnect"] = (lambda: book.apply_binance_snapshot(workload.snapshot),
                                   replay_batch(book.apply_binance_depth, frames))
        # Right after that run the book is past every frame: replaying them again is all stale,
        # i.e. parsing + the sequence check without touching the book.
        contenders["exconnect_stale"] = (None, replay_batch(book.apply_binance_depth, frames))

    peers = [("sortedcontainers.SortedDict + orjson (float keys)", PythonDepthBook)]
    if order_book_package_available():
        peers.append(("order-book 0.6 (PyPI, C) + orjson (float keys)", OrderBookPackageBook))
    for label, cls in peers:
        peer = cls()
        peer.apply_snapshot(workload.snapshot)
        ok = all(peer.apply_depth(f) == "applied" for f in frames)
        checks[label] = "" if ok else "CHECK FAILED: not every frame applied"
        contenders[label] = (lambda p=peer: p.apply_snapshot(workload.snapshot), replay_batch(peer.apply_depth, frames))

    add_futures_rows = None
    if not isinstance(ob, str) and with_futures:
        futures_contenders, add_futures_rows = _futures_contenders(ob, n, report.facts)
        contenders.update(futures_contenders)

    samples = {name: [] for name in contenders}
    for _ in range(runs):
        for name, (setup, batch) in contenders.items():
            if setup is not None:
                setup()
            gc.collect()
            start = perf_counter_ns()
            batch()
            samples[name].append((perf_counter_ns() - start) / n)   # every workload here has n frames
    results = {name: Timing(statistics.median(v), min(v)) for name, v in samples.items()}

    t = results["orjson"]
    report.add("replay", "orjson.loads of the same frames (reference)", t.median, "ns/frame", t.minimum)
    if isinstance(ob, str):
        report.skip("replay", "bytes → applied book (apply_binance_depth)", ob, 600, "ns/frame")
        report.skip("replay", "… vs orjson.loads of the same frames", ob, 1.0, "x")
    else:
        t = results["exconnect"]
        report.add("replay", "bytes → applied book (apply_binance_depth)", t.median, "ns/frame", t.minimum,
                   target=600, note=checks["exconnect"])
        stale = results["exconnect_stale"]
        report.add("replay", "… of which parse + sequence check (every frame stale)", stale.median, "ns/frame",
                   stale.minimum, note="same frames replayed after the book passed them")
        # Ratio per run (same moment, same load), then the median of those.
        ratios = [ours / theirs for ours, theirs in zip(samples["exconnect"], samples["orjson"])]
        report.add("replay", "… vs orjson.loads of the same frames", statistics.median(ratios), "x",
                   min(ratios), target=1.0, note="< 1: parsing and applying beats merely parsing with orjson")
    if not order_book_package_available():
        report.skip("replay peers", "order-book package", "not installed (pip install order-book)")
    for label, _ in peers:
        t = results[label]
        note = checks[label]
        if "exconnect" in results:
            ratios = [theirs / ours for ours, theirs in zip(samples["exconnect"], samples[label])]
            note = (f"exconnect is {statistics.median(ratios):,.1f}x faster (median of per-run ratios) " + note).strip()
        report.add("replay peers", label, t.median, "ns/frame", t.minimum, note=note)
    if add_futures_rows is not None:
        add_futures_rows(report, samples)
    return results


def _futures_contenders(ob, frames: int, facts: dict):
    """USDⓈ-M frames (T, pu chain) in combined-stream envelopes: the perpetual connector's path.

    Returns (contenders to add to the round robin, a function reporting them from the samples)."""
    workload = load_workload(frames=frames, futures=True, combined=True)
    facts["futures_mean_frame_bytes"] = round(sum(map(len, workload.frames)) / max(len(workload), 1), 1)
    book = ob.OrderBook(price_scale=8, size_scale=8, symbol=workload.config.symbol, futures=True)
    book.apply_binance_snapshot(workload.snapshot)
    statuses = {book.apply_binance_depth(frame) for frame in workload.frames}
    correct = _native_matches(book, workload)
    check = ("all applied, final book = expected" if statuses == {ob.DEPTH_APPLIED} and correct else
             f"CHECK FAILED: statuses {sorted(statuses)}, final book {'ok' if correct else 'WRONG'}")
    contenders = {"exconnect_futures": (lambda: book.apply_binance_snapshot(workload.snapshot),
                                        replay_batch(book.apply_binance_depth, workload.frames)),
                  "orjson_futures": (None, replay_batch(orjson.loads, workload.frames))}

    def add_rows(report: Report, samples: dict) -> None:
        ours = samples["exconnect_futures"]
        ratios = [a / b for a, b in zip(ours, samples["orjson_futures"])]
        report.add("replay futures", "bytes → book, futures frames in combined-stream envelopes (pu chain)",
                   statistics.median(ours), "ns/frame", min(ours), target=600,
                   note=f"{statistics.median(ratios):.2f}x orjson.loads of the same frames; {check}")
    return contenders, add_rows


def _native_matches(book, workload) -> bool:
    """The compiled book after the replay holds exactly the levels the generator says it should."""
    bids, asks = workload.final_book()
    try:
        got_bids = {int(row.price * 100): int(row.amount * 100_000) for row in book.bid_entries()}
        got_asks = {int(row.price * 100): int(row.amount * 100_000) for row in book.ask_entries()}
    except Exception:  # the check must not take the benchmark down; it reports instead
        return False
    return got_bids == bids and got_asks == asks


def bench_pre_parsed(report: Report, workload, runs: int) -> None:
    ob = import_native("order_book", "OrderBook")
    if isinstance(ob, str):
        report.skip("pre-parsed", "apply_diffs (Decimal levels)", ob, 30, "ns/level")
        return
    levels = workload.level_count
    uids = workload.last_update_ids
    book = ob.OrderBook(price_scale=8, size_scale=8)
    snapshot_bids, snapshot_asks = workload.snapshot_levels("decimal")

    def reset():
        book.apply_snapshot(snapshot_bids, snapshot_asks, workload.snapshot_update_id)

    for form, label in (("decimal", "apply_diffs, Decimal levels (Hummingbot API)"),
                        ("text", "apply_diffs, str levels")):
        per_frame = workload.frame_levels(form)
        apply_diffs = book.apply_diffs

        def batch():
            for (bids, asks), uid in zip(per_frame, uids):
                apply_diffs(bids, asks, uid)
        t = time_batches(batch, levels, max(3, runs // 2), setup=reset)
        report.add("pre-parsed", label, t.median, "ns/level", t.minimum, target=30)
    # The fixed-point buffer fast path: interleaved int64 (price, qty) per side, one call per frame.
    if not hasattr(book, "apply_levels_fixed"):
        report.skip("pre-parsed", "apply_levels_fixed", "OrderBook.apply_levels_fixed missing", 30, "ns/level")
        return
    per_frame = workload.frame_level_arrays()
    apply_fixed = book.apply_levels_fixed

    def fixed_batch():
        for (bids, asks), uid in zip(per_frame, uids):
            apply_fixed(bids, asks, uid)
    t = time_batches(fixed_batch, levels, runs, setup=reset)
    per_call_ns = t.median * levels / len(per_frame)
    report.add("pre-parsed", "apply_levels_fixed, int64 buffers (one Python call per frame)", t.median,
               "ns/level", t.minimum, target=30,
               note=f"{per_call_ns:,.0f} ns per frame call of {levels / len(per_frame):.1f} levels, "
                    f"Python call overhead included")


def bench_queries(report: Report, workload, runs: int, overhead: float, calls: int) -> None:
    ob = import_native("order_book", "OrderBook")
    peers = [("SortedDict", PythonDepthBook())]
    if order_book_package_available():
        peers.append(("order-book", OrderBookPackageBook()))
    for _, peer in peers:
        peer.apply_snapshot(workload.snapshot)
        for frame in workload.frames[: len(workload.frames) // 2]:
            peer.apply_depth(frame)
    peer_best = {name: per_call(p.best_bid, (), calls, runs, overhead).median for name, p in peers}
    peer_top = {name: per_call(p.top, (20,), calls // 10, runs, overhead).median for name, p in peers}

    def peer_note(figures, ours):
        return ", ".join(f"{name} {v:,.0f} ns" + (f" ({v / ours:,.1f}x)" if ours else "") for name, v in figures.items())

    for name in peer_best:
        report.add("queries peers", f"{name}: best bid (float)", peer_best[name], "ns")
        report.add("queries peers", f"{name}: top 20 both sides (tuples)", peer_top[name], "ns")
    if isinstance(ob, str):
        report.skip("queries", "best bid/ask", ob, 30, "ns")
        report.skip("queries", "top-20 both sides", ob, 1500, "ns")
        return
    book = ob.OrderBook(price_scale=8, size_scale=8)
    book.apply_binance_snapshot(workload.snapshot)
    for frame in workload.frames[: len(workload.frames) // 2]:
        book.apply_binance_depth(frame)
    t = per_call(book.get_price, (True,), calls, runs, overhead)
    report.add("queries", "best ask: get_price(True) → Decimal", t.median, "ns", t.minimum, target=30,
               note="peers (float, best bid): " + peer_note(peer_best, t.median))
    t = per_call(book.get_price, (False,), calls, runs, overhead)
    report.add("queries", "best bid: get_price(False) → Decimal", t.median, "ns", t.minimum, target=30)
    for name in ("best_bid", "best_ask"):
        attr = getattr(type(book), name, None)
        if attr is None:
            continue
        if callable(getattr(book, name)):
            t = per_call(getattr(book, name), (), calls, runs, overhead)
            label = f"{name}() → int fixed point"
        else:
            t = time_batches(attribute_batch(book, name, calls), calls, runs, overhead=overhead)
            label = f"{name} property → int fixed point"
        report.add("queries", label, t.median, "ns", t.minimum, target=30)
    if hasattr(book, "top"):
        t = per_call(book.top, (20,), calls // 10, runs, overhead)
        report.add("queries", "top(20): both sides, compact", t.median, "ns", t.minimum, target=1500,
                   note="peers (top 20 as tuples): " + peer_note(peer_top, t.median))
    else:
        report.skip("queries", "top-20 both sides", "OrderBook.top missing", 1500, "ns")
    if hasattr(book, "snapshot"):
        levels = book.bid_depth + book.ask_depth if hasattr(book, "bid_depth") else 0
        t = time_batches(lambda: [book.snapshot for _ in range(20)], 20, runs)
        report.add("queries", "snapshot property (every level as OrderBookRow of Decimals)", t.median / 1000,
                   "µs", t.minimum / 1000, note=f"{levels:,} levels" if levels else "")


def bench_memory(report: Report, workload, books: int = 100) -> None:
    """Resident memory per level: RSS growth while `books` books each hold the snapshot."""
    levels_each = len(orjson.loads(workload.snapshot)["bids"]) + len(orjson.loads(workload.snapshot)["asks"])
    with tempfile.NamedTemporaryFile(suffix=".json") as handle:
        handle.write(workload.snapshot)
        handle.flush()
        kinds = [("SortedDict", "sorted_dict")]
        if order_book_package_available():
            kinds.append(("order-book", "order_book"))
        peers = {}
        for label, kind in kinds:
            grown = rss_growth(kind, handle.name, books)
            if grown is not None:
                peers[label] = grown / (books * levels_each)
                report.add("memory peers", f"{label}: bytes per level", peers[label], "B",
                           note="RSS growth / levels held")
        ob = import_native("order_book", "OrderBook")
        if isinstance(ob, str):
            report.skip("memory", "bytes per level", ob, 32, "B")
            return
        grown = rss_growth("native", handle.name, books)
    note = "RSS growth / levels held; peers: " + ", ".join(f"{k} {v:,.0f} B" for k, v in peers.items())
    if grown is None:
        report.skip("memory", "bytes per level, RSS", "the measuring subprocess failed", 32, "B")
    else:
        report.add("memory", f"bytes per level, RSS ({books} books × {levels_each:,} levels)",
                   grown / (books * levels_each), "B", target=32, note=note)
    sample = ob.OrderBook(price_scale=8, size_scale=8)
    sample.apply_binance_snapshot(workload.snapshot)
    if hasattr(sample, "bytes_used"):
        report.add("memory", "bytes per level, as the book reports (bytes_used / levels)",
                   sample.bytes_used / levels_each, "B", target=32,
                   note="struct + array capacity (24-byte levels); RSS adds allocator overhead")


def bench_cdef(report: Report, workload, runs: int, calls: int) -> None:
    """The same book operations called from Cython (cdef API): the C cost without Python calls."""
    ob = import_native("order_book", "OrderBook")
    if isinstance(ob, str):
        report.skip("cdef", "Cython caller figures", ob)
        return
    import compare_cdef
    probe = compare_cdef.load()
    if isinstance(probe, str):
        report.skip("cdef", "Cython caller figures", probe)
        return
    book = ob.OrderBook(price_scale=8, size_scale=8)
    frames = workload.frames
    samples = []
    for _ in range(runs):
        book.apply_binance_snapshot(workload.snapshot)
        gc.collect()
        samples.append(probe.replay_bytes(book, frames) / len(frames))
    report.add("cdef", "bytes → applied book, c_apply_binance_depth from Cython", statistics.median(samples),
               "ns/frame", min(samples), target=600, note="no Python call per frame")
    prepared = probe.PreparedLevels(workload.frame_level_arrays(), workload.last_update_ids)
    samples = []
    for _ in range(runs):
        book.apply_binance_snapshot(workload.snapshot)
        samples.append(prepared.apply(book) / workload.level_count)
    report.add("cdef", "pre-parsed apply, c_apply_levels from Cython", statistics.median(samples), "ns/level",
               min(samples), target=30, note="the C book's own per-level cost")
    samples = [probe.best_bid_ask(book, calls)[0] / (2 * calls) for _ in range(runs)]
    report.add("cdef", "best bid or ask, c_best_bid / c_best_ask", statistics.median(samples), "ns",
               min(samples), target=30)
    samples = [probe.top20(book, calls // 10)[0] / (calls // 10) for _ in range(runs)]
    report.add("cdef", "top 20 both sides, c_top into a C buffer", statistics.median(samples), "ns",
               min(samples), target=1500)


def bench_lifecycle(report: Report, runs: int, calls: int) -> None:
    mod = import_native("in_flight_order", "InFlightOrder")
    if isinstance(mod, str):
        report.skip("orders", "InFlightOrder lifecycle", mod, 1500, "ns")
        return
    from exconnect.types import (DeductedFromReturnsTradeFee, OrderState, OrderType, OrderUpdate,
                                 TokenAmount, TradeType, TradeUpdate)
    InFlightOrder = mod.InFlightOrder
    cid, pair, ex_id = "x-XEKWYICXBBTUT6177a1b2c3d4e5f6a7b8c", "BTC-USDT", "28457"
    amount, price = Decimal("0.03000"), Decimal("60000.00")
    ack = OrderUpdate(pair, 1767225600.01, OrderState.OPEN, cid, ex_id)
    filled = OrderUpdate(pair, 1767225600.30, OrderState.FILLED, cid, ex_id)
    fills = []
    for i, fill_price in enumerate((Decimal("60000.00"), Decimal("59999.99"), Decimal("59999.98"))):
        qty = Decimal("0.01000")
        fee = DeductedFromReturnsTradeFee(percent_token="BTC",
                                          flat_fees=[TokenAmount("BTC", Decimal("0.00001000"))])
        fills.append(TradeUpdate(f"{1000 + i}", cid, ex_id, pair, 1767225600.1 + i / 10, fill_price, qty,
                                 fill_price * qty, fee))
    t1, t2, t3 = fills
    limit, buy = OrderType.LIMIT, TradeType.BUY

    def lifecycle():
        order = InFlightOrder(cid, pair, limit, buy, amount, 1767225600.0, price)
        order.update_with_order_update(ack)
        order.update_with_trade_update(t1)
        order.update_with_trade_update(t2)
        order.update_with_trade_update(t3)
        order.update_with_order_update(filled)
        return order

    order = lifecycle()
    ok = (order.is_done and order.is_filled and order.executed_amount_base == amount
          and order.cumulative_fee_paid("BTC") == Decimal("0.00003"))
    note = "create, ack, 3 fills with BTC fees, FILLED" if ok else "CHECK FAILED: unexpected end state"

    def batch():
        for _ in repeat(None, calls):
            lifecycle()
    t = time_batches(batch, calls, runs)
    report.add("orders", "InFlightOrder lifecycle", t.median, "ns", t.minimum, target=1500, note=note)


def bench_trading_rule(report: Report, runs: int, overhead: float, calls: int) -> None:
    mod = import_native("trading_rule", "TradingRule")
    if isinstance(mod, str):
        report.skip("rules", "TradingRule.quantize_order_price", mod, 100, "ns")
        report.skip("rules", "TradingRule.quantize_order_amount", mod, 100, "ns")
        return
    rule = mod.TradingRule(trading_pair="BTC-USDT", min_order_size=Decimal("0.00001"),
                           max_order_size=Decimal("9000"), min_price_increment=Decimal("0.01"),
                           min_base_amount_increment=Decimal("0.00001"),
                           min_quote_amount_increment=Decimal("0.00000001"), min_notional_size=Decimal("5"))
    price, amount = Decimal("60000.123456"), Decimal("0.0123456789")
    ok = (rule.quantize_order_price(price) == Decimal("60000.12")
          and rule.quantize_order_amount(amount) == Decimal("0.01234"))
    note = "Decimal in, Decimal out" if ok else "CHECK FAILED: unexpected quantized values"
    t = per_call(rule.quantize_order_price, (price,), calls, runs, overhead)
    report.add("rules", "TradingRule.quantize_order_price", t.median, "ns", t.minimum, target=100, note=note)
    t = per_call(rule.quantize_order_amount, (amount,), calls, runs, overhead)
    report.add("rules", "TradingRule.quantize_order_amount", t.median, "ns", t.minimum, target=100, note=note)


def bench_client_id(report: Report, runs: int, overhead: float, calls: int) -> None:
    mod = import_native("client_order_id", "get_new_client_order_id")
    if isinstance(mod, str):
        report.skip("ids", "get_new_client_order_id", mod, 300, "ns")
        return
    make = mod.get_new_client_order_id
    sample = [make(True, "BTC-USDT", "x-XEKWYICX") for _ in range(10_000)]
    ok = len(set(sample)) == len(sample) and all(len(s) <= 36 for s in sample)
    t = per_call(make, (True, "BTC-USDT", "x-XEKWYICX"), calls, runs, overhead)
    report.add("ids", "get_new_client_order_id", t.median, "ns", t.minimum, target=300,
               note=(f"e.g. {sample[0]}" if ok else "CHECK FAILED: duplicate or too long"))


# ------------------------------------------------------------------------------------- main
def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=WorkloadConfig.frames, help="frames to replay (default 100000)")
    parser.add_argument("--runs", type=int, default=7, help="timed runs per measurement; the median is reported")
    parser.add_argument("--calls", type=int, default=200_000, help="calls per run for per-call figures")
    parser.add_argument("--memory-books", type=int, default=100,
                        help="books built to measure resident memory per level (default 100)")
    parser.add_argument("--no-cdef", action="store_true",
                        help="skip the Cython-caller figures (they compile a small probe module once)")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    if args.frames < 1 or args.runs < 1 or args.calls < 10:
        parser.error("--frames and --runs must be >= 1, --calls >= 10")

    report = Report(facts=machine_facts())
    load_start = time.perf_counter()
    workload = load_workload(frames=args.frames)
    report.facts.update(frames=len(workload), level_changes=workload.level_count,
                        mean_frame_bytes=round(sum(map(len, workload.frames)) / max(len(workload), 1), 1),
                        delete_share=round(workload.delete_count / max(workload.level_count, 1), 3),
                        snapshot_levels_per_side=workload.config.levels_per_side, runs=args.runs,
                        workload_load_seconds=round(time.perf_counter() - load_start, 2))
    print(f"workload: {len(workload):,} frames, {workload.level_count:,} level changes "
          f"({report.facts['delete_share']:.0%} deletes); machine: {report.facts['nproc']} cores, "
          f"{report.facts['cpu']}, Python {report.facts['python']}", file=sys.stderr)
    overhead = empty_loop_ns(args.calls, args.runs)
    report.facts["empty_loop_ns"] = round(overhead, 1)

    replay = bench_replay(report, workload, args.runs)
    bench_pre_parsed(report, workload, args.runs)
    bench_queries(report, workload, args.runs, overhead, args.calls)
    bench_memory(report, workload, max(1, args.memory_books))
    if not args.no_cdef:
        bench_cdef(report, workload, args.runs, args.calls)
    bench_lifecycle(report, args.runs, args.calls // 10)
    bench_trading_rule(report, args.runs, overhead, args.calls)
    bench_client_id(report, args.runs, overhead, args.calls)

    print()
    report.facts["load_average_at_end"] = load_average()
    print(f"machine: {report.facts['nproc']} cores, {report.facts['cpu']}, Python {report.facts['python']}; "
          f"load average {report.facts['load_average_at_start']} at start, {report.facts['load_average_at_end']} at end; "
          f"{len(workload):,} frames, median of {args.runs} runs; per-call figures exclude an empty loop "
          f"iteration ({overhead:.1f} ns)")
    print()
    print(report.markdown())
    if "exconnect" in replay:
        print()
        ours = replay["exconnect"].median
        for name, timing in replay.items():
            if name in ("orjson",) or name.startswith(("sortedcontainers", "order-book")):
                print(f"ratio: {name} / exconnect bytes→book = {timing.median / ours:,.2f}")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"facts": report.facts, "rows": [asdict(r) | {"status": r.status, "status_at_minimum": r.status_at_minimum}
                                                    for r in report.rows]},
                      handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
