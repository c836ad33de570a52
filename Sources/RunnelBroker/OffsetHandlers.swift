import NIOCore
import RunnelLog
import RunnelMetadata
import RunnelRecords
import RunnelWire

/// ListOffsets, OffsetForLeaderEpoch and DeleteRecords: questions about positions in a partition's log.
extension Broker {
    static let earliestTimestamp: Int64 = -2
    static let latestTimestamp: Int64 = -1
    static let maxTimestamp: Int64 = -3

    /// A partition named more than once is answered once, with INVALID_REQUEST and no lookup, as Kafka's
    /// ReplicaManager does; a topic named more than once gets one entry.
    func handleListOffsets(_ request: ListOffsetsRequest, _ context: RequestContext) -> ListOffsetsResponse {
        var response = ListOffsetsResponse()
        var seen: Set<TopicPartition> = [], duplicated: Set<TopicPartition> = []
        var partitionsByTopic: [String: [ListOffsetsRequest.ListOffsetsPartition]] = [:]
        var topicOrder: [String] = []
        for topic in request.topics {
            if partitionsByTopic[topic.name] == nil { topicOrder.append(topic.name) }
            for p in topic.partitions {
                let tp = TopicPartition(topic.name, p.partitionIndex)
                if seen.insert(tp).inserted { partitionsByTopic[topic.name, default: []].append(p) } else { duplicated.insert(tp) }
            }
        }
        response.topics = topicOrder.map { name in
            var entry = ListOffsetsResponse.ListOffsetsTopicResponse()
            entry.name = name
            entry.partitions = partitionsByTopic[name, default: []].map { p in
                var result = ListOffsetsResponse.ListOffsetsPartitionResponse()
                result.partitionIndex = p.partitionIndex
                result.timestamp = -1
                result.offset = -1
                let tp = TopicPartition(name, p.partitionIndex)
                if duplicated.contains(tp) {
                    result.errorCode = ErrorCode.invalidRequest.rawValue
                    return result
                }
                do {
                    let partition = try leaderPartition(tp, currentLeaderEpoch: context.version >= 4 ? p.currentLeaderEpoch : -1)
                    let (offset, timestamp, epoch) = try lookUp(p.timestamp, in: partition)
                    result.offset = offset
                    result.timestamp = timestamp
                    if context.version >= 4 { result.leaderEpoch = epoch }
                } catch {
                    result.errorCode = errorCodeAndMessage(error).0.rawValue
                }
                return result
            }
            return entry
        }
        return response
    }

    /// (offset, timestamp, leader epoch) for ListOffsets; (-1, -1, -1) when no record qualifies.
    func lookUp(_ timestamp: Int64, in partition: Partition) throws -> (Int64, Int64, Int32) {
        let offsets = partition.log.offsets
        switch timestamp {
        case Self.earliestTimestamp:
            return (offsets.logStartOffset, -1, partition.leaderEpoch)
        case Self.latestTimestamp:
            // read_committed sees up to the last stable offset, which is the high watermark without transactions.
            return (offsets.highWatermark, -1, partition.leaderEpoch)
        case Self.maxTimestamp:
            guard let batch = try partition.log.offsetForMaxTimestamp(), batch.baseOffset < offsets.highWatermark else { return (-1, -1, -1) }
            return try findRecord(in: partition, batch: batch, highWatermark: offsets.highWatermark) { records in
                records.max { $0.timestampMs < $1.timestampMs }  // the first record with the largest timestamp
            }
        default:
            guard timestamp >= 0 else { throw BrokerError(.invalidRequest, "unknown special timestamp \(timestamp)") }
            guard let batch = try partition.log.offsetForTimestamp(timestamp), batch.baseOffset < offsets.highWatermark else { return (-1, -1, -1) }
            return try findRecord(in: partition, batch: batch, highWatermark: offsets.highWatermark) { records in
                records.first { $0.timestampMs >= timestamp }
            }
        }
    }

