#!/usr/bin/env python3
"""Checks of the harness's own arithmetic (make bench-check): RSS flatness, ratios and targets, and the
rule that a quick run never replaces a full run's BENCHMARKS.md. Stdlib unittest; no broker needed."""
from __future__ import annotations

import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import render  # noqa: E402
import run  # noqa: E402


def produce(acks: str, partitions: int, mb_per_s: float, p99_ms: float = 1.0) -> dict:
    return {"acks": acks, "partitions": partitions, "mb_per_s": mb_per_s, "records_per_s": mb_per_s * 1e3,
            "bytes": 10**9, "latency_ms": {"p50": 0.5, "p99": p99_ms, "p99_9": 2 * p99_ms, "max": 3 * p99_ms},
            "client_cpu_s": {"total": 1.0}, "broker_cpu_s": 2.0, "broker_cpu_s_per_gb": 2.0}


def results_with(acks1_mb: float, acks_all_mb: float, p99_half_ms: float, tansu_mb: float) -> dict:
    half = produce("1", 16, acks1_mb / 2, p99_half_ms)
    half.update(target_rate_rps=1.0, load=0.5, schedule_behind_max_ms=0.1)
    return {
        "limits": {"loopback": {"command": "iperf3", "mb_per_s": 1000.0},
                   "fio_end_fsync": {"command": "fio --end_fsync=1", "mb_per_s": 200.0},
                   "fio_fdatasync": {"command": "fio --fdatasync=1", "mb_per_s": 100.0}},
        "runnel": {"produce": {"acks=1 p=16": produce("1", 16, acks1_mb), "acks=all p=16": produce("all", 16, acks_all_mb)},
                   "consume": {}, "fixed_load": {"acks=1 50%": half}},
        "tansu": {"produce": {"acks=1 p=16": produce("1", 16, tansu_mb)}, "consume": {}},
    }


class RssFlatnessTests(unittest.TestCase):
    def test_steady_rss_after_warm_up_is_flat(self):
        samples = [50_000] * 10 + [100_000 + (i % 5) * 1000 for i in range(90)]
        self.assertTrue(run.rss_summary(samples)["flat"])

    def test_slow_climb_within_the_spread_is_not_flat(self):
        samples = [100_000 + i * 190 for i in range(100)]  # +15 % over the steady part, ±7.5 % about the median
        summary = run.rss_summary(samples)
        self.assertLess(summary["spread"], 0.10)
        self.assertFalse(summary["flat"])

    def test_one_spike_above_ten_percent_is_not_flat(self):
        samples = [100_000] * 100
        samples[60] = 115_000
        self.assertFalse(run.rss_summary(samples)["flat"])

    def test_too_few_samples_give_no_verdict(self):
        self.assertIsNone(run.rss_summary([1, 2, 3])["flat"])


class TargetTests(unittest.TestCase):
    def test_targets_hold_at_their_thresholds(self):
        results = results_with(acks1_mb=120.0, acks_all_mb=45.0, p99_half_ms=5.0, tansu_mb=80.0)
        run.derive(results)
        self.assertEqual([t["holds"] for t in results["targets"]], [True, True, True, True])

    def test_targets_miss_just_below_their_thresholds(self):
        results = results_with(acks1_mb=119.0, acks_all_mb=44.0, p99_half_ms=5.1, tansu_mb=80.0)
        run.derive(results)
        self.assertEqual([t["holds"] for t in results["targets"]], [False, False, False, False])

    def test_acks_all_is_compared_with_fdatasync_and_acks_one_with_end_fsync(self):
        results = results_with(acks1_mb=100.0, acks_all_mb=50.0, p99_half_ms=1.0, tansu_mb=50.0)
        run.derive(results)
        produce_runs = results["runnel"]["produce"]
        self.assertAlmostEqual(produce_runs["acks=1 p=16"]["ratio_to_fio"], 0.5)
        self.assertAlmostEqual(produce_runs["acks=all p=16"]["ratio_to_fio"], 0.5)
        self.assertAlmostEqual(results["tansu"]["produce"]["acks=1 p=16"]["runnel_ratio"], 2.0)

    def test_failed_peer_phase_leaves_its_target_out(self):
        results = results_with(acks1_mb=120.0, acks_all_mb=45.0, p99_half_ms=5.0, tansu_mb=80.0)
        results["tansu"] = {"error": "no broker"}
        run.derive(results)
        self.assertNotIn("Tansu", " ".join(t["target"] for t in results["targets"]))
        self.assertIn("The Tansu phase failed: no broker", render.render(minimal_for_render(results), "x.json"))


def minimal_for_render(results: dict) -> dict:
    results.update(mode="quick", commit="abc", started="s", finished="f", load_average_start=[0, 0, 0],
                   load_average_end=[0, 0, 0], driver={"librdkafka": "2"},
                   profile=dict(run.QUICK), machine={"cpu_model": "cpu", "cpu_count": 2, "memory_gib": 1,
                                                     "disk": {"source": "/dev/x", "fstype": "ext4",
                                                              "size_1k_blocks": "1048576"},
                                                     "kernel": "6"})
    return results


class MarkdownTests(unittest.TestCase):
    def test_quick_run_does_not_replace_a_full_table(self):
        with tempfile.TemporaryDirectory() as directory:
            markdown = Path(directory) / "BENCHMARKS.md"
            markdown.write_text(render.FULL_MARKER + "\n# Benchmarks\n")
            self.assertFalse(render.may_replace(markdown, {"mode": "quick"}))
            self.assertTrue(render.may_replace(markdown, {"mode": "full"}))

    def test_quick_run_replaces_a_quick_table(self):
        with tempfile.TemporaryDirectory() as directory:
            markdown = Path(directory) / "BENCHMARKS.md"
            markdown.write_text("<!-- bench mode: quick -->\n# Benchmarks\n")
            self.assertTrue(render.may_replace(markdown, {"mode": "quick"}))


if __name__ == "__main__":
    unittest.main()
