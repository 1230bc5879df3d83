"""A private CA and certificates for the secure local stack, made with the openssl CLI.

``casewatch stack up --secure`` needs a server certificate for Kafka, Redis and the HTTP
endpoints (valid for ``127.0.0.1`` and ``localhost``) and one client certificate per service
principal for mutual TLS. Keys are EC P-256 in PKCS#8 PEM (what Kafka's PEM key store reads
without a password). Everything lives under ``<stack dir>/tls`` with mode 0600 keys and is made
once: a second ``up`` reuses it, ``down`` deletes it with the rest of the stack.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .state import StackError

CA_NAME = "casewatch local stack CA"
SERVER_NAME = "casewatch-broker"  # also Kafka's own principal (inter-broker, controller)
DAYS = 365


@dataclass(frozen=True)
class Pair:
    cert: Path
    key: Path

    @property
    def bundle(self) -> Path:
        """Key then certificate in one file (Kafka's PEM key store)."""
        return self.cert.with_suffix(".bundle.pem")


def _openssl() -> str:
    binary = shutil.which("openssl")
    if not binary:
        raise StackError("openssl not found (apt-get install openssl); the secure stack makes its certificates with it")
    return binary


def _run(*args: str, cwd: Path) -> None:
    proc = subprocess.run([_openssl(), *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise StackError(f"openssl {args[0]} failed: {proc.stderr.strip()}")


def _new_key(path: Path) -> None:
    _run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(path), cwd=path.parent)
    path.chmod(0o600)


def ca_pair(tls_dir: Path) -> Pair:
    return Pair(tls_dir / "ca.crt", tls_dir / "ca.key")


def pair_for(tls_dir: Path, name: str) -> Pair:
    return Pair(tls_dir / f"{name}.crt", tls_dir / f"{name}.key")


def ensure_ca(tls_dir: Path) -> Pair:
    tls_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(tls_dir, 0o700)
    ca = ca_pair(tls_dir)
    if ca.cert.exists() and ca.key.exists():
        return ca
    _new_key(ca.key)
    _run("req", "-x509", "-new", "-key", str(ca.key), "-out", str(ca.cert), "-days", str(DAYS), "-subj",
         f"/O=casewatch/CN={CA_NAME}", "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=tls_dir)
    return ca


def ensure_certificate(tls_dir: Path, name: str, *, server: bool) -> Pair:
    """A certificate with ``CN=name`` signed by the stack's CA (made when missing).

    Server certificates name ``127.0.0.1`` and ``localhost``; client certificates carry only
    the principal's name, which the broker maps to ``User:<name>``.
    """
    ca = ensure_ca(tls_dir)
    pair = pair_for(tls_dir, name)
    if pair.cert.exists() and pair.key.exists() and pair.bundle.exists():
        return pair
    _new_key(pair.key)
    csr = tls_dir / f"{name}.csr"
    _run("req", "-new", "-key", str(pair.key), "-out", str(csr), "-subj", f"/O=casewatch/CN={name}", cwd=tls_dir)
    ext = tls_dir / f"{name}.ext"
    usage = "serverAuth,clientAuth" if server else "clientAuth"
    lines = ["basicConstraints=CA:FALSE", "keyUsage=critical,digitalSignature", f"extendedKeyUsage={usage}"]
    if server:
        lines.append("subjectAltName=IP:127.0.0.1,DNS:localhost")
    ext.write_text("\n".join(lines) + "\n")
    _run("x509", "-req", "-in", str(csr), "-CA", str(ca.cert), "-CAkey", str(ca.key), "-CAcreateserial",
         "-out", str(pair.cert), "-days", str(DAYS), "-extfile", str(ext), cwd=tls_dir)
    csr.unlink()
    ext.unlink()
    pair.bundle.write_text(pair.key.read_text() + pair.cert.read_text())
    pair.bundle.chmod(0o600)
    return pair


def ensure_tls(tls_dir: Path, clients: tuple[str, ...]) -> dict[str, Pair]:
    """The CA, the server certificate and one client certificate per name in ``clients``."""
    made = {"ca": ensure_ca(tls_dir), SERVER_NAME: ensure_certificate(tls_dir, SERVER_NAME, server=True)}
    for name in clients:
        made[name] = ensure_certificate(tls_dir, name, server=False)
    return made
