"""Same compiled apply_binance_depth, back to back vs after a 100 ms idle: shows what wake-from-idle
costs on this machine (cold caches, idle CPU states). Run: python benchmarks/cold_vs_hot.py"""
import time, statistics
from exconnect.replay import load_workload
w = load_workload()
from exconnect.native.order_book import OrderBook
b = OrderBook(); b.apply_binance_snapshot(w.snapshot)
frames = w.frames
hot=[]
for f in frames[:2000]:
    t=time.perf_counter_ns(); b.apply_binance_depth(f); hot.append(time.perf_counter_ns()-t)
cold=[]; cold2=[]
for f in frames[2000:2040]:
    time.sleep(0.1)
    t=time.perf_counter_ns(); b.apply_binance_depth(f); cold.append(time.perf_counter_ns()-t)
for f in frames[2040:2080]:
    time.sleep(0.1); x=sum(range(20000))  # some other python work between
    t=time.perf_counter_ns(); b.apply_binance_depth(f); cold2.append(time.perf_counter_ns()-t)
print("hot median ns", statistics.median(hot), "cold(sleep) median", statistics.median(cold), "cold(sleep+work)", statistics.median(cold2))
