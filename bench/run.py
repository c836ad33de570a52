#!/usr/bin/env python3
"""One benchmark run of Runnel against the machine's limits and a peer broker (issue 6).

`make bench` builds the binaries and calls this script; it builds nothing itself. Every phase starts
its broker fresh on a temporary data directory. Results go to bench/results/<timestamp>.json and a
Markdown rendering (bench/render.py) to BENCHMARKS.md.

Stdlib only.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import render  # noqa: E402

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB

# Fixed parameters (issue 6). The quick profile only shrinks volumes and durations.
FULL = {
    "name": "full",
    "record_bytes": 1024,
    "linger_ms": 5,                    # max-rate runs: batches fill
    "latency_linger_ms": 1,            # fixed-load runs: linger 5 alone would put p50 near 5 ms
    "batch_bytes": 1 * MIB,
    "partitions": [1, 4, 16],
    "acks": ["1", "all"],
    "produce_bytes": 4 * GIB,          # per max-rate produce run; fio writes the same amount
    "latency_loads": [0.25, 0.50, 0.75],
    "latency_seconds": 30,             # measured, after latency_warmup_seconds at the same rate
    "latency_warmup_seconds": 5,
    "iperf_seconds": 20,
    "tansu_bytes": 4 * GIB,
    "long_seconds": 600,
    "long_rate_mb_max": 40.0,          # the broker's retention check runs every 5 min: the rate bounds disk use
    "allocator_max_bytes": 1 * GIB,
}
QUICK = dict(FULL, **{
    "name": "quick",
    "produce_bytes": 512 * MIB,        # the client queue (64 MiB) must be small against a run
    "latency_seconds": 6,
    "latency_warmup_seconds": 1,
    "iperf_seconds": 5,
    "tansu_bytes": 512 * MIB,
    "long_seconds": 30,
    "allocator_max_bytes": 256 * MIB,
})
# Topic configs of the long run: small segments so that retention.bytes can delete whole ones.
LONG_TOPIC_CONFIGS = ["retention.bytes=268435456", "segment.bytes=67108864"]


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"broker exited with {process.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {timeout_s} s")


# ---- /proc readings ----

CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def process_cpu_s(pid: int) -> float:
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS_PER_S  # utime + stime


def process_memory_kib(pid: int) -> dict:
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values


def disk_free_bytes(path: str) -> int:
    return shutil.disk_usage(path).free


# ---- Brokers ----

class Broker:
    """One broker process on a free loopback port, with CPU and memory readings."""

    def __init__(self, name: str, argv: list[str], port: int, log_path: Path, env: dict | None = None):
        self.name = name
        self.port = port
        self.address = f"127.0.0.1:{port}"
        self.log_file = open(log_path, "wb")
        self.process = subprocess.Popen(argv, stdout=self.log_file, stderr=subprocess.STDOUT,
                                        env=env, start_new_session=True)
        wait_for_port(port, self.process)

    @property
    def pid(self) -> int:
        return self.process.pid

    def cpu_s(self) -> float:
        return process_cpu_s(self.pid)

    def memory_kib(self) -> dict:
        return process_memory_kib(self.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log_file.close()


def start_runnel(binary: str, work: Path, name: str, env_extra: dict | None = None) -> Broker:
    data_dir = work / f"{name}-data"
    data_dir.mkdir()
    port = free_port()
    argv = [binary, "serve", "--node-id", "1", "--data-dir", str(data_dir),
            "--kafka-listener", f"127.0.0.1:{port}", "--advertised-kafka-listener", f"127.0.0.1:{port}",
            "--auto-create-topics-enable", "false", "--log-level", "warning"]
    env = dict(os.environ, **(env_extra or {}))
    broker = Broker(name, argv, port, work / f"{name}.log", env)
    broker.data_dir = data_dir
    return broker


def start_tansu(binary: str, work: Path) -> Broker:
    port = free_port()
    argv = [binary, "broker", "--listener-url", f"tcp://127.0.0.1:{port}",
            "--advertised-listener-url", f"tcp://127.0.0.1:{port}", "--storage-engine", "memory://tansu/"]
    return Broker("tansu", argv, port, work / "tansu.log")


# ---- The driver ----

class Driver:
    def __init__(self, binary: str, library_dir: str | None):
        self.binary = binary
        self.env = dict(os.environ)
        if library_dir:
            self.env["LD_LIBRARY_PATH"] = library_dir + (":" + self.env["LD_LIBRARY_PATH"]
                                                         if self.env.get("LD_LIBRARY_PATH") else "")

    def run(self, mode: str, broker: Broker, topic: str, *args: str, timeout_s: float = 3600) -> dict:
        argv = [self.binary, mode, "--brokers", broker.address, "--topic", topic, *map(str, args)]
        done = subprocess.run(argv, capture_output=True, text=True, env=self.env, timeout=timeout_s)
        if done.returncode != 0 or not done.stdout.strip():
            raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])

    def create(self, broker: Broker, topic: str, partitions: int, configs: list[str] = ()) -> None:
        extra = []
        for config in configs:
            extra += ["--config", config]
        self.run("create", broker, topic, "--partitions", partitions, *extra)

    def delete(self, broker: Broker, topic: str) -> None:
        self.run("delete", broker, topic)

    def produce(self, broker: Broker, topic: str, profile: dict, acks: str, records: int,
                rate_rps: float = 0, warmup_s: float = 0) -> dict:
        linger_ms = profile["latency_linger_ms"] if rate_rps > 0 else profile["linger_ms"]
        args = ["--records", records, "--size", profile["record_bytes"], "--acks", acks,
                "--linger-ms", linger_ms, "--batch-bytes", profile["batch_bytes"]]
        if rate_rps > 0:
            args += ["--rate", f"{rate_rps:.1f}", "--warmup-s", warmup_s]
        return self.run("produce", broker, topic, *args)

    def consume(self, broker: Broker, topic: str, expected_records: int) -> dict:
        return self.run("consume", broker, topic, "--records", expected_records, "--timeout-s", 1800)


def measured(broker: Broker, action) -> dict:
    """Runs action() and adds the broker's CPU seconds spent meanwhile, per GB the run moved.

    Dirty pages left by the previous run are written back first, so that no run pays for another's."""
    os.sync()
    cpu_before = broker.cpu_s()
    result = action()
    cpu_s = broker.cpu_s() - cpu_before
    result["broker_cpu_s"] = round(cpu_s, 3)
    gigabytes = result["bytes"] / 1e9
    result["broker_cpu_s_per_gb"] = round(cpu_s / gigabytes, 3) if gigabytes > 0 else None
    return result


