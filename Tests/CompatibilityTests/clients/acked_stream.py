"""Streams acks=all records to one partition and prints `ACK <offset> <value>` for every acknowledged
one, until COUNT were sent or the broker goes away (then the rest time out unacknowledged).
Usage: acked_stream.py HOST:PORT TOPIC COUNT"""
import sys

from confluent_kafka import Producer

bootstrap, topic, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 2, "message.timeout.ms": 4000,
                     "retries": 0, "enable.idempotence": False, "queue.buffering.max.messages": 1000})


failed = []


def report(err, msg):
    if err is None:
        print(f"ACK {msg.offset()} {msg.value().decode()}", flush=True)
    else:
        failed.append(err)


for i in range(count):
    if failed:  # the broker is gone: stop instead of queueing what can only time out
        break
    while True:
        try:
            producer.produce(topic, value=f"m{i}".encode(), partition=0, on_delivery=report)
            break
        except BufferError:
            producer.poll(0.05)
    producer.poll(0)
producer.flush(10)
