"""The Faust app factory for ``casewatch worker``: no module-level app, nothing at import.

``create_app(settings)`` builds a :class:`faust.App` from the validated settings and wires the
worker's topology on it (:mod:`streams.agents`). Tables live in RocksDB (rocksdict) under
``settings.worker_data_dir``, so a restart reads only the changelog tail, not the whole log.

The app is a :class:`LeanApp`: Faust's per-message delivery trimmed by what its own settings and
hooks allow (docs/PERFORMANCE.md, "Worker", has the profiles): no ``Monitor`` sensor (it timed every message into in-memory
statistics that only Faust's web views read; the worker's health goes to Redis and the exporter).
"""
from __future__ import annotations

from typing import Any, Optional

import faust

from streams.settings import Settings
from streams.projection import Projection, RedisProjection

from .agents import CaseWorker

TABLE_STORES = ("rocksdb", "memory")


def app_config(settings: Settings, table_store: str = "rocksdb", session_timeout: float = 10.0) -> dict[str, Any]:
    """The Faust settings the worker runs with (also what tests and the bench inspect)."""
    if table_store not in TABLE_STORES:
        raise ValueError(f"table store must be one of {TABLE_STORES}, got {table_store!r}")
    return dict(
        broker=f"kafka://{settings.kafka_bootstrap}",
        store=f"{table_store}://",
        datadir=str(settings.worker_data_dir),
        topic_partitions=settings.partitions,
        topic_replication_factor=1,
        consumer_auto_offset_reset="earliest",
        # Every batch ends with a producer flush, so lingering only adds latency.
        producer_linger=0.001,
        producer_acks=-1,
        broker_max_poll_records=5000,
        stream_buffer_maxsize=20000,
        stream_wait_empty=True,
        broker_commit_interval=1.0,
        # A worker killed without goodbye holds its partitions until its session expires.
        broker_session_timeout=session_timeout,
        broker_heartbeat_interval=min(3.0, session_timeout / 4),
        # One worker per data dir; standbys would only mirror changelogs nobody else reads.
        table_standby_replicas=0,
        web_enabled=settings.worker_web_port > 0,
        web_host="127.0.0.1",
        web_bind="127.0.0.1",
        web_port=settings.worker_web_port or 6066,
        autodiscover=False,
        # Faust's Cython fast paths stay off: with them on, produce -> Redis latency at 1,000
        # events/s became bimodal on an idle machine (p99 ~1.8 s in 4 of 9 runs against 0.14-0.2 s
        # in 10 of 10 with them off; docs/PERFORMANCE.md, "Worker"), for ~5 % less CPU per message.
        cython_optimizations=False,
        # Faust's own default logging config would install handlers; the command sets logging.
        logging_config=None,
        # TLS / SASL for Faust's consumer, producer and admin client (streams/kafka_security.py)
        **settings.kafka_security().faust(),
    )


class LeanApp(faust.App):
    """A Faust app without the Monitor sensor on its per-message path.

    Faust adds ``app.monitor`` to its sensors when the app starts (``on_init_dependencies``);
    every message and stream event then calls its ``on_message_in/out`` and
    ``on_stream_event_in/out``, which time it into counters and deques. Nothing here reads them
    (the worker's web port is off by default), so the sensor is taken off again right there.
    ``app.monitor`` itself stays (its figures stay at zero)."""

    def on_init_dependencies(self):  # type: ignore[override]
        dependencies = super().on_init_dependencies()
        self.sensors.remove(self.monitor)
        return dependencies


def create_app(settings: Settings, store: Optional[Projection] = None, *,
               table_store: str = "rocksdb", session_timeout: float = 10.0,
               **worker_options: Any) -> faust.App:
    """A Faust app consuming ``settings.case_topic`` into the Redis projection."""
    app = LeanApp(settings.consumer_group, **app_config(settings, table_store, session_timeout))
    store = store or RedisProjection.from_url(settings.redis_url, settings.redis_prefix,
                                                  password=settings.redis_secret())
    app.casewatch = CaseWorker(app, settings, store, **worker_options)  # type: ignore[attr-defined]
    return app


def worker_of(app: faust.App) -> CaseWorker:
    return app.casewatch  # type: ignore[attr-defined]
