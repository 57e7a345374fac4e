"""benchmarks/replay_bench.py runs end to end on a tiny workload and its built-in checks hold.

No timing is asserted (figures go to benchmarks/RESULTS.md); this guards the runner itself and
the correctness checks it performs on every component it measures.
"""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_replay_bench_runs_and_its_checks_pass(tmp_path):
    out = tmp_path / "results.json"
    result = subprocess.run(
        [sys.executable, os.path.join(ROOT, "benchmarks", "replay_bench.py"), "--frames", "300",
         "--runs", "1", "--calls", "200", "--memory-books", "2", "--no-cdef", "--json", str(out)],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "| section | measurement |" in result.stdout
    assert "CHECK FAILED" not in result.stdout + result.stderr
    data = json.loads(out.read_text())
    assert data["facts"]["frames"] == 300 and data["facts"]["nproc"] >= 1
    rows = {row["name"]: row for row in data["rows"]}
    assert rows["orjson.loads of the same frames (reference)"]["value"] > 0
    assert rows["sortedcontainers.SortedDict + orjson (float keys)"]["value"] > 0
    # Every component is either measured or explicitly reported as skipped with a reason.
    for row in data["rows"]:
        assert row["value"] is not None or (row["status"] == "SKIPPED" and row["note"])