def require_disk(path: str, needed_bytes: int) -> None:
    free = disk_free_bytes(path)
    if free < needed_bytes:
        raise RuntimeError(f"{path} has {free / GIB:.1f} GiB free; this step needs {needed_bytes / GIB:.1f} GiB")


# ---- Phases ----

def machine_description(work: Path) -> dict:
    cpu_model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu_model = line.split(":", 1)[1].strip()
            break
    mem_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kib = int(line.split()[1])
    df = subprocess.run(["df", "--output=source,fstype,size", str(work)], capture_output=True, text=True).stdout
    source, fstype, size = (df.splitlines()[-1].split() + ["?", "?", "?"])[:3]
    device = {}
    if source.startswith("/dev/"):
        lsblk = subprocess.run(["lsblk", "-J", "-d", "-o", "NAME,MODEL,SIZE,ROTA,TYPE", source],
                               capture_output=True, text=True)
        if lsblk.returncode == 0:
            devices = json.loads(lsblk.stdout).get("blockdevices", [])
            device = devices[0] if devices else {}
    return {
        "cpu_model": cpu_model,
        "cpu_count": os.cpu_count(),
        "memory_gib": round(mem_kib / MIB, 1),
        "disk": {"source": source, "fstype": fstype, "size_1k_blocks": size,
                 "model": device.get("model"), "rotational": device.get("rota")},
        "kernel": platform.release(),
        "virtualisation": subprocess.run(["systemd-detect-virt"], capture_output=True, text=True).stdout.strip()
        if shutil.which("systemd-detect-virt") else None,
    }


