/// Runs a range of seeds of one variant.
public struct Sweep: Sendable {
    public var startSeed: UInt64
    public var seedCount: Int
    public var nodeCount: Int
    public var variant: Variant
    /// Stop at the first failing seed (for "can the checkers catch this variant?").
    public var stopAtFirstFailure: Bool

    public init(startSeed: UInt64, seedCount: Int, nodeCount: Int = 3, variant: Variant = .correct, stopAtFirstFailure: Bool = false) {
        self.startSeed = startSeed
        self.seedCount = seedCount
        self.nodeCount = nodeCount
        self.variant = variant
        self.stopAtFirstFailure = stopAtFirstFailure
    }

    public struct Outcome: Sendable {
        public var seedsRun = 0
        public var failures: [SimulationResult] = []
        public var violationCounts: [Invariant: Int] = [:]
        public var commitIndexTotal: UInt64 = 0
        /// Folds every seed's trace hash: equal digests mean the sweep replayed identically.
        public var traceDigest: UInt64 = 0
    }

    public func run(options adjust: (inout SimulationOptions) -> Void = { _ in }, willRun: (UInt64) -> Void = { _ in }) -> Outcome {
        var outcome = Outcome()
        for offset in 0..<seedCount {
            var options = SimulationOptions(seed: startSeed &+ UInt64(offset), nodeCount: nodeCount, variant: variant)
            adjust(&options)
            willRun(options.seed)
            let result = Simulation.run(options)
            outcome.seedsRun += 1
            outcome.traceDigest = (outcome.traceDigest ^ result.traceHash) &* 0x0000_0100_0000_01B3
            outcome.commitIndexTotal += result.commitIndexMax.rawValue
            for violation in result.violations { outcome.violationCounts[violation.invariant, default: 0] += 1 }
            if !result.passed {
                outcome.failures.append(result)
                if stopAtFirstFailure { break }
            }
        }
        return outcome
    }
}
