"""Compatibility checks with kafka-python. Usage: kafka_python_compat.py HOST:PORT [SCENARIO...]"""
import sys
import time
import uuid

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, NewPartitions, NewTopic

BOOTSTRAP = sys.argv[1]
TIMEOUT = 20


def name(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def create(admin, topic, partitions=1, configs=None):
    admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1, topic_configs=configs or {})])


def consume(topic, count, partitions=(0,)):
    consumer = KafkaConsumer(bootstrap_servers=BOOTSTRAP, enable_auto_commit=False, auto_offset_reset="earliest",
                             consumer_timeout_ms=TIMEOUT * 1000)
    consumer.assign([TopicPartition(topic, p) for p in partitions])
    out = []
    for msg in consumer:
        out.append(msg)
        if len(out) == count:
            break
    consumer.close()
    assert len(out) == count, f"read {len(out)} of {count}"
    return out


def scenario_admin():
    admin = KafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    topic = name("kp-admin")
    create(admin, topic, 2, {"retention.ms": "7200000"})
    assert topic in admin.list_topics()
    described = admin.describe_topics([topic])
    assert len(described[0]["partitions"]) == 2, described
    configs = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    text = repr(configs)
    assert "7200000" in text, text
    admin.create_partitions({topic: NewPartitions(total_count=4)})
    assert len(admin.describe_topics([topic])[0]["partitions"]) == 4
    admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, configs={"retention.ms": "1000"})])
    assert "'1000'" in repr(admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])) or \
        "1000" in repr(admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)]))
    admin.delete_topics([topic])
    deadline = time.time() + TIMEOUT
    while topic in admin.list_topics():
        assert time.time() < deadline
        time.sleep(0.2)
    admin.close()


def scenario_codecs():
    admin = KafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    for codec in [None, "gzip", "snappy", "lz4", "zstd"]:
        topic = name(f"kp-codec-{codec or 'none'}")
        create(admin, topic)
        producer = KafkaProducer(bootstrap_servers=BOOTSTRAP, acks="all", compression_type=codec, linger_ms=20)
        futures = [producer.send(topic, key=f"k{i}".encode(), value=f"v{i}".encode() * 20,
                                 headers=[("h", str(i).encode())]) for i in range(100)]
        producer.flush()
        offsets = sorted(f.get(timeout=TIMEOUT).offset for f in futures)
        assert offsets == list(range(100)), offsets[:5]
        producer.close()
        got = consume(topic, 100)
        assert [m.value for m in got] == [f"v{i}".encode() * 20 for i in range(100)]
        assert got[3].key == b"k3" and got[3].headers == [("h", b"3")]
        print(f"CODEC {codec or 'none'} {topic}", flush=True)
    admin.close()


def scenario_records():
    admin = KafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    topic = name("kp-records")
    create(admin, topic)
    producer = KafkaProducer(bootstrap_servers=BOOTSTRAP, acks="all", max_request_size=2_000_000)
    base = int(time.time() * 1000) - 50_000
    producer.send(topic, key=None, value=b"", timestamp_ms=base - 1000)  # kafka-python 3 refuses neither key nor value
    producer.send(topic, key=b"k", value=b"v", timestamp_ms=base)
    producer.send(topic, value=b"B" * 900_000)
    producer.flush()
    producer.close()
    got = consume(topic, 3)
    assert got[0].key is None and got[0].value == b""
    assert got[1].timestamp == base
    assert got[2].value == b"B" * 900_000
    consumer = KafkaConsumer(bootstrap_servers=BOOTSTRAP)
    tp = TopicPartition(topic, 0)
    assert consumer.beginning_offsets([tp])[tp] == 0
    assert consumer.end_offsets([tp])[tp] == 3
    found = consumer.offsets_for_times({tp: base - 1})
    assert found[tp].offset == 1, found
    consumer.close()
    admin.close()


def scenario_idempotent():
    """kafka-python 3's default producer is idempotent: it asks InitProducerId and numbers its batches."""
    admin = KafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    topic = name("kp-idem")
    create(admin, topic)
    producer = KafkaProducer(bootstrap_servers=BOOTSTRAP, linger_ms=5)
    assert producer.config["enable_idempotence"], "kafka-python's default producer is expected to be idempotent"
    futures = [producer.send(topic, value=f"v{i}".encode()) for i in range(300)]
    producer.flush()
    offsets = [f.get(timeout=TIMEOUT).offset for f in futures]
    assert offsets == list(range(300)), offsets[:5]
    producer.close()
    got = consume(topic, 300)
    assert [m.value for m in got] == [f"v{i}".encode() for i in range(300)]
    consumer = KafkaConsumer(bootstrap_servers=BOOTSTRAP)
    tp = TopicPartition(topic, 0)
    assert consumer.end_offsets([tp])[tp] == 300, "exactly once"
    consumer.close()
    print(f"IDEMPOTENT {topic}", flush=True)
    admin.close()


SCENARIOS = {k[len("scenario_"):]: v for k, v in globals().items() if k.startswith("scenario_")}

if __name__ == "__main__":
    for scenario in sys.argv[2:] or SCENARIOS:
        SCENARIOS[scenario]()
        print(f"PASS {scenario}", flush=True)
