"""Compatibility checks with aiokafka. Usage: aiokafka_compat.py HOST:PORT [SCENARIO...]"""
import asyncio
import sys
import time
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

BOOTSTRAP = sys.argv[1]
TIMEOUT = 20


def name(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def consume(topic, count):
    consumer = AIOKafkaConsumer(bootstrap_servers=BOOTSTRAP, enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        out = []
        deadline = time.time() + TIMEOUT
        while len(out) < count and time.time() < deadline:
            batches = await consumer.getmany(tp, timeout_ms=500)
            for msgs in batches.values():
                out.extend(msgs)
        assert len(out) == count, f"read {len(out)} of {count}"
        return out
    finally:
        await consumer.stop()


async def scenario_admin():
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    try:
        topic = name("ak-admin")
        await admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])
        assert topic in await admin.list_topics()
        await admin.delete_topics([topic])
    finally:
        await admin.close()


async def scenario_codecs():
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    try:
        for codec in [None, "gzip", "snappy", "lz4", "zstd"]:
            topic = name(f"ak-codec-{codec or 'none'}")
            await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
            producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, acks="all", compression_type=codec, linger_ms=20)
            await producer.start()
            try:
                futures = [await producer.send(topic, key=f"k{i}".encode(), value=f"v{i}".encode() * 30,
                                               headers=[("h", b"x")]) for i in range(100)]
                metas = [await f for f in futures]
                assert sorted(m.offset for m in metas) == list(range(100))
            finally:
                await producer.stop()
            got = await consume(topic, 100)
            assert [m.value for m in got] == [f"v{i}".encode() * 30 for i in range(100)]
            assert got[5].headers == (("h", b"x"),) or list(got[5].headers) == [("h", b"x")], got[5].headers
            print(f"CODEC {codec or 'none'} {topic}", flush=True)
    finally:
        await admin.close()


async def scenario_records():
    topic = name("ak-records")
    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, acks="all", max_request_size=2_000_000)
    await producer.start()
    try:
        base = int(time.time() * 1000) - 10_000
        await producer.send_and_wait(topic, key=b"only-key", value=None, timestamp_ms=base - 1000)  # auto-created
        await producer.send_and_wait(topic, key=b"k", value=b"v", timestamp_ms=base)
        await producer.send_and_wait(topic, value=b"B" * 900_000)
    finally:
        await producer.stop()
    got = await consume(topic, 3)
    assert got[0].key == b"only-key" and got[0].value is None
    assert got[1].timestamp == base
    assert got[2].value == b"B" * 900_000
    consumer = AIOKafkaConsumer(bootstrap_servers=BOOTSTRAP)
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        assert (await consumer.end_offsets([tp]))[tp] == 3
        found = await consumer.offsets_for_times({tp: base})
        assert found[tp].offset == 1, found
    finally:
        await consumer.stop()


SCENARIOS = {k[len("scenario_"):]: v for k, v in globals().items() if k.startswith("scenario_")}

if __name__ == "__main__":
    for scenario in sys.argv[2:] or SCENARIOS:
        asyncio.run(SCENARIOS[scenario]())
        print(f"PASS {scenario}", flush=True)
