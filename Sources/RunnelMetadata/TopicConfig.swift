/// The topic-level configs we honour, with Kafka's names, types and defaults, and the broker-level
/// setting each falls back to (`log.retention.ms` for `retention.ms`, …).
public struct TopicConfigDefinition: Sendable {
    public enum Kind: Sendable { case boolean, int, long, double, string, list }
    public let name: String
    public let kind: Kind
    public let defaultValue: String
    /// The broker config that supplies the default when set (Kafka's "synonym").
    public let brokerSynonym: String?
    let check: @Sendable (String) -> Bool
}

public enum TopicConfig {
    public static let definitions: [TopicConfigDefinition] = [
        def("cleanup.policy", .list, "delete", "log.cleanup.policy") { v in
            let parts = v.split(separator: ",").map { $0.trimmingWhitespace }
            return !parts.isEmpty && parts.allSatisfy { $0 == "delete" || $0 == "compact" }
        },
        def("compression.type", .string, "producer", "compression.type") {
            ["producer", "uncompressed", "gzip", "snappy", "lz4", "zstd"].contains($0)
        },
        def("delete.retention.ms", .long, "86400000", "log.cleaner.delete.retention.ms") { long($0, atLeast: 0) },
        def("flush.messages", .long, "9223372036854775807", "log.flush.interval.messages") { long($0, atLeast: 1) },
        def("flush.ms", .long, "9223372036854775807", "log.flush.interval.ms") { long($0, atLeast: 0) },
        def("index.interval.bytes", .int, "4096", "log.index.interval.bytes") { int($0, atLeast: 0) },
        def("max.compaction.lag.ms", .long, "9223372036854775807", "log.cleaner.max.compaction.lag.ms") { long($0, atLeast: 1) },
        def("max.message.bytes", .int, "1048588", "message.max.bytes") { int($0, atLeast: 0) },
        def("message.timestamp.type", .string, "CreateTime", "log.message.timestamp.type") {
            $0 == "CreateTime" || $0 == "LogAppendTime"
        },
        def("min.cleanable.dirty.ratio", .double, "0.5", "log.cleaner.min.cleanable.ratio") {
            Double($0).map { $0 >= 0 && $0 <= 1 } ?? false
        },
        def("min.compaction.lag.ms", .long, "0", "log.cleaner.min.compaction.lag.ms") { long($0, atLeast: 0) },
        def("min.insync.replicas", .int, "1", "min.insync.replicas") { int($0, atLeast: 1) },
        def("preallocate", .boolean, "false", "log.preallocate") { $0 == "true" || $0 == "false" },
        def("retention.bytes", .long, "-1", "log.retention.bytes") { long($0, atLeast: -1) },
        def("retention.ms", .long, "604800000", "log.retention.ms") { long($0, atLeast: -1) },
        def("segment.bytes", .int, "1073741824", "log.segment.bytes") { int($0, atLeast: 14) },
        def("segment.index.bytes", .int, "10485760", "log.index.size.max.bytes") { int($0, atLeast: 4) },
        def("segment.jitter.ms", .long, "0", "log.roll.jitter.ms") { long($0, atLeast: 0) },
        def("segment.ms", .long, "604800000", "log.roll.ms") { long($0, atLeast: 1) },
        def("unclean.leader.election.enable", .boolean, "false", "unclean.leader.election.enable") {
            $0 == "true" || $0 == "false"
        },
    ]

    public static let byName: [String: TopicConfigDefinition] = Dictionary(
        uniqueKeysWithValues: definitions.map { ($0.name, $0) })

    /// nil when valid; otherwise a message for the client (INVALID_CONFIG).
    public static func validate(name: String, value: String?) -> String? {
        guard let definition = byName[name] else { return "Unknown topic config name: \(name)" }
        guard let value else { return nil }
        return definition.check(value) ? nil : "Invalid value \(value) for configuration \(name)"
    }

