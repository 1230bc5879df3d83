"""Running the ASGI app with uvicorn: in the foreground (the command) or in a thread (tests,
benchmarks), on a socket bound before start so that port 0 works and the port is known.

``tls`` (``WebConfig.uvicorn_options()``) makes uvicorn speak HTTPS on that socket itself, so
bearer tokens never travel in clear even without a reverse proxy.

Connections are bounded here: at most ``max_connections`` (uvicorn's ``limit_concurrency``; more
get 503), headers at most 16 KiB and complete within ``header_timeout_s`` of the connection or of
the previous answer (else the connection is closed: a client trickling headers cannot hold a
slot), and a kept-alive connection idle for ``idle_timeout_s`` is closed. The body's deadline is
the app's (408)."""
from __future__ import annotations

import asyncio
import socket
import threading
import time

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from .limits import DEFAULT_HEADER_TIMEOUT_S, DEFAULT_IDLE_TIMEOUT_S, DEFAULT_MAX_CONNECTIONS, MAX_HEADER_BYTES


def guarded_protocol(header_timeout_s: float) -> type[H11Protocol]:
    """uvicorn's h11 protocol with a deadline for each request's line and headers."""

    class HeaderDeadlineProtocol(H11Protocol):
        _header_timer: asyncio.TimerHandle | None = None
        _awaiting_cycle = None

        def _arm(self) -> None:
            self._disarm()
            self._awaiting_cycle = self.cycle
            self._header_timer = self.loop.call_later(header_timeout_s, self._headers_too_slow)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _headers_too_slow(self) -> None:
            self._header_timer = None
            if self.cycle is self._awaiting_cycle and not self.transport.is_closing():
                self.transport.close()

        def connection_made(self, transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self._header_timer is not None and self.cycle is not self._awaiting_cycle:
                self._disarm()  # a request's headers are complete

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm()

        def connection_lost(self, exc) -> None:
            self._disarm()
            super().connection_lost(exc)

    return HeaderDeadlineProtocol


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def server_for(app, log_level: str = "warning", tls: dict | None = None, *,
               max_connections: int = DEFAULT_MAX_CONNECTIONS,
               header_timeout_s: float = DEFAULT_HEADER_TIMEOUT_S,
               idle_timeout_s: float = DEFAULT_IDLE_TIMEOUT_S) -> uvicorn.Server:
    # access_log off: uvicorn's access line carries the raw path and query, which a client may
    # have filled with anything; the service logs its own lines without input values.
    config = uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="off",
                            timeout_graceful_shutdown=5, server_header=False,
                            http=guarded_protocol(header_timeout_s), limit_concurrency=max_connections,
                            timeout_keep_alive=idle_timeout_s, h11_max_incomplete_event_size=MAX_HEADER_BYTES,
                            **(tls or {}))
    return uvicorn.Server(config)


class ServerThread:
    """``with ServerThread(app) as url: ...``: the app served on 127.0.0.1 at a free port."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning",
                 tls: dict | None = None, **limits) -> None:
        self.sock = bind(host, port)
        self.server = server_for(app, log_level, tls, **limits)
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
