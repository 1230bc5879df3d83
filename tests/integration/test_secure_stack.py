"""`casewatch stack up --secure`: Kafka answers only over TLS to authenticated principals and
enforces each one's ACLs; Redis answers only over TLS to its ACL user."""
from __future__ import annotations

import pytest
import redis
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError, TopicAuthorizationFailedError

from services.stack.kafka_secure import INGEST, NOBODY, READER, WORKER, security_for
from tests.integration.secure_support import secure_stack, secure_topics  # noqa: F401 - fixtures

pytestmark = pytest.mark.integration


def producer(stack, principal, *, mtls=False, **extra):
    entry = stack["kafka"]
    return KafkaProducer(bootstrap_servers=entry["mtls_bootstrap" if mtls else "bootstrap"], acks="all",
                         max_block_ms=8000, request_timeout_ms=8000, retries=0,
                         **security_for(entry, principal, mtls=mtls).kafka_python(), **extra)


def read_all(stack, principal, topic, *, mtls=False) -> list[bytes]:
    entry = stack["kafka"]
    consumer = KafkaConsumer(bootstrap_servers=entry["mtls_bootstrap" if mtls else "bootstrap"], group_id=None,
                             enable_auto_commit=False, consumer_timeout_ms=4000, request_timeout_ms=8000,
                             **security_for(entry, principal, mtls=mtls).kafka_python())
    try:
        tps = [TopicPartition(topic, p) for p in (0, 1)]
        consumer.end_offsets(tps)  # a fetch without the ACL only logs; this raises instead
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        return [record.value for record in consumer]
    finally:
        consumer.close()


def test_ingest_writes_and_reader_reads_over_sasl_ssl(secure_stack, secure_topics):
    case_topic, dead_letter_topic = secure_topics
    p = producer(secure_stack, INGEST)
    try:
        p.send(case_topic, key=b"c1", value=b'{"x":1}').get(10)
        p.send(dead_letter_topic, key=b"c1", value=b'{"y":1}').get(10)
    finally:
        p.close()
    assert read_all(secure_stack, READER, case_topic) == [b'{"x":1}']
    assert read_all(secure_stack, READER, dead_letter_topic) == [b'{"y":1}']


@pytest.mark.parametrize("principal", [NOBODY, READER, WORKER])
def test_a_principal_without_a_write_acl_is_refused(secure_stack, secure_topics, principal):
    case_topic, _ = secure_topics
    p = producer(secure_stack, principal)
    try:
        with pytest.raises(TopicAuthorizationFailedError):
            p.send(case_topic, key=b"c1", value=b"{}").get(10)
    finally:
        p.close(2)


@pytest.mark.parametrize("principal", [NOBODY, INGEST])
def test_a_principal_without_a_read_acl_is_refused(secure_stack, secure_topics, principal):
    case_topic, _ = secure_topics
    with pytest.raises(TopicAuthorizationFailedError):
        read_all(secure_stack, principal, case_topic)


def test_mutual_tls_takes_the_principal_from_the_certificate(secure_stack, secure_topics):
    case_topic, _ = secure_topics
    p = producer(secure_stack, INGEST, mtls=True)
    try:
        p.send(case_topic, key=b"c2", value=b'{"m":1}').get(10)
    finally:
        p.close()
    assert read_all(secure_stack, WORKER, case_topic, mtls=True) == [b'{"m":1}']
    with pytest.raises(TopicAuthorizationFailedError):
        read_all(secure_stack, NOBODY, case_topic, mtls=True)


def test_no_plaintext_no_wrong_password_no_certificate(secure_stack, tmp_path):
    entry = secure_stack["kafka"]
    with pytest.raises(KafkaError):  # PLAINTEXT against the SASL_SSL listener never bootstraps
        KafkaProducer(bootstrap_servers=entry["bootstrap"], max_block_ms=3000, bootstrap_timeout_ms=3000)
    wrong = tmp_path / "wrong.password"
    wrong.write_text("not-the-password\n")
    security = security_for(entry, INGEST).model_copy(update={"password_file": wrong})
    with pytest.raises(KafkaError):
        KafkaProducer(bootstrap_servers=entry["bootstrap"], max_block_ms=4000, bootstrap_timeout_ms=4000,
                      **security.kafka_python())
    no_cert = security_for(entry, INGEST, mtls=True).model_copy(update={"cert_file": None, "key_file": None})
    with pytest.raises(KafkaError):  # the mTLS listener wants a client certificate
        KafkaProducer(bootstrap_servers=entry["mtls_bootstrap"], max_block_ms=4000, bootstrap_timeout_ms=4000,
                      **no_cert.kafka_python())


def test_redis_answers_only_over_tls_to_its_acl_user(secure_stack):
    entry = secure_stack["redis"]
    password = open(entry["password_file"]).read().strip()
    good = redis.Redis.from_url(entry["url"], password=password, socket_timeout=5)
    try:
        assert good.ping() and good.acl_whoami() == "casewatch"
        with pytest.raises(redis.ResponseError):  # no administration for the application user
            good.config_get("dir")
    finally:
        good.close()
    with pytest.raises(redis.AuthenticationError):
        redis.Redis.from_url(entry["url"], password="wrong", socket_timeout=5).ping()
    with pytest.raises(redis.RedisError):  # the default user is off: no anonymous access
        redis.Redis.from_url(entry["url"], socket_timeout=5).ping()
    plain = entry["url"].replace("rediss://", "redis://").split("?")[0]
    with pytest.raises(redis.RedisError):  # no plaintext port at all
        redis.Redis.from_url(plain, password=password, socket_timeout=3, socket_connect_timeout=3).ping()
