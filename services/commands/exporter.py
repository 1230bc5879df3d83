"""`casewatch exporter`: serve the Redis projection's KPIs on /metrics until stopped.

Exit status 2 for configuration problems (bad thresholds file, bad --as-of, port taken).
Redis need not be up: the exporter then answers ``casewatch_redis_up 0`` until it is.
"""
from __future__ import annotations

import errno
import logging
import signal
import threading
from pathlib import Path
from typing import Callable, Optional

import typer


def _fail(message: str) -> typer.Exit:
    typer.echo(f"casewatch exporter: {message}", err=True)
    return typer.Exit(2)


def display_names(settings) -> Callable[[str, str], Optional[str]] | None:
    """The unit registry's display names (CONTRACT.md §7) for ``casewatch_unit_info``, or None
    without a registry."""
    load = getattr(settings, "unit_registry", None)
    registry = load() if callable(load) else None
    if registry is None:
        return None
    return lambda municipality, unit: (
        name if (name := registry.display_name(municipality, unit)) != unit else None)


def _broker_lag(settings):
    """The worker group's lag as the broker says it (alerts read this, not the worker's own
    gauge), polled in the background; None when switched off."""
    if not settings.exporter_lag_interval_s:
        return None
    from services.exporter.broker_lag import BrokerLag, KafkaOffsetsReader

    reader = KafkaOffsetsReader(settings.kafka_bootstrap, settings.consumer_group, [settings.case_topic],
                                security=settings.kafka_security())
    lag = BrokerLag(reader, interval_s=settings.exporter_lag_interval_s)
    lag.start()
    return lag


def exporter_command(
    host: Optional[str] = typer.Option(None, "--host", help="Address to listen on (default: settings, 127.0.0.1)"),
    port: Optional[int] = typer.Option(None, "--port", min=0, max=65535, help="Port (default: settings, 9464)"),
    redis_url: Optional[str] = typer.Option(None, "--redis-url", help="Redis holding the projection (default: settings)"),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Fixed instant for every scrape (RFC 3339); default: now"),
    thresholds_file: Optional[Path] = typer.Option(None, "--thresholds", help="Thresholds YAML (default: settings, "
                                                   "else dashboards/thresholds.yaml)"),
    log_level: str = typer.Option("info", "--log-level", help="debug, info, warning or error"),
    web_config_file: Optional[Path] = typer.Option(None, "--web-config-file", help="TLS and basic-auth users for "
                                                   "/metrics, as Prometheus exporters read it (default: settings)"),
) -> None:
    """Serve the KPIs in Redis as Prometheus metrics on /metrics (and /healthz)."""
    from streams.settings import load_settings

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings = load_settings(exporter_host=host, exporter_port=port, redis_url=redis_url, as_of=as_of,
                             thresholds_file=thresholds_file, web_config_file=web_config_file)
    from services.web_config import WebConfigError, load_web_config

    try:
        web = load_web_config(settings.web_config_file)
    except WebConfigError as exc:
        raise _fail(str(exc)) from None

    from streams.thresholds import ThresholdsError
    from streams.contract.validate import parse_instant

    from streams.projection import RedisProjection

    from services.exporter import KpiCollector, ThresholdsFile, build_registry, serve

    kwargs = {}
    if settings.as_of:
        try:
            fixed = parse_instant(settings.as_of)
        except ValueError as exc:
            raise _fail(f"--as-of: {exc}") from None
        kwargs["clock"] = lambda: fixed
    try:
        thresholds = ThresholdsFile(settings.thresholds_file)
    except ThresholdsError as exc:
        raise _fail(f"thresholds: {exc}") from None

    names = display_names(settings)
    if names is not None:
        kwargs["display_names"] = names
    store = RedisProjection.from_url(settings.redis_url, settings.redis_prefix, password=settings.redis_secret())
    collector = KpiCollector(store, thresholds=thresholds, **kwargs)
    broker_lag = _broker_lag(settings)
    registry = build_registry(collector, others=[broker_lag] if broker_lag else [])
    # Read and parse the whole projection now, not in Prometheus' first scrape: at national
    # scale that takes ~30 s, three times the default scrape timeout.
    threading.Thread(target=collector.exposition, name="casewatch-exporter-warm-up", daemon=True).start()
    # Between scrapes, compute the samples of the units whose figures change next (local midnight
    # changes every unit's), so a scrape serves them instead of computing (collector.prepare).
    preparing = collector.start_preparing()
    try:
        server, bound = serve(registry, settings.exporter_host, settings.exporter_port, web)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise _fail(f"port {settings.exporter_port} on {settings.exporter_host} is already in use "
                        "(another exporter or the demo?); choose one with --port") from None
        raise _fail(f"cannot listen on {settings.exporter_host}:{settings.exporter_port}: "
                    f"{exc.strerror or exc}") from None

    where = settings.redacted()["redis_url"]
    scheme = "https" if web.tls else "http"
    typer.echo(f"casewatch exporter: {scheme}://{settings.exporter_host}:{bound}/metrics ({web.describe()}; "
               f"Redis {where}, prefix {settings.redis_prefix})", err=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    preparing.set()
    server.shutdown()
    server.server_close()
    if broker_lag is not None:
        broker_lag.stop()
    store.close()
    typer.echo("casewatch exporter: stopped", err=True)
