"""Shared setup for `python -m pytest benchmarks --benchmark-enable`.

- Collects `bench_*.py` files (pytest's default pattern is test_*.py); test functions inside
  them are named test_* as usual.
- `replay_workload`: the deterministic replay workload (benchmarks/replay_bench.py uses the same),
  EXCONNECT_BENCH_FRAMES frames long (default 20,000 so the suite stays quick).
"""
import os
import sys
from fnmatch import fnmatch

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))   # compare_peers and friends


def pytest_collect_file(file_path, parent):
    if file_path.suffix != ".py" or not file_path.name.startswith("bench_"):
        return None
    if any(fnmatch(file_path.name, pattern) for pattern in parent.config.getini("python_files")):
        return None   # already collected by pytest's own python_files setting
    if parent.session.isinitpath(file_path):
        return None   # named on the command line: pytest collects it itself
    return pytest.Module.from_parent(parent, path=file_path)


@pytest.fixture(scope="session")
def replay_workload():
    from exconnect.replay import load_workload
    return load_workload(frames=int(os.environ.get("EXCONNECT_BENCH_FRAMES", "20000")))
