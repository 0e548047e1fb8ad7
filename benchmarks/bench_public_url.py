"""Public URL costs. Targets (issue 3): signature check <= 0.1 ms per callback; ``sn.start`` with a
tunnel <= 2 s beyond the tunnel's own start. Baselines, same run: a bare HMAC-SHA256 over the same
bytes; the tunnel opened alone (pyngrok and the agent, here the test suite's fake ngrok agent).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

from _common import ICE_BODY, ROOT, report

sys.path.insert(0, str(ROOT / "tests"))
from fakes.sinch_api import FakeSinch

from sinch_nb import signing

KEY, SECRET = "669E367E-6BBA-48AB-AF15-266871C28135", "BeIukql3pTKJ8RGL5zo0DA=="
N = 20_000


def signature_cost() -> None:
    import base64
    import hashlib
    import hmac

    body = ICE_BODY.encode()
    headers = signing.voice_signing_headers("POST", "/ice", body, KEY, SECRET)
    started = time.perf_counter()
    for _ in range(N):
        assert signing.verify_voice_callback("POST", "/ice", headers, body, KEY, SECRET)
    ours = (time.perf_counter() - started) / N * 1000
    key = base64.b64decode(SECRET)
    started = time.perf_counter()
    for _ in range(N):
        hmac.new(key, body, hashlib.sha256).digest()
    bare = (time.perf_counter() - started) / N * 1000
    report("voice signature check", ours, "ms", "<= 0.1", ours <= 0.1, f"ratio {ours / bare:.1f}x bare HMAC")


def start_cost() -> None:
    import sinch_nb as sn
    from sinch_nb.platform.credentials import CredentialStore
    from sinch_nb.runtime.server import Server
    from sinch_nb.tunnel import Tunnels

    folder = Path(tempfile.mkdtemp())
    os.chdir(folder)
    fake = FakeSinch(KEY, SECRET, callbacks={"primary": "https://old.example/cb", "fallback": None})
    api = Server(fake.app())
    api.start()
    os.environ.update(
        PATH=f"{ROOT / 'tests' / 'fakes'}{os.pathsep}{os.environ['PATH']}",
        HOME=str(folder),
        NGROK_AUTHTOKEN="bench-token",
        VOICE_APPLICATION_KEY=KEY,
        VOICE_APPLICATION_SECRET=SECRET,
        SINCH_VOICE_MANAGEMENT_URL=api.url,
    )
    lookup = CredentialStore(folder).lookup
    bare_server = Server(lambda scope, receive, send: None)
    bare_server.start()
    started = time.perf_counter()
    tunnel = Tunnels().open("ngrok", bare_server.port, lookup=lookup, state_dir=folder / "alone")
    alone = time.perf_counter() - started
    assert tunnel is not None
    tunnel.close()
    bare_server.stop()
    sn.configure(journal=folder / "journal.db", base_dir=folder)
    started = time.perf_counter()
    server = sn.start(tunnel="ngrok")
    full = time.perf_counter() - started
    assert fake.callbacks["primary"] == server.public_url, json.dumps(fake.callbacks)
    sn.stop()
    api.stop()
    extra = full - alone
    report(
        "sn.start(tunnel=...) beyond the tunnel's start", extra, "s", "<= 2", extra <= 2, f"tunnel alone {alone:.2f} s"
    )


if __name__ == "__main__":
    signature_cost()
    start_cost()
