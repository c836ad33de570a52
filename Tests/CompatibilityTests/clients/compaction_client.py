"""confluent-kafka client for the compaction tests.
Usage:
  compaction_client.py create HOST:PORT TOPIC SEGMENT_BYTES [DELETE_RETENTION_MS]
      creates a one-partition topic with cleanup.policy=compact through the admin client
  compaction_client.py produce HOST:PORT TOPIC ROUNDS KEYS ROUND_OFFSET [FIRST_KEY TOMBSTONES]
      ROUNDS × KEYS acks=all updates of keys FIRST_KEY… (default 0; values r<round>-k<key>), then
      tombstones for the comma-separated TOMBSTONES keys (default k0,k1; "-" for none);
      prints `ACK <offset> <key> <value or -null->` per acknowledged record
  compaction_client.py stream HOST:PORT TOPIC COUNT KEYS VALUE_BYTES
      COUNT acks=all updates over KEYS keys (every 40th a tombstone), across broker restarts;
      prints `ACK <offset> <key> <value or -null->` per acknowledged record and `FAIL <key>` per failed one
  compaction_client.py consume HOST:PORT TOPIC
      reads the partition from the start to its end; prints `REC <offset> <key> <value or -null->`
  compaction_client.py keyless HOST:PORT TOPIC
      produces one record without a key; prints `ERROR <name>` or `ACK`"""
import sys
import uuid

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

command, bootstrap, topic = sys.argv[1], sys.argv[2], sys.argv[3]


def text(value):
    return "-null-" if value is None else value.decode()


if command == "create":
    segment_bytes = sys.argv[4]
    admin = AdminClient({"bootstrap.servers": bootstrap})
    configs = {"cleanup.policy": "compact", "segment.bytes": segment_bytes, "segment.ms": "300",
               "min.cleanable.dirty.ratio": "0.01"}
    if len(sys.argv) > 5:
        configs["delete.retention.ms"] = sys.argv[5]
    futures = admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1, config=configs)])
    futures[topic].result(30)
    print("CREATED", flush=True)

elif command == "produce":
    rounds, keys, first_round = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
    first_key = int(sys.argv[7]) if len(sys.argv) > 7 else 0
    tombstones = sys.argv[8] if len(sys.argv) > 8 else "k0,k1"
    # Small batches: each must fit the topic's small segments.
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 1, "batch.size": 600,
                         "message.timeout.ms": 20000, "enable.idempotence": True})
    failures = []

    def report(err, msg):
        if err is None:
            print(f"ACK {msg.offset()} {msg.key().decode()} {text(msg.value())}", flush=True)
        else:
            failures.append(err)

    updates = [(f"k{k}", f"r{r}-k{k}") for r in range(first_round, first_round + rounds)
               for k in range(first_key, first_key + keys)]
    updates += [] if tombstones == "-" else [(key, None) for key in tombstones.split(",")]
    for key, value in updates:
        producer.produce(topic, key=key.encode(), value=None if value is None else value.encode(), partition=0,
                         on_delivery=report)
        producer.poll(0)
    producer.flush(30)
    if failures:
        print(f"FAILED {failures[0]}", flush=True)
        sys.exit(1)

elif command == "stream":
    count, keys, value_bytes = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
    # No idempotence: a retry after a restart may store a second copy, which compaction treats as any
    # later update; the check reads offsets from the delivery reports.
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5, "batch.size": 1500,
                         "message.timeout.ms": 60000, "enable.idempotence": False,
                         "reconnect.backoff.ms": 20, "reconnect.backoff.max.ms": 200})

    def report(err, msg):
        if err is None:
            print(f"ACK {msg.offset()} {msg.key().decode()} {text(msg.value())}", flush=True)
        else:
            print(f"FAIL {msg.key().decode()} {err}", flush=True)

    for i in range(count):
        key = f"k{i % keys}"
        value = None if i % 40 == 39 else f"s{i}-".ljust(value_bytes, "x")
        while True:
            try:
                producer.produce(topic, key=key.encode(), value=None if value is None else value.encode(), partition=0,
                                 on_delivery=report)
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
        if i % 50 == 49:
            producer.poll(0.01)  # a steady stream rather than one burst
    producer.flush(90)

elif command == "consume":
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"compaction-{uuid.uuid4()}",
                         "enable.partition.eof": True, "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    consumer.assign([TopicPartition(topic, 0, 0)])
    while True:
        msg = consumer.poll(10)
        if msg is None:
            print("TIMEOUT", flush=True)
            sys.exit(1)
        if msg.error():
            if msg.error().code() == KafkaError._PARTITION_EOF:
                break
            print(f"ERROR {msg.error()}", flush=True)
            sys.exit(1)
        print(f"REC {msg.offset()} {msg.key().decode()} {text(msg.value())}", flush=True)
    consumer.close()

elif command == "keyless":
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "message.timeout.ms": 10000, "retries": 0})
    result = []
    producer.produce(topic, value=b"no key", partition=0, on_delivery=lambda err, msg: result.append(err))
    producer.flush(15)
    if result and result[0] is not None:
        print(f"ERROR {result[0].name()}", flush=True)
    else:
        print("ACK", flush=True)
