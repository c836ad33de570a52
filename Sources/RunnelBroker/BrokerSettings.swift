import RunnelLog
import RunnelMetadata

/// What the broker needs to know about itself; the CLI builds it from flags and `RUNNEL_*` variables.
public struct BrokerSettings: Sendable {
    public var nodeID: BrokerID
    /// nil: keep the cluster id the data directory has, or make one on first start.
    public var clusterID: String?
    public var dataDirectory: String
    /// The addresses clients are told to use, per listener name.
    public var advertisedEndpoints: [Endpoint]
    /// The listener other brokers use (replication, Raft); Kafka's `inter.broker.listener.name`.
    public var interBrokerListener: String?
    public var defaultPartitions: Int32 = 1
    /// `default.replication.factor`; topics get min(this, live brokers).
    public var defaultReplicationFactor: Int16 = 3
    public var autoCreateTopics = true
    /// The most partition replicas this broker hosts; nil: what its file-descriptor limit allows
    /// (`DescriptorBudget`). Creates past it are refused with POLICY_VIOLATION.
    public var partitionsPerBrokerMax: Int?
    /// The most topics the cluster holds; nil: as many as `partitionsPerBrokerMax` (or its derived value).
    public var topicsMax: Int?
    /// Broker-level topic defaults by Kafka's broker config name (`log.retention.ms`, `log.segment.bytes`,
    /// `min.insync.replicas`, `message.max.bytes`, …): the synonyms DescribeConfigs reports.
    public var topicDefaults: [String: String] = [:]
    /// How often retention runs (Kafka's `log.retention.check.interval.ms`, default 5 min).
    public var retentionCheckIntervalMs: Int64 = 300_000
    /// How long the log cleaner waits between passes over the compacted partitions
    /// (Kafka's `log.cleaner.backoff.ms`).
    public var logCleanerBackoffMs: Int64 = 15_000
    /// Per-pass bounds of the log cleaner (dirty bytes read, offset map size).
    public var cleanerLimits = CleanerLimits()
    /// The most bytes the broker inflates compressed records to: per produced partition (validating
    /// them; a bomb gets MESSAGE_TOO_LARGE), per batch for ListOffsets by timestamp and in the cleaner
    /// (which keeps a larger batch whole). A broker setting, so no topic config (`max.message.bytes`)
    /// raises it; one value, kept in `cleanerLimits`.
    public var uncompressedBatchBytesMax: Int {
        get { cleanerLimits.uncompressedBatchBytesMax }
        set { cleanerLimits.uncompressedBatchBytesMax = newValue }
    }
    /// How often high-watermark and recovery checkpoints are written.
    public var checkpointIntervalMs: Int64 = 5_000
    /// The most bytes one fetch response may carry, whatever the client asks (`fetch.max.bytes`).
    public var fetchBytesMax: Int32 = 55 * 1024 * 1024
    /// Limits on fetch sessions (`max.incremental.fetch.session.cache.slots`) and parked requests.
    public var fetchSessionsMax = 1000
    public var waitersMax = 100_000
    /// `group.initial.rebalance.delay.ms`: how long a new group waits for more members before its first rebalance.
    public var groupInitialRebalanceDelayMs: Int64 = 3000
    /// `group.min.session.timeout.ms` / `group.max.session.timeout.ms`: the session timeouts members may ask for.
    public var groupSessionTimeoutMsMin: Int32 = 6000
    public var groupSessionTimeoutMsMax: Int32 = 1_800_000
    /// `offsets.retention.minutes` (default 7 days) in milliseconds.
    public var offsetsRetentionMs: Int64 = 7 * 24 * 60 * 60 * 1000
    /// `offsets.topic.replication.factor`; the offsets topic gets min(this, live brokers).
    public var offsetsTopicReplicationFactor: Int16 = 3

    public init(nodeID: BrokerID, clusterID: String?, dataDirectory: String, advertisedEndpoints: [Endpoint]) {
        self.nodeID = nodeID
        self.clusterID = clusterID
        self.dataDirectory = dataDirectory
        self.advertisedEndpoints = advertisedEndpoints
    }
}
