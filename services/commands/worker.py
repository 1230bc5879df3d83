"""`casewatch worker`: the Faust worker projecting case events into Redis.

Options override the settings (environment ``CASEWATCH_*`` > config file > defaults). Before
Faust starts, Kafka and Redis are both checked: an unreachable one stops the command with a
clear message and exit code 2 instead of a worker that retries in silence. The topics are
created when missing (``ensure_topics``); the table takes the case topic's real partition count,
as it must be co-partitioned with it.
"""
from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer


if TYPE_CHECKING:  # pydantic-settings loads inside the command, not with --help
    from streams.settings import Settings

EXIT_UNREACHABLE = 2


def _fail(message: str) -> typer.Exit:
    typer.echo(f"casewatch worker: {message}", err=True)
    return typer.Exit(code=EXIT_UNREACHABLE)


def check_redis(settings: Settings):
    """The projection store, after a PING; raises typer.Exit when Redis does not answer."""
    import redis

    from streams.projection import RedisProjection

    store = RedisProjection.from_url(settings.redis_url, settings.redis_prefix, password=settings.redis_secret())
    shown = settings.redacted()["redis_url"]
    try:
        store.ping()
    except redis.RedisError as exc:
        raise _fail(f"Redis at {shown} is unreachable ({type(exc).__name__}: {exc})") from None
    return store


def _probe(bootstrap: str, timeout_s: float) -> Optional[str]:
    """None when some bootstrap server accepts a TCP connection, else the last error."""
    import socket

    error = None
    for server in bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s):
                return None
        except OSError as exc:
            error = exc.strerror or str(exc)
    return error


def check_kafka(settings: Settings, create_topics: bool = True, timeout_s: float = 10.0) -> Settings:
    """Settings with the case topic's real partition count; raises typer.Exit when Kafka does not answer."""
    from kafka import KafkaConsumer
    from kafka.errors import KafkaError

    from services.kafka_topics import ensure_topics

    refused = _probe(settings.kafka_bootstrap, min(timeout_s, 3.0))
    if refused is not None:
        raise _fail(f"Kafka at {settings.kafka_bootstrap} is unreachable ({refused})")
    try:
        if create_topics:
            summary = ensure_topics(settings.kafka_bootstrap, case_topic=settings.case_topic,
                                    dead_letter_topic=settings.dead_letter_topic,
                                    partitions=settings.partitions, timeout_s=timeout_s,
                                    security=settings.kafka_security())
            partitions = summary["topics"][settings.case_topic]["partitions"]
        else:
            consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap,
                                     request_timeout_ms=int(timeout_s * 1000) + 1000,
                                     api_version_auto_timeout_ms=int(timeout_s * 1000),
                                     **settings.kafka_security().kafka_python())
            try:
                found = consumer.partitions_for_topic(settings.case_topic)
            finally:
                consumer.close()
            if not found:
                raise _fail(f"topic {settings.case_topic!r} does not exist on {settings.kafka_bootstrap} "
                            "(run without --no-create-topics, or create it)")
            partitions = len(found)
    except KafkaError as exc:
        raise _fail(f"Kafka at {settings.kafka_bootstrap} is unreachable ({type(exc).__name__}: {exc})") from None
    if partitions != settings.partitions:
        logging.getLogger("casewatch.worker").warning(
            "topic %s has %d partitions (settings say %d); the table follows the topic",
            settings.case_topic, partitions, settings.partitions)
        settings = settings.model_copy(update={"partitions": partitions})
    return settings


def _worker_class():
    from faust.worker import Worker

    class QuietWorker(Worker):
        """Faust's worker without its terminal spinner: the spinner's log handler sets the root
        logger to DEBUG, and every debug line of aiokafka and Faust (several per message) is
        then formatted and dropped, a fifth of the worker's CPU."""

        def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
            self.spinner = None
            # Kafka down: aiokafka and Faust repeat the same errors ~100 times a second
            from streams.log_limit import limit_repeats

            limit_repeats(logger)

    return QuietWorker


def worker_command(
    bootstrap: Optional[str] = typer.Option(None, "--bootstrap", help="Kafka host:port (CASEWATCH_KAFKA_BOOTSTRAP)."),
    redis_url: Optional[str] = typer.Option(None, "--redis-url", help="Redis URL (CASEWATCH_REDIS_URL)."),
    topic: Optional[str] = typer.Option(None, "--topic", help="Case-event topic (CASEWATCH_CASE_TOPIC)."),
    dead_letter_topic: Optional[str] = typer.Option(None, "--dead-letter-topic",
                                                    help="Dead-letter topic (CASEWATCH_DEAD_LETTER_TOPIC)."),
    partitions: Optional[int] = typer.Option(None, "--partitions", min=1,
                                             help="Partitions of topics created here (CASEWATCH_PARTITIONS)."),
    group: Optional[str] = typer.Option(None, "--group",
                                        help="Consumer group and Faust app id (CASEWATCH_CONSUMER_GROUP)."),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir",
                                            help="Table state directory (CASEWATCH_WORKER_DATA_DIR)."),
    web_port: Optional[int] = typer.Option(None, "--web-port", min=0, max=65535,
                                           help="Faust web port on 127.0.0.1; 0 disables (CASEWATCH_WORKER_WEB_PORT)."),
    table_store: str = typer.Option("rocksdb", "--table-store",
                                    help="rocksdb (default; restarts read only the changelog tail) or memory."),
    batch_max: int = typer.Option(5000, "--batch-max", min=1, help="Most messages per batch."),
    batch_within: float = typer.Option(0.1, "--batch-within", min=0.001,
                                       help="Longest wait (seconds) to fill a batch."),
    session_timeout: float = typer.Option(10.0, "--session-timeout", min=6.0, max=300.0,
                                          help="Kafka group session timeout (s): how long a crashed "
                                               "worker's partitions wait before another takes them."),
    create_topics: bool = typer.Option(True, "--create-topics/--no-create-topics",
                                       help="Create the case and dead-letter topics when missing."),
    loglevel: str = typer.Option("info", "--loglevel", help="debug, info, warning or error."),
) -> None:
    """Consume case events into per-case state and keep the Redis projection current."""
    from streams.settings import load_settings

    settings = load_settings(kafka_bootstrap=bootstrap, redis_url=redis_url, case_topic=topic,
                             dead_letter_topic=dead_letter_topic, partitions=partitions,
                             consumer_group=group, worker_data_dir=data_dir, worker_web_port=web_port)
    if table_store not in ("rocksdb", "memory"):
        raise typer.BadParameter("use rocksdb or memory", param_hint="--table-store")
    store = check_redis(settings)
    settings = check_kafka(settings, create_topics=create_topics)
    settings.worker_data_dir.mkdir(parents=True, exist_ok=True)

    from streams.app import create_app

    app = create_app(settings, store, table_store=table_store,
                     session_timeout=session_timeout, batch_max=batch_max, batch_within=batch_within)
    typer.echo(f"casewatch worker: {settings.case_topic} on {settings.kafka_bootstrap} "
               f"({settings.partitions} partitions) -> Redis prefix {settings.redis_prefix!r}, "
               f"group {settings.consumer_group!r}, {table_store} tables in {settings.worker_data_dir}", err=True)
    worker = _worker_class()(app, loglevel=loglevel, quiet=True, redirect_stdouts=False)
    worker.execute_from_commandline()  # runs until SIGTERM/SIGINT, then exits the process
