"""``import sinch_nb`` stays fast: target <= 0.3 s. Baseline: the bare interpreter, same run."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

from _common import ROOT, report


def best_of(code: str, runs: int = 7) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    bare = best_of("pass")
    ours = best_of("import sinch_nb")
    report("python -c 'import sinch_nb'", ours, "s", "<= 0.3", ours <= 0.3, f"bare interpreter {bare:.3f} s")
    report("import cost above the interpreter", ours - bare, "s", "(info)", True, f"ratio {ours / bare:.1f}x")


if __name__ == "__main__":
    main()
