"""A new user's first call: from a fresh clone, the README's headless command to an answered simulated call.

Target (issue 14): 15 s on this machine, a workshop room installing at once. A fresh clone of
this repository and empty pip and uv caches (so every package is fetched, as on a new machine),
then ``./dev demo``; the clock stops when the quickstart's simulated call has been answered (its
transcript printed). Baseline, same run, same conditions: a fresh venv and ``pip install
jupyterlab`` alone, what any notebook tool costs before it does anything.
``SINCH_NB_INSTALLER=pip`` in the environment times ``./dev``'s pip fallback instead of uv.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, report

ANSWERED = "CALLERHANGUP, ANSWERED"  # the quickstart's first call, ended by the caller
TARGET = 15.0  # seconds


def first_call_seconds(folder: Path, cache: Path) -> float:
    clone = folder / "sinch_nb"
    started = time.monotonic()
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    env = {**os.environ, "PIP_CACHE_DIR": str(cache / "pip"), "UV_CACHE_DIR": str(cache / "uv")}
    demo = subprocess.Popen(["./dev", "demo"], cwd=clone, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert demo.stdout is not None
    answered = None
    for line in demo.stdout:
        if answered is None and ANSWERED in line.decode(errors="replace"):
            answered = time.monotonic() - started
    if demo.wait() != 0 or answered is None:
        raise SystemExit(f"./dev demo failed (exit {demo.returncode}) before a call was answered")
    return answered


def baseline_seconds(folder: Path, cache: Path) -> float:
    started = time.monotonic()
    venv = folder / "baseline"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {**os.environ, "PIP_CACHE_DIR": str(cache)}
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "jupyterlab"],
        env=env,
        check=True,
        stderr=subprocess.DEVNULL,
    )
    return time.monotonic() - started


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        baseline = baseline_seconds(folder, folder / "cache-baseline")
        ours = first_call_seconds(folder, folder / "cache-ours")
    report("fresh venv + pip install jupyterlab", baseline, "s", "(baseline)", True)
    installer = os.environ.get("SINCH_NB_INSTALLER", "uv")
    report(
        f"fresh clone → ./dev demo ({installer}) → answered call",
        ours,
        "s",
        f"<= {TARGET:g}",
        ours <= TARGET,
        f"ratio {ours / baseline:.2f}x the baseline ({ours:.1f} s against {baseline:.1f} s)",
    )


if __name__ == "__main__":
    main()
