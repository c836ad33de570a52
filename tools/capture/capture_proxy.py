"""Records the request frames real Kafka clients send, for the codec's golden tests.

Usage: capture_proxy.py LISTEN_PORT BROKER_HOST:BROKER_PORT OUT_DIR LABEL

Listens on 127.0.0.1:LISTEN_PORT, forwards every connection to the broker, and appends the first request
frame of each (API key, version) it sees, size prefix included, to OUT_DIR/LABEL.requests.bin (the format
Tests/RunnelWireTests/GoldenTests replays), listing them in OUT_DIR/LABEL.txt. Start the broker advertising the proxy's address (`--advertised-kafka-listener
127.0.0.1:LISTEN_PORT`) so that clients keep talking through it. Stops after --seconds (default 60)."""
import argparse
import os
import socket
import struct
import threading
import time

seen = set()
lock = threading.Lock()


def read_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def pump_requests(client, broker, out_dir, label):
    try:
        while True:
            size = struct.unpack(">i", read_exact(client, 4))[0]
            payload = read_exact(client, size)
            api, version = struct.unpack(">hh", payload[:4])
            with lock:
                if (api, version) not in seen:
                    seen.add((api, version))
                    with open(os.path.join(out_dir, f"{label}.requests.bin"), "ab") as f:
                        f.write(struct.pack(">i", size) + payload)
                    with open(os.path.join(out_dir, f"{label}.txt"), "a") as f:
                        f.write(f"api {api} v{version}\n")
            broker.sendall(struct.pack(">i", size) + payload)
    except (ConnectionError, OSError):
        pass
    finally:
        for s in (client, broker):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def pump_responses(broker, client):
    try:
        while True:
            data = broker.recv(65536)
            if not data:
                break
            client.sendall(data)
    except OSError:
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("broker")
    parser.add_argument("out_dir")
    parser.add_argument("label")
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    host, port = args.broker.rsplit(":", 1)
    os.makedirs(args.out_dir, exist_ok=True)
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", args.port))
    server.listen(64)
    server.settimeout(0.5)
    deadline = time.time() + args.seconds
    while time.time() < deadline:
        try:
            client, _ = server.accept()
        except socket.timeout:
            continue
        broker = socket.create_connection((host, int(port)))
        threading.Thread(target=pump_requests, args=(client, broker, args.out_dir, args.label), daemon=True).start()
        threading.Thread(target=pump_responses, args=(broker, client), daemon=True).start()


if __name__ == "__main__":
    main()
