import Logging
import NIOCore
import RunnelGroups
import RunnelLog
import RunnelMetadata
import RunnelRecords

/// The internal topic that holds the group coordinator's records (committed offsets, group metadata):
/// written through the normal append path, compacted, and read back in full when the broker starts.
enum OffsetsTopic {
    static let name = "__consumer_offsets"
    /// One partition: every group is coordinated by this one node.
    static let partition = RunnelMetadata.TopicPartition(name, 0)
    static let configs = ["cleanup.policy": "compact"]
    /// Bytes read per step while loading.
    static let loadReadBytes = 1 << 20
    /// How long a write may wait for the high watermark before the request fails.
    static let writeTimeoutMs: Int64 = 30_000
}

extension Broker {
    /// Creates the offsets topic through the metadata log if it is missing, and returns its partition.
    func ensureOffsetsPartition() async throws -> Partition {
        if metadata.image.topic(named: OffsetsTopic.name) == nil {
            let controller = self.controller, live = liveBrokers, settings = self.settings
            _ = try await metadata.submit { image in
                guard image.topic(named: OffsetsTopic.name) == nil else { return [] }
                var generator = SystemRandomNumberGenerator()
                // Like Kafka's `offsets.topic.replication.factor`, capped by the brokers there are.
                let factor = Int16(min(Int(settings.offsetsTopicReplicationFactor), max(live.count, 1)))
                return try controller.createTopic(
                    TopicSpec(name: OffsetsTopic.name, partitions: 1, replicationFactor: factor, configs: OffsetsTopic.configs),
                    in: image, liveBrokers: live, using: &generator)
            }
            try partitions.reconcile(with: metadata.image)
        }
        guard let partition = partitions.partition(OffsetsTopic.partition) else {
            throw BrokerError(.coordinatorNotAvailable, "the offsets topic has no local partition")
        }
        return partition
    }

    /// Every readable group record in the offsets partition, in log order (what `GroupCoordinatorCore.load`
    /// wants). Unreadable records are skipped and logged (`GroupRecordScan`).
    static func readGroupRecords(_ partition: Partition, logger: Logger) throws -> [GroupRecord] {
        var scan = GroupRecordScan()
        var offset = partition.log.logStartOffset
        let end = partition.log.logEndOffset
        while offset < end {
            let read = try partition.log.read(from: offset, maxBytes: OffsetsTopic.loadReadBytes, upTo: end)
            // A read with no batch, or one that does not move forward, ends the walk rather than looping.
            guard let next = try scan.scan(read.records, from: offset), next > offset else { break }
            offset = next
        }
        scan.report(to: logger, topic: OffsetsTopic.name)
        return scan.records
    }

    /// Appends in the caller's order; the returned wait ends true once the high watermark passed them.
    func groupRecordWriter(_ partition: Partition) -> GroupRecordWriter {
        let nowMs = self.nowMs, logger = self.logger
        return GroupRecordWriter { records in
            let end: Int64
            do {
                end = try Self.appendGroupRecords(records, to: partition, nowMs: nowMs())
            } catch {
                return { false }
            }
            return { [weak self] in
                guard let self else { return false }
                return await self.waitForHighWatermark(partition, atLeast: end, timeoutMs: OffsetsTopic.writeTimeoutMs) == nil
            }
        } readAll: {
            guard !partition.isDeleted else { throw BrokerError(.notCoordinator, "\(OffsetsTopic.name) was deleted") }
            return try Self.readGroupRecords(partition, logger: logger)
        } reopen: { [weak self] in
            guard let self else { throw BrokerError(.coordinatorNotAvailable, "the broker stopped") }
            let reopened = try await self.ensureOffsetsPartition()
            let records = try Self.readGroupRecords(reopened, logger: self.logger)
            self.logger.warning("group coordinator reopened \(OffsetsTopic.name) with \(records.count) records")
            return (records, self.groupRecordWriter(reopened))
        }
    }

    /// Appends the records as one batch; returns the offset the high watermark must reach.
    static func appendGroupRecords(_ records: [GroupRecord], to partition: Partition, nowMs: Int64) throws -> Int64 {
        var builder = RecordBatchBuilder()
        for record in records {
            let (key, value) = record.encoded()
            builder.append(key: key, value: value, timestampMs: nowMs)
        }
        let info = try partition.appendAsLeader(try builder.build(), nowMs: nowMs)
        return info.lastOffset + 1
    }
}
