/// The kinds of anomaly Jepsen's Kafka workload looks for.
public enum AnomalyKind: String, Codable, Sendable, CaseIterable {
    /// Acknowledged at offset o, never read, although a later offset of that partition was read.
    case lost
    /// Acknowledged, never read, and nothing at or past its offset was read either.
    case unseen
    /// One value at two or more positions.
    case duplicate
    /// One position holding two or more values.
    case inconsistentOffset
    /// A consumer's successive offsets in a partition went back (or repeated).
    case nonMonotonicPoll
    /// A consumer's successive offsets jumped over an offset known to exist.
    case skippedPoll
    /// A producer's acknowledged offsets in a partition went back in its own send order.
    case nonMonotonicSend
}

public struct Anomaly: Codable, Sendable, Equatable, CustomStringConvertible {
    public let kind: AnomalyKind
    public let partition: TopicPartition
    public let offset: Int64?
    public let value: String?
    public let client: ClientID?
    public let detail: String

    public init(kind: AnomalyKind, partition: TopicPartition, offset: Int64? = nil, value: String? = nil,
                client: ClientID? = nil, detail: String) {
        self.kind = kind
        self.partition = partition
        self.offset = offset
        self.value = value
        self.client = client
        self.detail = detail
    }

    public var description: String { "\(kind.rawValue) \(partition): \(detail)" }
}

/// What the checker found, with counts for the report.
public struct CheckResult: Codable, Sendable, Equatable {
    public let anomalies: [Anomaly]
    public let sendCount: Int
    public let acknowledgedCount: Int
    public let readCount: Int
    /// Distinct acknowledged values read back at least once.
    public let acknowledgedReadCount: Int

    public var isClean: Bool { anomalies.isEmpty }

    public func count(_ kind: AnomalyKind) -> Int { anomalies.filter { $0.kind == kind }.count }

    public func anomalies(_ kind: AnomalyKind) -> [Anomaly] { anomalies.filter { $0.kind == kind } }
}

/// Checks a history against Kafka's promises. Pure: same history, same result, in a stable order.
public enum HistoryChecker {
    private struct Position: Hashable, Comparable {
        let partition: TopicPartition
        let offset: Int64
        static func < (a: Position, b: Position) -> Bool { (a.partition, a.offset) < (b.partition, b.offset) }
    }

    public static func check(_ history: History) -> CheckResult {
        let sends = history.sends
        var anomalies: [Anomaly] = []

        // Every position each value was seen at, and every value each position was seen holding, from
        // acknowledgements and reads alike.
        var positionsOfValue: [String: Set<Position>] = [:]
        var valuesAtPosition: [Position: Set<String>] = [:]
        var knownOffsets: [TopicPartition: Set<Int64>] = [:]
        var readValues: Set<String> = []
        var maxReadOffset: [TopicPartition: Int64] = [:]
        var readCount = 0

        func observe(_ value: String, _ position: Position) {
            positionsOfValue[value, default: []].insert(position)
            valuesAtPosition[position, default: []].insert(value)
            knownOffsets[position.partition, default: []].insert(position.offset)
        }

        var acknowledged: [(send: SendOperation, position: Position)] = []
        for send in sends {
            guard let offset = send.acknowledgedOffset else { continue }
            let position = Position(partition: send.partition, offset: offset)
            acknowledged.append((send, position))
            observe(send.value, position)
        }
        for poll in history.polls {
            for record in poll.records {
                readCount += 1
                observe(record.value, Position(partition: record.partition, offset: record.offset))
                readValues.insert(record.value)
                maxReadOffset[record.partition] = max(maxReadOffset[record.partition] ?? Int64.min, record.offset)
            }
        }

        // Duplicates and inconsistent offsets.
        for (value, positions) in positionsOfValue.sorted(by: { $0.key < $1.key }) where positions.count > 1 {
            let sorted = positions.sorted()
            anomalies.append(Anomaly(
                kind: .duplicate, partition: sorted[0].partition, offset: sorted[0].offset, value: value,
                detail: "value \(value) at \(sorted.map { "\($0.partition)@\($0.offset)" }.joined(separator: ", "))"))
        }
        for (position, values) in valuesAtPosition.sorted(by: { $0.key < $1.key }) where values.count > 1 {
            anomalies.append(Anomaly(
                kind: .inconsistentOffset, partition: position.partition, offset: position.offset,
                detail: "offset \(position.offset) holds \(values.sorted().joined(separator: ", "))"))
        }

        // Lost and unseen: acknowledged values never read.
        var acknowledgedRead: Set<String> = []
        for (send, position) in acknowledged.sorted(by: { $0.position < $1.position }) {
            if readValues.contains(send.value) {
                acknowledgedRead.insert(send.value)
                continue
            }
            if let reached = maxReadOffset[position.partition], reached > position.offset {
                anomalies.append(Anomaly(
                    kind: .lost, partition: position.partition, offset: position.offset, value: send.value,
                    client: send.client,
                    detail: "\(send.value) acknowledged at \(position.offset) never read; reads reached \(reached)"))
            } else {
                anomalies.append(Anomaly(
                    kind: .unseen, partition: position.partition, offset: position.offset, value: send.value,
                    client: send.client, detail: "\(send.value) acknowledged at \(position.offset) never read"))
            }
        }

        anomalies += pollOrderAnomalies(history, knownOffsets: knownOffsets.mapValues { $0.sorted() })
        anomalies += sendOrderAnomalies(sends)

        return CheckResult(
            anomalies: anomalies, sendCount: sends.count, acknowledgedCount: acknowledged.count, readCount: readCount,
            acknowledgedReadCount: acknowledgedRead.count)
    }

