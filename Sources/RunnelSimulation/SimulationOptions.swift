import RunnelRaft

public struct SimulationOptions: Hashable, Sendable {
    public var seed: UInt64
    public var nodeCount: Int
    public var variant: Variant
    /// Faults are injected during this many (nominal) ticks; then everything is healed.
    public var faultPhaseTicks: Int
    /// After healing, a leader must be elected and a fresh proposal committed within this many ticks.
    public var livenessTicksMax: Int
    /// Virtual time units per nominal tick; delays, drift and fsync latency are in units.
    public var unitsPerTick: Int
    /// A node snapshots its state machine once it applied this many entries past its snapshot.
    public var compactEveryEntries: Int
    /// Keep rendered recent events for the report (slower; for replaying a failing seed).
    public var keepsEventText: Bool

    public init(
        seed: UInt64, nodeCount: Int = 3, variant: Variant = .correct, faultPhaseTicks: Int = 400,
        livenessTicksMax: Int = 600, unitsPerTick: Int = 10, compactEveryEntries: Int = 40, keepsEventText: Bool = false
    ) {
        precondition(nodeCount >= 3 && nodeCount <= 9, "faults assume a cluster that survives one lost node; plans assume at most nine")
        self.seed = seed
        self.nodeCount = nodeCount
        self.variant = variant
        self.faultPhaseTicks = faultPhaseTicks
        self.livenessTicksMax = livenessTicksMax
        self.unitsPerTick = unitsPerTick
        self.compactEveryEntries = compactEveryEntries
        self.keepsEventText = keepsEventText
    }
}

public struct SimulationResult: Sendable {
    public var options: SimulationOptions
    public var plan: FaultPlan
    /// Empty when every invariant held; the run stops at the first step that breaks one.
    public var violations: [Violation]
    public var traceHash: UInt64
    public var eventCount: Int
    public var unitsRun: Int
    /// The highest commit index any node reached.
    public var commitIndexMax: LogIndex
    public var recentEvents: [String]

    public var passed: Bool { violations.isEmpty }

    /// What to print for a failing seed: the violations, how to replay, the plan, the last events.
    public var report: String {
        var lines = [
            "seed \(options.seed) (\(options.nodeCount) nodes, variant \(options.variant.rawValue)): "
                + (passed ? "ok" : "\(violations.count) violation(s)"),
        ]
        lines += violations.map { "  \($0)" }
        lines.append(
            "  replay: runnel-sim --seeds 1 --start \(options.seed) --nodes \(options.nodeCount) --variant \(options.variant.rawValue) --verbose")
        lines.append("  trace hash \(String(traceHash, radix: 16)) after \(eventCount) events, \(unitsRun) units")
        lines += plan.description.split(separator: "\n").map { "  " + $0 }
        if !recentEvents.isEmpty {
            lines.append("  last events:")
            lines += recentEvents.map { "    " + $0 }
        }
        return lines.joined(separator: "\n")
    }
}
