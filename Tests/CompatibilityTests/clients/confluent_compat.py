"""Compatibility checks with confluent-kafka (librdkafka). Usage: confluent_compat.py HOST:PORT SCENARIO...

Prints `CODEC <codec> <topic>` lines so the Swift harness can check the stored batches, and `PASS <name>`
per scenario; any failure raises (exit code 1)."""
import sys
import time
import uuid

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic

BOOTSTRAP = sys.argv[1]
TIMEOUT = 20


def name(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def admin():
    return AdminClient({"bootstrap.servers": BOOTSTRAP})


def create(topic, partitions=1, config=None):
    client = admin()  # keep the handle alive until the future resolves
    client.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1, config=config or {})])[topic].result(TIMEOUT)


def produce(topic, messages, **conf):
    """messages: list of dicts for Producer.produce; returns the delivered (partition, offset) list."""
    delivered, errors = [], []
    producer = Producer({"bootstrap.servers": BOOTSTRAP, "acks": "all", "linger.ms": 5, **conf})

    def report(err, msg):
        if err:
            errors.append(err)
        else:
            delivered.append((msg.partition(), msg.offset()))

    for m in messages:
        producer.produce(topic, on_delivery=report, **m)
    assert producer.flush(TIMEOUT) == 0, "messages left unflushed"
    assert not errors, errors
    return delivered


def consume_all(topic, count, partitions=(0,), **conf):
    consumer = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": name("g"), "enable.auto.commit": False, **conf})
    consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
    out, deadline = [], time.time() + TIMEOUT
    while len(out) < count and time.time() < deadline:
        msg = consumer.poll(0.5)
        if msg is None:
            continue
        if msg.error():
            if msg.error().code() == KafkaError._PARTITION_EOF:
                continue
            raise AssertionError(msg.error())
        out.append(msg)
    consumer.close()
    assert len(out) == count, f"read {len(out)} of {count}"
    return out


def scenario_admin():
    a = admin()
    topic = name("cf-admin")
    create(topic, 3, {"retention.ms": "3600000"})
    md = a.list_topics(timeout=TIMEOUT)
    assert topic in md.topics and len(md.topics[topic].partitions) == 3, md.topics.get(topic)
    assert md.topics[topic].partitions[0].leader == md.brokers[next(iter(md.brokers))].id
    resource = ConfigResource("topic", topic)
    configs = a.describe_configs([resource])[resource].result(TIMEOUT)
    assert configs["retention.ms"].value == "3600000", configs["retention.ms"]
    assert configs["cleanup.policy"].value == "delete"
    a.create_partitions([NewPartitions(topic, 5)])[topic].result(TIMEOUT)
    assert len(a.list_topics(topic, timeout=TIMEOUT).topics[topic].partitions) == 5
    try:
        a.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])[topic].result(TIMEOUT)
        raise AssertionError("creating an existing topic must fail")
    except Exception as e:  # KafkaException(TOPIC_ALREADY_EXISTS)
        assert "TOPIC_ALREADY_EXISTS" in str(e) or "already exists" in str(e), e
    a.delete_topics([topic])[topic].result(TIMEOUT)
    deadline = time.time() + TIMEOUT
    while topic in a.list_topics(timeout=TIMEOUT).topics:
        assert time.time() < deadline, "deleted topic still listed"
        time.sleep(0.2)


def scenario_codecs():
    for codec in ["none", "gzip", "snappy", "lz4", "zstd"]:
        topic = name(f"cf-codec-{codec}")
        create(topic)
        messages = [{"key": f"k{i}".encode(), "value": (f"value-{i}-" + "x" * 200).encode(),
                     "headers": [("h", f"{i}".encode())]} for i in range(200)]
        delivered = produce(topic, messages, **{"compression.type": codec, "linger.ms": 50})
        assert sorted(o for _, o in delivered) == list(range(200)), delivered[:5]
        got = consume_all(topic, 200)
        assert [m.value() for m in got] == [m["value"] for m in messages]
        assert [m.key() for m in got] == [m["key"] for m in messages]
        assert got[7].headers() == [("h", b"7")], got[7].headers()
        print(f"CODEC {codec} {topic}", flush=True)


def scenario_records():
    topic = name("cf-records")
    create(topic)
    base = int(time.time() * 1000) - 100_000
    big = b"B" * 900_000
    messages = [{"key": None, "value": None}, {"key": b"only-key", "value": None}, {"key": None, "value": b"only-value"},
                {"value": b"ts", "timestamp": base}, {"value": big}]
    produce(topic, messages)
    got = consume_all(topic, 5)
    assert got[0].key() is None and got[0].value() is None
    assert got[1].key() == b"only-key" and got[1].value() is None
    assert got[2].key() is None and got[2].value() == b"only-value"
    assert got[3].timestamp()[1] == base, got[3].timestamp()
    assert got[4].value() == big


def scenario_offsets():
    topic = name("cf-offsets")
    create(topic)
    base = int(time.time() * 1000) - 1_000_000
    produce(topic, [{"value": f"{i}".encode(), "timestamp": base + i * 1000} for i in range(20)], **{"linger.ms": 100})
    consumer = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": name("g")})
    low, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=TIMEOUT)
    assert (low, high) == (0, 20), (low, high)
    found = consumer.offsets_for_times([TopicPartition(topic, 0, base + 5500)], timeout=TIMEOUT)
    assert found[0].offset == 6, found  # the first record at or after the time, exact to the record
    found = consumer.offsets_for_times([TopicPartition(topic, 0, base + 10**9)], timeout=TIMEOUT)
    assert found[0].offset == -1, found
    consumer.close()


