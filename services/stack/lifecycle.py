"""``casewatch stack``: the local Kafka + Redis (+ Prometheus + Alertmanager) stack in one command.

    casewatch stack up [--with-monitoring] [--secure]   # install what is missing, start, wait until ready
    eval "$(casewatch stack env [--as worker])"         # CASEWATCH_KAFKA_BOOTSTRAP, CASEWATCH_REDIS_URL, ...
    casewatch stack status
    casewatch stack down                     # stop everything and delete its data

Everything binds 127.0.0.1 only, on free ports, and lives in ``$CASEWATCH_STACK_DIR`` or
``<repo>/.stack/``.  ``up`` reuses services that are already running and healthy.

``--secure``: Kafka only over TLS (SASL/SCRAM-SHA-512 and mutual TLS listeners) with ACLs per
service principal, Redis only over TLS with an ACL user; the CA, certificates and passwords are
made in the state dir (kafka_secure.py, redis_server.py, tls.py). ``env --as PRINCIPAL`` prints
the settings one service needs (default: the admin principal).
"""

from __future__ import annotations

import json
import shlex
import shutil
import time
from pathlib import Path
from typing import Optional

from . import install as installer
from .kafka import kafka_healthy, start_kafka
from .prometheus import (
    alertmanager_entry,
    minimal_alertmanager_config,
    minimal_prometheus_config,
    prometheus_entry,
    ready as http_service_ready,
    reload as reload_service,
)
from .redis_server import redis_healthy, start_redis
from .state import (
    HOST,
    REPO_ROOT,
    StackError,
    log,
    pid_alive,
    read_stack,
    reuse_or_free_port,
    stack_dir,
    stack_lock,
    stop_pid,
    write_stack,
)

SERVICES = ("kafka", "redis", "alertmanager", "prometheus")  # start order
CORE = ("kafka", "redis")
MONITORING = ("alertmanager", "prometheus")
DEFAULT_PROMETHEUS_CONFIG = REPO_ROOT / "dashboards" / "generated" / "prometheus.yml"
DEFAULT_ALERTMANAGER_CONFIG = REPO_ROOT / "dashboards" / "generated" / "alertmanager.yml"



# ------------------------------------------------------------------ python API


def service_healthy(name: str, entry: dict | None) -> bool:
    if not entry or not pid_alive(entry.get("pid"), entry.get("marker")):
        return False
    if name == "kafka":
        if entry.get("secure"):
            from .kafka_secure import admin_options

            return kafka_healthy(entry["bootstrap"], options=admin_options(entry))
        return kafka_healthy(entry["bootstrap"])
    if name == "redis":
        return redis_healthy(entry["url"], password_file=entry.get("password_file"))
    return http_service_ready(entry["url"])


def _stop_entry(name: str, entry: dict) -> None:
    pid = entry.get("pid")
    if pid_alive(pid, entry.get("marker")):
        log(f"stopping {name} (pid {pid})")
        stop_pid(pid, timeout=30.0 if name == "kafka" else 10.0, name=name)


def _wanted_config(base: Path, name: str, prometheus_config: Path | None, alertmanager_config: Path | None) -> Path:
    """The config file ``name`` should run with: explicit, else the generated one, else
    our minimal one in the state dir (``_minimal_config_path``)."""
    explicit = prometheus_config if name == "prometheus" else alertmanager_config
    default = DEFAULT_PROMETHEUS_CONFIG if name == "prometheus" else DEFAULT_ALERTMANAGER_CONFIG
    if explicit is not None:
        return Path(explicit).resolve()
    if default.is_file():
        return default.resolve()
    return _minimal_config_path(base, name)


def _minimal_config_path(base: Path, name: str) -> Path:
    return (base / name / f"{name}.yml").resolve()


def _alertmanager_config(base: Path, config: Path | None) -> Path:
    if config is None:
        if DEFAULT_ALERTMANAGER_CONFIG.is_file():
            return DEFAULT_ALERTMANAGER_CONFIG
        config = _minimal_config_path(base, "alertmanager")
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(minimal_alertmanager_config())
    return Path(config).resolve()


