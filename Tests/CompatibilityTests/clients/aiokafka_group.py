"""Consumer groups with aiokafka. Usage: aiokafka_group.py HOST:PORT SCENARIO...

Prints `PASS <name>` per scenario; any failure raises (exit code 1)."""
import asyncio
import sys
import time
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

BOOTSTRAP = sys.argv[1]


def name(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def create(topic, partitions):
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])
    finally:
        await admin.close()


async def produce(topic, values):
    """Returns {partition: end offset} of what was sent."""
    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, acks="all", linger_ms=5)
    await producer.start()
    try:
        futures = [await producer.send(topic, key=f"k{i}".encode(), value=v.encode()) for i, v in enumerate(values)]
        ends = {}
        for future in futures:
            meta = await future
            ends[meta.partition] = max(ends.get(meta.partition, 0), meta.offset + 1)
        return ends
    finally:
        await producer.stop()


async def group_consumer(group, topic=None):
    consumer = AIOKafkaConsumer(bootstrap_servers=BOOTSTRAP, group_id=group, enable_auto_commit=False,
                                auto_offset_reset="earliest", session_timeout_ms=10000, heartbeat_interval_ms=500)
    if topic:
        consumer.subscribe([topic], listener=CommitOnRevoke(consumer))
    await consumer.start()
    return consumer


class CommitOnRevoke(ConsumerRebalanceListener):
    """Commits what was consumed before a rebalance takes partitions away, so their next owner does not
    read it again."""

    def __init__(self, consumer):
        self.consumer = consumer

    async def on_partitions_revoked(self, revoked):
        if revoked:
            await self.consumer.commit()

    async def on_partitions_assigned(self, assigned):
        pass


async def poll_into(consumer, seen, timeout_ms):
    for tp, records in (await consumer.getmany(timeout_ms=timeout_ms)).items():
        for record in records:
            key = (tp.partition, record.offset)
            assert key not in seen, f"record {key} consumed twice"
            seen[key] = record.value


def owned(consumer):
    return {tp.partition for tp in consumer.assignment()}


async def scenario_group():
    """Three consumers of one group on six partitions: disjoint assignments covering all, every record once;
    after commit and stop, a reopened consumer resumes exactly at the committed offsets."""
    topic, group = name("aig"), name("g")
    await create(topic, 6)
    first = [f"v{i}" for i in range(60)]
    ends = await produce(topic, first)
    consumers = [await group_consumer(group, topic) for _ in range(3)]
    seen, deadline = {}, time.time() + 60
    while time.time() < deadline:
        # Concurrently, as separate applications would: one member's long poll must not starve the others.
        await asyncio.gather(*(poll_into(c, seen, 200) for c in consumers))
        parts = [owned(c) for c in consumers]
        if len(seen) >= len(first) and all(parts) and sum(map(len, parts)) == 6:
            break
    parts = [owned(c) for c in consumers]
    assert all(parts), f"a consumer got no partitions: {parts}"
    assert sum(map(len, parts)) == 6 and set().union(*parts) == set(range(6)), f"assignments not a partition of 0..5: {parts}"
    assert sorted(v.decode() for v in seen.values()) == sorted(first), f"consumed {len(seen)} of {len(first)}"
    for consumer in consumers:
        await consumer.commit()
    for consumer in consumers:
        await consumer.stop()

    second = [f"w{i}" for i in range(30)]
    await produce(topic, second)
    reopened = await group_consumer(group)
    try:
        for p in range(6):
            committed = await reopened.committed(TopicPartition(topic, p))
            assert (committed or 0) == ends.get(p, 0), f"partition {p} committed {committed}, expected {ends.get(p)}"
        reopened.subscribe([topic])
        resumed, deadline = {}, time.time() + 60
        while len(resumed) < len(second) and time.time() < deadline:
            await poll_into(reopened, resumed, 500)
        end = time.time() + 2  # nothing before the committed offsets comes back
        while time.time() < end:
            await poll_into(reopened, resumed, 200)
    finally:
        await reopened.stop()
    assert sorted(v.decode() for v in resumed.values()) == sorted(second), f"resumed with {sorted(resumed.values())[:10]}"
    assert all(offset >= ends.get(p, 0) for (p, offset) in resumed), "a record before a committed offset came back"


SCENARIOS = {k[len("scenario_"):]: v for k, v in globals().items() if k.startswith("scenario_")}

if __name__ == "__main__":
    for scenario in sys.argv[2:] or SCENARIOS:
        asyncio.run(SCENARIOS[scenario]())
        print(f"PASS {scenario}", flush=True)
