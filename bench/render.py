#!/usr/bin/env python3
"""Renders one bench/results/*.json as BENCHMARKS.md.

    python3 bench/render.py bench/results/<stamp>.json [BENCHMARKS.md]
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

FULL_MARKER = "<!-- bench mode: full -->"


def may_replace(markdown: Path, results: dict) -> bool:
    """A quick run never overwrites the table of a full run."""
    if results.get("mode") == "full" or not markdown.exists():
        return True
    return FULL_MARKER not in markdown.read_text()


def fmt(value, digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def pct(value) -> str:
    return "—" if value is None else f"{value * 100:.0f} %"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def render(results: dict, json_path) -> str:
    machine = results["machine"]
    profile = results["profile"]
    disk = machine["disk"]
    quick = results["mode"] != "full"
    out = [FULL_MARKER if not quick else "<!-- bench mode: quick -->", "# Benchmarks", ""]
    if quick:
        out += ["> **Quick mode: smoke figures only.** Small volumes and short runs on a shared machine that was",
                "> busy with builds; they prove the harness works end to end, not how fast Runnel is. The real table",
                "> comes from `make bench` (full mode) on a quiet machine.", ""]
    out += [f"`make bench{' BENCH_QUICK=1' if quick else ''}` at commit `{results['commit']}`, "
            f"{results['started']} → {results.get('finished', '?')}. Raw figures: `{json_path}`.", "",
            "## Machine", "",
            f"- CPU: {machine['cpu_model']}, {machine['cpu_count']} cores"
            + (f" ({machine['virtualisation']})" if machine.get("virtualisation") else ""),
            f"- RAM: {machine['memory_gib']} GiB",
            f"- Disk: {disk['source']} ({disk['fstype']}, {int(disk['size_1k_blocks']) // (1024 * 1024) if str(disk['size_1k_blocks']).isdigit() else '?'} GiB"
            + (f", {disk['model']}" if disk.get("model") else "")
            + (", rotational as lsblk reports" if disk.get("rotational")
               else ", non-rotational" if disk.get("rotational") is False else "")
            + ")",
            f"- Kernel: Linux {machine['kernel']}",
            f"- Load average at start / end: {results['load_average_start']} / {results.get('load_average_end')}",
            f"- Driver: bench/driver/rkbench over librdkafka {results['driver'].get('librdkafka', '?')}, "
            f"{profile['record_bytes']} B records, linger.ms={profile['linger_ms']}, "
            f"batch.size={profile['batch_bytes']}, no compression; MB = 10^6 bytes", ""]

    targets = results.get("targets")
    if targets:
        out += ["## Targets", "", table(["target", "value", "holds"],
                                        [[t["target"], fmt(t["value"], 3), "yes" if t["holds"] else "**no**"]
                                         for t in targets]), ""]

    limits = results.get("limits", {})
    if limits:
        out += ["## Machine limits (same run)", "",
                table(["limit", "command", "MB/s"],
                      [[name, f"`{limit['command']}`", fmt(limit["mb_per_s"])] for name, limit in limits.items()]),
                ""]

    runnel = results["runnel"]
    rows = []
    for key, run in runnel.get("produce", {}).items():
        lat = run["latency_ms"]
        rows.append([key, fmt(run["mb_per_s"]), fmt(run["records_per_s"], 0), pct(run.get("ratio_to_fio")),
                     pct(run.get("ratio_to_loopback")), fmt(lat["p50"], 2), fmt(lat["p99"], 2), fmt(lat["p99_9"], 2),
                     fmt(run["client_cpu_s"]["total"], 2), fmt(run["broker_cpu_s"], 2),
                     fmt(run["broker_cpu_s_per_gb"], 2)])
    if rows:
        out += [f"## Runnel produce at max rate ({profile['produce_bytes'] // (1024 * 1024)} MiB per run)", "",
                "Latency at max rate includes time queued in the client (64 MiB queue); the fixed-load table is",
                "the latency figure. Ratio to fio: `--end_fsync=1` for acks=1, `--fdatasync=1` for acks=all.", "",
                table(["run", "MB/s", "records/s", "of fio", "of loopback", "p50 ms", "p99 ms", "p99.9 ms",
                       "client CPU s", "broker CPU s", "broker CPU s/GB"], rows), ""]
    rows = [[key, fmt(run["records"]), fmt(run["mb_per_s"]), fmt(run["records_per_s"], 0),
             pct(run.get("ratio_to_loopback")), fmt(run["client_cpu_s"]["total"], 2), fmt(run["broker_cpu_s"], 2)]
            for key, run in runnel.get("consume", {}).items()]
    if rows:
        out += ["## Runnel consume from the start (acks=1 topics of the produce runs)", "",
                table(["topic", "records read", "MB/s", "records/s", "of loopback", "client CPU s", "broker CPU s"],
                      rows), ""]
    rows = []
    for key, run in runnel.get("fixed_load", {}).items():
        lat = run["latency_ms"]
        rows.append([key, fmt(run["target_rate_rps"], 0), fmt(run["records_per_s"], 0), fmt(lat["p50"], 2),
                     fmt(lat["p99"], 2), fmt(lat["p99_9"], 2), fmt(lat["max"], 2),
                     fmt(run.get("send_lateness_ms", {}).get("p99"), 2), fmt(run.get("schedule_behind_max_ms"), 1)])
    if rows:
        out += [f"## Runnel latency at fixed loads ({profile['latency_seconds']} s each, "
                f"{profile['partitions'][-1]} partitions)", "",
                "Measured from each record's intended send time (no coordinated omission), after "
                f"{profile.get('latency_warmup_seconds', 0)} s of warm-up at the same rate; linger.ms="
                f"{profile.get('latency_linger_ms', profile['linger_ms'])}. The driver paces in steps of ≥ 0.2 ms "
                "(a record is never sent early; its lateness counts in its latency). Driver lateness is how late "
                "the driver itself called produce: the client machine's share of the latency.", "",
                table(["load", "target records/s", "achieved records/s", "p50 ms", "p99 ms", "p99.9 ms", "max ms",
                       "driver lateness p99 ms", "driver behind max ms"], rows), ""]
    if "peak_rss_mib" in runnel:
        out += [f"Broker peak RSS (VmHWM) over the throughput runs: {fmt(runnel['peak_rss_mib'])} MiB; "
                f"broker CPU over all max-rate produce runs: {fmt(runnel.get('broker_cpu_s_per_gb_produce'), 2)} "
                "s per GB ingested.", ""]

    tansu = results.get("tansu")
    if tansu and "error" in tansu:
        out += ["## Peer: Tansu", "", f"The Tansu phase failed: {tansu['error']}", ""]
    elif tansu:
        rows = []
        for key, run in tansu["produce"].items():
            rows.append([f"produce {key}", fmt(run["mb_per_s"]), fmt(run["records_per_s"], 0),
                         fmt(run["latency_ms"]["p99"], 2), fmt(run["broker_cpu_s_per_gb"], 2),
                         fmt(run.get("runnel_ratio"), 2)])
        for key, run in tansu["consume"].items():
            rows.append([f"consume {key}", fmt(run["mb_per_s"]), fmt(run["records_per_s"], 0), "—",
                         fmt(run["broker_cpu_s_per_gb"], 2), fmt(run.get("runnel_ratio"), 2)])
        out += [f"## Peer: {tansu['version']} ({tansu['storage']}), same driver and load", "",
                table(["run", "MB/s", "records/s", "p99 ms", "broker CPU s/GB", "Runnel ÷ Tansu"], rows), "",
                f"Tansu peak RSS: {fmt(tansu['peak_rss_mib'])} MiB (memory storage holds the data)."]
        produced = max((run["records"] for run in tansu["produce"].values()), default=0)
        for key, run in tansu["consume"].items():
            if run["records"] < produced:
                out += [f"Tansu's high watermarks cover {run['records']} of the {produced} records produced, so its "
                        "consume run reads that many."]
        out += [""]

    allocators = results.get("allocators")
    if allocators:
        out += ["## glibc malloc against jemalloc", "", f"How: {allocators.get('how', '?')}.", ""]
        if "error" in allocators:
            out += [f"The allocator phase failed: {allocators['error']}", ""]
        builds = allocators.get("builds", {})
        if builds:
            rows = []
            for name, build in builds.items():
                rss = build["rss"]
                loaded = build.get("jemalloc_loaded")
                if loaded is not None and loaded != (name == "jemalloc"):
                    name += " (**jemalloc " + ("loaded" if loaded else "not loaded") + ": invalid**)"
                rows.append([name, fmt(build["max_rate"]["mb_per_s"]), fmt(build["long_run"]["mb_per_s"]),
                             fmt(build["long_run"]["latency_ms"]["p50"], 2), fmt(build["long_run"]["latency_ms"]["p99"], 2),
                             fmt(build["peak_rss_mib"]), fmt(rss.get("median_mib")), pct(rss.get("spread")),
                             pct(rss.get("drift")), {True: "yes", False: "**no**", None: "—"}[rss.get("flat")]])
            out += [f"Per build, a fresh broker: {allocators['seconds']} s at {fmt(allocators.get('rate_rps'), 0)} "
                    f"records/s (acks=1, topic configs {', '.join(allocators.get('topic_configs', []))}), RSS sampled "
                    "every second with the first fifth counted as warm-up (peak RSS is of this run); then a "
                    "max-rate run.", "",
                    table(["build", "max MB/s", "long-run MB/s", "p50 ms", "p99 ms", "peak RSS MiB",
                           "median RSS MiB", "spread", "drift", "flat ± 10 %"], rows), ""]
    return "\n".join(out)


def summary(results: dict) -> str:
    lines = [f"bench ({results['mode']}):"]
    for key, run in results["runnel"].get("produce", {}).items():
        lines.append(f"  runnel produce {key}: {run['mb_per_s']:.1f} MB/s, p99 {run['latency_ms']['p99']:.2f} ms")
    for target in results.get("targets", []):
        lines.append(f"  {'HOLDS' if target['holds'] else 'misses'}: {target['target']} (value {target['value']})")
    return "\n".join(lines)


def main() -> int:
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    path = Path(sys.argv[1])
    markdown = Path(sys.argv[2]) if len(sys.argv) == 3 else Path(__file__).resolve().parent.parent / "BENCHMARKS.md"
    results = json.loads(path.read_text())
    markdown.write_text(render(results, path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
