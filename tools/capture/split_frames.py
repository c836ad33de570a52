"""Splits golden request streams (size-prefixed frames) into one file per frame payload: a seed corpus
for the libFuzzer run. Usage: split_frames.py GOLDEN_DIR OUT_DIR"""
import os
import struct
import sys

golden, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
count = 0
for name in sorted(os.listdir(golden)):
    if not name.endswith(".requests.bin"):
        continue
    data = open(os.path.join(golden, name), "rb").read()
    position = 0
    while position + 4 <= len(data):
        size = struct.unpack(">i", data[position:position + 4])[0]
        payload = data[position + 4:position + 4 + size]
        open(os.path.join(out, f"{name}-{count}"), "wb").write(payload)
        position += 4 + size
        count += 1
print(f"{count} seed frames")
