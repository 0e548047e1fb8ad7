"""ngrok through pyngrok: the agent in its own session, its pid recorded, its errors made plain."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
from pathlib import Path
from typing import Any

from . import pids
from .base import Tunnel, TunnelError

__all__ = ["explain", "find_agent", "find_authtoken", "installed_agent", "open_ngrok"]

#: ngrok error codes → what to do (reference/anchors.md §D6).
_ERRORS = {
    "ERR_NGROK_4018": "ngrok needs an authtoken: get one at dashboard.ngrok.com, then "
    "%sinch secrets add NGROK_AUTHTOKEN (or set NGROK_AUTHTOKEN)",
    "ERR_NGROK_107": "ngrok rejected the authtoken: copy it again from dashboard.ngrok.com, then "
    "%sinch secrets add NGROK_AUTHTOKEN",
    "ERR_NGROK_105": "ngrok rejected the authtoken: copy it again from dashboard.ngrok.com, then "
    "%sinch secrets add NGROK_AUTHTOKEN",
    "ERR_NGROK_108": "your ngrok account allows one agent session at a time and another is running "
    "(another notebook, a terminal, or an agent a crash left behind): stop it, or see "
    "dashboard.ngrok.com/agents",
    "ERR_NGROK_334": "that ngrok endpoint is already online elsewhere: stop the other agent",
}


def _pyngrok() -> Any:
    try:
        from pyngrok import conf, installer, ngrok
    except ImportError as error:  # pragma: no cover - a dependency
        raise TunnelError("pyngrok is not installed: pip install pyngrok") from error
    return conf, installer, ngrok


def _runnable(*candidates: str | None) -> str | None:
    """The first candidate that is an executable file."""
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def installed_agent() -> str | None:
    """An ngrok agent the user installed (``PYNGROK_NGROK_PATH`` or on PATH), not pyngrok's download."""
    return _runnable(os.environ.get("PYNGROK_NGROK_PATH"), shutil.which("ngrok"))


def find_agent() -> str | None:
    """The ngrok agent to run: ``PYNGROK_NGROK_PATH``, ``ngrok`` on PATH, or pyngrok's own copy."""
    conf, _, _ = _pyngrok()
    return installed_agent() or _runnable(conf.DEFAULT_NGROK_PATH)


def _config_token(config_path: str) -> str | None:
    try:
        import yaml

        data = yaml.safe_load(Path(config_path).read_text()) or {}
    except (OSError, ValueError, ImportError):
        return None
    token = (data.get("agent") or {}).get("authtoken") or data.get("authtoken")
    return str(token) if token else None


def find_authtoken(lookup: Any, config_path: str | None = None) -> tuple[str | None, str]:
    """The authtoken and where it was found: env / .env / keychain via ``lookup``, then ngrok's config."""
    value, source = lookup("NGROK_AUTHTOKEN")
    if value:
        return value, str(source)
    conf, _, _ = _pyngrok()
    path = config_path or conf.get_default().config_path or conf.DEFAULT_NGROK_CONFIG_PATH
    token = _config_token(path)
    return (token, f"ngrok config {path}") if token else (None, "nowhere")


def _private_config(state_dir: Path, token: str) -> Path:
    """An ngrok config holding the authtoken, readable by this user only, until the agent has started."""
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / "ngrok.yml"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(f'version: "2"\nauthtoken: {json.dumps(token)}\n')
    path.chmod(0o600)
    return path


def _forget(config_path: str | None) -> None:
    """Remove the private config: the agent read the token at start, so it is not left on disk."""
    if config_path is not None:
        Path(config_path).unlink(missing_ok=True)


def explain(error: Exception) -> str:
    """What an ngrok error means and what to do, by its ``ERR_NGROK_…`` code."""
    text = str(error) + " " + str(getattr(error, "ngrok_error", "") or "")
    for code, fix in _ERRORS.items():
        if code in text:
            return f"{fix} ({code})"
    first = next((line for line in text.splitlines() if line.strip()), text).strip()
    return f"the ngrok agent failed: {first}"


