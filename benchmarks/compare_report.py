"""Measurement and reporting helpers shared by benchmarks/replay_bench.py.

Timing: batches timed with perf_counter_ns, several runs, median and minimum kept (the machine
may be shared). Reporting: one Row per figure with its target, judged on the median and on the
fastest run, printed as a markdown table. Components that are not built are rows marked SKIPPED.
"""
from __future__ import annotations

import gc
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from itertools import repeat
from typing import Callable, List, Optional

perf_counter_ns = time.perf_counter_ns


# ------------------------------------------------------------------------------------- timing
@dataclass
class Timing:
    median: float          # ns per operation
    minimum: float


def time_batches(batch: Callable[[], object], ops: int, runs: int,
                 setup: Optional[Callable[[], object]] = None, overhead: float = 0.0) -> Timing:
    """Time `batch` (which performs `ops` operations) `runs` times; ns per op, minus `overhead`."""
    samples = []
    for _ in range(runs):
        if setup is not None:
            setup()
        gc.collect()
        start = perf_counter_ns()
        batch()
        samples.append((perf_counter_ns() - start) / ops - overhead)
    return Timing(statistics.median(samples), min(samples))


def per_call(fn: Callable, args: tuple, calls: int, runs: int, overhead: float) -> Timing:
    """ns per `fn(*args)` in a tight loop, minus the empty-loop cost."""
    def batch():
        for _ in repeat(None, calls):
            fn(*args)
    return time_batches(batch, calls, runs, overhead=overhead)


def empty_loop_ns(calls: int, runs: int) -> float:
    def batch():
        for _ in repeat(None, calls):
            pass
    return time_batches(batch, calls, runs).median


# ------------------------------------------------------------------------------------- results
@dataclass
class Row:
    section: str
    name: str
    value: Optional[float]          # None: skipped
    unit: str
    minimum: Optional[float] = None
    target: Optional[float] = None  # pass when value <= target
    note: str = ""

    @property
    def formatted(self) -> str:
        return f"{self.value:,.2f} {self.unit}" if self.unit == "x" else f"{self.value:,.1f} {self.unit}"

    @property
    def status(self) -> str:
        """Judged on the median."""
        return self._judge(self.value)

    @property
    def status_at_minimum(self) -> str:
        """Judged on the fastest run: the closest to an unloaded machine."""
        return self._judge(self.minimum) if self.minimum is not None else ""

    def _judge(self, value: Optional[float]) -> str:
        if value is None:
            return "SKIPPED" if self.value is None else ""
        if self.target is None:
            return ""
        return "pass" if value <= self.target else f"MISS (x{value / self.target:.2f})"


@dataclass
class Report:
    rows: List[Row] = field(default_factory=list)
    facts: dict = field(default_factory=dict)

    def add(self, *args, **kwargs) -> Row:
        row = Row(*args, **kwargs)
        self.rows.append(row)
        print(f"  {row.name}: " + (row.formatted if row.value is not None else "SKIPPED")
              + (f"  [{row.status}]" if row.status else "") + (f"  {row.note}" if row.note else ""),
              file=sys.stderr, flush=True)
        return row

    def skip(self, section: str, name: str, why: str, target: Optional[float] = None, unit: str = "") -> None:
        self.add(section, name, None, unit, target=target, note=why)

    def markdown(self) -> str:
        lines = ["| section | measurement | exconnect (median) | min | target | status (median) | status (min) | notes |",
                 "|---|---|---:|---:|---:|---|---|---|"]
        for r in self.rows:
            value = r.formatted if r.value is not None else "—"
            minimum = (f"{r.minimum:,.2f}" if r.unit == "x" else f"{r.minimum:,.1f}") if r.minimum is not None else ""
            target = f"≤ {r.target:g} {r.unit}" if r.target is not None else ""
            lines.append(f"| {r.section} | {r.name} | {value} | {minimum} | {target} | {r.status} | "
                         f"{r.status_at_minimum} | {r.note} |")
        return "\n".join(lines)


# ------------------------------------------------------------------------------------- components
def import_native(module: str, *names: str):
    """The named attributes of exconnect.native.<module>, or a reason string if not importable."""
    try:
        mod = __import__(f"exconnect.native.{module}", fromlist=list(names))
    except ImportError as error:
        return f"exconnect.native.{module} not importable yet ({error})"
    missing = [n for n in names if not hasattr(mod, n)]
    if missing:
        return f"exconnect.native.{module} lacks {', '.join(missing)}"
    return mod


def machine_facts() -> dict:
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "implementation": platform.python_implementation(), "machine": platform.machine(),
            "date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "load_average_at_start": load_average()}


def load_average() -> str:
    try:
        with open("/proc/loadavg") as handle:
            return " ".join(handle.read().split()[:3])
    except OSError:
        return "unknown"



def replay_batch(apply: Callable[[bytes], object], frames: List[bytes]) -> Callable[[], None]:
    def batch():
        for frame in frames:
            apply(frame)
    return batch


def attribute_batch(obj, name: str, calls: int) -> Callable[[], None]:
    """A loop reading obj.<name> `calls` times (compiled once, so no getattr() in the loop)."""
    namespace = {"obj": obj, "repeat": repeat}
    exec(f"def batch():\n    o = obj\n    for _ in repeat(None, {calls}):\n        o.{name}\n", namespace)
    return namespace["batch"]
