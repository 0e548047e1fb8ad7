"""A public endpoint stand-in: an HTTP server on loopback that forwards every request to an upstream."""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "host", "content-length"}


def forward(upstream: str, websockets: bool = True) -> ThreadingHTTPServer:
    """Serve on 127.0.0.1:<free port>, passing method, path, headers and body to ``upstream``.

    A WebSocket upgrade is passed through as ngrok's and cloudflared's edges pass it: the request
    goes upstream as it came, then bytes flow both ways until either side closes. With
    ``websockets=False`` the upgrade is relayed as a plain request, as an HTTP-only proxy does.
    """
    # ngrok accepts "8080", "localhost:8080" and "http://localhost:8080" as an upstream.
    if upstream.isdigit():
        upstream = f"localhost:{upstream}"
    target = urlsplit(upstream if "://" in upstream else f"http://{upstream}")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # as ngrok's and cloudflared's edges answer (a WebSocket client requires it)

        def _splice(self) -> None:
            """The upgrade request upstream as it came, then both directions copied until one side closes."""
            try:
                upstream_socket = socket.create_connection((target.hostname, target.port), timeout=30)
            except OSError:
                self.send_response(502)
                self.end_headers()
                return
            head = [self.requestline] + [f"{k}: {v}" for k, v in self.headers.items()]
            upstream_socket.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
            client = self.connection
            client.settimeout(None)
            upstream_socket.settimeout(None)

            def copy(source: socket.socket, sink: socket.socket) -> None:
                try:
                    while data := source.recv(65536):
                        sink.sendall(data)
                except OSError:
                    pass
                finally:
                    for end in (sink, source):
                        with contextlib.suppress(OSError):
                            end.shutdown(socket.SHUT_RDWR)

            back = threading.Thread(target=copy, args=(upstream_socket, client), daemon=True)
            back.start()
            copy(client, upstream_socket)  # from the socket: a client sends nothing after its upgrade before the 101
            back.join()
            upstream_socket.close()
            self.close_connection = True

        def _relay(self) -> None:
            if websockets and self.headers.get("upgrade", "").lower() == "websocket":
                self._splice()
                return
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            headers["X-Forwarded-For"] = self.client_address[0]
            connection = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
            try:
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
            except OSError:
                self.send_response(502)  # what ngrok answers when the local server is down (ERR_NGROK_8012)
                self.end_headers()
                return
            self.send_response(response.status)
            for key, value in response.getheaders():
                if key.lower() not in HOP_BY_HOP:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _relay

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
