import CRdkafka

/// How the lab's producer talks to a broker. Timeouts are short by default so that a fault shows up as
/// failed sends within seconds rather than minutes.
public struct ProducerSettings: Sendable {
    public var bootstrap: String
    public var acks = "all"
    public var idempotence = true
    /// librdkafka's delivery timeout: a send not acknowledged by then fails (indeterminate).
    public var messageTimeoutMs = 10_000
    public var requestTimeoutMs = 3_000
    public var socketTimeoutMs = 3_000
    public var lingerMs = 5
    public var retryBackoffMs = 100
    public var reconnectBackoffMs = 100
    public var reconnectBackoffMaxMs = 1_000
    /// Sends handed to librdkafka and not yet reported; `send` refuses more (back-pressure).
    public var pendingMax = 20_000
    /// Further librdkafka properties, applied last.
    public var extra: [String: String] = [:]

    public init(bootstrap: String) { self.bootstrap = bootstrap }

    func properties(clientID: ClientID) -> [(String, String)] {
        [
            ("bootstrap.servers", bootstrap), ("client.id", clientID.rawValue), ("acks", acks),
            ("enable.idempotence", idempotence ? "true" : "false"), ("message.timeout.ms", "\(messageTimeoutMs)"),
            ("request.timeout.ms", "\(requestTimeoutMs)"), ("socket.timeout.ms", "\(socketTimeoutMs)"),
            ("linger.ms", "\(lingerMs)"), ("retry.backoff.ms", "\(retryBackoffMs)"),
            ("reconnect.backoff.ms", "\(reconnectBackoffMs)"), ("reconnect.backoff.max.ms", "\(reconnectBackoffMaxMs)"),
            ("queue.buffering.max.messages", "\(pendingMax)"), ("log.queue", "true"),
        ] + extra.sorted { $0.key < $1.key }
    }
}

/// A librdkafka producer that records every send and its delivery report in a `HistoryRecorder`.
/// Not thread-safe: one thread sends and serves it (delivery reports are handled inside `serve`).
public final class LabProducer {
    public let clientID: ClientID
    public let settings: ProducerSettings
    public private(set) var log = RecentLog()
    private let recorder: HistoryRecorder
    private let handle: OpaquePointer
    private let mainQueue: OpaquePointer
    private let logQueue: OpaquePointer
    private var topics: [String: OpaquePointer] = [:]
    private var nextSequence = 0
    private var pending: [Int: (partition: TopicPartition, value: String, invokedNs: UInt64)] = [:]
    private var closed = false

    public init(clientID: ClientID, settings: ProducerSettings, recorder: HistoryRecorder) throws {
        self.clientID = clientID
        self.settings = settings
        self.recorder = recorder
        handle = try RdkafkaHandle.make(
            RD_KAFKA_PRODUCER, properties: settings.properties(clientID: clientID),
            events: crdkafka_event_dr | crdkafka_event_error)
        mainQueue = rd_kafka_queue_get_main(handle)
        logQueue = rd_kafka_queue_new(handle)
        rd_kafka_set_log_queue(handle, logQueue)
    }

    deinit { close() }

    public var pendingCount: Int { pending.count }

    /// Hands one value to librdkafka for `partition`. A send librdkafka refuses at once is recorded
    /// as failed here; the others are recorded when their delivery report arrives in `serve`.
    @discardableResult
    public func send(_ value: String, to partition: TopicPartition) -> Int {
        precondition(!closed, "send on a closed producer")
        let sequence = nextSequence
        nextSequence += 1
        let invokedNs = recorder.nowNs()
        guard pending.count < settings.pendingMax else {
            recordFailure(sequence, partition, value, invokedNs, "client back-pressure: \(pending.count) pending")
            return sequence
        }
        let topic = topicHandle(partition.topic)
        let bytes = Array(value.utf8)
        let status = bytes.withUnsafeBytes { buffer in
            rd_kafka_produce(
                topic, partition.partition, crdkafka_msg_f_copy, UnsafeMutableRawPointer(mutating: buffer.baseAddress),
                buffer.count, nil, 0, UnsafeMutableRawPointer(bitPattern: sequence + 1))
        }
        if status != 0 {
            recordFailure(sequence, partition, value, invokedNs, "produce refused: \(RdkafkaHandle.errorName(rd_kafka_last_error()))")
        } else {
            pending[sequence] = (partition, value, invokedNs)
        }
        return sequence
    }

