import NIOCore
import RunnelLog
import RunnelMetadata
import RunnelRecords
import RunnelWire

/// Produce: validate batches (structure, CRC, size) and every record in them (walked in place, or inflated
/// within `settings.uncompressedBatchBytesMax`; stored as sent), append them as the leader, and answer
/// acks=all only once the high watermark passed them — on one node, once they are fsynced. acks=0 gets no
/// answer at all.
extension Broker {
    typealias PartitionProduceResponse = ProduceResponse.PartitionProduceResponse

    /// What is left of a produce once its batches are appended: the acks=all waits.
    struct PendingProduce: Sendable {
        var appended: [(topic: Int, partition: PartitionProduceResponse, waitFor: (Partition, Int64)?)]
        let request: ProduceRequest
        var needsWait: Bool { appended.contains { $0.waitFor != nil } }
    }

    /// Appends in request order (the shell calls this one request at a time per connection), so that a
    /// producer's pipelined batches land in the order sent; the acks=all wait can then overlap with the
    /// next requests.
    func appendProduce(_ request: ProduceRequest, _ context: RequestContext) -> PendingProduce {
        let acks = request.acks
        var failure: (ErrorCode, String)?
        if context.version < ServedApis.produceVersionMin {
            failure = (.unsupportedVersion, "Produce v\(context.version) is not supported; use v3 or later (record batches v2)")
        } else if acks != 0 && acks != 1 && acks != -1 {
            failure = (.invalidRequiredAcks, "acks must be -1, 0 or 1")
        } else if request.transactionalId != nil {
            failure = (.transactionalIdAuthorizationFailed, "transactions are not supported")
        }

        // Append every partition first, so their fsyncs run together; then wait for all of them.
        var appended: [(topic: Int, partition: PartitionProduceResponse, waitFor: (Partition, Int64)?)] = []
        for (topicIndex, topic) in request.topicData.enumerated() {
            for data in topic.partitionData {
                var entry = PartitionProduceResponse()
                entry.index = data.index
                entry.baseOffset = -1
                entry.logAppendTimeMs = -1
                entry.logStartOffset = -1
                if let (code, message) = failure {
                    entry.errorCode = code.rawValue
                    if context.version >= 8 { entry.errorMessage = message }
                    appended.append((topicIndex, entry, nil))
                    continue
                }
                // As Kafka's ReplicaManager: only the broker appends to internal topics, in the format
                // their loaders read back.
                if InternalTopics.isInternal(topic.name) {
                    entry.errorCode = ErrorCode.invalidTopicException.rawValue
                    if context.version >= 8 { entry.errorMessage = "Cannot append to internal topic \(topic.name)" }
                    appended.append((topicIndex, entry, nil))
                    continue
                }
                let tp = TopicPartition(topic.name, data.index)
                do {
                    let (partition, info) = try append(data.records, to: tp, acks: acks, version: context.version)
                    entry.baseOffset = info.firstOffset
                    entry.logStartOffset = partition.log.logStartOffset
                    if partition.settings.logAppendTime { entry.logAppendTimeMs = info.maxTimestamp }
                    appended.append((topicIndex, entry, acks == -1 ? (partition, info.lastOffset + 1) : nil))
                } catch {
                    let (code, message) = errorCodeAndMessage(error)
                    metrics.produceErrors.increment()
                    entry.errorCode = code.rawValue
                    if context.version >= 8 { entry.errorMessage = message }
                    appended.append((topicIndex, entry, nil))
                }
            }
        }
        return PendingProduce(appended: appended, request: request)
    }

    /// Waits for the high watermark where acks=all asked for it, then builds the answer (nil for acks=0).
    func finishProduce(_ pending: PendingProduce) async -> ProduceResponse? {
        var pending = pending
        for i in pending.appended.indices {
            guard let (partition, offset) = pending.appended[i].waitFor else { continue }
            if let code = await waitForHighWatermark(partition, atLeast: offset, timeoutMs: Int64(pending.request.timeoutMs)) {
                pending.appended[i].partition.errorCode = code.rawValue
            }
        }
        return produceResponse(pending)
    }

