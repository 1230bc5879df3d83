"""The secure local Kafka: TLS everywhere, SCRAM-SHA-512 users, mutual TLS and per-service ACLs.

Listeners (all on 127.0.0.1, all TLS with the stack's own CA, see tls.py):

* ``CLIENTS`` (SASL_SSL): SCRAM-SHA-512 user and password; what services use by default.
* ``MTLS`` (SSL, client certificate required): the principal is the certificate's CN.
  Also the inter-broker listener.
* ``CONTROLLER`` (SSL, client certificate required): KRaft's own traffic, broker cert only.

Principals (same name for SCRAM and certificate): the worker reads the case topic, writes the
dead-letter topic and owns every topic and group starting with its consumer group (Faust's
changelogs and leader topic); ingest only writes (and describes) the case and dead-letter
topics; the reader only reads them; ``casewatch-admin`` is a super user for topics and ACLs;
``casewatch-nobody`` authenticates but holds no ACL (tests prove it is refused).
Topic and group ACLs are PREFIXED so that ``casewatch.case-events.<anything>`` is covered too
(one municipality per suffix, or one test per suffix).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from .state import HOST, StackError, log
from .tls import SERVER_NAME, ensure_tls, pair_for

MECHANISM = "SCRAM-SHA-512"
ADMIN = "casewatch-admin"
WORKER = "casewatch-worker"
INGEST = "casewatch-ingest"
READER = "casewatch-reader"
NOBODY = "casewatch-nobody"
PRINCIPALS = (ADMIN, WORKER, INGEST, READER, NOBODY)
CASE_TOPIC = "casewatch.case-events"
DEAD_LETTER_TOPIC = "casewatch.dead-letter"
WORKER_GROUP = "casewatch-worker"  # the default consumer group, also Faust's app id

# principal -> [(resource type, prefix, operations)]
ACL_TABLE: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {
    WORKER: [  # DESCRIBE_CONFIGS: the worker checks the topics' retention at start
        ("TOPIC", CASE_TOPIC, ("READ", "DESCRIBE", "DESCRIBE_CONFIGS")),
        ("TOPIC", DEAD_LETTER_TOPIC, ("WRITE", "DESCRIBE", "DESCRIBE_CONFIGS")),
        ("TOPIC", WORKER_GROUP, ("ALL",)),  # changelogs, the assignor's leader topic
        ("GROUP", WORKER_GROUP, ("READ", "DESCRIBE")),
    ],
    INGEST: [
        ("TOPIC", CASE_TOPIC, ("WRITE", "DESCRIBE", "DESCRIBE_CONFIGS")),
        ("TOPIC", DEAD_LETTER_TOPIC, ("WRITE", "DESCRIBE", "DESCRIBE_CONFIGS")),
    ],
    READER: [
        ("TOPIC", CASE_TOPIC, ("READ", "DESCRIBE")),
        ("TOPIC", DEAD_LETTER_TOPIC, ("READ", "DESCRIBE")),
    ],
}


@dataclass(frozen=True)
class SecureKafka:
    """Where the secure broker's material lives (all under ``<stack dir>/kafka``)."""

    kdir: Path

    @property
    def tls_dir(self) -> Path:
        return self.kdir.parent / "tls"

    @property
    def secrets_dir(self) -> Path:
        return self.kdir.parent / "secrets"

    def password_file(self, principal: str) -> Path:
        return self.secrets_dir / f"kafka-{principal}.password"

    def prepare(self) -> None:
        """Certificates and SCRAM passwords, made once and kept until ``stack down``."""
        ensure_tls(self.tls_dir, PRINCIPALS)
        self.secrets_dir.mkdir(parents=True, exist_ok=True)
        self.secrets_dir.chmod(0o700)
        for principal in PRINCIPALS:
            path = self.password_file(principal)
            if not path.exists():
                path.write_text(secrets.token_urlsafe(32) + "\n")
                path.chmod(0o600)

    def scram_format_args(self) -> list[str]:
        """``kafka-storage format`` arguments creating every SCRAM user in the first metadata."""
        args = []
        for principal in PRINCIPALS:
            password = self.password_file(principal).read_text().strip()
            args += ["--add-scram", f"{MECHANISM}=[name={principal},password={password}]"]
        return args

    def principal_entry(self, principal: str) -> dict:
        pair = pair_for(self.tls_dir, principal)
        return {"password_file": str(self.password_file(principal)), "cert_file": str(pair.cert),
                "key_file": str(pair.key)}

    def entry(self, mtls_port: int) -> dict:
        """What stack.json records about security (paths only, never a secret)."""
        return {
            "secure": True,
            "mtls_bootstrap": f"{HOST}:{mtls_port}",
            "mtls_port": mtls_port,
            "sasl_mechanism": MECHANISM,
            "ca_file": str(self.tls_dir / "ca.crt"),
            "principals": {p: self.principal_entry(p) for p in PRINCIPALS},
        }


