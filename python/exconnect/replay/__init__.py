"""Replay: a deterministic Binance-shaped depth workload and the `exconnect replay` command."""
from .workload import TICK, STEP, Workload, WorkloadConfig, generate, load_workload

__all__ = ["TICK", "STEP", "Workload", "WorkloadConfig", "generate", "load_workload"]