    /// Decodes the batch (decompressing it if needed) and picks the exact record.
    private func findRecord(in partition: Partition, batch: TimestampedBatch, highWatermark: Int64,
                            pick: ([Record]) -> Record?) throws -> (Int64, Int64, Int32) {
        let read = try partition.log.read(from: batch.baseOffset, maxBytes: 1, upTo: highWatermark, minOneBatch: true)
        guard read.records.readableBytes > 0 else { return (-1, -1, -1) }
        let decoded = try RecordBatch(decoding: read.records, maxUncompressedBytes: settings.uncompressedBatchBytesMax)
        let logStart = partition.log.logStartOffset
        let records = decoded.records.filter { $0.offset >= logStart && $0.offset < highWatermark }.map { record in
            // LogAppendTime batches carry their one timestamp in the header.
            var r = record
            if decoded.header.timestampType == .logAppendTime { r.timestampMs = decoded.header.maxTimestampMs }
            return r
        }
        guard let record = pick(records) else { return (-1, -1, -1) }
        return (record.offset, record.timestampMs, decoded.header.partitionLeaderEpoch)
    }

    /// The partition if this broker leads it in the caller's epoch; otherwise the error to answer with.
    func leaderPartition(_ tp: TopicPartition, currentLeaderEpoch: Int32) throws -> Partition {
        guard let partition = partitions.partition(tp), !partition.isDeleted else {
            throw BrokerError(partitions.absenceError(tp), "This server does not host this topic-partition or its log is offline: \(tp)")
        }
        if let code = partition.checkLeaderEpoch(currentLeaderEpoch) { throw BrokerError(code, "leader epoch \(currentLeaderEpoch) of \(tp)") }
        guard partition.isLeader else { throw BrokerError(.notLeaderOrFollower, "not the leader of \(tp)") }
        return partition
    }

    func handleOffsetForLeaderEpoch(_ request: OffsetForLeaderEpochRequest, _ context: RequestContext) -> OffsetForLeaderEpochResponse {
        var response = OffsetForLeaderEpochResponse()
        response.topics = request.topics.map { topic in
            var entry = OffsetForLeaderEpochResponse.OffsetForLeaderTopicResult()
            entry.topic = topic.topic
            entry.partitions = topic.partitions.map { p in
                var result = OffsetForLeaderEpochResponse.EpochEndOffset()
                result.partition = p.partition
                result.leaderEpoch = -1
                result.endOffset = -1
                do {
                    let partition = try leaderPartition(TopicPartition(topic.topic, p.partition), currentLeaderEpoch: p.currentLeaderEpoch)
                    let end = partition.log.endOffset(forEpoch: p.leaderEpoch)
                    result.leaderEpoch = end.epoch
                    result.endOffset = end.endOffset
                } catch {
                    result.errorCode = errorCodeAndMessage(error).0.rawValue
                }
                return result
            }
            return entry
        }
        return response
    }

    func handleDeleteRecords(_ request: DeleteRecordsRequest, _ context: RequestContext) -> DeleteRecordsResponse {
        var response = DeleteRecordsResponse()
        response.topics = request.topics.map { topic in
            var entry = DeleteRecordsResponse.DeleteRecordsTopicResult()
            entry.name = topic.name
            entry.partitions = topic.partitions.map { p in
                var result = DeleteRecordsResponse.DeleteRecordsPartitionResult()
                result.partitionIndex = p.partitionIndex
                result.lowWatermark = -1
                do {
                    guard !InternalTopics.isInternal(topic.name) else {
                        throw BrokerError(.invalidTopicException, "Cannot delete records of internal topic \(topic.name)")
                    }
                    let partition = try leaderPartition(TopicPartition(topic.name, p.partitionIndex), currentLeaderEpoch: -1)
                    let highWatermark = partition.log.highWatermark
                    let target = p.offset == -1 ? highWatermark : p.offset
                    guard target >= 0 && target <= highWatermark else {
                        throw BrokerError(.offsetOutOfRange, "offset \(p.offset) is beyond the high watermark \(highWatermark)")
                    }
                    result.lowWatermark = try partition.log.deleteRecords(before: target)
                    partition.wakeWatchers()
                } catch {
                    result.errorCode = errorCodeAndMessage(error).0.rawValue
                }
                return result
            }
            return entry
        }
        return response
    }
}
