"""Install what the local stack needs, idempotently.

* Debian packages ``redis-server``, ``prometheus``, ``prometheus-alertmanager``, ``golang-go``
  (and a JRE / Maven if missing) through apt, only when their binaries are absent.
* The Kafka broker jars from Maven Central, resolved by Maven from a tiny generated pom into
  ``${XDG_CACHE_HOME:-~/.cache}/casewatch/kafka-<version>/libs``.  A second run finds the
  completed cache and downloads nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

from .state import StackError, log

# Kafka 4.3.1: the newest 4.x line whose whole dependency tree Maven Central serves here
# (4.4.0's kafka-tools needs packages that are not served).  Used by kafka.py too.
KAFKA_VERSION = os.environ.get("CASEWATCH_KAFKA_VERSION", "4.3.1")
LOG4J_VERSION = "2.25.3"
SLF4J_VERSION = "2.0.17"

# binary -> Debian package
APT_BINARIES = {
    "redis-server": "redis-server",
    "prometheus": "prometheus",
    "prometheus-alertmanager": "prometheus-alertmanager",
    "openssl": "openssl",  # the secure stack makes its CA and certificates with it
    # tests/unit/test_holidays.py evaluates Alertmanager's time intervals with its own Go code
    "go": "golang-go",
}
JAVA_PACKAGES = {"java": "default-jre-headless", "mvn": "maven"}
# The board report renders its PDF with WeasyPrint (Pango, a font) and its tests read the PDF
# back with poppler: a file each of them installs -> its Debian package.
REPORT_FILES = {
    "/usr/bin/pdftotext": "poppler-utils",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf": "fonts-dejavu-core",
    # The board editor's browser tests drive Debian's Chromium (Playwright with the system
    # browser; chromedriver for Selenium users): no browser download is possible here.
    "/usr/bin/chromium": "chromium",
    "/usr/bin/chromedriver": "chromium-driver",
}
REPORT_LIBRARIES = {"libpango-1.0.so.0": "libpango-1.0-0", "libpangoft2-1.0.so.0": "libpangoft2-1.0-0"}

_apt_updated = False


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "casewatch"


def kafka_home(version: str = KAFKA_VERSION) -> Path:
    return cache_root() / f"kafka-{version}"


def kafka_libs_dir(version: str = KAFKA_VERSION) -> Path:
    return kafka_home(version) / "libs"


def alertmanager_binary() -> str | None:
    return shutil.which("alertmanager") or shutil.which("prometheus-alertmanager")


def _have(binary: str) -> bool:
    if binary == "prometheus-alertmanager":
        return alertmanager_binary() is not None
    return shutil.which(binary) is not None


def _privileged(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return cmd
    if shutil.which("sudo"):
        return ["sudo", "-n", *cmd]
    raise StackError(f"need root to run: {' '.join(cmd)} (no sudo); install it by hand")


def _run(cmd: list[str], what: str, env: dict | None = None) -> None:
    log(f"{what}: {' '.join(cmd)}")
    t0 = time.monotonic()
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        out = (proc.stdout + proc.stderr).strip().splitlines()[-40:]
        raise StackError(f"{what} failed (exit {proc.returncode}):\n" + "\n".join(out))
    log(f"{what}: done in {time.monotonic() - t0:.1f}s")


def apt_install(packages: list[str]) -> None:
    """``apt-get update`` (once per process) then ``apt-get install -y`` without starting services."""
    global _apt_updated
    if not packages:
        return
    if not shutil.which("apt-get"):
        raise StackError(f"missing {', '.join(packages)} and no apt-get here; install them by hand")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    # Debian's postinst scripts would start redis/prometheus system services on their
    # default ports (prometheus on all interfaces).  policy-rc.d exit 101 forbids that.
    policy = Path("/usr/sbin/policy-rc.d")
    created_policy = False
    if os.geteuid() == 0 and not policy.exists():
        policy.write_text("#!/bin/sh\n# casewatch stack install: do not start services\nexit 101\n")
        policy.chmod(0o755)
        created_policy = True
    try:
        if not _apt_updated:
            _run(_privileged(["apt-get", "update", "-q"]), "apt-get update", env)
            _apt_updated = True
        _run(
            _privileged(["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages]),
            f"apt-get install {' '.join(packages)}",
            env,
        )
    finally:
        if created_policy:
            policy.unlink(missing_ok=True)


def ensure_system_packages(with_monitoring: bool = True, with_kafka_tools: bool = True) -> None:
    wanted = ["redis-server", "openssl"]
    if with_monitoring:
        wanted += ["prometheus", "prometheus-alertmanager", "go"]
    missing = [APT_BINARIES[b] for b in wanted if not _have(b)]
    if with_kafka_tools:
        missing += [pkg for b, pkg in JAVA_PACKAGES.items() if not _have(b)]
    if missing:
        log(f"installing missing packages: {', '.join(missing)}")
        apt_install(missing)
        still = [b for b in wanted if not _have(b)]
        if still:
            raise StackError(f"installed {', '.join(missing)} but still no {', '.join(still)} on PATH")
    else:
        log("system packages present: " + ", ".join(wanted + (list(JAVA_PACKAGES) if with_kafka_tools else [])))


def _pom(version: str) -> str:
    deps = [
        ("org.apache.kafka", "kafka_2.13", version),
        # Kafka 4.x logs through SLF4J; log4j2 is the binding its own distribution uses.
        ("org.slf4j", "slf4j-api", SLF4J_VERSION),
        ("org.apache.logging.log4j", "log4j-slf4j2-impl", LOG4J_VERSION),
        ("org.apache.logging.log4j", "log4j-core", LOG4J_VERSION),
        ("org.apache.logging.log4j", "log4j-api", LOG4J_VERSION),
    ]
    body = "\n".join(
        f"    <dependency><groupId>{g}</groupId><artifactId>{a}</artifactId><version>{v}</version></dependency>"
        for g, a, v in deps
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- generated by casewatch (services/stack/install.py); only used to fetch the broker jars -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>casewatch.local</groupId>
  <artifactId>kafka-broker-libs</artifactId>
  <version>{version}</version>
  <packaging>pom</packaging>
  <dependencies>
{body}
  </dependencies>
</project>
"""


