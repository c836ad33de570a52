/// Topic settings used when a request does not say: Kafka's `num.partitions`,
/// `default.replication.factor`, `auto.create.topics.enable`, `log.segment.bytes`,
/// `log.retention.ms` and `min.insync.replicas`.
public struct TopicDefaults: Sendable, Equatable {
    public var partitionCount: Int32
    public var replicationFactor: Int16
    public var autoCreateTopics: Bool
    public var segmentBytes: Int64
    /// -1 keeps data forever, as in Kafka.
    public var retentionMs: Int64
    public var minInsyncReplicas: Int32

    public init(
        partitionCount: Int32 = 1,
        replicationFactor: Int16 = 3,
        autoCreateTopics: Bool = true,
        segmentBytes: Int64 = 1024 * 1024 * 1024,
        retentionMs: Int64 = 7 * 24 * 60 * 60 * 1000,
        minInsyncReplicas: Int32 = 1
    ) {
        self.partitionCount = partitionCount
        self.replicationFactor = replicationFactor
        self.autoCreateTopics = autoCreateTopics
        self.segmentBytes = segmentBytes
        self.retentionMs = retentionMs
        self.minInsyncReplicas = minInsyncReplicas
    }

    public func validate() throws(ConfigError) {
        if partitionCount < 1 {
            throw ConfigError("num partitions: \(partitionCount) must be at least 1")
        }
        if replicationFactor < 1 {
            throw ConfigError("default replication factor: \(replicationFactor) must be at least 1")
        }
        // Kafka's floor: one legacy record's overhead must fit in a segment.
        if segmentBytes < 14 || segmentBytes > Int64(Int32.max) {
            throw ConfigError("log segment bytes: \(segmentBytes) must be from 14 to \(Int32.max)")
        }
        if retentionMs < -1 {
            throw ConfigError("log retention ms: \(retentionMs) must be -1 (forever) or more")
        }
        if minInsyncReplicas < 1 {
            throw ConfigError("min insync replicas: \(minInsyncReplicas) must be at least 1")
        }
    }
}

/// The whole configuration of one broker process, as `runnel serve` assembles it from flags and
/// `RUNNEL_*` environment variables.
public struct BrokerConfig: Sendable, Equatable {
    public var nodeId: Int32
    /// nil: the broker keeps the one in its data directory, or makes one on first start.
    public var clusterId: String?
    public var dataDir: String
    public var network: NetworkConfig
    public var topicDefaults: TopicDefaults
    /// The most partition replicas this broker hosts and topics the cluster holds; nil: derived from
    /// the file descriptor limit at start (three descriptors per segment).
    public var partitionsPerBrokerMax: Int?
    public var topicsMax: Int?

    public init(
        nodeId: Int32 = 1,
        clusterId: String? = nil,
        dataDir: String,
        network: NetworkConfig,
        topicDefaults: TopicDefaults = TopicDefaults(),
        partitionsPerBrokerMax: Int? = nil,
        topicsMax: Int? = nil
    ) {
        self.nodeId = nodeId
        self.clusterId = clusterId
        self.dataDir = dataDir
        self.network = network
        self.topicDefaults = topicDefaults
        self.partitionsPerBrokerMax = partitionsPerBrokerMax
        self.topicsMax = topicsMax
    }

    public func validate() throws(ConfigError) {
        if nodeId < 0 {
            throw ConfigError("node id: \(nodeId) must not be negative")
        }
        if let clusterId, clusterId.isEmpty || clusterId.contains(where: { $0.isWhitespace }) {
            throw ConfigError("cluster id: '\(clusterId)' must be non-empty and without spaces")
        }
        if dataDir.isEmpty {
            throw ConfigError("data dir: must not be empty")
        }
        for (name, value) in [("partitions per broker max", partitionsPerBrokerMax), ("topics max", topicsMax)] {
            if let value, value < 1 { throw ConfigError("\(name): \(value) must be at least 1, or -1 to derive it from the file descriptor limit") }
        }
        try network.validate()
        try topicDefaults.validate()
    }
}
