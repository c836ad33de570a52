import Logging
import RunnelLog
import RunnelMetadata
import RunnelWire
import Synchronization

/// The partitions this broker hosts, kept equal to what the metadata image assigns to it: logs are
/// opened for new replicas and deleted with their topics. Reconciles from whole images, newest wins.
/// A partition whose log cannot be opened is logged and left offline; the others carry on. At the first
/// image, directories it does not name are set aside as stray, never deleted.
final class PartitionRegistry: Sendable {
    private struct State {
        var partitions: [TopicPartition: Partition] = [:]
        /// Why each partition the image assigns here has no open log.
        var offline: [TopicPartition: OfflineLog] = [:]
        var appliedCount: Int64 = -1
        var diskScanned = false
    }

    /// A partition the image assigns here whose log did not open.
    struct OfflineLog: Sendable {
        let topicID: TopicID
        let reason: String
        /// Damaged durable data (`LogError.corrupt`) stays offline until a restart: scanning it again at
        /// every image would cost a full recovery each time for the same answer. Other failures (a
        /// directory that cannot be made, descriptors running out) are tried again at the next image.
        let retries: Bool
    }

    private let state = Mutex(State())
    private let logs: LogManager
    private let nodeID: BrokerID
    private let topicDefaults: [String: String]
    private let waitersMax: Int
    private let nowMs: @Sendable () -> Int64
    private let metrics: BrokerMetrics
    private let logger: Logger

    init(logs: LogManager, nodeID: BrokerID, topicDefaults: [String: String], waitersMax: Int, metrics: BrokerMetrics,
         logger: Logger, nowMs: @escaping @Sendable () -> Int64) {
        self.metrics = metrics
        self.logs = logs
        self.nodeID = nodeID
        self.topicDefaults = topicDefaults
        self.waitersMax = waitersMax
        self.logger = logger
        self.nowMs = nowMs
    }

    func partition(_ tp: TopicPartition) -> Partition? { state.withLock { $0.partitions[tp] } }

    /// The error for a partition there is no log to serve: KAFKA_STORAGE_ERROR when the image assigns it
    /// here but its log is offline (as Kafka answers for an offline log directory; clients retry and
    /// refresh metadata), UNKNOWN_TOPIC_OR_PARTITION when this broker does not host it.
    func absenceError(_ tp: TopicPartition) -> ErrorCode {
        state.withLock { $0.offline[tp] != nil } ? .kafkaStorageError : .unknownTopicOrPartition
    }
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

    static func directory(_ tp: TopicPartition, _ id: TopicID) -> PartitionDirectory {
        PartitionDirectory(topic: tp.topic, partition: tp.partition, topicID: TopicUUID(high: id.high, low: id.low))
    }

    /// Opens, updates and deletes partition logs to match `image`. Serialised; an image older than one
    /// already applied is ignored, so observers racing each other cannot resurrect a deleted topic.
    /// Throws only when the data directory itself cannot be read at the first image.
    func reconcile(with image: MetadataImage) throws {
        try state.withLock { s throws in
            guard image.appliedCount > s.appliedCount else { return }
            s.appliedCount = image.appliedCount
            if !s.diskScanned {
                try adoptDirectories(of: image)
                s.diskScanned = true
            }
            var wanted: Set<TopicPartition> = []
            for topic in image.topics.values {
                let settings = settings(for: topic.name, in: image)
                for (index, metadata) in topic.partitions where metadata.replicas.contains(nodeID) {
                    let tp = TopicPartition(topic.name, index)
                    wanted.insert(tp)
                    if let existing = s.partitions[tp], existing.topicID == topic.id {
                        existing.log.updateConfig(Self.logConfig(settings))
                        do { try existing.update(metadata: metadata, settings: settings) } catch {
                            logger.error("updating \(tp) failed: \(error)")
                        }
                        continue
                    }
                    if let offline = s.offline[tp], offline.topicID == topic.id, !offline.retries { continue }
                    if let stale = s.partitions.removeValue(forKey: tp) { remove(stale) }
                    do {
                        let log = try logs.openOrCreate(Self.directory(tp, topic.id), config: Self.logConfig(settings), nowMs: nowMs())
                        let partition = Partition(topicPartition: tp, topicID: topic.id, nodeID: nodeID, log: log,
                                                  metadata: metadata, settings: settings, waitersMax: waitersMax, metrics: metrics)
                        try partition.update(metadata: metadata, settings: settings)
                        s.partitions[tp] = partition
                        if s.offline.removeValue(forKey: tp) != nil { logger.info("partition \(tp) is online") }
                    } catch {
                        if s.offline[tp] == nil { logger.error("partition \(tp) is offline: its log cannot be opened: \(error)") }
                        let corrupt = if case LogError.corrupt = error { true } else { false }
                        s.offline[tp] = OfflineLog(topicID: topic.id, reason: "\(error)", retries: !corrupt)
                    }
                }
            }
            for (tp, partition) in s.partitions where !wanted.contains(tp) {
                s.partitions[tp] = nil
                remove(partition)
            }
            s.offline = s.offline.filter { wanted.contains($0.key) }
            metrics.forgetTopics(notIn: Set(image.topics.values.map(\.name)))
        }
    }

    /// At start: finishes interrupted deletions, migrates the old directory layout, and sets aside as
    /// stray every partition directory the image does not assign here under the same topic id, as KRaft
    /// brokers do: a missing or stale metadata snapshot costs no data. (In a cluster this must wait
    /// until the broker's metadata has caught up with the log.)
    private func adoptDirectories(of image: MetadataImage) throws {
        for name in try logs.removeInterruptedDeletions() { logger.info("removed \(name), a deletion interrupted by a crash") }
        for rename in try logs.migrateLegacyDirectories() { logger.notice("migrated partition directory \(rename.from) to \(rename.to)") }
        for found in try logs.existingPartitions() {
            let topic = image.topic(named: found.topic)
            let assigned = topic?.partitions[found.partition]?.replicas.contains(nodeID) == true
            let sameTopic = found.topicID.map { id in topic.map { TopicUUID(high: $0.id.high, low: $0.id.low) == id } ?? false } ?? true
            guard !assigned || !sameTopic else { continue }
            do {
                let rename = try logs.setAsideAsStray(found)
                logger.warning("partition directory \(rename.from) is not in the metadata (topic id \(found.topicID?.base64 ?? "unknown")): renamed to \(rename.to), not deleted")
            } catch {
                logger.error("partition directory \(found.name) is not in the metadata and could not be set aside (left as it is): \(error)")
            }
        }
    }

    /// Deletes the log of a partition the metadata removed (deleted topic, replica moved away).
    private func remove(_ partition: Partition) {
        partition.markDeleted()
        metrics.forgetPartition(partition.topicPartition)
        do { try logs.delete(Self.directory(partition.topicPartition, partition.topicID)) } catch {
            logger.error("deleting the log of \(partition.topicPartition) failed: \(error)")
        }
    }

    func closeAll() {
        state.withLock { s in
            for partition in s.partitions.values { try? partition.log.writeCheckpoints() }
        }
        logs.closeAll()
    }
}
