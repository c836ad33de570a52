import RunnelLab

/// Hand-made histories: sends and polls with times that advance by one microsecond per operation.
struct HistoryBuilder {
    static let p0 = TopicPartition("t", 0)
    static let p1 = TopicPartition("t", 1)

    private(set) var history = History()
    private var timeNs: UInt64 = 0
    private var sequences: [ClientID: Int] = [:]

    private mutating func tick() -> UInt64 {
        timeNs += 1_000
        return timeNs
    }

    mutating func ack(_ value: String, at offset: Int64, _ partition: TopicPartition = p0, by producer: String = "p1") {
        send(value, .acknowledged(offset: offset), partition, producer)
    }

    mutating func fail(_ value: String, _ partition: TopicPartition = p0, by producer: String = "p1") {
        send(value, .failed(error: "_MSG_TIMED_OUT"), partition, producer)
    }

    private mutating func send(_ value: String, _ outcome: SendOutcome, _ partition: TopicPartition, _ producer: String) {
        let client = ClientID(producer)
        let sequence = sequences[client, default: 0]
        sequences[client] = sequence + 1
        let invoked = tick()
        history.append(.send(SendOperation(
            client: client, sequence: sequence, partition: partition, value: value, invokedNs: invoked,
            completedNs: tick(), outcome: outcome)))
    }

    /// One poll returning (offset, value) pairs of one partition in this order.
    mutating func poll(_ records: [(Int64, String)], _ partition: TopicPartition = p0, by consumer: String = "c1") {
        let invoked = tick()
        history.append(.poll(PollOperation(
            client: ClientID(consumer), invokedNs: invoked, completedNs: tick(),
            records: records.map { PolledRecord(partition: partition, offset: $0.0, value: $0.1) })))
    }

    mutating func assign(_ partitions: [TopicPartition] = [p0], by consumer: String = "c1") {
        history.append(.assign(AssignOperation(client: ClientID(consumer), timeNs: tick(), partitions: partitions)))
    }

    mutating func fault(_ kind: FaultKind, healed: Bool = true) {
        let injected = tick()
        let verified = tick()
        let issued = tick()
        history.append(.fault(FaultOperation(
            kind: kind, target: "node1", injectedNs: injected, verifiedNs: verified, healIssuedNs: issued,
            healedNs: healed ? tick() : nil)))
    }

    var check: CheckResult { HistoryChecker.check(history) }
}
