import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import RunnelBroker

/// `serve`'s group coordinator options, each also settable by its `RUNNEL_*` variable (the option wins).
struct GroupServeOptions: ParsableArguments {
    @Option(help: "How long a new group waits for more members before its first rebalance (RUNNEL_GROUP_INITIAL_REBALANCE_DELAY_MS, default 3000).")
    var groupInitialRebalanceDelayMs: String?
    @Option(help: "Smallest session timeout a member may ask for (RUNNEL_GROUP_MIN_SESSION_TIMEOUT_MS, default 6000).")
    var groupMinSessionTimeoutMs: String?
    @Option(help: "Largest session timeout a member may ask for (RUNNEL_GROUP_MAX_SESSION_TIMEOUT_MS, default 1800000).")
    var groupMaxSessionTimeoutMs: String?
    @Option(help: "Committed offsets of an empty group are kept this long (RUNNEL_OFFSETS_RETENTION_MINUTES, default 10080).")
    var offsetsRetentionMinutes: String?
    @Option(help: "Replicas of __consumer_offsets, capped by the live brokers (RUNNEL_OFFSETS_TOPIC_REPLICATION_FACTOR, default 3).")
    var offsetsTopicReplicationFactor: String?

    /// Reads each option, else its environment variable, else the default; checks ranges.
    func resolve(environment: [String: String]) throws(ServeOptionError) -> GroupServeSettings {
        var values = GroupServeSettings()
        values.initialRebalanceDelayMs = try Self.integer(
            groupInitialRebalanceDelayMs, "group-initial-rebalance-delay-ms", environment, default: values.initialRebalanceDelayMs, range: 0...Int64(Int32.max))
        values.sessionTimeoutMsMin = try Self.integer(
            groupMinSessionTimeoutMs, "group-min-session-timeout-ms", environment, default: values.sessionTimeoutMsMin, range: 1...Int32.max)
        values.sessionTimeoutMsMax = try Self.integer(
            groupMaxSessionTimeoutMs, "group-max-session-timeout-ms", environment, default: values.sessionTimeoutMsMax, range: 1...Int32.max)
        values.offsetsRetentionMinutes = try Self.integer(
            offsetsRetentionMinutes, "offsets-retention-minutes", environment, default: values.offsetsRetentionMinutes,
            range: 1...(Int64.max / 60_000))
        values.offsetsTopicReplicationFactor = try Self.integer(
            offsetsTopicReplicationFactor, "offsets-topic-replication-factor", environment,
            default: values.offsetsTopicReplicationFactor, range: 1...Int16.max)
        guard values.sessionTimeoutMsMin <= values.sessionTimeoutMsMax else {
            throw ServeOptionError(
                "--group-min-session-timeout-ms \(values.sessionTimeoutMsMin) is above --group-max-session-timeout-ms \(values.sessionTimeoutMsMax)")
        }
        return values
    }

    /// The flag's text, else `RUNNEL_<NAME>` (empty counts as unset), parsed and range-checked.
    static func integer<Value: FixedWidthInteger>(
        _ flag: String?, _ name: String, _ environment: [String: String], default fallback: Value, range: ClosedRange<Value>
    ) throws(ServeOptionError) -> Value {
        let variable = "RUNNEL_" + String(name.uppercased().map { $0 == "-" ? "_" : $0 })
        let text = flag ?? environment[variable].flatMap { $0.isEmpty ? nil : $0 }
        guard let text else { return fallback }
        var trimmed = Substring(text)
        while trimmed.first?.isWhitespace == true { trimmed.removeFirst() }
        while trimmed.last?.isWhitespace == true { trimmed.removeLast() }
        guard let value = Value(trimmed), range.contains(value) else {
            throw ServeOptionError("--\(name) (\(variable)): '\(text)' is not an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }
}

/// A serve option group's value that cannot be used; `serve` exits with code 2 and this message.
struct ServeOptionError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// The resolved group coordinator settings, with Kafka's defaults.
struct GroupServeSettings: Equatable {
    var initialRebalanceDelayMs: Int64 = 3000
    var sessionTimeoutMsMin: Int32 = 6000
    var sessionTimeoutMsMax: Int32 = 1_800_000
    var offsetsRetentionMinutes: Int64 = 10_080
    var offsetsTopicReplicationFactor: Int16 = 3

    func apply(to settings: inout BrokerSettings) {
        settings.groupInitialRebalanceDelayMs = initialRebalanceDelayMs
        settings.groupSessionTimeoutMsMin = sessionTimeoutMsMin
        settings.groupSessionTimeoutMsMax = sessionTimeoutMsMax
        settings.offsetsRetentionMs = offsetsRetentionMinutes * 60_000
        settings.offsetsTopicReplicationFactor = offsetsTopicReplicationFactor
    }
}
