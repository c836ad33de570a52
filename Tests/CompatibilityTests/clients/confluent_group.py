"""Consumer group membership changes with confluent-kafka (librdkafka).
Usage: confluent_group.py HOST:PORT SCENARIO [ARGS...]

Scenarios: `leave`, `sigstop`, `static`, `resume TOPIC GROUP ENDS` (ENDS is `-` for a new topic, else the
`p:offset,...` the previous run printed); `member GROUP TOPIC` is the child process `sigstop` stops.
Prints `PASS <name>`; any failure raises (exit code 1)."""
import ctypes
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

# The same polling and committing as the single-consumer scenarios (a script of this directory).
from confluent_compat import commit_positions as commit, poll_into

BOOTSTRAP = sys.argv[1]
TIMEOUT = 20


def name(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def create(topic, partitions):
    client = AdminClient({"bootstrap.servers": BOOTSTRAP})
    client.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])[topic].result(TIMEOUT)


def produce(topic, values):
    """Returns {partition: end offset} of what was delivered."""
    ends, errors = {}, []

    def report(err, msg):
        if err:
            errors.append(err)
        else:
            ends[msg.partition()] = max(ends.get(msg.partition(), 0), msg.offset() + 1)

    producer = Producer({"bootstrap.servers": BOOTSTRAP, "acks": "all", "linger.ms": 5})
    for i, value in enumerate(values):
        producer.produce(topic, key=f"k{i}".encode(), value=value.encode(), on_delivery=report)
    assert producer.flush(TIMEOUT) == 0, "messages left unflushed"
    assert not errors, errors
    return ends


def log_ends(topic):
    consumer = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": name("probe")})
    ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=TIMEOUT)[1] for p in range(6)}
    consumer.close()
    return ends


def committed_offsets(group, topic):
    consumer = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": group})
    committed = consumer.committed([TopicPartition(topic, p) for p in range(6)], timeout=TIMEOUT)
    consumer.close()
    return {tp.partition: max(tp.offset, 0) for tp in committed}


def group_consumer(group, **conf):
    return Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": group, "enable.auto.commit": False,
                     "auto.offset.reset": "earliest", "session.timeout.ms": 6000, "heartbeat.interval.ms": 500,
                     **conf})


def subscribe(consumer, topic):
    """Subscribes, committing what was consumed before partitions are revoked in a rebalance (without it,
    the next owner re-reads what this member consumed since its last commit)."""
    def revoked(consumer, partitions):
        commit(consumer)

    consumer.subscribe([topic], on_revoke=revoked)


def owned(consumer):
    return {tp.partition for tp in consumer.assignment()}


def poll_until(consumers, seen, done, deadline_s=60, what="records"):
    deadline = time.time() + deadline_s
    while time.time() < deadline:
        for consumer in consumers:
            poll_into(consumer, seen, 0.1)
        if done():
            return
    raise AssertionError(f"timed out waiting for {what}: seen {len(seen)}, assignments {[owned(c) for c in consumers]}")


def partitioned(parts):
    return all(parts) and sum(map(len, parts)) == 6 and set().union(*parts) == set(range(6))


def scenario_leave():
    """Three members share six partitions; one closes (LeaveGroup): the other two take over its partitions
    and consume the rest, starting at its committed offsets."""
    topic, group = name("cgl"), name("g")
    create(topic, 6)
    first = [f"v{i}" for i in range(60)]
    produce(topic, first)
    consumers = [group_consumer(group) for _ in range(3)]
    for consumer in consumers:
        subscribe(consumer, topic)
    seen = {}
    poll_until(consumers, seen, lambda: len(seen) == len(first) and partitioned([owned(c) for c in consumers]))
    for consumer in consumers:
        commit(consumer)
    leaving, staying = consumers[0], consumers[1:]
    left_partitions = owned(leaving)
    leaving.close()

    second = [f"w{i}" for i in range(60)]
    produce(topic, second)
    poll_until(staying, seen, lambda: len(seen) == len(first) + len(second) and partitioned([owned(c) for c in staying]),
               what="the two remaining members to take over")
    parts = [owned(c) for c in staying]
    assert left_partitions <= set().union(*parts), (left_partitions, parts)
    assert sorted(v.decode() for v in seen.values()) == sorted(first + second)
    for consumer in staying:
        commit(consumer)
        consumer.close()
    assert committed_offsets(group, topic) == log_ends(topic)


