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

    /// Every group record in the offsets partition, in log order (what `GroupCoordinatorCore.load` wants).
    static func readGroupRecords(_ partition: Partition) throws -> [GroupRecord] {
        var records: [GroupRecord] = []
        var offset = partition.log.logStartOffset
        let end = partition.log.logEndOffset
        while offset < end {
            let read = try partition.log.read(from: offset, maxBytes: OffsetsTopic.loadReadBytes, upTo: end)
            let batches = try RecordBatch.decodeAll(in: read.records, maxUncompressedBytes: 64 << 20)
            guard let last = batches.last else { break }
            for batch in batches {
                for record in batch.records where record.offset >= offset {
                    guard let key = record.key, let decoded = GroupRecord.decode(key: key, value: record.value) else { continue }
                    records.append(decoded)
                }
            }
            offset = last.header.nextOffset
        }
        return records
    }

    /// Appends in the caller's order; the returned wait ends true once the high watermark passed them.
    func groupRecordWriter(_ partition: Partition) -> GroupRecordWriter {
        let nowMs = self.nowMs
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
            return try Self.readGroupRecords(partition)
        } reopen: { [weak self] in
            guard let self else { throw BrokerError(.coordinatorNotAvailable, "the broker stopped") }
            let reopened = try await self.ensureOffsetsPartition()
            let records = try Self.readGroupRecords(reopened)
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
