import RunnelLog
import RunnelMetadata
import Synchronization

/// The partitions this broker hosts, kept equal to what the metadata image assigns to it: logs are
/// opened for new replicas and deleted with their topics. Reconciles from whole images, newest wins.
final class PartitionRegistry: Sendable {
    private struct State {
        var partitions: [TopicPartition: Partition] = [:]
        var appliedCount: Int64 = -1
    }

    private let state = Mutex(State())
    private let logs: LogManager
    private let nodeID: BrokerID
    private let topicDefaults: [String: String]
    private let waitersMax: Int
    private let nowMs: @Sendable () -> Int64
    private let metrics: BrokerMetrics

    init(logs: LogManager, nodeID: BrokerID, topicDefaults: [String: String], waitersMax: Int, metrics: BrokerMetrics,
         nowMs: @escaping @Sendable () -> Int64) {
        self.metrics = metrics
        self.logs = logs
        self.nodeID = nodeID
        self.topicDefaults = topicDefaults
        self.waitersMax = waitersMax
        self.nowMs = nowMs
    }

    func partition(_ tp: TopicPartition) -> Partition? { state.withLock { $0.partitions[tp] } }
    var all: [Partition] { state.withLock { Array($0.partitions.values) } }

    func settings(for topic: String, in image: MetadataImage) -> TopicSettings {
        TopicSettings(overrides: image.configOverrides(ConfigResource(.topic, topic)), brokerDefaults: topicDefaults)
    }

    static func logConfig(_ settings: TopicSettings) -> LogConfig {
        LogConfig(
            segmentBytesMax: Int(min(max(settings.segmentBytes, 1024), Int64(Int32.max))),
            segmentMs: max(settings.segmentMs, 1),
            retentionMs: settings.cleanupPolicyDelete && settings.retentionMs >= 0 ? settings.retentionMs : nil,
            retentionBytes: settings.cleanupPolicyDelete && settings.retentionBytes >= 0 ? settings.retentionBytes : nil,
            indexIntervalBytes: max(settings.indexIntervalBytes, 1),
            cleanupPolicy: (settings.cleanupPolicyDelete ? CleanupPolicy.delete : []).union(settings.cleanupPolicyCompact ? .compact : []),
            deleteRetentionMs: max(settings.deleteRetentionMs, 0), minCompactionLagMs: max(settings.minCompactionLagMs, 0),
            minCleanableDirtyRatio: settings.minCleanableDirtyRatio.isNaN ? 0.5 : min(max(settings.minCleanableDirtyRatio, 0), 1))
    }

    /// Opens, updates and deletes partition logs to match `image`. Serialised; an image older than one
    /// already applied is ignored, so observers racing each other cannot resurrect a deleted topic.
    func reconcile(with image: MetadataImage) throws {
        try state.withLock { s throws in
            guard image.appliedCount > s.appliedCount else { return }
            s.appliedCount = image.appliedCount
            var wanted: Set<TopicPartition> = []
            for topic in image.topics.values {
                let settings = settings(for: topic.name, in: image)
                for (index, metadata) in topic.partitions where metadata.replicas.contains(nodeID) {
                    let tp = TopicPartition(topic.name, index)
                    wanted.insert(tp)
                    if let existing = s.partitions[tp], existing.topicID == topic.id {
                        existing.log.updateConfig(Self.logConfig(settings))
                        try existing.update(metadata: metadata, settings: settings)
                        continue
                    }
                    if let stale = s.partitions.removeValue(forKey: tp) { try remove(stale) }
                    let directory = PartitionDirectory(topic: topic.name, partition: index, topicID: TopicUUID(high: topic.id.high, low: topic.id.low))
                    let log = try logs.openOrCreate(directory, config: Self.logConfig(settings), nowMs: nowMs())
                    let partition = Partition(topicPartition: tp, topicID: topic.id, nodeID: nodeID, log: log,
                                              metadata: metadata, settings: settings, waitersMax: waitersMax, metrics: metrics)
                    try partition.update(metadata: metadata, settings: settings)
                    s.partitions[tp] = partition
                }
            }
            for (tp, partition) in s.partitions where !wanted.contains(tp) {
                s.partitions[tp] = nil
                try remove(partition)
            }
            // Directories of topics deleted while the broker was down.
            let known = Set(s.partitions.values.map { PartitionDirectory(topic: $0.topicPartition.topic, partition: $0.topicPartition.partition, topicID: TopicUUID(high: $0.topicID.high, low: $0.topicID.low)) })
            for directory in try logs.existingPartitions() where !known.contains(directory) {
                try logs.delete(directory)
            }
            metrics.forgetTopics(notIn: Set(image.topics.values.map(\.name)))
        }
    }

    private func remove(_ partition: Partition) throws {
        partition.markDeleted()
        metrics.forgetPartition(partition.topicPartition)
        try logs.delete(PartitionDirectory(
            topic: partition.topicPartition.topic, partition: partition.topicPartition.partition,
            topicID: TopicUUID(high: partition.topicID.high, low: partition.topicID.low)))
    }

    func closeAll() {
        state.withLock { s in
            for partition in s.partitions.values { try? partition.log.writeCheckpoints() }
        }
        logs.closeAll()
    }
}
