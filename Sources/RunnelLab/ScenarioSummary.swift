public enum ScenarioStatus: String, Codable, Sendable {
    case passed, failed
    /// Written, waiting for a capability (the seed scenario waits for clustering).
    case pending
    /// Not run: no lab, and none was required.
    case skipped
    /// Not run although required (CI=true or RUNNEL_LAB=1): the lab was missing; the test failed.
    case blocked

    /// Pending, skipped and blocked scenarios did not run.
    public var executed: Bool { self == .passed || self == .failed }
}

/// A fault as the report shows it: milliseconds since the scenario started.
public struct FaultWindow: Codable, Sendable, Equatable {
    public let kind: FaultKind
    public let target: String
    public let injectedMs: Double
    public let verifiedMs: Double
    public let healIssuedMs: Double?
    public let healedMs: Double?
    /// From issuing the heal to the first acknowledgement after that; nil when nothing was acknowledged
    /// after it.
    public let recoveryMs: Double?
}

/// Per-second (or coarser) counts for the timeline.
public struct Timeline: Codable, Sendable, Equatable {
    /// Buckets are kept at most this many; a longer run gets wider buckets.
    public static let bucketsMax = 600

    public let bucketMs: Int
    public let acknowledged: [Int]
    public let errors: [Int]
    public let reads: [Int]

    public static func make(_ history: History, bucketMsMin: Int = 1_000) -> Timeline {
        precondition(bucketMsMin > 0, "a bucket spans time")
        let endMs = Int(history.endNs / 1_000_000)
        var bucketMs = bucketMsMin
        while (endMs / bucketMs) + 1 > bucketsMax { bucketMs *= 2 }
        let count = endMs / bucketMs + 1
        var acknowledged = [Int](repeating: 0, count: count)
        var errors = [Int](repeating: 0, count: count)
        var reads = [Int](repeating: 0, count: count)
        func bucket(_ ns: UInt64) -> Int { min(count - 1, Int(ns / 1_000_000) / bucketMs) }
        for operation in history.operations {
            switch operation {
            case .send(let send):
                if send.acknowledgedOffset != nil { acknowledged[bucket(send.completedNs)] += 1 } else {
                    errors[bucket(send.completedNs)] += 1
                }
            case .poll(let poll):
                reads[bucket(poll.completedNs)] += poll.records.count
                errors[bucket(poll.completedNs)] += poll.errors.count
            case .clientError(let error):
                errors[bucket(error.timeNs)] += 1
            case .assign, .fault:
                continue
            }
        }
        return Timeline(bucketMs: bucketMs, acknowledged: acknowledged, errors: errors, reads: reads)
    }
}

/// One scenario's figures, as printed at the end of the run and written to the JSON and HTML reports.
public struct ScenarioSummary: Codable, Sendable, Equatable {
    public let name: String
    public let status: ScenarioStatus
    /// Why it failed, or why it did not run.
    public let message: String
    public let operations: Int
    public let sends: Int
    public let acknowledged: Int
    public let failedSends: Int
    public let reads: Int
    public let lost: Int
    public let unseen: Int
    public let duplicates: Int
    public let inconsistentOffsets: Int
    public let orderAnomalies: Int
    /// The longest recovery of the scenario's faults (heal issued to the first acknowledgement after it).
    public let recoveryMs: Double?
    public let durationMs: Double
    public let faults: [FaultWindow]
    /// The first anomalies found, for the reader (all are counted above).
    public let anomalySample: [Anomaly]
    public let timeline: Timeline

    public static let anomalySampleMax = 20

    /// A scenario that ran: its figures come from its history and the checker's result.
    public static func make(name: String, status: ScenarioStatus, message: String, history: History,
                            check: CheckResult) -> ScenarioSummary {
        let sends = history.sends
        let acknowledgedTimesNs = sends.filter { $0.acknowledgedOffset != nil }.map(\.completedNs).sorted()
        let faults = history.faults.map { fault -> FaultWindow in
            let recoveryNs = fault.healIssuedNs.flatMap { issued in
                firstAtOrAfter(issued, acknowledgedTimesNs).map { $0 - issued }
            }
            return FaultWindow(
                kind: fault.kind, target: fault.target, injectedMs: ms(fault.injectedNs), verifiedMs: ms(fault.verifiedNs),
                healIssuedMs: fault.healIssuedNs.map(ms), healedMs: fault.healedNs.map(ms), recoveryMs: recoveryNs.map(ms))
        }
        return ScenarioSummary(
            name: name, status: status, message: message, operations: history.operations.count, sends: sends.count,
            acknowledged: check.acknowledgedCount, failedSends: sends.count - check.acknowledgedCount,
            reads: check.readCount, lost: check.count(.lost), unseen: check.count(.unseen),
            duplicates: check.count(.duplicate), inconsistentOffsets: check.count(.inconsistentOffset),
            orderAnomalies: check.count(.nonMonotonicPoll) + check.count(.skippedPoll) + check.count(.nonMonotonicSend),
            recoveryMs: faults.compactMap(\.recoveryMs).max(), durationMs: ms(history.endNs), faults: faults,
            anomalySample: Array(check.anomalies.prefix(anomalySampleMax)), timeline: Timeline.make(history))
    }

    /// A scenario that did not run (pending or skipped).
    public static func notRun(name: String, status: ScenarioStatus, message: String) -> ScenarioSummary {
        precondition(!status.executed, "a scenario that ran has a history")
        return ScenarioSummary(
            name: name, status: status, message: message, operations: 0, sends: 0, acknowledged: 0, failedSends: 0,
            reads: 0, lost: 0, unseen: 0, duplicates: 0, inconsistentOffsets: 0, orderAnomalies: 0, recoveryMs: nil,
            durationMs: 0, faults: [], anomalySample: [], timeline: Timeline(bucketMs: 1_000, acknowledged: [], errors: [], reads: []))
    }

    private static func ms(_ ns: UInt64) -> Double { Double(ns) / 1_000_000 }

    private static func firstAtOrAfter(_ ns: UInt64, _ sorted: [UInt64]) -> UInt64? {
        var low = 0, high = sorted.count
        while low < high {
            let mid = (low + high) / 2
            if sorted[mid] < ns { low = mid + 1 } else { high = mid }
        }
        return low < sorted.count ? sorted[low] : nil
    }
}

/// The whole run: every scenario's summary and the counts the closing line prints.
public struct LabReport: Codable, Sendable, Equatable {
    public let createdAt: String
    public let librdkafkaVersion: String
    public let scenarios: [ScenarioSummary]

    public init(createdAt: String, librdkafkaVersion: String, scenarios: [ScenarioSummary]) {
        self.createdAt = createdAt
        self.librdkafkaVersion = librdkafkaVersion
        self.scenarios = scenarios
    }

    public var executedCount: Int { scenarios.filter { $0.status.executed }.count }
    public var passedCount: Int { scenarios.filter { $0.status == .passed }.count }
    public var failedCount: Int { scenarios.filter { $0.status == .failed }.count }
    public var pendingCount: Int { scenarios.filter { $0.status == .pending }.count }
    public var skippedCount: Int { scenarios.filter { $0.status == .skipped }.count }
    public var blockedCount: Int { scenarios.filter { $0.status == .blocked }.count }
}
