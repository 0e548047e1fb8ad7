"""Binder's environment, built from binder/ the way repo2docker does, in a fresh venv: it runs the quickstart."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]


def test_the_binder_files_build_an_environment_that_runs_the_quickstart(tmp_path: Path) -> None:
    runtime = (ROOT / "binder" / "runtime.txt").read_text().strip()
    assert runtime == f"python-{sys.version_info.major}.{sys.version_info.minor}", (
        "binder/runtime.txt names this Python"
    )
    # The clone and the environment are inputs (the clone holds the test fixtures' secrets) and
    # large: they live outside pytest's folder, which the last test scans for leaked secrets.
    with tempfile.TemporaryDirectory(prefix="sinch_nb-binder-") as build:
        built_and_ran(Path(build), tmp_path)


def built_and_ran(build: Path, tmp_path: Path) -> None:
    repo = build / "repo"  # what Binder clones: the tracked files
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, tracked.decode().split("\0")):
        if (ROOT / name).is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, repo / name)

    venv = build / "binder-env"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}", "VIRTUAL_ENV": str(venv)}
    env.pop("PYTHONPATH", None)
    env.pop("JUPYTER_PATH", None)

    def sh(*command: str) -> str:
        done = subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, f"{' '.join(command)}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        return done.stdout + done.stderr

    sh("python", "-m", "pip", "install", "--quiet", "-r", "binder/requirements.txt")  # repo2docker's step
    sh("bash", "binder/postBuild")
    assert "@jupyter-widgets/jupyterlab-manager" in sh("jupyter", "labextension", "list")  # widgets render in the lab

    opens_the_quickstart_in_jupyterlab(repo, env)

    quickstart = repo / "notebooks" / "01-quickstart.ipynb"
    notebook = nbformat.read(quickstart, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell("import sys\nprint('kernel prefix', sys.prefix)"))
    nbformat.write(notebook, quickstart)
    sh(
        "jupyter",
        "nbconvert",
        "--to",
        "notebook",
        "--execute",
        "--ExecutePreprocessor.timeout=180",
        "--output",
        str(tmp_path / "ran.ipynb"),
        str(quickstart),
    )
    ran = nbformat.read(tmp_path / "ran.ipynb", as_version=4)
    outputs = [o for c in ran.cells for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    printed = "".join(o.get("text", "") for o in outputs)
    assert f"kernel prefix {venv}" in printed  # the notebook ran in Binder's environment, not this one
    shown = "".join(str(o.get("data", {}).get("text/plain", "")) for o in outputs)
    assert "runMenu" in shown and "dice" in shown  # the callbacks table of the simulated call


def opens_the_quickstart_in_jupyterlab(repo: Path, env: dict[str, str]) -> None:
    """The page Binder's launch link (``?urlpath=lab/tree/notebooks/01-quickstart.ipynb``) opens."""
    import socket
    import time

    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = ["jupyter", "lab", "--no-browser", f"--port={port}", "--IdentityProvider.token=", "--allow-root"]
    lab = subprocess.Popen(command, cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline, status = time.monotonic() + 90, None
        while time.monotonic() < deadline and status != 200:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/lab/tree/notebooks/01-quickstart.ipynb").status_code
            except httpx.TransportError:
                time.sleep(0.5)
        assert status == 200
        contents = httpx.get(f"http://127.0.0.1:{port}/api/contents/notebooks/01-quickstart.ipynb").json()
        assert contents["type"] == "notebook"
    finally:
        lab.terminate()
        lab.wait(timeout=30)