def _prometheus_config(base: Path, config: Path | None, port: int, alertmanager_url: str | None) -> Path:
    if config is None:
        if DEFAULT_PROMETHEUS_CONFIG.is_file():
            return DEFAULT_PROMETHEUS_CONFIG
        config = _minimal_config_path(base, "prometheus")
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(minimal_prometheus_config(alertmanager_url, self_target=f"{HOST}:{port}"))
    return Path(config).resolve()


def up_stack(
    with_monitoring: bool = False,
    prometheus_config: Path | None = None,
    alertmanager_config: Path | None = None,
    install: bool = True,
    timeout: float = 120.0,
    secure: bool = False,
    base: Path | None = None,
) -> dict:
    """Start (or reuse) the stack and return its description, as in stack.json.

    ``secure``: Kafka and Redis with TLS, authentication and ACLs; a running stack of the other
    kind is stopped and started afresh (its data deleted: the formats differ). ``base``: another
    state dir than ``stack_dir()`` (the tests keep a secure stack beside the plain one).

    Each returned entry also carries ``"started": True`` when this call started it
    (``False`` when a running, healthy service was reused); that key is not persisted.
    """
    base = base or stack_dir()
    t0 = time.monotonic()
    with stack_lock(base):
        current = read_stack(base)
        wanted = CORE + (MONITORING if with_monitoring else ())
        if install:
            installer.ensure_system_packages(with_monitoring=with_monitoring)
            # the report's PDF tools and the board editor's browser, so that `make test` on a
            # fresh machine has them (a file check each when they are there)
            installer.ensure_report_packages()
        result: dict = {}
        for name in SERVICES:
            entry = current.get(name)
            if name not in wanted:
                # not asked for: keep what already runs, forget what is dead
                if entry and service_healthy(name, entry):
                    result[name] = dict(entry, started=False)
                elif entry:
                    _stop_entry(name, entry)
                    current.pop(name, None)
                continue
            if entry and name in CORE and bool(entry.get("secure")) != secure:
                log(f"{name} runs {'with' if entry.get('secure') else 'without'} --secure; restarting it")
                _stop_entry(name, entry)
                shutil.rmtree(base / name, ignore_errors=True)
                entry = None
            if entry and service_healthy(name, entry):
                wanted_cfg = (
                    _wanted_config(base, name, prometheus_config, alertmanager_config) if name in MONITORING else None
                )
                if wanted_cfg is not None and wanted_cfg != Path(entry.get("config", "")):
                    log(f"{name} runs with {entry.get('config')}, {wanted_cfg} wanted; restarting it")
                    _stop_entry(name, entry)
                else:
                    if name == "prometheus" and wanted_cfg == _minimal_config_path(base, name):
                        # our minimal config: keep its alertmanager target current
                        am = result.get("alertmanager")
                        Path(entry["config"]).write_text(
                            minimal_prometheus_config(am and am.get("url"), self_target=f"{HOST}:{entry['port']}")
                        )
                    if name in MONITORING:
                        reload_service(entry["url"])  # pick up a regenerated config file
                    if name == "kafka" and entry.get("secure"):
                        from .kafka_secure import apply_acls

                        apply_acls(entry)  # the ACL table may have changed since it started
                    log(f"{name}: reusing running instance (pid {entry['pid']})")
                    result[name] = dict(entry, started=False)
                    continue
            elif entry:
                _stop_entry(name, entry)  # alive but unhealthy, or dead: start afresh
            # the previous ports: of the dead entry, else of a `down --keep-data` (clients,
            # and the tests' fault injection, expect a restarted service where it was)
            ports = entry or _remembered_ports(base).get(name, {})
            prev_port = ports.get("port")
            if name == "kafka":
                new = start_kafka(base, port=prev_port, controller_port=ports.get("controller_port"),
                                  timeout=timeout, secure=secure, mtls_port=ports.get("mtls_port"))
            elif name == "redis":
                new = start_redis(base, port=prev_port, secure=secure)
            elif name == "alertmanager":
                new = alertmanager_entry(_alertmanager_config(base, alertmanager_config), base, port=prev_port)
            else:  # prometheus, after alertmanager so a minimal config can point at it
                port = reuse_or_free_port(prev_port)
                am = result.get("alertmanager")
                cfg = _prometheus_config(base, prometheus_config, port, am and am.get("url"))
                new = prometheus_entry(cfg, base, port=port)
            current[name] = new
            result[name] = dict(new, started=True)
            write_stack(current, base)
        write_stack({k: v for k, v in current.items() if k in result}, base)
    log(f"stack up in {time.monotonic() - t0:.1f}s ({', '.join(result)}); state in {base}")
    return result