    /// The answer to a produce whose waits are over (nil for acks=0).
    func produceResponse(_ pending: PendingProduce) -> ProduceResponse? {
        let appended = pending.appended
        let request = pending.request
        guard request.acks != 0 else { return nil }
        var response = ProduceResponse()
        response.responses = request.topicData.enumerated().map { index, topic in
            var entry = ProduceResponse.TopicProduceResponse()
            entry.name = topic.name
            entry.partitionResponses = appended.filter { $0.topic == index }.map(\.partition)
            return entry
        }
        return response
    }

    private func append(_ records: ByteBuffer?, to tp: TopicPartition, acks: Int16, version: Int16) throws -> (Partition, LogAppendInfo) {
        guard let partition = partitions.partition(tp), !partition.isDeleted else {
            throw BrokerError(partitions.absenceError(tp), "This server does not host this topic-partition or its log is offline: \(tp)")
        }
        guard let records, records.readableBytes > 0 else { throw BrokerError(.corruptMessage, "no record batches") }
        let snapshot = partition.snapshot
        guard snapshot.leader == settings.nodeID else { throw BrokerError(.notLeaderOrFollower, "not the leader of \(tp)") }
        let validator = RecordBatchValidator(maxMessageBytes: max(snapshot.settings.maxMessageBytes, RecordBatchHeader.sizeBytes),
                                             uncompressedBytesMax: settings.uncompressedBatchBytesMax,
                                             requiresKeys: snapshot.settings.cleanupPolicyCompact)
        let headers = try validator.validate(records)
        guard headers.count == 1 else {
            throw BrokerError(.invalidRecord, "Produce v3+ carries exactly one record batch per partition, not \(headers.count)")
        }
        if headers[0].codec == .zstd && version < 7 {
            throw BrokerError(.unsupportedCompressionType, "zstd needs Produce v7 or later")
        }
        if headers.contains(where: \.isTransactional) {
            throw BrokerError(.transactionalIdAuthorizationFailed, "transactional batches are not supported")
        }
        if acks == -1 && snapshot.isr.count < snapshot.settings.minInsyncReplicas {
            throw BrokerError(.notEnoughReplicas, "The ISR of \(tp) has \(snapshot.isr.count) members, fewer than min.insync.replicas=\(snapshot.settings.minInsyncReplicas)")
        }
        let info = try partition.appendAsLeader(records, nowMs: nowMs())
        // A retried batch already in the log: Kafka answers with the original offsets as a success.
        if info.isDuplicate { return (partition, info) }
        metrics.recordAppend(tp, bytes: records.readableBytes, records: headers.reduce(0) { $0 + Int($1.recordCount) })
        return (partition, info)
    }

    /// Parks until the partition's high watermark reaches `offset`; nil on success, else the error to
    /// answer with (timed out, storage failure, lost leadership).
    func waitForHighWatermark(_ partition: Partition, atLeast offset: Int64, timeoutMs: Int64) async -> ErrorCode? {
        let deadline = nowMs() + max(timeoutMs, 0)
        while true {
            if partition.log.highWatermark >= offset { return nil }
            if partition.log.failure != nil { return .kafkaStorageError }
            if partition.isDeleted || !partition.isLeader { return .notLeaderOrFollower }
            let remaining = deadline - nowMs()
            if remaining <= 0 { return .requestTimedOut }
            let wakeup = Wakeup()
            guard partition.watch(wakeup) else { return .requestTimedOut }
            // Re-check after registering: a move in between would otherwise be missed.
            if partition.log.highWatermark >= offset {
                partition.unwatch(wakeup)
                return nil
            }
            await wakeup.wait(timeoutMs: remaining)
            partition.unwatch(wakeup)
        }
    }
}