    /// Waits up to `timeoutMs` for one batch of events (delivery reports, errors) and records them.
    public func serve(timeoutMs: Int) {
        drainLogQueue(logQueue, into: &log)
        guard let event = rd_kafka_queue_poll(mainQueue, Int32(timeoutMs)) else { return }
        defer { rd_kafka_event_destroy(event) }
        let type = rd_kafka_event_type(event)
        if type == crdkafka_event_dr {
            var reportsMax = 1_000_000
            while reportsMax > 0, let message = rd_kafka_event_message_next(event) {
                reportsMax -= 1
                deliver(message.pointee)
            }
        } else if type == crdkafka_event_error {
            let fatal = rd_kafka_event_error_is_fatal(event) != 0
            let text = rd_kafka_event_error_string(event).map { String(cString: $0) } ?? "unknown error"
            recorder.record(.clientError(ClientErrorEvent(
                client: clientID, timeNs: recorder.nowNs(), message: (fatal ? "fatal: " : "") + text)))
        }
    }

    /// Serves events until every send has its report, or `timeoutMs` passes. True when none is pending.
    @discardableResult
    public func drain(timeoutMs: Int) -> Bool {
        let deadlineNs = recorder.nowNs() + UInt64(timeoutMs) * 1_000_000
        while !pending.isEmpty && recorder.nowNs() < deadlineNs { serve(timeoutMs: 50) }
        return pending.isEmpty
    }

    /// Fails whatever is still pending (recorded as purged) and destroys the client.
    public func close() {
        guard !closed else { return }
        closed = true
        if !pending.isEmpty {
            rd_kafka_purge(handle, crdkafka_purge_queue_and_inflight)
            var roundsMax = 100
            while !pending.isEmpty && roundsMax > 0 {
                roundsMax -= 1
                serve(timeoutMs: 20)
            }
            for (sequence, send) in pending.sorted(by: { $0.key < $1.key }) {
                recordFailure(sequence, send.partition, send.value, send.invokedNs, "no report before close")
            }
            pending.removeAll()
        }
        for topic in topics.values { rd_kafka_topic_destroy(topic) }
        topics.removeAll()
        rd_kafka_queue_destroy(mainQueue)
        rd_kafka_queue_destroy(logQueue)
        rd_kafka_destroy(handle)
    }

    private func deliver(_ message: rd_kafka_message_t) {
        let sequence = Int(bitPattern: message._private) - 1
        guard let send = pending.removeValue(forKey: sequence) else {
            preconditionFailure("delivery report for unknown send #\(sequence)")
        }
        let outcome: SendOutcome =
            message.err == RD_KAFKA_RESP_ERR_NO_ERROR
            ? .acknowledged(offset: message.offset) : .failed(error: RdkafkaHandle.errorName(message.err))
        recorder.record(.send(SendOperation(
            client: clientID, sequence: sequence, partition: send.partition, value: send.value,
            invokedNs: send.invokedNs, completedNs: recorder.nowNs(), outcome: outcome)))
    }

    private func recordFailure(_ sequence: Int, _ partition: TopicPartition, _ value: String, _ invokedNs: UInt64, _ error: String) {
        recorder.record(.send(SendOperation(
            client: clientID, sequence: sequence, partition: partition, value: value, invokedNs: invokedNs,
            completedNs: recorder.nowNs(), outcome: .failed(error: error))))
    }

    private func topicHandle(_ name: String) -> OpaquePointer {
        if let topic = topics[name] { return topic }
        guard let topic = rd_kafka_topic_new(handle, name, nil) else {
            preconditionFailure("rd_kafka_topic_new(\(name)) failed: \(RdkafkaHandle.errorName(rd_kafka_last_error()))")
        }
        topics[name] = topic
        return topic
    }
}
