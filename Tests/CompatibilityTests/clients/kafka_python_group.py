"""Consumer groups with kafka-python. Usage: kafka_python_group.py HOST:PORT SCENARIO...

Prints `PASS <name>` per scenario; any failure raises (exit code 1). The `describe` scenario also runs
`runnel group list|describe` (the binary named by RUNNEL_BINARY) against the group while it is live."""
import os
import queue
import subprocess
import sys
import threading
import time
import uuid

from kafka import ConsumerRebalanceListener, KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

BOOTSTRAP = sys.argv[1]
TIMEOUT = 20


def name(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def create(topic, partitions):
    admin = KafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])
    admin.close()


def produce(topic, values):
    """Sends each value with a key spreading it over the partitions; returns {partition: end offset}."""
    producer = KafkaProducer(bootstrap_servers=BOOTSTRAP, acks="all", linger_ms=5)
    futures = [producer.send(topic, key=f"k{i}".encode(), value=v.encode()) for i, v in enumerate(values)]
    producer.flush(TIMEOUT)
    ends = {}
    for future in futures:
        meta = future.get(TIMEOUT)
        ends[meta.partition] = max(ends.get(meta.partition, 0), meta.offset + 1)
    producer.close()
    return ends


def group_consumer(group, topic=None):
    consumer = KafkaConsumer(bootstrap_servers=BOOTSTRAP, group_id=group, enable_auto_commit=False,
                             auto_offset_reset="earliest", session_timeout_ms=10000, heartbeat_interval_ms=500,
                             client_id=name("kp"))
    if topic:
        consumer.subscribe([topic], listener=CommitOnRevoke(consumer))
    return consumer


class CommitOnRevoke(ConsumerRebalanceListener):
    """Commits what was consumed before a rebalance takes partitions away, so their next owner does not
    read it again."""

    def __init__(self, consumer):
        self.consumer = consumer

    def on_partitions_revoked(self, revoked):
        # Runs on the client's IO thread, where a blocking commit is refused; the commit is sent before
        # the JoinGroup that follows.
        if revoked:
            self.consumer.commit_async()

    def on_partitions_assigned(self, assigned):
        pass


class Member(threading.Thread):
    """One consumer polled by its own thread, as a separate application would run it: a consumer polled
    with short timeouts in turn with others from one thread keeps abandoning its JoinGroup and rejoining."""

    def __init__(self, group, topic, seen, lock):
        super().__init__(daemon=True)
        self.consumer = group_consumer(group, topic)
        self.client_id = self.consumer.config["client_id"]
        self.seen, self.lock = seen, lock
        self.partitions = set()
        self.calls = queue.Queue()
        self.stopping = threading.Event()
        self.failure = None
        self.start()

    def run(self):
        try:
            while not self.stopping.is_set():
                for tp, records in self.consumer.poll(timeout_ms=100).items():
                    with self.lock:
                        for record in records:
                            key = (tp.partition, record.offset)
                            assert key not in self.seen, f"record {key} consumed twice"
                            self.seen[key] = record.value
                self.partitions = {tp.partition for tp in self.consumer.assignment()}
                while not self.calls.empty():
                    call, answer = self.calls.get()
                    answer.put(call(self.consumer))
        except BaseException as error:  # reported by the main thread
            self.failure = error
        finally:
            self.consumer.close()

    def call(self, function):
        """Runs `function(consumer)` on the member's thread (KafkaConsumer is not thread-safe)."""
        answer = queue.Queue()
        self.calls.put((function, answer))
        return answer.get(timeout=TIMEOUT)

    def close(self):
        self.stopping.set()
        self.join(TIMEOUT)
        assert self.failure is None, self.failure


def consume_as_group(members, seen, lock, expected_count, deadline_s=60):
    """Waits until all records are seen and the members' assignments partition 0..5."""
    deadline = time.time() + deadline_s
    while time.time() < deadline:
        for member in members:
            assert member.failure is None, member.failure
        parts = [member.partitions for member in members]
        with lock:
            count = len(seen)
        if count >= expected_count and all(parts) and sum(map(len, parts)) == 6 and set().union(*parts) == set(range(6)):
            return parts
        time.sleep(0.1)
    raise AssertionError(f"consumed {len(seen)} of {expected_count}; assignments {[m.partitions for m in members]}")


def poll_into(consumer, seen, timeout_ms):
    for tp, records in consumer.poll(timeout_ms=timeout_ms).items():
        for record in records:
            key = (tp.partition, record.offset)
            assert key not in seen, f"record {key} consumed twice"
            seen[key] = record.value


def scenario_group():
    """Three consumers of one group on six partitions: disjoint assignments covering all, every record once;
    after commit and close, a reopened consumer resumes exactly at the committed offsets."""
    topic, group = name("kpg"), name("g")
    create(topic, 6)
    first = [f"v{i}" for i in range(60)]
    ends = produce(topic, first)
    seen, lock = {}, threading.Lock()
    members = [Member(group, topic, seen, lock) for _ in range(3)]
    consume_as_group(members, seen, lock, len(first))
    with lock:
        assert sorted(v.decode() for v in seen.values()) == sorted(first), f"consumed {len(seen)} of {len(first)}"
    for member in members:
        member.call(lambda consumer: consumer.commit())
    for member in members:
        member.close()

    second = [f"w{i}" for i in range(30)]
    produce(topic, second)
    reopened = group_consumer(group)
    for p in range(6):
        committed = reopened.committed(TopicPartition(topic, p))
        assert (committed or 0) == ends.get(p, 0), f"partition {p} committed {committed}, expected {ends.get(p)}"
    reopened.subscribe([topic])
    resumed, deadline = {}, time.time() + 60
    while len(resumed) < len(second) and time.time() < deadline:
        poll_into(reopened, resumed, 500)
    end = time.time() + 2  # nothing before the committed offsets comes back
    while time.time() < end:
        poll_into(reopened, resumed, 200)
    reopened.close()
    assert sorted(v.decode() for v in resumed.values()) == sorted(second), f"resumed with {sorted(resumed.values())[:10]}"
    assert all(offset >= ends.get(p, 0) for (p, offset) in resumed), "a record before a committed offset came back"


