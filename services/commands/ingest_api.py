"""`casewatch ingest-api`: serve the HTTP ingest API; `casewatch ingest-api hash-token`: the
SHA-256 of a token (read from stdin) for the sources file."""
from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Optional

import typer

from services.ingest_api.limits import DEFAULT_MAX_BODY

DEFAULT_PORT = 8470

app = typer.Typer(rich_markup_mode=None, 
    help="HTTP ingest API for case systems (bearer token per source; JSON, arrays or NDJSON)",
    add_completion=False,
    pretty_exceptions_enable=False,
)


def ingest_api_command(
    sources: Optional[Path] = typer.Option(None, "--sources", envvar="CASEWATCH_INGEST_API_SOURCES",
                                           help="YAML file of source systems and their token hashes"),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (loopback by default)"),
    port: int = typer.Option(DEFAULT_PORT, "--port", min=0, max=65535),
    max_body_bytes: int = typer.Option(DEFAULT_MAX_BODY, "--max-body-bytes", min=1024,
                                       help="Largest request body; larger ones get 413"),
    kafka_bootstrap: Optional[str] = typer.Option(None, "--kafka-bootstrap", help="host:port (default: settings)"),
    case_topic: Optional[str] = typer.Option(None, "--case-topic"),
    dead_letter_topic: Optional[str] = typer.Option(None, "--dead-letter-topic"),
    create_topics: bool = typer.Option(True, "--create-topics/--no-create-topics",
                                       help="Create the topics if missing (idempotent)"),
    log_level: str = typer.Option("info", "--log-level"),
) -> None:
    """Serve POST /v1/events, /healthz, /readyz, /metrics and /openapi.json."""
    from streams.settings import load_settings

    from services.ingest_api.app import create_app
    from services.ingest_api.auth import SourcesError, load_sources
    from services.ingest_api.server import bind, server_for
    from services.ingest_api.sink import open_sink

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if sources is None:
        raise typer.BadParameter("give --sources FILE (or CASEWATCH_INGEST_API_SOURCES)", param_hint="--sources")
    try:
        configured = load_sources(sources)
    except SourcesError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    settings = load_settings(kafka_bootstrap=kafka_bootstrap, case_topic=case_topic, dead_letter_topic=dead_letter_topic)
    if create_topics:
        from services.kafka_topics import ensure_topics

        ensure_topics(settings.kafka_bootstrap, settings.case_topic, settings.dead_letter_topic, settings.partitions)
    sink = open_sink(settings)
    try:
        application = create_app(settings, configured, sink, max_body_bytes=max_body_bytes)
        sock = bind(host, port)
        bound_host, bound_port = sock.getsockname()[:2]
        logging.getLogger("casewatch.ingest_api").info(
            "ingest API on http://%s:%d (%d sources; topics %s, %s)", bound_host, bound_port, len(configured),
            settings.case_topic, settings.dead_letter_topic)
        server_for(application, log_level).run(sockets=[sock])
    finally:
        sink.close()


@app.callback(invoke_without_command=True)
def _serve(
    ctx: typer.Context,
    sources: Optional[Path] = typer.Option(None, "--sources", envvar="CASEWATCH_INGEST_API_SOURCES",
                                           help="YAML file of source systems and their token hashes"),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (loopback by default)"),
    port: int = typer.Option(DEFAULT_PORT, "--port", min=0, max=65535),
    max_body_bytes: int = typer.Option(DEFAULT_MAX_BODY, "--max-body-bytes", min=1024),
    kafka_bootstrap: Optional[str] = typer.Option(None, "--kafka-bootstrap"),
    case_topic: Optional[str] = typer.Option(None, "--case-topic"),
    dead_letter_topic: Optional[str] = typer.Option(None, "--dead-letter-topic"),
    create_topics: bool = typer.Option(True, "--create-topics/--no-create-topics"),
    log_level: str = typer.Option("info", "--log-level"),
) -> None:
    """Serve the ingest API (or run a subcommand)."""
    if ctx.invoked_subcommand is None:
        ingest_api_command(sources, host, port, max_body_bytes, kafka_bootstrap, case_topic, dead_letter_topic,
                           create_topics, log_level)


@app.command("hash-token")
def hash_token_command() -> None:
    """Print the SHA-256 (hex) of a token read from stdin, for `token_sha256` in the sources file.

    The token is read from stdin so it stays out of the shell history:
    `casewatch ingest-api hash-token < token.txt` or `pwgen -s 48 1 | tee token.txt | casewatch ingest-api hash-token`.
    """
    from services.ingest_api.auth import hash_token

    token = sys.stdin.readline().strip()
    if not token:
        typer.echo("error: no token on stdin", err=True)
        raise typer.Exit(2)
    if len(token) < 20:
        typer.echo("warning: a token shorter than 20 characters is easy to guess", err=True)
    typer.echo(hash_token(token))
