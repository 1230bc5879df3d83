"""Running the ASGI app with uvicorn: in the foreground (the command) or in a thread (tests,
benchmarks), on a socket bound before start so that port 0 works and the port is known.

``tls`` (``WebConfig.uvicorn_options()``) makes uvicorn speak HTTPS on that socket itself, so
bearer tokens never travel in clear even without a reverse proxy."""
from __future__ import annotations

import socket
import threading
import time

import uvicorn


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def server_for(app, log_level: str = "warning", tls: dict | None = None) -> uvicorn.Server:
    # access_log off: uvicorn's access line carries the raw path and query, which a client may
    # have filled with anything; the service logs its own lines without input values.
    config = uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="off",
                            timeout_graceful_shutdown=5, server_header=False, **(tls or {}))
    return uvicorn.Server(config)


class ServerThread:
    """``with ServerThread(app) as url: ...``: the app served on 127.0.0.1 at a free port."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning",
                 tls: dict | None = None) -> None:
        self.sock = bind(host, port)
        self.server = server_for(app, log_level, tls)
        host_, port_ = self.sock.getsockname()[:2]
        self.url = f"{'https' if tls else 'http'}://{host_}:{port_}"
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                       name="ingest-api", daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the ingest API did not start")
            time.sleep(0.02)
        return self.url

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.sock.close()
