"""The worker's Faust app: the Monitor sensor off its per-message path, Faust's Cython fast paths off
(with them on, latency at 1,000 events/s turned bimodal: docs/PERFORMANCE.md, "Worker")."""
from __future__ import annotations

from streams.app import app_config, create_app
from streams.projection_memory import MemoryProjection
from streams.settings import Settings


def test_the_worker_app_runs_without_the_monitor_sensor_and_without_cythons_fast_paths(tmp_path):
    settings = Settings(worker_data_dir=tmp_path, worker_web_port=0)
    app = create_app(settings, MemoryProjection(), table_store="memory")
    app.on_init_dependencies()  # what Faust calls when the app starts: it adds its sensors here
    assert app.monitor not in app.sensors
    assert app.conf.cython_optimizations is False
    assert app_config(settings)["cython_optimizations"] is False
