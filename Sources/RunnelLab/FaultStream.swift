import Foundation
import Synchronization

/// One scenario's shape: an acks=all stream to one partition through `bootstrap`, a fault injected after
/// `beforeFaultMs` and held `holdMs` once verified, then healed; the stream goes on `afterHealMs`;
/// then a fresh consumer reads the partition back from its first offset.
public struct FaultStream {
    public var name: String
    public var bootstrap: String
    /// The name of what the fault hits, for the history and report.
    public var target: String
    public var producer: ProducerSettings
    public var sendIntervalMs = 5
    public var beforeFaultMs = 2_000
    public var holdMs = 5_000
    public var afterHealMs = 5_000
    public var readTimeoutMs = 30_000

    /// The stream's node is the bootstrap of producer and consumer; the producer's settings start from
    /// the defaults and `producer` adjusts them.
    public init(name: String, node: LabNode, producer: (inout ProducerSettings) -> Void = { _ in }) {
        self.init(name: name, bootstrap: node.bootstrap, target: node.description, producer: producer)
    }

    public init(name: String, bootstrap: String, target: String, producer: (inout ProducerSettings) -> Void = { _ in }) {
        self.name = name
        self.bootstrap = bootstrap
        self.target = target
        var settings = ProducerSettings(bootstrap: bootstrap)
        producer(&settings)
        self.producer = settings
    }
}

/// A fault as a scenario drives it: `inject` returns once the fault is verified; `heal` once the node
/// is verified back. Both run on the fault thread.
public struct FaultSteps: Sendable {
    public let kind: FaultKind
    public let inject: @Sendable () throws -> Void
    public let heal: @Sendable () throws -> Void

    public init(kind: FaultKind, inject: @escaping @Sendable () throws -> Void, heal: @escaping @Sendable () throws -> Void) {
        self.kind = kind
        self.inject = inject
        self.heal = heal
    }
}

/// A scenario's figures and, when it did not pass, why (empty when it passed).
public struct ScenarioResult: Sendable {
    public let summary: ScenarioSummary
    public let problems: [String]
    /// The last lines librdkafka logged, to read when the scenario failed.
    public let clientLogTail: [String]
}

/// What the fault thread reports back to the stream.
final class FaultOutcome: Sendable {
    private let state = Mutex<(healedNs: UInt64?, error: String?, done: Bool)>((nil, nil, false))

    func finish(healedNs: UInt64?, error: String?) { state.withLock { $0 = (healedNs, error, true) } }
    var done: Bool { state.withLock { $0.done } }
    var healedNs: UInt64? { state.withLock { $0.healedNs } }
    var error: String? { state.withLock { $0.error } }
}

extension FaultStream {
    /// Runs the stream and the fault, checks the history and sums it up.
    public func run(_ steps: FaultSteps) throws -> ScenarioResult {
        let recorder = HistoryRecorder()
        let topic = "lab-\(name)-\(Int(Date().timeIntervalSince1970))"
        let partition = TopicPartition(topic, 0)
        var problems: [String] = []

        let producer = try LabProducer(clientID: ClientID("producer-\(name)"), settings: self.producer, recorder: recorder)
        // The first record creates the topic; the stream starts only once the node takes writes.
        producer.send("\(name)-0", to: partition)
        guard producer.drain(timeoutMs: 15_000), recorder.snapshot.sends.first?.acknowledgedOffset != nil else {
            producer.close()
            throw LabError("\(target) did not acknowledge the first record: \(recorder.snapshot.sends.first?.outcome as Any)")
        }

        let outcome = FaultOutcome()
        let thread = Thread { [beforeFaultMs, holdMs, target] in
            Thread.sleep(forTimeInterval: Double(beforeFaultMs) / 1000)
            let injectedNs = recorder.nowNs()
            do {
                try steps.inject()
            } catch {
                // Not verified, so it does not count: no fault in the history.
                outcome.finish(healedNs: nil, error: "\(steps.kind) of \(target) not verified: \(error)")
                return
            }
            let verifiedNs = recorder.nowNs()
            Thread.sleep(forTimeInterval: Double(holdMs) / 1000)
            var healedNs: UInt64?
            var failure: String?
            let healIssuedNs = recorder.nowNs()
            do {
                try steps.heal()
                healedNs = recorder.nowNs()
            } catch {
                failure = "\(target) not back after \(steps.kind): \(error)"
            }
            recorder.record(.fault(FaultOperation(
                kind: steps.kind, target: target, injectedNs: injectedNs, verifiedNs: verifiedNs,
                healIssuedNs: healIssuedNs, healedNs: healedNs)))
            outcome.finish(healedNs: healedNs, error: failure)
        }
        thread.start()

        var sequence = 1
        var nextSendNs = recorder.nowNs()
        let intervalNs = UInt64(sendIntervalMs) * 1_000_000
        let hardDeadlineNs = recorder.nowNs() + UInt64(beforeFaultMs + holdMs + afterHealMs + 180_000) * 1_000_000
        while true {
            let now = recorder.nowNs()
            if outcome.done && now >= (outcome.healedNs ?? 0) + UInt64(afterHealMs) * 1_000_000 { break }
            if now >= hardDeadlineNs {
                problems.append("the fault thread did not finish in time")
                break
            }
            if now >= nextSendNs {
                producer.send("\(name)-\(sequence)", to: partition)
                sequence += 1
                // After a stall, resume the pace instead of bursting to catch up.
                nextSendNs = max(nextSendNs + intervalNs, now > 100_000_000 ? now - 100_000_000 : 0)
            }
            producer.serve(timeoutMs: 1)
        }
        if !producer.drain(timeoutMs: producer.settings.messageTimeoutMs + 5_000) {
            problems.append("\(producer.pendingCount) sends had no delivery report")
        }
        producer.close()
        if let error = outcome.error { problems.append(error) }

        let consumer = try LabConsumer(
            clientID: ClientID("consumer-\(name)"), settings: ConsumerSettings(bootstrap: bootstrap), recorder: recorder)
        try consumer.assignFromBeginning([partition])
        let read = consumer.readToEnd(partition, timeoutMs: readTimeoutMs)
        consumer.close()
        if !read.complete {
            problems.append("read \(read.readCount) records up to \(read.nextOffset ?? 0), high watermark \(read.highWatermark.map(String.init) ?? "unknown")")
        }

        let history = recorder.snapshot
        let check = HistoryChecker.check(history)
        if !check.isClean {
            problems.append("\(check.anomalies.count) anomalies, first: \(check.anomalies.prefix(5).map(\.description).joined(separator: "; "))")
        }
        var summary = ScenarioSummary.make(name: name, status: .passed, message: "", history: history, check: check)
        if summary.faults.isEmpty, outcome.error == nil { problems.append("no verified fault in the history") }
        if !summary.faults.isEmpty, summary.recoveryMs == nil { problems.append("nothing acknowledged after the fault healed") }
        if !problems.isEmpty {
            summary = ScenarioSummary.make(
                name: name, status: .failed, message: problems.joined(separator: " | "), history: history, check: check)
        }
        return ScenarioResult(summary: summary, problems: problems, clientLogTail: Array(producer.log.lines.suffix(10)))
    }
}
