"""The README's main job: `exconnect demo` runs end to end against the embedded simulator."""
import re
import subprocess
import sys


def _run_demo(*extra, seconds="4"):
    return subprocess.run([sys.executable, "-m", "exconnect", "demo", "--seconds", seconds, "--plain", *extra],
                          capture_output=True, text=True, timeout=120)


def test_spot_demo_trades_and_cleans_up():
    proc = _run_demo()
    out = proc.stdout
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    assert "exconnect demo summary" in out
    created = int(re.search(r"BuyOrderCreated=(\d+)", out).group(1))
    assert created > 0
    # the quoting loop sits one tick inside the spread of an active market: it must get filled
    assert int(re.search(r"OrderFilled=(\d+)", out).group(1)) > 0
    # every order placed was either completed or cancelled by the time the demo exited
    done = re.search(r"cancel_all at exit: (\d+)/(\d+) cancelled", out)
    assert done and done.group(1) == done.group(2)
    assert re.search(r"order sent → ack \(created event\): p50 [\d.,]+ ms", out)