PORT_KEYS = ("port", "controller_port", "mtls_port")


def _remembered_ports(base: Path) -> dict:
    try:
        return json.loads((base / "ports.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def _remember_ports(base: Path, name: str, entry: dict | None) -> None:
    """Keep a stopped service's ports for its next start (``entry``), or forget them (None:
    its data is deleted, it starts afresh anyway)."""
    ports = _remembered_ports(base)
    if entry:
        ports[name] = {k: entry[k] for k in PORT_KEYS if entry.get(k)}
    else:
        ports.pop(name, None)
    path = base / "ports.json"
    if ports:
        path.write_text(json.dumps(ports, indent=2, sort_keys=True) + "\n")
    else:
        path.unlink(missing_ok=True)


def down_stack(services: tuple[str, ...] | list[str] | None = None, keep_data: bool = False,
               base: Path | None = None) -> list[str]:
    """Stop the given services (default: all), delete their data, and update stack.json."""
    base = base or stack_dir()
    names = list(services or SERVICES)
    stopped = []
    with stack_lock(base):
        current = read_stack(base)
        for name in reversed(SERVICES):  # monitoring first, Kafka last
            if name not in names:
                continue
            entry = current.pop(name, None)
            if entry:
                _stop_entry(name, entry)
                stopped.append(name)
            _remember_ports(base, name, entry if keep_data else None)
            if not keep_data:
                shutil.rmtree(base / name, ignore_errors=True)
        if not keep_data and not any(n in current for n in CORE):
            for material in ("tls", "secrets"):  # the secure stack's CA, keys and passwords
                shutil.rmtree(base / material, ignore_errors=True)
        if current:
            write_stack(current, base)
        else:
            (base / "stack.json").unlink(missing_ok=True)
    return stopped


def stack_status() -> dict:
    """``{name: {"healthy": bool, ...entry}}`` for every recorded service."""
    return {name: dict(entry, healthy=service_healthy(name, entry)) for name, entry in read_stack().items()}


def env_lines(stack: dict | None = None, principal: str | None = None) -> list[str]:
    """``export`` lines for a shell; on a secure stack the Kafka settings of ``principal``
    (default the admin) and the Redis user's password file (paths only, never a secret)."""
    stack = read_stack() if stack is None else stack
    lines = []
    if "kafka" in stack:
        lines.append(f"export CASEWATCH_KAFKA_BOOTSTRAP={stack['kafka']['bootstrap']}")
        if stack["kafka"].get("secure"):
            from .kafka_secure import ADMIN

            who = principal or ADMIN
            if not who.startswith("casewatch-"):
                who = f"casewatch-{who}"
            creds = stack["kafka"]["principals"].get(who)
            if creds is None:
                raise StackError(f"no principal {who!r} (known: {', '.join(stack['kafka']['principals'])})")
            lines += [
                "export CASEWATCH_KAFKA_SECURITY_PROTOCOL=SASL_SSL",
                f"export CASEWATCH_KAFKA_SASL_MECHANISM={stack['kafka']['sasl_mechanism']}",
                f"export CASEWATCH_KAFKA_USERNAME={who}",
                f"export CASEWATCH_KAFKA_PASSWORD_FILE={creds['password_file']}",
                f"export CASEWATCH_KAFKA_CA_FILE={stack['kafka']['ca_file']}",
            ]
    if "redis" in stack:
        lines.append(f"export CASEWATCH_REDIS_URL={shlex.quote(stack['redis']['url'])}")  # '?' in TLS URLs
        if stack["redis"].get("password_file"):
            lines.append(f"export CASEWATCH_REDIS_PASSWORD_FILE={stack['redis']['password_file']}")
    if "prometheus" in stack:
        lines.append(f"export CASEWATCH_PROMETHEUS_URL={stack['prometheus']['url']}")
    if "alertmanager" in stack:
        lines.append(f"export CASEWATCH_ALERTMANAGER_URL={stack['alertmanager']['url']}")
    return lines