    private static func def(
        _ name: String, _ kind: TopicConfigDefinition.Kind, _ value: String, _ synonym: String?,
        _ check: @escaping @Sendable (String) -> Bool
    ) -> TopicConfigDefinition {
        TopicConfigDefinition(name: name, kind: kind, defaultValue: value, brokerSynonym: synonym, check: check)
    }

    private static func long(_ s: String, atLeast minimum: Int64) -> Bool { Int64(s).map { $0 >= minimum } ?? false }
    private static func int(_ s: String, atLeast minimum: Int32) -> Bool { Int32(s).map { $0 >= minimum } ?? false }
}

/// Where an effective config value came from, as DescribeConfigs reports it.
public enum ConfigSource: Int8, Sendable {
    case topicOverride = 1
    case staticBrokerConfig = 4
    case defaultConfig = 5
}

/// The typed settings of one topic that the log and the broker act on.
public struct TopicSettings: Hashable, Sendable {
    public var cleanupPolicyCompact = false
    public var cleanupPolicyDelete = true
    public var retentionMs: Int64 = 604_800_000
    public var retentionBytes: Int64 = -1
    public var segmentBytes: Int64 = 1_073_741_824
    public var segmentMs: Int64 = 604_800_000
    public var indexIntervalBytes: Int = 4096
    public var maxMessageBytes: Int = 1_048_588
    public var minInsyncReplicas: Int = 1
    public var logAppendTime = false
    public var deleteRetentionMs: Int64 = 86_400_000
    public var minCompactionLagMs: Int64 = 0
    public var minCleanableDirtyRatio: Double = 0.5
    public var uncleanLeaderElection = false

    public init() {}

    /// The effective value of each config: topic override, else broker setting, else Kafka's default.
    public static func effective(overrides: [String: String], brokerDefaults: [String: String]) -> [String: (value: String, source: ConfigSource)] {
        var out: [String: (value: String, source: ConfigSource)] = [:]
        for definition in TopicConfig.definitions {
            if let value = overrides[definition.name] {
                out[definition.name] = (value, .topicOverride)
            } else if let synonym = definition.brokerSynonym, let value = brokerDefaults[synonym] {
                out[definition.name] = (value, .staticBrokerConfig)
            } else {
                out[definition.name] = (definition.defaultValue, .defaultConfig)
            }
        }
        return out
    }

    public init(overrides: [String: String], brokerDefaults: [String: String]) {
        let values = Self.effective(overrides: overrides, brokerDefaults: brokerDefaults).mapValues(\.value)
        let policy = values["cleanup.policy"]!.split(separator: ",").map { $0.trimmingWhitespace }
        cleanupPolicyCompact = policy.contains("compact")
        cleanupPolicyDelete = policy.contains("delete")
        retentionMs = Int64(values["retention.ms"]!) ?? retentionMs
        retentionBytes = Int64(values["retention.bytes"]!) ?? retentionBytes
        segmentBytes = Int64(values["segment.bytes"]!) ?? segmentBytes
        segmentMs = Int64(values["segment.ms"]!) ?? segmentMs
        indexIntervalBytes = Int(values["index.interval.bytes"]!) ?? indexIntervalBytes
        maxMessageBytes = Int(values["max.message.bytes"]!) ?? maxMessageBytes
        minInsyncReplicas = Int(values["min.insync.replicas"]!) ?? minInsyncReplicas
        logAppendTime = values["message.timestamp.type"] == "LogAppendTime"
        deleteRetentionMs = Int64(values["delete.retention.ms"]!) ?? deleteRetentionMs
        minCompactionLagMs = Int64(values["min.compaction.lag.ms"]!) ?? minCompactionLagMs
        minCleanableDirtyRatio = Double(values["min.cleanable.dirty.ratio"]!) ?? minCleanableDirtyRatio
        uncleanLeaderElection = values["unclean.leader.election.enable"] == "true"
    }
}

extension Substring {
    var trimmingWhitespace: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
