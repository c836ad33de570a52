"""An idempotent producer whose connection is cut after the broker appended a batch but before the answer
reached it. Usage: cut_proxy_retry.py BROKER_HOST:PORT PROXY_PORT CLIENT [--announce-cut]

A TCP proxy on PROXY_PORT (the port the broker advertises) relays Kafka frames; when the broker's answer
to the first Produce arrives, the proxy drops it and closes both sides. The client reconnects and retries
the same batch (same producer id, epoch and sequence): the partition must hold it once. CLIENT is
`confluent` or `kafka-python`. With --announce-cut the proxy prints `CUT` when it cut (the test harness then
SIGKILLs and restarts the broker before the retry). Prints `PASS cut_retry`; any failure raises."""
import socket
import struct
import sys
import threading
import time
import uuid

BROKER_HOST, BROKER_PORT = sys.argv[1].rsplit(":", 1)
PROXY_PORT = int(sys.argv[2])
CLIENT = sys.argv[3]
ANNOUNCE_CUT = "--announce-cut" in sys.argv[4:]
BOOTSTRAP = f"127.0.0.1:{PROXY_PORT}"
TIMEOUT = 30
COUNT = 10
PRODUCE = 0


class CutProxy:
    def __init__(self):
        self.lock = threading.Lock()
        self.cut_done = False
        self.produce_requests = 0
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", PROXY_PORT))
        self.listener.listen(16)
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            client, _ = self.listener.accept()
            try:
                upstream = socket.create_connection((BROKER_HOST, int(BROKER_PORT)))
            except OSError:  # the broker is down (restarting): the client reconnects later
                self.close(client)
                continue
            produce_ids = set()
            threading.Thread(target=self.requests, args=(client, upstream, produce_ids), daemon=True).start()
            threading.Thread(target=self.responses, args=(upstream, client, produce_ids), daemon=True).start()

    @staticmethod
    def read_frame(sock):
        header = CutProxy.read_exactly(sock, 4)
        if header is None:
            return None
        body = CutProxy.read_exactly(sock, struct.unpack(">i", header)[0])
        return None if body is None else header + body

    @staticmethod
    def read_exactly(sock, n):
        data = b""
        while len(data) < n:
            try:
                chunk = sock.recv(n - len(data))
            except OSError:
                return None
            if not chunk:
                return None
            data += chunk
        return data

    @staticmethod
    def close(*socks):
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def requests(self, client, upstream, produce_ids):
        while (frame := self.read_frame(client)) is not None:
            api_key, _, correlation_id = struct.unpack(">hhi", frame[4:12])
            if api_key == PRODUCE:
                with self.lock:
                    self.produce_requests += 1
                    produce_ids.add(correlation_id)
            try:
                upstream.sendall(frame)
            except OSError:
                break
        self.close(client, upstream)

    def responses(self, upstream, client, produce_ids):
        while (frame := self.read_frame(upstream)) is not None:
            correlation_id = struct.unpack(">i", frame[4:8])[0]
            with self.lock:
                cut = correlation_id in produce_ids and not self.cut_done
                if cut:
                    self.cut_done = True
            if cut:  # the broker has appended (and answered): the client never hears of it
                if ANNOUNCE_CUT:
                    print("CUT", flush=True)
                    time.sleep(1.0)  # hold the client off until the harness has killed the broker
                break
            try:
                client.sendall(frame)
            except OSError:
                break
        self.close(client, upstream)


def produce_confluent(topic, values):
    from confluent_kafka import Producer
    delivered, errors = [], []
    producer = Producer({"bootstrap.servers": BOOTSTRAP, "enable.idempotence": True, "acks": "all", "linger.ms": 50,
                         "retry.backoff.ms": 100, "reconnect.backoff.max.ms": 500, "message.timeout.ms": TIMEOUT * 1000})

    def report(err, msg):
        (errors.append(err) if err else delivered.append(msg.offset()))

    for v in values:
        producer.produce(topic, value=v, on_delivery=report)
    assert producer.flush(TIMEOUT) == 0, "messages left unflushed"
    assert not errors, errors
    return sorted(delivered)


def produce_kafka_python(topic, values):
    from kafka import KafkaProducer
    producer = KafkaProducer(bootstrap_servers=BOOTSTRAP, linger_ms=50, retry_backoff_ms=100, request_timeout_ms=TIMEOUT * 1000)
    futures = [producer.send(topic, value=v) for v in values]
    producer.flush()
    offsets = sorted(f.get(timeout=TIMEOUT).offset for f in futures)
    producer.close()
    return offsets


def create_topic(topic):
    from kafka import KafkaAdminClient
    from kafka.admin import NewTopic
    admin = KafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    admin.close()


def read_back(topic):
    from kafka import KafkaConsumer, TopicPartition
    consumer = KafkaConsumer(bootstrap_servers=BOOTSTRAP, enable_auto_commit=False, auto_offset_reset="earliest",
                             consumer_timeout_ms=5000)
    tp = TopicPartition(topic, 0)
    consumer.assign([tp])
    end = consumer.end_offsets([tp])[tp]
    values = [m.value for m in consumer]
    consumer.close()
    return end, values


def main():
    proxy = CutProxy()
    topic = f"cut-{CLIENT}-{uuid.uuid4().hex[:8]}"
    create_topic(topic)
    values = [f"v{i}".encode() for i in range(COUNT)]
    offsets = {"confluent": produce_confluent, "kafka-python": produce_kafka_python}[CLIENT](topic, values)
    assert proxy.cut_done, "the proxy never cut a produce answer"
    assert proxy.produce_requests >= 2, f"no retry seen ({proxy.produce_requests} produce requests)"
    assert offsets == list(range(COUNT)), offsets
    end, stored = read_back(topic)
    assert end == COUNT, f"the partition holds {end} records, not {COUNT}: the retry was stored twice"
    assert stored == values, stored
    print(f"CUT {CLIENT} produce_requests={proxy.produce_requests}", flush=True)
    print("PASS cut_retry", flush=True)


if __name__ == "__main__":
    main()