    /// Per consumer and partition, offsets must rise, by one unless nothing exists in between.
    /// An assignment starts the consumer's order afresh.
    private static func pollOrderAnomalies(_ history: History, knownOffsets: [TopicPartition: [Int64]]) -> [Anomaly] {
        var anomalies: [Anomaly] = []
        var lastOffset: [ClientID: [TopicPartition: Int64]] = [:]
        for operation in history.operations {
            switch operation {
            case .assign(let assign):
                for partition in assign.partitions { lastOffset[assign.client]?[partition] = nil }
            case .poll(let poll):
                for record in poll.records {
                    defer { lastOffset[poll.client, default: [:]][record.partition] = record.offset }
                    guard let last = lastOffset[poll.client]?[record.partition] else { continue }
                    if record.offset <= last {
                        anomalies.append(Anomaly(
                            kind: .nonMonotonicPoll, partition: record.partition, offset: record.offset,
                            value: record.value, client: poll.client,
                            detail: "\(poll.client) read \(record.offset) after \(last)"))
                    } else if record.offset > last + 1,
                        let skipped = firstKnown(in: (last + 1)..<record.offset, knownOffsets[record.partition] ?? [])
                    {
                        anomalies.append(Anomaly(
                            kind: .skippedPoll, partition: record.partition, offset: skipped, value: record.value,
                            client: poll.client,
                            detail: "\(poll.client) jumped from \(last) to \(record.offset) over existing \(skipped)"))
                    }
                }
            case .send, .fault, .clientError:
                continue
            }
        }
        return anomalies
    }

    /// Per producer and partition, acknowledged offsets must rise in the producer's send order.
    private static func sendOrderAnomalies(_ sends: [SendOperation]) -> [Anomaly] {
        var anomalies: [Anomaly] = []
        let byProducer = Dictionary(grouping: sends.filter { $0.acknowledgedOffset != nil }) {
            PairKey(client: $0.client, partition: $0.partition)
        }
        for key in byProducer.keys.sorted() {
            var previous: SendOperation?
            for send in byProducer[key]!.sorted(by: { $0.sequence < $1.sequence }) {
                defer { previous = send }
                guard let previous, let before = previous.acknowledgedOffset, let offset = send.acknowledgedOffset else {
                    continue
                }
                if offset <= before {
                    anomalies.append(Anomaly(
                        kind: .nonMonotonicSend, partition: key.partition, offset: offset, value: send.value,
                        client: key.client,
                        detail: "\(key.client) send #\(send.sequence) acknowledged at \(offset) after #\(previous.sequence) at \(before)"))
                }
            }
        }
        return anomalies
    }

    private struct PairKey: Hashable, Comparable {
        let client: ClientID
        let partition: TopicPartition
        static func < (a: PairKey, b: PairKey) -> Bool { (a.client, a.partition) < (b.client, b.partition) }
    }

    /// The smallest offset of `sorted` inside `range`, by binary search.
    private static func firstKnown(in range: Range<Int64>, _ sorted: [Int64]) -> Int64? {
        var low = 0, high = sorted.count
        while low < high {
            let mid = (low + high) / 2
            if sorted[mid] < range.lowerBound { low = mid + 1 } else { high = mid }
        }
        return low < sorted.count && range.contains(sorted[low]) ? sorted[low] : nil
    }
}
