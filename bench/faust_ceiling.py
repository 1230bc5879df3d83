"""A do-nothing Faust agent on the worker's settings: how fast Faust alone delivers a topic.

    python bench/faust_ceiling.py TOPIC N        (run by bench/streaming.py)

The agent is the worker's app class (:class:`streams.app.LeanApp`) on the worker's settings and
takes batches exactly as the worker does (``take_events`` of 5,000, acks off) and only counts
them; it prints ``events/s`` and the process's CPU time per event (all threads; less sensitive
to other load on the machine than events/s) from its first batch to the N-th event and exits. The gap between
this figure and the worker's is the worker's own work; this figure over a plain aiokafka
consumer is Faust's per-message machinery.
"""
from __future__ import annotations

import os
import sys
import time
import uuid
from pathlib import Path
from tempfile import TemporaryDirectory

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from streams.settings import Settings  # noqa: E402
from streams.app import LeanApp, app_config  # noqa: E402


def main() -> None:
    topic_name, n = sys.argv[1], int(sys.argv[2])
    with TemporaryDirectory(prefix="faust-ceiling-") as data_dir:
        settings = Settings(case_topic=topic_name, consumer_group=f"faust-ceiling-{uuid.uuid4().hex[:8]}",
                            worker_data_dir=Path(data_dir), worker_web_port=0)
        app = LeanApp(settings.consumer_group, **app_config(settings, "memory"))
        topic = app.topic(topic_name, key_type=bytes, value_type=bytes, key_serializer="raw",
                          value_serializer="raw", acks=False)
        seen = {"n": 0, "first": 0, "started": 0.0}

        @app.agent(topic)
        async def count(stream):  # noqa: ANN001
            async for events in stream.take_events(5000, within=0.1):  # the worker's --batch-max
                if not seen["n"]:  # timed from the first batch on, as the worker is
                    seen["started"], seen["first"], seen["cpu"] = time.perf_counter(), len(events), time.process_time()
                seen["n"] += len(events)
                if seen["n"] >= n:
                    rate = (seen["n"] - seen["first"]) / (time.perf_counter() - seen["started"])
                    cpu = (time.process_time() - seen["cpu"]) / (seen["n"] - seen["first"]) * 1e6
                    print(f"faust-ceiling-eps {rate:.0f} cpu-us-per-event {cpu:.1f}", flush=True)
                    os._exit(0)

        sys.argv = [sys.argv[0], "worker", "--loglevel", "warn"]
        app.main()


if __name__ == "__main__":
    main()
