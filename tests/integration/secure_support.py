"""The secure local stack for tests: a second Kafka and Redis beside the plain ones, started by
``casewatch stack up --secure`` code in ``<stack dir>/secure`` (TLS, SCRAM, mTLS, ACLs)."""
from __future__ import annotations

import os
import uuid

import pytest

from services.stack import StackError, down_stack, stack_dir, up_stack
from services.stack.kafka_secure import ADMIN, CASE_TOPIC, DEAD_LETTER_TOPIC, security_for


@pytest.fixture(scope="session")
def secure_stack() -> dict:
    base = stack_dir() / "secure"
    try:
        stack = up_stack(secure=True, base=base, install=False)
    except StackError as exc:
        pytest.fail(f"secure local stack could not be started: {exc}", pytrace=False)
    yield stack
    if any(entry.get("started") for entry in stack.values()) and os.environ.get("CASEWATCH_STACK_KEEP") != "1":
        down_stack(base=base)


def admin(stack: dict):
    return security_for(stack["kafka"], ADMIN)


@pytest.fixture
def secure_topics(secure_stack):
    """Fresh case and dead-letter topics under the prefixes the stack's ACLs name, made by the
    admin principal (services only use topics; they do not create the case topics)."""
    from kafka.admin import KafkaAdminClient, NewTopic

    tag = uuid.uuid4().hex[:12]
    names = (f"{CASE_TOPIC}.{tag}", f"{DEAD_LETTER_TOPIC}.{tag}")
    entry = secure_stack["kafka"]
    client = KafkaAdminClient(bootstrap_servers=entry["bootstrap"], client_id="casewatch-tests",
                              **admin(secure_stack).kafka_python())
    try:
        client.create_topics([NewTopic(name, 2, 1) for name in names])
        yield names
        client.delete_topics(list(names))
    finally:
        client.close()
