"""Prometheus and Alertmanager (Debian's binaries) on 127.0.0.1.

``start_prometheus(config_file, state_dir, port=None) -> (url, pid)`` and
``start_alertmanager(config_file, state_dir, port=None) -> (url, pid)`` are public so tests
can run them with their own configs; data and logs go to ``state_dir/prometheus`` and
``state_dir/alertmanager``.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from .install import alertmanager_binary
from .state import HOST, StackError, http_ready, log, reuse_or_free_port, spawn, stop_pid, wait_http_ready


def minimal_prometheus_config(
    alertmanager_url: str | None = None, scrape_interval: str = "15s", self_target: str | None = None
) -> str:
    """A valid Prometheus config: scrapes itself (``self_target``, host:port) if given, and
    sends alerts to ``alertmanager_url`` if given."""
    text = (
        "# minimal config written by casewatch stack (no dashboards/generated/prometheus.yml found)\n"
        "global:\n"
        f"  scrape_interval: {scrape_interval}\n"
        f"  evaluation_interval: {scrape_interval}\n"
    )
    if self_target:
        text += (
            "scrape_configs:\n"
            "  - job_name: prometheus\n"
            "    static_configs:\n"
            f"      - targets: ['{self_target}']\n"
        )
    if alertmanager_url:
        target = alertmanager_url.split("://", 1)[-1].rstrip("/")
        text += (
            "alerting:\n"
            "  alertmanagers:\n"
            "    - static_configs:\n"
            f"        - targets: ['{target}']\n"
        )
    return text


def minimal_alertmanager_config() -> str:
    """A valid Alertmanager config that routes everything to a receiver with no integrations."""
    return (
        "# minimal config written by casewatch stack (no dashboards/generated/alertmanager.yml found)\n"
        "route:\n"
        "  receiver: 'null'\n"
        "  group_by: ['alertname']\n"
        "receivers:\n"
        "  - name: 'null'\n"
    )


def prometheus_binary() -> str:
    binary = shutil.which("prometheus")
    if not binary:
        raise StackError("prometheus not found; run `casewatch stack up --with-monitoring` or apt-get install prometheus")
    return binary


def _alertmanager_binary() -> str:
    binary = alertmanager_binary()
    if not binary:
        raise StackError(
            "alertmanager not found; run `casewatch stack up --with-monitoring` or apt-get install prometheus-alertmanager"
        )
    return binary


def _check_config(config_file: Path, name: str) -> Path:
    config_file = Path(config_file).resolve()
    if not config_file.is_file():
        raise StackError(f"{name} config {config_file} does not exist")
    return config_file


def _start(name: str, binary: str, flags: list[str], config_file: Path, state_dir: Path,
           port: int | None, timeout: float) -> dict:
    """Start one Prometheus-family server on loopback and wait for ``/-/ready``.

    ``flags`` may use ``{data}`` and ``{listen}`` for the data directory and listen address.
    """
    config_file = _check_config(config_file, name)
    home = Path(state_dir).resolve() / name.lower()
    data = home / "data"
    data.mkdir(parents=True, exist_ok=True)
    port = reuse_or_free_port(port)
    url = f"http://{HOST}:{port}"
    log_file = home / f"{name.lower()}.log"
    cmd = [binary, f"--config.file={config_file}",
           *(f.format(data=data, listen=f"{HOST}:{port}") for f in flags)]
    log(f"starting {name} on {url} with {config_file}")
    proc = spawn(cmd, log_file, cwd=home)
    try:
        wait_http_ready(f"{url}/-/ready", proc.pid, log_file, name, timeout)
    except BaseException:
        stop_pid(proc.pid, timeout=5.0, name=name.lower())
        raise
    log(f"{name} ready at {url} (pid {proc.pid})")
    return {"url": url, "pid": proc.pid, "port": port, "config": str(config_file), "log": str(log_file), "marker": str(data)}


def prometheus_entry(config_file: Path, state_dir: Path, port: int | None = None, timeout: float = 60.0) -> dict:
    return _start("Prometheus", prometheus_binary(), [
        "--storage.tsdb.path={data}",
        "--web.listen-address={listen}",
        "--web.enable-lifecycle",
        "--storage.tsdb.retention.time=15d",
    ], config_file, state_dir, port, timeout)


def alertmanager_entry(config_file: Path, state_dir: Path, port: int | None = None, timeout: float = 60.0) -> dict:
    return _start("Alertmanager", _alertmanager_binary(), [
        "--storage.path={data}",
        "--web.listen-address={listen}",
        "--cluster.listen-address=",  # empty: no gossip cluster, nothing bound on 0.0.0.0:9094
    ], config_file, state_dir, port, timeout)


def start_prometheus(config_file, state_dir, port: int | None = None) -> tuple[str, int]:
    """Start Prometheus; returns ``(url, pid)`` once ``/-/ready`` answers 200."""
    entry = prometheus_entry(Path(config_file), Path(state_dir), port)
    return entry["url"], entry["pid"]


def start_alertmanager(config_file, state_dir, port: int | None = None) -> tuple[str, int]:
    """Start Alertmanager; returns ``(url, pid)`` once ``/-/ready`` answers 200."""
    entry = alertmanager_entry(Path(config_file), Path(state_dir), port)
    return entry["url"], entry["pid"]


def ready(url: str) -> bool:
    return http_ready(f"{url.rstrip('/')}/-/ready")


def reload(url: str) -> bool:
    """POST /-/reload (needs --web.enable-lifecycle, which we always pass to Prometheus)."""
    import urllib.request

    req = urllib.request.Request(f"{url.rstrip('/')}/-/reload", method="POST", data=b"")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - loopback only
            return resp.status == 200
    except OSError:
        return False


def wait_gone(url: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and ready(url):
        time.sleep(0.1)