def scenario_static():
    """Static members (`group.instance.id`): one closes and comes back within its session timeout; it gets
    its partitions back with no rebalance, and the other member keeps its partitions throughout."""
    topic, group = name("cgst"), name("g")
    create(topic, 6)
    events = []

    def static_member(instance):
        consumer = group_consumer(group, **{"group.instance.id": instance, "session.timeout.ms": 10000})

        def assigned(consumer, partitions):
            events.append((instance, "assign", sorted(tp.partition for tp in partitions)))

        def revoked(consumer, partitions):
            commit(consumer)
            events.append((instance, "revoke", sorted(tp.partition for tp in partitions)))

        consumer.subscribe([topic], on_assign=assigned, on_revoke=revoked)
        return consumer

    first = [f"v{i}" for i in range(60)]
    produce(topic, first)
    a, b = static_member("a"), static_member("b")
    seen = {}
    poll_until([a, b], seen, lambda: len(seen) == len(first) and partitioned([owned(a), owned(b)]))
    before = (owned(a), owned(b))
    commit(a)
    commit(b)
    a.close()
    mark = len(events)
    again = static_member("a")
    second = [f"w{i}" for i in range(60)]
    produce(topic, second)
    poll_until([again, b], seen, lambda: len(seen) == len(first) + len(second) and partitioned([owned(again), owned(b)]),
               what="the returning static member")
    after = (owned(again), owned(b))
    assert after == before, f"assignments changed: {before} -> {after}"
    assert not [e for e in events[mark:] if e[0] == "b"], f"the other member saw a rebalance: {events[mark:]}"
    for consumer in (again, b):
        commit(consumer)
        consumer.close()
    assert committed_offsets(group, topic) == log_ends(topic)


def scenario_member():
    """Child of `sigstop`: consumes, commits each record synchronously, reports on stdout."""
    group, topic = sys.argv[3], sys.argv[4]

    def assigned(consumer, partitions):
        print(f"ASSIGNED {json.dumps(sorted(tp.partition for tp in partitions))}", flush=True)

    def revoked(consumer, partitions):
        print(f"REVOKED {json.dumps(sorted(tp.partition for tp in partitions))}", flush=True)

    consumer = group_consumer(group)
    consumer.subscribe([topic], on_assign=assigned, on_revoke=revoked, on_lost=revoked)
    deadline = time.time() + 120
    while time.time() < deadline:
        msg = consumer.poll(0.1)
        if msg is None or msg.error():
            continue
        try:
            consumer.commit(message=msg, asynchronous=False)
            outcome = "OK"
        except KafkaException as error:
            outcome = f"ERR {error.args[0].name()}"
        print(f"GOT {msg.partition()} {msg.offset()} {outcome}", flush=True)
    consumer.close()


class Child:
    """The `member` child process and the lines it printed, read by a thread."""

    def __init__(self, group, topic):
        self.process = subprocess.Popen([sys.executable, __file__, BOOTSTRAP, "member", group, topic],
                                        stdout=subprocess.PIPE, text=True, preexec_fn=Child.die_with_parent)
        self.lines, self.lock = [], threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    @staticmethod
    def die_with_parent():
        """A stopped child must not outlive a test runner that gave up on its parent (PR_SET_PDEATHSIG)."""
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)

    def _read(self):
        for line in self.process.stdout:
            with self.lock:
                self.lines.append(line.strip())

    def snapshot(self):
        with self.lock:
            return list(self.lines)

    def owned(self):
        """Partitions of the last assignment not revoked since."""
        current = set()
        for line in self.snapshot():
            if line.startswith("ASSIGNED "):
                current = set(json.loads(line.split(" ", 1)[1]))
            elif line.startswith("REVOKED "):
                current -= set(json.loads(line.split(" ", 1)[1]))
        return current

    def got(self, since=0):
        out = []
        for line in self.snapshot()[since:]:
            if line.startswith("GOT "):
                parts = line.split(" ")
                out.append((int(parts[1]), int(parts[2]), " ".join(parts[3:])))
        return out

    def stop(self):
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)
            self.process.terminate()
            self.process.wait(10)


