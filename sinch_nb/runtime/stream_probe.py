"""Whether a public URL carries WebSockets to this runtime: the doctor opens one through it and hears back.

The doctor (``session.probe_streams``) makes a nonce, adds it to ``app.probes`` and opens
``wss://<public host>/_sinch_nb/ws-probe?nonce=<nonce>``. The runtime accepts that upgrade only for
a nonce it holds, sends the nonce back as TEXT and closes 1000; the round trip proves that the
tunnel passed the upgrade and both directions. Not journaled: it is sinch_nb's own traffic, as
the simulated platform's APIs are. Any other upgrade at that path (a wrong or spent nonce) is an
ordinary stream request with no handler: refused 1008 and journaled, so the path answers no one else.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

if TYPE_CHECKING:
    from .app import CallbackApp

__all__ = ["PROBE_PATH", "Found", "answer_probe", "probe"]

PROBE_PATH = "/_sinch_nb/ws-probe"


#: What ``probe`` found: ``carried`` (the nonce came back), ``refused`` (not an upgrade) or ``unreachable``;
#: the words; the round trip in ms when carried (``tunnel.doctor.Probe`` holds it for the report).
Found = tuple[str, str, float | None]


async def answer_probe(app: CallbackApp, scope: dict[str, Any], receive: Callable[[], Any], send: Any) -> bool:
    """Answer the doctor's probe (``True``), or leave the upgrade to the stream routes (``False``)."""
    if scope.get("path") != PROBE_PATH:
        return False
    nonce = (parse_qs(scope.get("query_string", b"").decode("latin-1")).get("nonce") or [""])[0]
    if nonce not in app.probes:
        return False
    app.probes.discard(nonce)  # one use
    if (await receive())["type"] != "websocket.connect":
        return True
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.send", "text": nonce})
    await send({"type": "websocket.close", "code": 1000, "reason": "sinch_nb probe"})
    return True


def probe(app: CallbackApp, ws_base: str, timeout: float = 5.0) -> Found:
    """Open a WebSocket to ``ws_base`` + ``PROBE_PATH`` (``wss://`` through the tunnel) and wait for the nonce."""
    from websockets.exceptions import InvalidHandshake, InvalidStatus, WebSocketException
    from websockets.sync.client import connect

    nonce = secrets.token_hex(16)
    app.probes.add(nonce)
    url = f"{ws_base.rstrip('/')}{PROBE_PATH}?nonce={nonce}"
    started = time.perf_counter()
    try:
        with connect(url, open_timeout=timeout, close_timeout=1) as ws:
            heard = ws.recv(timeout=timeout)
    except InvalidStatus as error:
        status = error.response.status_code
        return "refused", f"the WebSocket upgrade got HTTP {status} instead of 101 Switching Protocols", None
    except InvalidHandshake as error:  # an answer, but no 101: not HTTP/1.1, a bad Upgrade or Accept header
        return "refused", f"the WebSocket upgrade got no valid answer ({type(error).__name__}: {error})", None
    except (WebSocketException, OSError, TimeoutError) as error:  # no connection: DNS, refused, timed out
        return "unreachable", f"no WebSocket could be opened through it: {type(error).__name__}: {error}", None
    finally:
        app.probes.discard(nonce)
    if heard != nonce:
        return "refused", "a WebSocket opened, but not to this runtime (another server answered)", None
    took = (time.perf_counter() - started) * 1000
    return "carried", "a WebSocket opened through it reached this runtime", took
