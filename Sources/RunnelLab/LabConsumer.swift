import CRdkafka

public struct ConsumerSettings: Sendable {
    public var bootstrap: String
    public var socketTimeoutMs = 3_000
    public var fetchWaitMaxMs = 100
    public var reconnectBackoffMs = 100
    public var reconnectBackoffMaxMs = 1_000
    public var extra: [String: String] = [:]

    public init(bootstrap: String) { self.bootstrap = bootstrap }

    func properties(clientID: ClientID) -> [(String, String)] {
        // A group id is required by the high-level consumer even with manual assignment; nothing is
        // committed under it.
        [
            ("bootstrap.servers", bootstrap), ("client.id", clientID.rawValue),
            ("group.id", "runnel-lab-\(clientID.rawValue)"), ("enable.auto.commit", "false"),
            ("enable.auto.offset.store", "false"), ("enable.partition.eof", "true"),
            ("auto.offset.reset", "earliest"), ("socket.timeout.ms", "\(socketTimeoutMs)"),
            ("fetch.wait.max.ms", "\(fetchWaitMaxMs)"), ("reconnect.backoff.ms", "\(reconnectBackoffMs)"),
            ("reconnect.backoff.max.ms", "\(reconnectBackoffMaxMs)"), ("log.queue", "true"),
        ] + extra.sorted { $0.key < $1.key }
    }
}

/// What one `poll` returned, beyond the records it recorded.
public struct PollResult: Sendable {
    public let records: [PolledRecord]
    public let errors: [String]
    /// Partitions whose end the consumer reached during this poll.
    public let reachedEnd: Set<TopicPartition>
}

/// How far `readToEnd` got.
public struct ReadToEndResult: Sendable {
    public let readCount: Int
    public let highWatermark: Int64?
    public let nextOffset: Int64?
    public var complete: Bool {
        guard let highWatermark else { return false }
        return (nextOffset ?? 0) >= highWatermark
    }
}

/// A librdkafka consumer assigned to partitions by hand (no group membership), recording every poll.
/// Not thread-safe: one thread drives it.
public final class LabConsumer {
    public let clientID: ClientID
    public private(set) var log = RecentLog()
    private let recorder: HistoryRecorder
    private let handle: OpaquePointer
    private let logQueue: OpaquePointer
    private var closed = false

    public init(clientID: ClientID, settings: ConsumerSettings, recorder: HistoryRecorder) throws {
        self.clientID = clientID
        self.recorder = recorder
        handle = try RdkafkaHandle.make(RD_KAFKA_CONSUMER, properties: settings.properties(clientID: clientID), events: 0)
        logQueue = rd_kafka_queue_new(handle)
        rd_kafka_set_log_queue(handle, logQueue)
        rd_kafka_poll_set_consumer(handle)
    }

    deinit { close() }

    /// Reads `partitions` from their first offset.
    public func assignFromBeginning(_ partitions: [TopicPartition]) throws {
        guard let list = rd_kafka_topic_partition_list_new(Int32(partitions.count)) else {
            throw LabError("rd_kafka_topic_partition_list_new failed")
        }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for partition in partitions {
            rd_kafka_topic_partition_list_add(list, partition.topic, partition.partition).pointee.offset =
                crdkafka_offset_beginning
        }
        let status = rd_kafka_assign(handle, list)
        guard status == RD_KAFKA_RESP_ERR_NO_ERROR else { throw LabError("assign: \(RdkafkaHandle.errorName(status))") }
        recorder.record(.assign(AssignOperation(client: clientID, timeNs: recorder.nowNs(), partitions: partitions)))
    }

    /// Waits up to `timeoutMs` for the first message, then takes what is already there, up to
    /// `recordsMax`; records the whole call as one poll.
    @discardableResult
    public func poll(timeoutMs: Int, recordsMax: Int = 500) -> PollResult {
        precondition(!closed, "poll on a closed consumer")
        precondition(recordsMax > 0, "a poll takes at least one record")
        let invokedNs = recorder.nowNs()
        var records: [PolledRecord] = []
        var errors: [String] = []
        var reachedEnd: Set<TopicPartition> = []
        var wait = Int32(timeoutMs)
        var messagesMax = recordsMax
        while messagesMax > 0, let message = rd_kafka_consumer_poll(handle, wait) {
            defer { rd_kafka_message_destroy(message) }
            messagesMax -= 1
            wait = 0
            let m = message.pointee
            let topic = m.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? "-"
            let partition = TopicPartition(topic, m.partition)
            if m.err == RD_KAFKA_RESP_ERR__PARTITION_EOF {
                reachedEnd.insert(partition)
            } else if m.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                errors.append(RdkafkaHandle.errorName(m.err))
            } else {
                let value = m.payload.map {
                    String(decoding: UnsafeRawBufferPointer(start: $0, count: m.len), as: UTF8.self)
                } ?? ""
                records.append(PolledRecord(partition: partition, offset: m.offset, value: value))
            }
        }
        drainLogQueue(logQueue, into: &log)
        recorder.record(.poll(PollOperation(
            client: clientID, invokedNs: invokedNs, completedNs: recorder.nowNs(), records: records, errors: errors)))
        return PollResult(records: records, errors: errors, reachedEnd: reachedEnd)
    }

    /// The partition's high watermark (the offset after the last readable record), asked of the broker.
    public func highWatermark(_ partition: TopicPartition, timeoutMs: Int) -> Int64? {
        var low: Int64 = 0, high: Int64 = 0
        let status = rd_kafka_query_watermark_offsets(
            handle, partition.topic, partition.partition, &low, &high, Int32(timeoutMs))
        return status == RD_KAFKA_RESP_ERR_NO_ERROR ? high : nil
    }

    /// Polls one assigned partition until the consumer has read up to its high watermark (asked again
    /// whenever the end is reached), or `timeoutMs` passes.
    public func readToEnd(_ partition: TopicPartition, timeoutMs: Int) -> ReadToEndResult {
        let deadlineNs = recorder.nowNs() + UInt64(timeoutMs) * 1_000_000
        var readCount = 0
        var nextOffset: Int64?
        var highWatermark: Int64?
        while recorder.nowNs() < deadlineNs {
            let result = poll(timeoutMs: 200)
            for record in result.records where record.partition == partition {
                readCount += 1
                nextOffset = max(nextOffset ?? 0, record.offset + 1)
            }
            if result.reachedEnd.contains(partition) || result.records.isEmpty {
                highWatermark = self.highWatermark(partition, timeoutMs: 2_000) ?? highWatermark
                if let highWatermark, (nextOffset ?? 0) >= highWatermark { break }
            }
        }
        return ReadToEndResult(readCount: readCount, highWatermark: highWatermark, nextOffset: nextOffset)
    }

    public func close() {
        guard !closed else { return }
        closed = true
        rd_kafka_consumer_close(handle)
        rd_kafka_queue_destroy(logQueue)
        rd_kafka_destroy(handle)
    }
}
