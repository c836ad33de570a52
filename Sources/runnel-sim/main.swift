#if canImport(Glibc)
import Glibc
#endif
import RunnelSimulation

// runnel-sim --seeds N [--start S] [--nodes 3|5] [--variant NAME] [--verbose]
// runnel-sim --bench

let usage = """
    usage: runnel-sim --seeds N [--start S] [--nodes 3|5] [--variant NAME] [--verbose] [--progress]
           runnel-sim --bench
    variants: \(Variant.allCases.map(\.rawValue).joined(separator: ", "))
    """

func fail(_ message: String) -> Never {
    print(message)
    print(usage)
    exit(2)
}

var arguments = Array(CommandLine.arguments.dropFirst())
var seeds = 0
var start: UInt64 = 1
var nodes = 3
var variant = Variant.correct
var verbose = false
var bench = false
var progress = false
while !arguments.isEmpty {
    let flag = arguments.removeFirst()
    func value() -> String {
        guard !arguments.isEmpty else { fail("\(flag) needs a value") }
        return arguments.removeFirst()
    }
    switch flag {
    case "--seeds":
        guard let n = Int(value()) else { fail("--seeds needs a number") }
        seeds = n
    case "--start":
        guard let n = UInt64(value()) else { fail("--start needs a number") }
        start = n
    case "--nodes":
        guard let n = Int(value()) else { fail("--nodes needs a number") }
        nodes = n
    case "--variant":
        guard let v = Variant(rawValue: value()) else { fail("unknown variant") }
        variant = v
    case "--verbose": verbose = true
    case "--bench": bench = true
    case "--progress": progress = true
    case "--help", "-h": print(usage); exit(0)
    default: fail("unknown argument \(flag)")
    }
}

if bench {
    Benchmarks.run(print: { print($0) })
    exit(0)
}
guard seeds > 0, (3...9).contains(nodes) else { fail("give --seeds N (N > 0) and --nodes between 3 and 9") }

let clock = ContinuousClock()
let began = clock.now
let sweep = Sweep(startSeed: start, seedCount: seeds, nodeCount: nodes, variant: variant)
let outcome = sweep.run(options: { $0.keepsEventText = verbose }, willRun: { seed in
    if progress { print("seed \(seed)") }
})
let elapsed = clock.now - began
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
print("variant \(variant.rawValue), \(nodes) nodes, seeds \(start)..<\(start + UInt64(seeds))")
print("seeds run: \(outcome.seedsRun) in \(format2(seconds)) s (\(format2(Double(outcome.seedsRun) / max(seconds, 1e-9))) seeds/s)")
print("mean highest commit index per seed: \(outcome.commitIndexTotal / UInt64(max(outcome.seedsRun, 1)))")
print("trace digest: \(String(outcome.traceDigest, radix: 16))")
print("violations: \(outcome.violationCounts.isEmpty ? "none" : outcome.violationCounts.map { "\($0.key.rawValue)=\($0.value)" }.sorted().joined(separator: ", "))")
print("failing seeds: \(outcome.failures.isEmpty ? "none" : outcome.failures.map { "\($0.options.seed)" }.joined(separator: " "))")
for failure in outcome.failures.prefix(verbose ? 10 : 3) {
    print("")
    print(failure.report)
}
exit(outcome.failures.isEmpty ? 0 : 1)

func format2(_ value: Double) -> String {
    let scaled = (value * 100).rounded() / 100
    return "\(scaled)"
}