def open_ngrok(port: int, lookup: Any, state_dir: Path, *, timeout: float = 15.0) -> Tunnel:
    """An ngrok tunnel to ``127.0.0.1:port``; every failure is a ``TunnelError`` naming the fix.

    An agent you installed is used as it is; otherwise the ngrok SDK when it is installed (no
    download); otherwise, or if the SDK cannot connect, pyngrok's agent, downloaded if need be.
    """
    from . import ngrok_sdk

    sdk_failure = ""
    if installed_agent() is None and ngrok_sdk.installed():
        token, _ = find_authtoken(lookup)
        if token is None:
            raise TunnelError(
                _ERRORS["ERR_NGROK_4018"] + " (no authtoken in the environment, .env, keychain or ngrok config)"
            )
        try:
            return ngrok_sdk.open_ngrok_sdk(port, token, timeout=timeout)
        except TunnelError as error:
            sdk_failure = f"; the ngrok SDK failed too: {error}"
    try:
        return _open_agent(port, lookup, state_dir, timeout)
    except TunnelError as error:
        raise TunnelError(f"{error}{sdk_failure}") from None


def _open_agent(port: int, lookup: Any, state_dir: Path, timeout: float) -> Tunnel:
    """The tunnel through pyngrok's agent process."""
    conf, installer, ngrok = _pyngrok()
    from pyngrok.exception import PyngrokError

    logging.getLogger("pyngrok").setLevel(logging.CRITICAL)  # its errors come back as TunnelError
    path = find_agent()
    if path is None:
        path = conf.DEFAULT_NGROK_PATH
        try:
            installer.install_ngrok(path)  # pyngrok's download: bounded by its own timeout
        except Exception as error:
            raise TunnelError(
                "no ngrok agent here, and it could not be downloaded "
                f"({type(error).__name__}: {str(error).splitlines()[0] if str(error) else 'no network'}): "
                "install ngrok (ngrok.com/download, or your package manager) and put it on PATH or set "
                "PYNGROK_NGROK_PATH; or use --tunnel cloudflared, or --url with a public URL you have"
            ) from None
    token, source = find_authtoken(lookup)
    if token is None:
        raise TunnelError(
            _ERRORS["ERR_NGROK_4018"] + " (no authtoken in the environment, .env, keychain or ngrok config)"
        )
    # Never on the agent's command line (pyngrok's auth_token puts it there, for every local user's ps):
    # the agent reads it from its own config, or from a private file of this notebook's.
    config_path = None if source.startswith("ngrok config") else str(_private_config(state_dir, token))
    config = conf.PyngrokConfig(
        ngrok_path=path,
        config_path=config_path,
        start_new_session=True,
        monitor_thread=False,
        startup_timeout=int(timeout),
        request_timeout=timeout,
    )
    try:
        opened = ngrok.connect(f"http://127.0.0.1:{port}", "http", pyngrok_config=config)
    except PyngrokError as error:
        ngrok.kill(config)
        raise TunnelError(explain(error)) from None
    except OSError as error:
        raise TunnelError(f"the ngrok agent at {path} could not run: {error.strerror}; reinstall it") from None
    finally:
        _forget(config_path)
    process = ngrok.get_ngrok_process(config)  # pyngrok writes a default config back where it finds none
    _forget(config_path)
    pid = process.proc.pid
    pids.record(state_dir, pid, path)
    public_url = str(opened.public_url)

    def close() -> None:
        with contextlib.suppress(PyngrokError):  # the agent is going away anyway
            ngrok.disconnect(public_url, config)
        ngrok.kill(config)
        _forget(config_path)
        pids.forget(state_dir, pid)

    return Tunnel("ngrok", re.sub(r"/$", "", public_url), f"http://127.0.0.1:{port}", pid, close)
