"""ngrok through its Python SDK (PyPI ``ngrok``): the agent is in the wheel, so nothing is downloaded.

That is what makes it work on locked-down hubs where pyngrok cannot fetch its agent. The
authtoken goes to the SDK as an argument, never on a command line. ``ngrok.forward()``
returns an asyncio Task when the calling thread runs an event loop (a notebook cell does), so
the tunnel is opened on a thread of its own, where it returns the listener.
"""

from __future__ import annotations

import importlib.util
import threading
from typing import Any

from .base import Tunnel, TunnelError

__all__ = ["installed", "open_ngrok_sdk"]


def installed() -> bool:
    """Whether the ngrok SDK can be imported here."""
    return importlib.util.find_spec("ngrok") is not None


def _on_own_thread(call: Any, timeout: float) -> Any:
    """``call()`` on a thread with no event loop; its result, or the exception it raised."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except Exception as error:
            outcome["error"] = error

    thread = threading.Thread(target=run, name="sinch_nb-ngrok-sdk", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise TunnelError(f"the ngrok SDK did not connect within {timeout:g} s: check the network, or use --url")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def open_ngrok_sdk(port: int, token: str, *, timeout: float = 15.0) -> Tunnel:
    """An ngrok tunnel to ``127.0.0.1:port`` from the SDK; failures are ``TunnelError`` naming the fix."""
    import ngrok as sdk

    from .ngrok import explain

    try:
        listener = _on_own_thread(lambda: sdk.forward(f"127.0.0.1:{port}", proto="http", authtoken=token), timeout)
    except TunnelError:
        raise
    except Exception as error:
        text = " ".join(str(part) for part in getattr(error, "args", ()) or (error,))
        if "ERR_NGROK" in text:
            raise TunnelError(explain(error)) from None
        raise TunnelError(f"the ngrok SDK could not reach ngrok ({text}): check the network or proxy") from None
    public_url = str(listener.url()).rstrip("/")

    def close() -> None:
        try:
            _on_own_thread(lambda: sdk.disconnect(public_url), timeout)
        except Exception:  # the session is going away with the kernel anyway
            return

    return Tunnel("ngrok", public_url, f"http://127.0.0.1:{port}", None, close)