def ensure_kafka_libs(version: str = KAFKA_VERSION) -> Path:
    """Return the directory of the Kafka broker jars, downloading them once."""
    home = kafka_home(version)
    libs = home / "libs"
    marker = home / ".complete"
    if marker.exists() and libs.is_dir() and any(libs.glob("kafka_2.13-*.jar")):
        log(f"Kafka {version} jars cached in {libs}")
        return libs
    for b, pkg in JAVA_PACKAGES.items():
        if not _have(b):
            apt_install([pkg])
    home.mkdir(parents=True, exist_ok=True)
    (home / "pom.xml").write_text(_pom(version))
    staging = home / "libs.partial"
    shutil.rmtree(staging, ignore_errors=True)
    log(f"resolving Kafka {version} broker jars from Maven Central into {libs} (once)")
    _run(
        [
            "mvn", "-q", "-B", "-f", str(home / "pom.xml"),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={staging}",
            "-DincludeScope=runtime",
        ],
        f"mvn dependency:copy-dependencies (kafka {version})",
    )
    if not any(staging.glob("kafka_2.13-*.jar")):
        raise StackError(f"Maven finished but no kafka_2.13 jar in {staging}")
    # slf4j 1.7 comes in transitively and would shadow the 2.x provider lookup.
    for old in staging.glob("slf4j-api-1.*.jar"):
        old.unlink()
    shutil.rmtree(libs, ignore_errors=True)
    staging.rename(libs)
    marker.write_text(version + "\n")
    log(f"Kafka {version}: {len(list(libs.glob('*.jar')))} jars in {libs}")
    return libs


def _have_library(name: str) -> bool:
    return any(Path(d, name).exists() for d in ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib"))


def ensure_report_packages() -> None:
    """Debian packages the board report (PDF), the board editor and their tests need."""
    missing = [pkg for path, pkg in REPORT_FILES.items() if not Path(path).exists()]
    missing += [pkg for lib, pkg in REPORT_LIBRARIES.items() if not _have_library(lib)]
    if missing:
        log(f"installing missing packages for the board report: {', '.join(missing)}")
        apt_install(missing)


def install(with_monitoring: bool = True, kafka_version: str = KAFKA_VERSION) -> Path:
    """Everything ``up`` needs (and what the report tests need). Returns the Kafka libs dir."""
    ensure_system_packages(with_monitoring=with_monitoring)
    ensure_report_packages()
    return ensure_kafka_libs(kafka_version)
