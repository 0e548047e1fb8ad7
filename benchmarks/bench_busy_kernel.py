"""Callback latency while a cell is busy, in a real kernel.

Targets (issue 2): p99 <= 20 ms while a cell sleeps 5 s; <= 100 ms while a cell runs a
CPU-bound loop. Baseline: the same paced load while the kernel is idle, same run.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

from _common import ROOT, finish_paced, p99, report, start_paced

sys.path.insert(0, str(ROOT / "tests"))
from kernel import Kernel

HANDLER = '%%sinch ice\nreturn svaml.ice().say(f"Welcome, caller {event.cli}").hangup()'
CELLS = {
    "idle kernel": "pass",
    "a cell sleeping 5 s": "import time\ntime.sleep(5)",
    "a CPU-bound cell": "import time\nend = time.time() + 5\nn = 0\nwhile time.time() < end:\n    n += 1",
}
TARGETS = {"idle kernel": None, "a cell sleeping 5 s": 20.0, "a CPU-bound cell": 100.0}


def main() -> None:
    kernel = Kernel(Path(tempfile.mkdtemp()))
    try:
        kernel.run("%load_ext sinch_nb\nimport sinch_nb as sn\nfrom sinch_nb import svaml")
        kernel.run(HANDLER)
        started = kernel.run("%sinch start")
        match = re.search(r"runtime at (http://\S+)", started.stdout)
        assert match, started.stdout + started.stderr
        url = match.group(1)
        baseline = None
        for name, cell in CELLS.items():
            client = start_paced(url, rate=50, seconds=4)
            running = kernel.submit(cell)
            latencies = finish_paced(client)
            kernel.wait(running, timeout=60)
            value = p99(latencies)
            target = TARGETS[name]
            if target is None:
                baseline = value
                report(f"p99, {name}", value, "ms", "(baseline)", True)
            else:
                ratio = f"ratio {value / baseline:.1f}x idle" if baseline else ""
                report(f"p99 while {name}", value, "ms", f"<= {target:g}", value <= target, ratio)
    finally:
        kernel.shutdown()


if __name__ == "__main__":
    main()
