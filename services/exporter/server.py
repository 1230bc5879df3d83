"""The exporter's HTTP server: ``/metrics`` from a fresh registry, ``/healthz`` for probes.

A small threaded WSGI server. A plain scrape of ``/metrics`` (what Prometheus sends) is answered
from the KPI collector's own text (:meth:`KpiCollector.exposition_parts`, kept per unit,
municipality and family) plus the process metrics (``name[]`` filters included), written part
by part, gzipped part by part when asked (gzip_parts.py: only the parts that changed are
compressed again), never joined into one body; a request for OpenMetrics only goes to
prometheus-client's ``make_wsgi_app`` over the same registry. It never touches the global
``REGISTRY``. ``casewatch exporter`` serves the Redis projection with it; ``casewatch demo``
serves an in-memory facts source through :func:`serve_source`.
"""
from __future__ import annotations

import socket
import threading
from typing import Callable, Iterable
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import CollectorRegistry, ProcessCollector, generate_latest, make_wsgi_app
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, ThreadingWSGIServer

from streams.thresholds import Thresholds

from ..web_config import WebConfig, wsgi_basic_auth

from .collector import FactsSource, KpiCollector
from .gzip_parts import GzipParts
from .text import Families, only


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        pass  # one line per scrape on stderr helps nobody


class ExporterRegistry(CollectorRegistry):
    """The KPI collector and the other collectors (process metrics, the broker's consumer lag);
    keeps both at hand for the fast path."""

    def __init__(self, collector: KpiCollector, process_metrics: bool = True, others: Iterable = ()) -> None:
        super().__init__(auto_describe=False)
        self.kpis = collector
        self.process = CollectorRegistry(auto_describe=False)  # every collector but the KPIs
        self.register(collector)
        extra = [ProcessCollector(registry=None)] if process_metrics else []
        for other in [*extra, *others]:
            self.register(other)
            self.process.register(other)


def build_registry(collector: KpiCollector, process_metrics: bool = True, others: Iterable = ()) -> ExporterRegistry:
    """A fresh registry with the KPI collector, the process_* metrics of this process and
    ``others`` (e.g. :class:`~services.exporter.broker_lag.BrokerLag`)."""
    return ExporterRegistry(collector, process_metrics, others)


def _text_acceptable(environ) -> bool:
    """Whether the classic text format will do. Prometheus lists OpenMetrics first but accepts
    ``text/plain;version=0.0.4`` too, so its scrapes take the fast path; a client asking for
    OpenMetrics only gets it from make_wsgi_app."""
    accept = environ.get("HTTP_ACCEPT", "")
    return not accept or "text/plain" in accept or "*/*" in accept


def coalesced(parts: list[bytes], at_least: int = 1 << 16) -> list[bytes]:
    """``parts`` with runs of small ones joined, so that each write is at least ``at_least``
    bytes (but the last): one socket write per part, many of them a few hundred bytes, costs more
    than the joins of the small ones; the large parts go as they are."""
    out: list[bytes] = []
    small: list[bytes] = []
    size = 0
    for part in parts:
        if len(part) >= at_least:
            if small:
                out.append(b"".join(small))
                small, size = [], 0
            out.append(part)
            continue
        small.append(part)
        size += len(part)
        if size >= at_least:
            out.append(b"".join(small))
            small, size = [], 0
    if small:
        out.append(b"".join(small))
    return out


def make_app(registry: CollectorRegistry):
    metrics = make_wsgi_app(registry)
    gzipped = GzipParts()

    def fast_metrics(environ, start_response):
        names = parse_qs(environ.get("QUERY_STRING", "")).get("name[]")
        parts = registry.kpis.exposition_parts(names)
        parts.append(generate_latest(Families(only(registry.process.collect(), names))))
        headers = [("Content-Type", CONTENT_TYPE_PLAIN_0_0_4)]  # what make_wsgi_app sends for this text
        if "gzip" in environ.get("HTTP_ACCEPT_ENCODING", ""):
            parts = gzipped.compress(parts)
            headers.append(("Content-Encoding", "gzip"))
        headers.append(("Content-Length", str(sum(map(len, parts)))))
        start_response("200 OK", headers)
        return coalesced(parts)  # wsgiref writes them one by one: ~22 MB at national scale, never joined

    def app(environ, start_response):
        path = environ.get("PATH_INFO") or "/"
        if path == "/metrics":
            if isinstance(registry, ExporterRegistry) and _text_acceptable(environ):
                return fast_metrics(environ, start_response)
            return metrics(environ, start_response)
        if path == "/healthz":
            start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"ok\n"]
        if path == "/":
            start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"casewatch exporter: see /metrics (Prometheus) and /healthz\n"]
        start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
        return [b"not found\n"]

    return app


def _server_class(host: str) -> type[ThreadingWSGIServer]:
    family = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)[0][0]
    if family == socket.AF_INET:
        return ThreadingWSGIServer

    class _Server(ThreadingWSGIServer):
        address_family = family

    return _Server


def serve(registry: CollectorRegistry, host: str = "127.0.0.1", port: int = 9464, web: WebConfig | None = None):
    """Serve in a daemon thread; returns ``(server, bound_port)``. ``server.shutdown()`` stops it.

    ``web`` (a web config file, services/web_config.py): HTTPS and basic auth on every path but
    ``/healthz``. Raises ``OSError`` (``errno.EADDRINUSE`` when the port is taken) before anything
    is served.
    """
    web = web or WebConfig()
    server = make_server(host, port, wsgi_basic_auth(make_app(registry), web), server_class=_server_class(host),
                         handler_class=_QuietHandler)
    context = web.ssl_context()
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, name="casewatch-exporter-http", daemon=True)
    thread.start()
    return server, server.server_port


def serve_source(source: FactsSource, host: str = "127.0.0.1", port: int = 9464, *,
                 thresholds: Thresholds | Callable[[], Thresholds] | None = None,
                 clock: Callable[[], float] | None = None, process_metrics: bool = True):
    """Serve the KPIs of ``source`` on ``host:port``; returns ``(server, bound_port)``."""
    kwargs = {"clock": clock} if clock is not None else {}
    collector = KpiCollector(source, thresholds=thresholds, **kwargs)
    return serve(build_registry(collector, process_metrics), host, port)