def scenario_sigstop():
    """A member is SIGSTOPped past its 6 s session timeout: the two others take over its partitions at its
    committed offsets. After SIGCONT it finds itself fenced (its commits of re-read records fail), rejoins,
    and the group goes on with three members; committed work is never redone."""
    topic, group = name("cgs"), name("g")
    create(topic, 6)
    consumers = [group_consumer(group) for _ in range(2)]
    for consumer in consumers:
        subscribe(consumer, topic)
    child = Child(group, topic)
    try:
        seen = {}
        poll_until(consumers, seen, lambda: partitioned([owned(c) for c in consumers] + [child.owned()]), what="three members")
        first = [f"v{i}" for i in range(60)]
        produce(topic, first)
        poll_until(consumers, seen, lambda: len(seen) + len(child.got()) == len(first), what="the first records")
        for consumer in consumers:
            commit(consumer)
        assert all(outcome == "OK" for _, _, outcome in child.got()), child.got()
        stopped_partitions = child.owned()
        assert stopped_partitions, "the child owns partitions before it is stopped"
        child_consumed = {(p, o) for p, o, _ in child.got()}

        os.kill(child.process.pid, signal.SIGSTOP)
        stopped_at = time.time()
        second = [f"w{i}" for i in range(60)]
        produce(topic, second)
        poll_until(consumers, seen, lambda: partitioned([owned(c) for c in consumers]) and
                   len(seen) + len(child_consumed) == len(first) + len(second), what="the others to take over")
        took_over_after = time.time() - stopped_at
        print(f"TOOK OVER after {took_over_after:.1f} s", flush=True)
        assert not (set(seen) & child_consumed), "a record the stopped member committed was consumed again"
        for consumer in consumers:
            commit(consumer)
        assert committed_offsets(group, topic) == log_ends(topic)

        mark = len(child.snapshot())
        os.kill(child.process.pid, signal.SIGCONT)
        # It rejoins: the three share the partitions again.
        poll_until(consumers, seen, lambda: any(l.startswith("ASSIGNED") for l in child.snapshot()[mark:]) and
                   partitioned([owned(c) for c in consumers] + [child.owned()]), what="the resumed member to rejoin")
        # Records it had fetched before the stop and now re-reads were committed by the others: its
        # commits of them must fail (it was fenced), so no committed offset goes back.
        for p, o, outcome in child.got(mark):
            if (p, o) in seen:
                assert outcome.startswith("ERR"), f"the fenced member committed {p}:{o} again ({outcome})"
        third = [f"x{i}" for i in range(60)]
        before = len(child.got())
        produce(topic, third)

        def third_round():
            """Third-round records: consumed here, or consumed and committed by the child."""
            here = [k for k, v in seen.items() if v.startswith(b"x")]
            return here + [(p, o) for p, o, outcome in child.got()[before:] if outcome == "OK"]

        poll_until(consumers, seen, lambda: len(third_round()) >= len(third), what="the third records")
        for consumer in consumers:
            commit(consumer)
        time.sleep(1)  # the child's last commits
        keys = third_round()
        assert len(keys) == len(set(keys)) == len(third), f"third round: {len(keys)} records, {len(set(keys))} distinct"
    except BaseException:
        print("child said:\n" + "\n".join(child.snapshot()[-70:]), flush=True)
        raise
    finally:
        for consumer in consumers:
            consumer.close()
        child.stop()
    assert committed_offsets(group, topic) == log_ends(topic)


def scenario_resume():
    """Checks the group resumes at ENDS (committed by the previous run, before a broker restart), consumes
    30 new records exactly, commits, and prints the new `ENDS`."""
    topic, group, previous = sys.argv[3], sys.argv[4], sys.argv[5]
    if previous == "-":
        create(topic, 6)
        ends = {}
    else:
        ends = {int(p): int(o) for p, o in (entry.split(":") for entry in previous.split(","))}
        committed = committed_offsets(group, topic)
        assert all(committed[p] == ends.get(p, 0) for p in range(6)), f"committed {committed}, expected {ends}"
    values = [f"r{uuid.uuid4().hex[:6]}-{i}" for i in range(30)]
    produce(topic, values)
    consumers = [group_consumer(group) for _ in range(2)]
    for consumer in consumers:
        subscribe(consumer, topic)
    seen = {}
    poll_until(consumers, seen, lambda: len(seen) >= len(values) and partitioned([owned(c) for c in consumers]))
    end = time.time() + 1  # nothing before the committed offsets comes back
    while time.time() < end:
        for consumer in consumers:
            poll_into(consumer, seen, 0.1)
    assert sorted(v.decode() for v in seen.values()) == sorted(values), f"consumed {sorted(seen.values())[:10]}"
    assert all(o >= ends.get(p, 0) for p, o in seen), "a record before a committed offset came back"
    for consumer in consumers:
        commit(consumer)
    for consumer in consumers:
        consumer.close()
    now = log_ends(topic)
    assert committed_offsets(group, topic) == now
    print("ENDS " + ",".join(f"{p}:{o}" for p, o in sorted(now.items())), flush=True)


SCENARIOS = {k[len("scenario_"):]: v for k, v in globals().items() if k.startswith("scenario_")}

if __name__ == "__main__":
    scenario = sys.argv[2]
    SCENARIOS[scenario]()
    if scenario != "member":
        print(f"PASS {scenario}", flush=True)