def secure_properties(secure: SecureKafka, port: int, mtls_port: int, controller_port: int) -> dict[str, str]:
    """The broker properties that replace the PLAINTEXT listeners."""
    server = pair_for(secure.tls_dir, SERVER_NAME)
    jaas = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
    return {
        "listeners": f"CLIENTS://{HOST}:{port},MTLS://{HOST}:{mtls_port},CONTROLLER://{HOST}:{controller_port}",
        "advertised.listeners": f"CLIENTS://{HOST}:{port},MTLS://{HOST}:{mtls_port}",
        "listener.security.protocol.map": "CONTROLLER:SSL,CLIENTS:SASL_SSL,MTLS:SSL",
        "inter.broker.listener.name": "MTLS",
        "sasl.enabled.mechanisms": MECHANISM,
        "listener.name.clients.sasl.enabled.mechanisms": MECHANISM,
        f"listener.name.clients.{MECHANISM.lower()}.sasl.jaas.config": jaas,
        "ssl.keystore.type": "PEM",
        "ssl.keystore.location": str(server.bundle),
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": str(secure.tls_dir / "ca.crt"),
        "ssl.client.auth": "required",
        "listener.name.clients.ssl.client.auth": "none",
        "ssl.enabled.protocols": "TLSv1.3,TLSv1.2",
        "ssl.endpoint.identification.algorithm": "https",
        # "CN=casewatch-worker,O=casewatch" -> User:casewatch-worker
        "ssl.principal.mapping.rules": "RULE:^CN=([A-Za-z0-9._-]+),.*$/$1/,DEFAULT",
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "allow.everyone.if.no.acl.found": "false",
        "super.users": f"User:{SERVER_NAME};User:{ADMIN}",
    }


def admin_options(entry: dict, principal: str = ADMIN) -> dict:
    """kafka-python options for ``principal`` on the SASL_SSL listener of a secure stack entry."""
    return security_for(entry, principal).kafka_python()


def security_for(entry: dict, principal: str, *, mtls: bool = False):
    """A :class:`~streams.kafka_security.KafkaSecurity` for ``principal`` of a secure stack entry:
    SCRAM on the SASL_SSL listener, or (``mtls``) its client certificate on the SSL listener."""
    from streams.kafka_security import KafkaSecurity

    creds = entry["principals"][principal]
    if mtls:
        return KafkaSecurity(protocol="SSL", ca_file=entry["ca_file"], cert_file=creds["cert_file"],
                             key_file=creds["key_file"])
    return KafkaSecurity(protocol="SASL_SSL", sasl_mechanism=MECHANISM, username=principal,
                         password_file=creds["password_file"], ca_file=entry["ca_file"])


def apply_acls(entry: dict, timeout_s: float = 30.0) -> int:
    """Create the ACL table (idempotent: Kafka keeps one binding per distinct ACL)."""
    from kafka.admin import (ACL, ACLOperation, ACLPermissionType, ACLResourcePatternType, KafkaAdminClient,
                             ResourcePattern, ResourceType)

    acls = []
    for principal, rows in ACL_TABLE.items():
        for resource, prefix, operations in rows:
            pattern = ResourcePattern(ResourceType[resource], prefix, ACLResourcePatternType.PREFIXED)
            for op in operations:
                acls.append(ACL(principal=f"User:{principal}", host="*", operation=ACLOperation[op],
                                permission_type=ACLPermissionType.ALLOW, resource_pattern=pattern))
    admin = KafkaAdminClient(bootstrap_servers=entry["bootstrap"], client_id="casewatch-stack-acls",
                             request_timeout_ms=int(timeout_s * 1000), **admin_options(entry))
    try:
        result = admin.create_acls(acls)
    finally:
        admin.close()
    if result.get("failed"):
        raise StackError(f"Kafka refused ACLs: {result['failed']}")
    log(f"Kafka ACLs: {len(acls)} bindings for {', '.join(ACL_TABLE)}")
    return len(acls)