def run_cli(*args):
    binary = os.environ["RUNNEL_BINARY"]
    out = subprocess.run([binary, *args, "--bootstrap", BOOTSTRAP], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, f"runnel {' '.join(args)} exited {out.returncode}: {out.stderr}"
    print(f"CLI runnel {' '.join(args)}\n{out.stdout}", flush=True)
    return out.stdout


def fields(line):
    return dict(part.split("=", 1) for part in line.strip().split("\t") if "=" in part)


def partitions_of(assignment, topic):
    """The partitions of `topic` in a decoded consumer assignment (object or dict, as the admin client gives it)."""
    entries = assignment["assigned_partitions"] if isinstance(assignment, dict) else assignment.assigned_partitions
    out = set()
    for entry in entries:
        name, indexes = (entry["topic"], entry["partitions"]) if isinstance(entry, dict) else tuple(entry)
        assert name == topic, entry
        out |= set(indexes)
    return out


def scenario_describe():
    """Two live members with committed offsets and some lag: kafka-python's admin client and
    `runnel group list|describe` show the members, their assignments, the offsets and the lag."""
    topic, group = name("kpd"), name("g")
    create(topic, 6)
    ends = produce(topic, [f"v{i}" for i in range(60)])
    seen, lock = {}, threading.Lock()
    members = [Member(group, topic, seen, lock) for _ in range(2)]
    consume_as_group(members, seen, lock, 60)
    for member in members:
        member.call(lambda consumer: consumer.commit())
    produce(topic, [f"lag{i}" for i in range(12)])  # lag: produced after the commit
    probe = KafkaConsumer(bootstrap_servers=BOOTSTRAP)
    final_ends = {tp.partition: o for tp, o in probe.end_offsets([TopicPartition(topic, p) for p in range(6)]).items()}
    probe.close()
    assert sum(final_ends.values()) == 72, final_ends
    client_ids = {member.client_id for member in members}

    admin = KafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    listed = admin.list_groups()
    print(f"LISTED {listed}", flush=True)
    entry = next(g for g in listed if g["group_id"] == group)
    assert entry["protocol_type"] == "consumer" and entry.get("group_state", "Stable") == "Stable", entry
    info = admin.describe_groups([group])[group]
    print(f"DESCRIBED {info}", flush=True)
    assert info["error"] is None and info["group_state"] == "Stable" and info["protocol_type"] == "consumer", info
    assert info["protocol_data"] in ("range", "roundrobin", "sticky", "cooperative-sticky"), info
    described = info["members"]
    assert len(described) == 2, described
    assert {m["client_id"] for m in described} == client_ids, (described, client_ids)
    assert all(m["client_host"] for m in described), described
    assigned = [partitions_of(m["member_assignment"], topic) for m in described]
    assert sum(map(len, assigned)) == 6 and set().union(*assigned) == set(range(6)), f"described assignments {assigned}"
    offsets = admin.list_group_offsets(group)[group]
    print(f"OFFSETS {offsets}", flush=True)
    committed = {tp.partition: meta.offset for tp, meta in offsets.items() if tp.topic == topic}
    assert all(committed.get(p, 0) == ends.get(p, 0) for p in range(6)), (committed, ends)
    admin.close()

    if os.environ.get("RUNNEL_BINARY"):
        listing = run_cli("group", "list")
        line = next(l for l in listing.splitlines() if l.split("\t")[0] == group)
        assert fields(line) == {"state": "Stable", "type": "consumer", "protocol": fields(line)["protocol"], "members": "2"}, line
        assert fields(line)["protocol"] in ("range", "roundrobin", "sticky", "cooperative-sticky"), line
        text = run_cli("group", "describe", group)
        lines = text.splitlines()
        assert fields(lines[0])["state"] == "Stable" and fields(lines[0])["members"] == "2", lines[0]
        cli_members = [fields(l) for l in lines if l.startswith("\tmember=")]
        assert {m["client"] for m in cli_members} == client_ids, cli_members
        cli_assigned = [set(m["assigned"].split(",")) for m in cli_members]
        assert set().union(*cli_assigned) == {f"{topic}-{p}" for p in range(6)} and sum(map(len, cli_assigned)) == 6, cli_assigned
        rows = {int(f["partition"]): f for f in (fields(l) for l in lines if l.startswith("\ttopic="))}
        assert sorted(rows) == list(range(6)), rows
        member_ids = {m["member"] for m in cli_members}
        for p, row in rows.items():
            assert row["topic"] == topic, row
            assert int(row["committed"].replace("-", "0")) == ends.get(p, 0), (p, row, ends)
            assert int(row["end"]) == final_ends[p], (p, row, final_ends)
            assert row["committed"] == "-" or int(row["lag"]) == final_ends[p] - ends.get(p, 0), (p, row)
            assert row["member"] in member_ids, row
        assert sum(int(r["lag"]) for r in rows.values() if r["lag"] != "-") == 12, rows
    for member in members:
        member.close()


SCENARIOS = {k[len("scenario_"):]: v for k, v in globals().items() if k.startswith("scenario_")}

if __name__ == "__main__":
    for scenario in sys.argv[2:] or SCENARIOS:
        SCENARIOS[scenario]()
        print(f"PASS {scenario}", flush=True)
