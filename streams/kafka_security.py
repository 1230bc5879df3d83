"""The one place that turns security settings into Kafka client options.

Every Kafka client of casewatch (the worker's Faust app and its aiokafka clients, the
kafka-python producers, consumers and admin clients of ingest, the ingest API, the CSV importer,
the reports and ``dlq``) gets its options from :class:`KafkaSecurity`, so a broker that wants
TLS, SASL/SCRAM or client certificates is reached the same way by all of them.

* ``PLAINTEXT``: no options (the local development stack).
* ``SSL``: TLS; with ``cert_file``/``key_file`` mutual TLS, the broker taking the principal from
  the certificate's CN.
* ``SASL_SSL``: TLS plus SCRAM-SHA-512 (or -256) user and password; a client certificate may be
  added where the listener asks for one.
* ``SASL_PLAINTEXT`` is accepted for completeness, never recommended: the password hash
  exchange is safe but every event travels in clear.

The server's certificate is always verified (against ``ca_file`` or the system's trust store)
and its name checked; there is no switch to turn that off.
"""
from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, SecretStr, model_validator

from .credentials import read_secret_file

Protocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
Mechanism = Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"]


class KafkaSecurity(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    protocol: Protocol = "PLAINTEXT"
    sasl_mechanism: Mechanism = "SCRAM-SHA-512"
    username: Optional[str] = None
    password: Optional[SecretStr] = None
    password_file: Optional[Path] = None
    ca_file: Optional[Path] = None
    cert_file: Optional[Path] = None
    key_file: Optional[Path] = None

    @model_validator(mode="after")
    def _consistent(self) -> "KafkaSecurity":
        sasl = self.protocol.startswith("SASL_")
        tls = self.protocol.endswith("SSL")
        if self.password is not None and self.password_file is not None:
            raise ValueError("give the Kafka password or its file, not both")
        if sasl and not self.username:
            raise ValueError(f"security protocol {self.protocol} needs a Kafka user name")
        if sasl and self.password is None and self.password_file is None:
            raise ValueError(f"security protocol {self.protocol} needs a Kafka password (or password file)")
        if not sasl and (self.username or self.password is not None or self.password_file is not None):
            raise ValueError(f"a Kafka user and password need a SASL security protocol, not {self.protocol}")
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("a Kafka client certificate needs both its certificate and its key file")
        if not tls and (self.ca_file or self.cert_file):
            raise ValueError(f"Kafka CA and client certificate files need SSL or SASL_SSL, not {self.protocol}")
        for name in ("password_file", "ca_file", "cert_file", "key_file"):
            path = getattr(self, name)
            if path is not None and not Path(path).is_file():
                raise ValueError(f"Kafka {name.replace('_', ' ')} {path} does not exist")
        return self

    @property
    def enabled(self) -> bool:
        return self.protocol != "PLAINTEXT"

    def secret(self) -> Optional[str]:
        if self.password is not None:
            return self.password.get_secret_value()
        if self.password_file is not None:
            return read_secret_file(self.password_file, "Kafka password").get_secret_value()
        return None

    def ssl_context(self) -> Optional[ssl.SSLContext]:
        """A client TLS context verifying the broker (``None`` without TLS)."""
        if not self.protocol.endswith("SSL"):
            return None
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH,
                                             cafile=str(self.ca_file) if self.ca_file else None)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        if self.cert_file is not None:
            context.load_cert_chain(str(self.cert_file), str(self.key_file))
        return context

    def _common(self) -> dict[str, Any]:
        if not self.enabled:
            return {}
        options: dict[str, Any] = {"security_protocol": self.protocol}
        context = self.ssl_context()
        if context is not None:
            options["ssl_context"] = context
        if self.protocol.startswith("SASL_"):
            options.update(sasl_mechanism=self.sasl_mechanism, sasl_plain_username=self.username,
                           sasl_plain_password=self.secret())
        return options

    def kafka_python(self) -> dict[str, Any]:
        """Keyword arguments for kafka-python's KafkaProducer, KafkaConsumer and KafkaAdminClient."""
        return self._common()

    def aiokafka(self) -> dict[str, Any]:
        """Keyword arguments for aiokafka's AIOKafkaProducer, AIOKafkaConsumer and admin client."""
        return self._common()

    def faust(self) -> dict[str, Any]:
        """Faust app settings: ``broker_credentials`` (Faust hands them to its aiokafka clients)."""
        if not self.enabled:
            return {}
        import faust

        context = self.ssl_context()
        if self.protocol == "SSL":
            return {"broker_credentials": faust.SSLCredentials(context)}
        credentials = faust.SASLCredentials(username=self.username, password=self.secret(),
                                            ssl_context=context, mechanism=self.sasl_mechanism)
        return {"broker_credentials": credentials}


def kafka_security_of(settings: Any) -> KafkaSecurity:
    """The :class:`KafkaSecurity` of a settings object (its ``kafka_*`` fields)."""
    return KafkaSecurity(
        protocol=getattr(settings, "kafka_security_protocol", "PLAINTEXT"),
        sasl_mechanism=getattr(settings, "kafka_sasl_mechanism", "SCRAM-SHA-512"),
        username=getattr(settings, "kafka_username", None),
        password=getattr(settings, "kafka_password", None),
        password_file=getattr(settings, "kafka_password_file", None),
        ca_file=getattr(settings, "kafka_ca_file", None),
        cert_file=getattr(settings, "kafka_cert_file", None),
        key_file=getattr(settings, "kafka_key_file", None),
    )


def client_options(source: Any = None, flavour: str = "kafka-python") -> dict[str, Any]:
    """Client options from a :class:`KafkaSecurity` or a settings object; none for ``None`` or a
    bare bootstrap string (the plaintext development stack, tests)."""
    if source is None or isinstance(source, str):
        return {}
    if isinstance(source, KafkaSecurity):
        security = source
    elif hasattr(source, "kafka_security"):
        security = source.kafka_security()
    else:
        security = kafka_security_of(source)
    return security.aiokafka() if flavour == "aiokafka" else security.kafka_python()
