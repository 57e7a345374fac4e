"""Build the gcc ASan+UBSan fuzz driver (tests/fuzz/run.sh) and run it briefly.

Skipped when gcc or its sanitizer runtimes are unavailable; the long runs are
`tests/fuzz/run.sh <seconds>` (see the report in the commit history)."""
import os
import shutil
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc not installed")
def test_gcc_fuzz_driver_runs_clean(tmp_path):
    env = dict(os.environ, FUZZ_USE_GCC="1", FUZZ_SEED="20261122")
    proc = subprocess.run([os.path.join(HERE, "run.sh"), "3", str(tmp_path)], env=env,
                          capture_output=True, text=True, timeout=300)
    if proc.returncode != 0 and "cannot find" in proc.stderr and "asan" in proc.stderr.lower():
        pytest.skip("gcc sanitizer runtime missing")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    assert "no findings" in proc.stdout
    assert not list(tmp_path.glob("crash-*"))
