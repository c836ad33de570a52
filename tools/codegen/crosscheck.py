#!/usr/bin/env python3
"""Cross-check generated codecs against kafka-python's protocol classes (an independent codec).

    python3 -m venv /tmp/kp && /tmp/kp/bin/pip install kafka-python==3.0.12
    RUNNEL_WIRE_SAMPLE_DUMP=/tmp/samples.txt swift test --filter SampleDumpTests
    /tmp/kp/bin/python tools/codegen/crosscheck.py /tmp/samples.txt

Each sample (every message, version, with and without nulls) is decoded by kafka-python and
re-encoded; the bytes must match ours. Known difference: kafka-python decodes an
ApiVersionsResponse with a non-zero error code as v0 (what brokers send on error), so those
samples are reported separately rather than as failures.
"""
import sys

import kafka.protocol.admin as admin
import kafka.protocol.consumer as consumer
import kafka.protocol.metadata as metadata
import kafka.protocol.producer as producer


def find(name):
    for module in (metadata, producer, consumer, admin):
        if hasattr(module, name):
            return getattr(module, name)
    return None


def main(path):
    ok, failed, expected = 0, 0, 0
    for line in open(path):
        name, version, nulls, hexbytes = (line.split() + [""])[:4]
        data = bytes.fromhex(hexbytes)
        cls = find(name)
        if cls is None:
            print("no kafka-python class for", name)
            failed += 1
            continue
        try:
            message = cls.decode(data, version=int(version))
            message._header = None  # decoded bodies carry no header; encode() expects the slot
            again = bytes(message.encode(version=int(version)))
        except Exception as error:  # report and continue: this is a survey
            again = repr(error).encode()
        if again == data:
            ok += 1
        elif name == "ApiVersionsResponse" and data[:2] != b"\x00\x00":
            expected += 1
        else:
            failed += 1
            print(f"MISMATCH {name} v{version} nulls={nulls}\n  ours {hexbytes}\n  kp   {again.hex()}")
    print(f"{ok} identical, {expected} known differences, {failed} mismatches")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/samples.txt"))