def scenario_long_poll():
    topic = name("cf-poll")
    create(topic)
    consumer = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": name("g"), "fetch.wait.max.ms": 5000,
                         "enable.partition.eof": False})
    consumer.assign([TopicPartition(topic, 0, 0)])
    consumer.poll(1.0)
    sent = time.time()
    produce(topic, [{"value": b"wake"}])
    msg = None
    while msg is None and time.time() - sent < TIMEOUT:
        msg = consumer.poll(0.2)
    assert msg is not None and msg.value() == b"wake"
    print(f"LONGPOLL delay_ms={(time.time() - sent) * 1000:.0f}", flush=True)
    consumer.close()


def scenario_idempotent():
    """enable.idempotence=true: InitProducerId, numbered batches, every message stored exactly once."""
    topic = name("cf-idem")
    create(topic)
    delivered = produce(topic, [{"value": f"v{i}".encode()} for i in range(300)], **{"enable.idempotence": True})
    assert sorted(o for _, o in delivered) == list(range(300)), sorted(delivered)[:5]
    got = consume_all(topic, 300)
    assert [m.value() for m in got] == [f"v{i}".encode() for i in range(300)]
    consumer = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": name("g")})
    low, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=TIMEOUT)
    consumer.close()
    assert (low, high) == (0, 300), (low, high)
    print(f"IDEMPOTENT {topic}", flush=True)


def group_consumer(group, **conf):
    return Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": group, "enable.auto.commit": False,
                     "auto.offset.reset": "earliest", "session.timeout.ms": 10000, "heartbeat.interval.ms": 500, **conf})


def poll_into(consumer, seen, timeout):
    msg = consumer.poll(timeout)
    if msg is None:
        return
    if msg.error():
        if msg.error().code() == KafkaError._PARTITION_EOF:
            return
        raise AssertionError(msg.error())
    key = (msg.partition(), msg.offset())
    assert key not in seen, f"record {key} consumed twice"
    seen[key] = msg.value()


def commit_positions(consumer):
    try:
        consumer.commit(asynchronous=False)
    except KafkaException as error:
        # A consumer whose partitions held nothing has nothing to commit.
        if error.args[0].code() != KafkaError._NO_OFFSET:
            raise


def scenario_group():
    """Three consumers of one group on six partitions: disjoint assignments covering all, every record once;
    after commit and close, a reopened consumer resumes at the committed offsets."""
    topic, group = name("grp"), name("g")
    create(topic, 6)
    first = [{"key": f"k{i}".encode(), "value": f"v{i}".encode()} for i in range(60)]
    produce(topic, first)
    consumers = [group_consumer(group) for _ in range(3)]
    for consumer in consumers:
        consumer.subscribe([topic])
    seen, deadline = {}, time.time() + 60
    while time.time() < deadline:
        for consumer in consumers:
            poll_into(consumer, seen, 0.2)
        owned = [{tp.partition for tp in consumer.assignment()} for consumer in consumers]
        if len(seen) == len(first) and all(owned) and sum(map(len, owned)) == 6:
            break
    owned = [{tp.partition for tp in consumer.assignment()} for consumer in consumers]
    assert all(owned), f"a consumer got no partitions: {owned}"
    assert sum(map(len, owned)) == 6 and set().union(*owned) == set(range(6)), f"assignments not a partition of 0..5: {owned}"
    assert sorted(seen.values()) == sorted(m["value"] for m in first), f"consumed {len(seen)} of {len(first)}"
    for consumer in consumers:
        commit_positions(consumer)
    ends = {}
    for (partition, offset) in seen:
        ends[partition] = max(ends.get(partition, 0), offset + 1)
    for consumer in consumers:
        consumer.close()

    second = [{"key": f"k{i}".encode(), "value": f"w{i}".encode()} for i in range(30)]
    produce(topic, second)
    reopened = group_consumer(group)
    committed = reopened.committed([TopicPartition(topic, p) for p in range(6)], timeout=TIMEOUT)
    for tp in committed:
        assert tp.offset == ends.get(tp.partition, -1001), f"partition {tp.partition} committed {tp.offset}, expected {ends.get(tp.partition)}"
    reopened.subscribe([topic])
    resumed, deadline = {}, time.time() + 60
    while len(resumed) < len(second) and time.time() < deadline:
        poll_into(reopened, resumed, 0.5)
    # Nothing before the committed offsets comes back.
    end = time.time() + 2
    while time.time() < end:
        poll_into(reopened, resumed, 0.2)
    reopened.close()
    assert sorted(resumed.values()) == sorted(m["value"] for m in second), f"resumed with {sorted(resumed.values())[:10]}"


SCENARIOS = {k[len("scenario_"):]: v for k, v in globals().items() if k.startswith("scenario_")}

if __name__ == "__main__":
    for scenario in sys.argv[2:] or SCENARIOS:
        SCENARIOS[scenario]()
        print(f"PASS {scenario}", flush=True)