def loopback_limit(profile: dict) -> dict:
    port = free_port()
    server = subprocess.Popen(["iperf3", "-s", "-1", "-p", str(port)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        time.sleep(0.5)
        done = subprocess.run(["iperf3", "-c", "127.0.0.1", "-p", str(port), "-t", str(profile["iperf_seconds"]),
                               "-J"], capture_output=True, text=True, timeout=profile["iperf_seconds"] + 60)
        report = json.loads(done.stdout)
        bits_per_s = report["end"]["sum_received"]["bits_per_second"]
    finally:
        if server.poll() is None:
            server.terminate()
        server.wait()
    return {"command": f"iperf3 -c 127.0.0.1 -t {profile['iperf_seconds']}",
            "mb_per_s": round(bits_per_s / 8 / 1e6, 1)}


def disk_limit(work: Path, total_bytes: int, sync_flag: str) -> dict:
    directory = work / f"fio-{sync_flag.strip('-').split('=')[0]}"
    directory.mkdir()
    require_disk(str(work), total_bytes + 1 * GIB)
    os.sync()
    argv = ["fio", "--name=seq", f"--directory={directory}", "--rw=write", "--bs=1M", f"--size={total_bytes}",
            "--nrfiles=16", "--ioengine=psync", sync_flag, "--output-format=json"]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, check=True)
        write = json.loads(done.stdout)["jobs"][0]["write"]
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    # fio's bandwidth covers the job's runtime, which includes the final fsync of --end_fsync.
    return {"command": " ".join(a for a in argv if not a.startswith("--directory")),
            "bytes": write["io_bytes"], "mb_per_s": round(write["bw_bytes"] / 1e6, 1)}


def runnel_throughput(driver: Driver, binary: str, work: Path, profile: dict, results: dict) -> None:
    broker = start_runnel(binary, work, "runnel")
    records = profile["produce_bytes"] // profile["record_bytes"]
    try:
        produce, consume = {}, {}
        for acks in profile["acks"]:
            for partitions in profile["partitions"]:
                topic = f"produce-acks{acks}-p{partitions}"
                require_disk(str(work), profile["produce_bytes"] * 2 + 1 * GIB)
                driver.create(broker, topic, partitions)
                log(f"runnel produce acks={acks} partitions={partitions} ({records} records)")
                result = measured(broker, lambda: driver.produce(broker, topic, profile, acks, records))
                result["partitions"] = partitions
                produce[f"acks={acks} p={partitions}"] = result
                if acks == profile["acks"][0] and partitions in (1, profile["partitions"][-1]):
                    log(f"runnel consume {topic}")
                    got = measured(broker, lambda: driver.consume(broker, topic, records))
                    consume[f"p={partitions}"] = got
                driver.delete(broker, topic)
        results["runnel"]["produce"] = produce
        results["runnel"]["consume"] = consume

        top = profile["partitions"][-1]
        latency = {}
        for acks in profile["acks"]:
            max_rps = produce[f"acks={acks} p={top}"]["records_per_s"]
            for load in profile["latency_loads"]:
                rate = max_rps * load
                warmup_s = profile["latency_warmup_seconds"]
                count = max(1, int(rate * (profile["latency_seconds"] + warmup_s)))
                topic = f"latency-acks{acks}-{int(load * 100)}"
                driver.create(broker, topic, top)
                log(f"runnel fixed load acks={acks} {int(load * 100)} % = {rate:.0f} records/s for "
                    f"{profile['latency_seconds']} s")
                result = measured(broker, lambda: driver.produce(broker, topic, profile, acks, count, rate, warmup_s))
                result["load"] = load
                latency[f"acks={acks} {int(load * 100)}%"] = result
                driver.delete(broker, topic)
        results["runnel"]["fixed_load"] = latency
        memory = broker.memory_kib()
        results["runnel"]["peak_rss_mib"] = round(memory.get("VmHWM", 0) / KIB, 1)
        total_bytes = sum(r["bytes"] for r in produce.values())
        total_cpu = sum(r["broker_cpu_s"] for r in produce.values())
        results["runnel"]["broker_cpu_s_per_gb_produce"] = round(total_cpu / (total_bytes / 1e9), 3)
    finally:
        broker.stop()


def tansu_throughput(driver: Driver, binary: str, work: Path, profile: dict, results: dict) -> None:
    broker = start_tansu(binary, work)
    top = profile["partitions"][-1]
    records = profile["tansu_bytes"] // profile["record_bytes"]
    try:
        produce, consume = {}, {}
        for acks in profile["acks"]:
            topic = f"tansu-acks{acks}-p{top}"
            driver.create(broker, topic, top)
            log(f"tansu produce acks={acks} partitions={top} ({records} records)")
            result = measured(broker, lambda: driver.produce(broker, topic, profile, acks, records))
            result["partitions"] = top
            produce[f"acks={acks} p={top}"] = result
            if acks == profile["acks"][0]:
                log(f"tansu consume {topic}")
                consume[f"p={top}"] = measured(broker, lambda: driver.consume(broker, topic, records))
            driver.delete(broker, topic)
        results["tansu"] = {"version": subprocess.run([binary, "--version"], capture_output=True,
                                                      text=True).stdout.strip(),
                            "storage": "memory://tansu/", "produce": produce, "consume": consume,
                            "peak_rss_mib": round(broker.memory_kib().get("VmHWM", 0) / KIB, 1)}
    finally:
        broker.stop()


def allocator_setup(args) -> tuple[dict, str]:
    """The two brokers to compare, as (name -> (binary, extra env)), and how they differ."""
    linked = args.runnel_jemalloc and links_jemalloc(args.runnel_jemalloc) and not links_jemalloc(args.runnel)
    if linked:
        return ({"glibc": (args.runnel, {}), "jemalloc": (args.runnel_jemalloc, {})},
                "two release builds of the same commit, the second linked with jemalloc "
                "(-Xlinker --no-as-needed -Xlinker -ljemalloc)")
    library = find_jemalloc()
    if not library:
        return ({}, "skipped: no jemalloc-linked build and no libjemalloc.so.2 to preload")
    why = ("the jemalloc build does not link jemalloc" if args.runnel_jemalloc else "no jemalloc build given")
    return ({"glibc": (args.runnel, {}), "jemalloc": (args.runnel, {"LD_PRELOAD": library})},
            f"one release build, jemalloc through LD_PRELOAD={library} ({why})")


def links_jemalloc(binary: str) -> bool:
    ldd = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    if "jemalloc" in ldd:
        return True
    # A static link leaves jemalloc's own symbols in the binary.
    nm = subprocess.run(["nm", "-D", "--defined-only", binary], capture_output=True, text=True).stdout
    return "je_malloc" in nm or "mallctl" in nm


def find_jemalloc() -> str | None:
    for candidate in ("/usr/lib/x86_64-linux-gnu/libjemalloc.so.2", "/usr/lib/aarch64-linux-gnu/libjemalloc.so.2",
                      "/usr/lib/libjemalloc.so.2"):
        if os.path.exists(candidate):
            return candidate
    return None


def rss_summary(samples_kib: list[int]) -> dict:
    """Flat means: after a warm-up fifth, every sample within ±10 % of their median, and the last tenth's
    median within 10 % of the first post-warm-up tenth's (catches a slow climb that hides in the spread)."""
    if len(samples_kib) < 10:
        return {"samples": len(samples_kib), "flat": None}
    steady = samples_kib[len(samples_kib) // 5:]
    ordered = sorted(steady)
    median = ordered[len(ordered) // 2]
    spread = max(abs(v - median) for v in steady) / median
    tenth = max(1, len(steady) // 10)
    first = sorted(steady[:tenth])[tenth // 2]
    last = sorted(steady[-tenth:])[tenth // 2]
    drift = (last - first) / first
    return {"samples": len(samples_kib), "min_mib": round(min(steady) / KIB, 1),
            "median_mib": round(median / KIB, 1), "max_mib": round(max(steady) / KIB, 1),
            "spread": round(spread, 3), "drift": round(drift, 3),
            "flat": spread <= 0.10 and abs(drift) <= 0.10}


def allocator_comparison(driver: Driver, args, work: Path, profile: dict, results: dict) -> None:
    builds, how = allocator_setup(args)
    comparison = {"how": how, "seconds": profile["long_seconds"], "builds": {}}
    results["allocators"] = comparison
    if not builds:
        return
    top = profile["partitions"][-1]
    max_rps = results["runnel"]["produce"][f"acks=1 p={top}"]["records_per_s"]
    rate = min(max_rps * 0.5, profile["long_rate_mb_max"] * 1e6 / profile["record_bytes"])
    comparison["rate_rps"] = round(rate, 1)
    comparison["topic_configs"] = LONG_TOPIC_CONFIGS
    max_records = profile["allocator_max_bytes"] // profile["record_bytes"]
    for name, (binary, env) in builds.items():
        require_disk(str(work), int(rate * profile["record_bytes"] * min(profile["long_seconds"], 330)) + 8 * GIB)
        broker = start_runnel(binary, work, f"alloc-{name}", env)
        try:
            # The long run comes first, on a fresh broker, so that no earlier burst shapes its RSS.
            driver.create(broker, "long", top, LONG_TOPIC_CONFIGS)
            samples: list[int] = []
            stop = threading.Event()

            def sample() -> None:
                while not stop.wait(1.0):
                    try:
                        samples.append(broker.memory_kib()["VmRSS"])
                    except (OSError, KeyError):
                        return

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            log(f"allocator {name}: {rate:.0f} records/s for {profile['long_seconds']} s")
            count = int(rate * profile["long_seconds"])
            try:
                long_run = measured(broker, lambda: driver.produce(broker, "long", profile, "1", count, rate,
                                                                   profile["latency_warmup_seconds"]))
            finally:
                stop.set()
                sampler.join()
            long_peak_mib = round(broker.memory_kib().get("VmHWM", 0) / KIB, 1)
            jemalloc_loaded = "libjemalloc" in Path(f"/proc/{broker.pid}/maps").read_text()
            driver.delete(broker, "long")
            driver.create(broker, "max", top)
            log(f"allocator {name}: max rate acks=1 p={top}")
            maximum = measured(broker, lambda: driver.produce(broker, "max", profile, "1", max_records))
            driver.delete(broker, "max")
            comparison["builds"][name] = {
                "jemalloc_loaded": jemalloc_loaded,
                "long_run": long_run, "rss": rss_summary(samples), "peak_rss_mib": long_peak_mib,
                "rss_samples_mib": [round(s / KIB, 1) for s in samples], "max_rate": maximum,
                "peak_rss_mib_after_max_rate": round(broker.memory_kib().get("VmHWM", 0) / KIB, 1),
            }
        finally:
            broker.stop()
            shutil.rmtree(broker.data_dir, ignore_errors=True)


# ---- Ratios and targets ----

def derive(results: dict) -> None:
    limits = results["limits"]
    loop = limits["loopback"]["mb_per_s"]
    fio = {"1": limits["fio_end_fsync"]["mb_per_s"], "all": limits["fio_fdatasync"]["mb_per_s"]}
    for key, run in results["runnel"]["produce"].items():
        run["ratio_to_fio"] = round(run["mb_per_s"] / fio[run["acks"]], 3)
        run["ratio_to_loopback"] = round(run["mb_per_s"] / loop, 3)
    for run in results["runnel"]["consume"].values():
        run["ratio_to_loopback"] = round(run["mb_per_s"] / loop, 3)
    tansu = results.get("tansu") if "produce" in results.get("tansu", {}) else None
    if tansu:
        for key, run in tansu["produce"].items():
            ours = results["runnel"]["produce"].get(key)
            run["runnel_ratio"] = round(ours["mb_per_s"] / run["mb_per_s"], 3) if ours and run["mb_per_s"] else None
        for key, run in tansu["consume"].items():
            ours = results["runnel"]["consume"].get(key)
            run["runnel_ratio"] = round(ours["mb_per_s"] / run["mb_per_s"], 3) if ours and run["mb_per_s"] else None

    top = max(r["partitions"] for r in results["runnel"]["produce"].values())
    acks1 = results["runnel"]["produce"][f"acks=1 p={top}"]
    acks_all = results["runnel"]["produce"][f"acks=all p={top}"]
    half = results["runnel"]["fixed_load"].get("acks=1 50%")
    targets = [
        {"target": f"acks=1 ≥ 60 % of fio end_fsync ({top} partitions)", "value": acks1["ratio_to_fio"],
         "holds": acks1["ratio_to_fio"] >= 0.60},
        {"target": f"acks=all ≥ 45 % of fio fdatasync ({top} partitions)", "value": acks_all["ratio_to_fio"],
         "holds": acks_all["ratio_to_fio"] >= 0.45},
        {"target": "p99 ≤ 5 ms at 50 % of the maximum (acks=1)",
         "value": half["latency_ms"]["p99"] if half else None,
         "holds": bool(half) and half["latency_ms"]["p99"] <= 5.0},
    ]
    if tansu:
        ratio = tansu["produce"].get(f"acks=1 p={top}", {}).get("runnel_ratio")
        targets.append({"target": "≥ 1.5× Tansu's throughput (acks=1)", "value": ratio,
                        "holds": ratio is not None and ratio >= 1.5})
    glibc = results.get("allocators", {}).get("builds", {}).get("glibc")
    if glibc:
        targets.append({"target": f"RSS flat ± 10 % over {results['allocators']['seconds']} s (glibc build)",
                        "value": glibc["rss"].get("spread"), "holds": bool(glibc["rss"].get("flat"))})
    results["targets"] = targets


def git_commit(root: Path) -> str:
    done = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return done.stdout.strip() + ("-dirty" if dirty else "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runnel", required=True, help="release runnel binary (the glibc-malloc build)")
    parser.add_argument("--runnel-jemalloc", help="a jemalloc-linked build of the same commit, if any")
    parser.add_argument("--driver", required=True, help="rkbench binary")
    parser.add_argument("--librdkafka-dir", help="directory with the librdkafka.so.1 the driver runs with")
    parser.add_argument("--tansu", help="tansu binary (skipped when absent)")
    parser.add_argument("--quick", action="store_true", help="small volumes and short runs (smoke figures)")
    parser.add_argument("--work-dir", default=os.environ.get("BENCH_TMPDIR", tempfile.gettempdir()),
                        help="where the data directories and fio files go")
    parser.add_argument("--results-dir", default=str(Path(__file__).resolve().parent / "results"))
    parser.add_argument("--markdown", default=str(Path(__file__).resolve().parent.parent / "BENCHMARKS.md"))
    parser.add_argument("--skip", default="", help="comma-separated phases to skip: limits,tansu,allocators")
    args = parser.parse_args()
    profile = QUICK if args.quick else FULL
    skip = set(filter(None, args.skip.split(",")))
    root = Path(__file__).resolve().parent.parent

    started = datetime.datetime.now(datetime.timezone.utc)
    stamp = started.strftime("%Y%m%dT%H%M%SZ") + ("-quick" if args.quick else "")
    work = Path(tempfile.mkdtemp(prefix="runnel-bench-", dir=args.work_dir))
    driver = Driver(args.driver, args.librdkafka_dir)
    results = {
        "mode": profile["name"], "started": started.isoformat(timespec="seconds"), "commit": git_commit(root),
        "profile": profile, "machine": machine_description(work),
        "load_average_start": [round(v, 2) for v in os.getloadavg()],
        "driver": {"binary": "bench/driver/rkbench", "librdkafka_dir": args.librdkafka_dir},
        "runnel": {"binary": args.runnel}, "limits": {},
    }
    log(f"{profile['name']} run in {work}; load average {results['load_average_start']}")
    try:
        if "limits" not in skip:
            log(f"loopback: iperf3 for {profile['iperf_seconds']} s")
            results["limits"]["loopback"] = loopback_limit(profile)
            log(f"disk: fio {profile['produce_bytes'] // MIB} MiB with --end_fsync=1")
            results["limits"]["fio_end_fsync"] = disk_limit(work, profile["produce_bytes"], "--end_fsync=1")
            log(f"disk: fio {profile['produce_bytes'] // MIB} MiB with --fdatasync=1")
            results["limits"]["fio_fdatasync"] = disk_limit(work, profile["produce_bytes"], "--fdatasync=1")
        runnel_throughput(driver, args.runnel, work, profile, results)
        versions = {r.get("librdkafka") for r in results["runnel"]["produce"].values()}
        results["driver"]["librdkafka"] = ",".join(sorted(v for v in versions if v))
        # The peer and the allocator comparison are worth less than the rest: a failure there is recorded.
        if args.tansu and "tansu" not in skip:
            try:
                tansu_throughput(driver, args.tansu, work, profile, results)
            except (RuntimeError, OSError, subprocess.SubprocessError, ValueError) as error:
                log(f"tansu phase failed: {error}")
                results["tansu"] = {"error": str(error)}
        if "allocators" not in skip:
            try:
                allocator_comparison(driver, args, work, profile, results)
            except (RuntimeError, OSError, subprocess.SubprocessError, ValueError) as error:
                log(f"allocator phase failed: {error}")
                results.setdefault("allocators", {})["error"] = str(error)
        if "limits" not in skip:
            derive(results)
    finally:
        results["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        results["load_average_end"] = [round(v, 2) for v in os.getloadavg()]
        shutil.rmtree(work, ignore_errors=True)
        results_dir = Path(args.results_dir)
        results_dir.mkdir(parents=True, exist_ok=True)
        path = results_dir / f"{stamp}.json"
        path.write_text(json.dumps(results, indent=1) + "\n")
        log(f"results: {path}")
    markdown = Path(args.markdown)
    if render.may_replace(markdown, results):
        markdown.write_text(render.render(results, path.relative_to(root) if path.is_relative_to(root) else path))
        log(f"table: {markdown}")
    else:
        log(f"{markdown} holds a full run; a quick run does not replace it (bench/render.py {path} renders this one)")
    print(render.summary(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
