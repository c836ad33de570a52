/// One broker setting as an operator types it: a command-line flag and a `RUNNEL_*` environment
/// variable. The flag wins over the variable; the variable over the default.
public enum Setting: String, CaseIterable, Sendable {
    case nodeId = "node-id"
    case clusterId = "cluster-id"
    case dataDir = "data-dir"
    case listeners = "listeners"
    case advertisedListeners = "advertised-listeners"
    case kafkaListener = "kafka-listener"
    case advertisedKafkaListener = "advertised-kafka-listener"
    case metricsListener = "metrics-listener"
    case logLevel = "log-level"
    case numPartitions = "num-partitions"
    case defaultReplicationFactor = "default-replication-factor"
    case autoCreateTopicsEnable = "auto-create-topics-enable"
    case logSegmentBytes = "log-segment-bytes"
    case logRetentionMs = "log-retention-ms"
    case minInsyncReplicas = "min-insync-replicas"
    case socketRequestMaxBytes = "socket-request-max-bytes"
    case connectionsMaxIdleMs = "connections-max-idle-ms"
    case maxConnections = "max-connections"
    case maxInFlightRequestsPerConnection = "max-in-flight-requests-per-connection"
    case queuedMaxRequestBytes = "queued-max-request-bytes"
    case shutdownGraceMs = "shutdown-grace-ms"
    case partitionsPerBrokerMax = "partitions-per-broker-max"
    case topicsMax = "topics-max"

    /// `--node-id`
    public var flag: String { "--\(rawValue)" }

    /// `RUNNEL_NODE_ID`
    public var environmentVariable: String {
        "RUNNEL_" + rawValue.uppercased().replacingDashesWithUnderscores()
    }

    /// How error messages name it: `--node-id (RUNNEL_NODE_ID)`.
    public var displayName: String { "\(flag) (\(environmentVariable))" }
}

extension String {
    fileprivate func replacingDashesWithUnderscores() -> String {
        String(map { $0 == "-" ? "_" : $0 })
    }
}

/// The values given for settings, from flags and from the environment, before parsing.
public struct SettingValues: Sendable {
    public var flags: [Setting: String]
    public var environment: [String: String]

    public init(flags: [Setting: String], environment: [String: String]) {
        self.flags = flags
        self.environment = environment
    }

    /// The flag's value, else the environment variable's; nil when neither is set (an empty
    /// environment variable counts as unset, as shells make those easily).
    public func raw(_ setting: Setting) -> String? {
        if let flag = flags[setting] { return flag }
        if let env = environment[setting.environmentVariable], !env.isEmpty { return env }
        return nil
    }

    public func string(_ setting: Setting, default fallback: String) -> String {
        raw(setting) ?? fallback
    }

    public func integer<Value: FixedWidthInteger>(_ setting: Setting, default fallback: Value) throws(ConfigError) -> Value {
        guard let text = raw(setting) else { return fallback }
        guard let value = Value(text.trimmingWhitespace()) else {
            throw ConfigError("\(setting.displayName): '\(text)' is not an integer from \(Value.min) to \(Value.max)")
        }
        return value
    }

    public func bool(_ setting: Setting, default fallback: Bool) throws(ConfigError) -> Bool {
        guard let text = raw(setting) else { return fallback }
        switch text.trimmingWhitespace().lowercased() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw ConfigError("\(setting.displayName): '\(text)' is not true or false")
        }
    }
}
