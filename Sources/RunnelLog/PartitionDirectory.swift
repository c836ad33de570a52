/// A topic's 128-bit UUID, as Kafka's topic IDs.
public struct TopicUUID: Hashable, Sendable, CustomStringConvertible {
    public let high: UInt64
    public let low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// 32 lowercase hex digits.
    public var hex: String { Self.hex(high) + Self.hex(low) }
    public var description: String { hex }

    public init?(hex: Substring) {
        guard hex.utf8.count == 32, hex.allSatisfy(\.isHexDigit),
            let high = UInt64(hex.prefix(16), radix: 16), let low = UInt64(hex.suffix(16), radix: 16)
        else { return nil }
        self.init(high: high, low: low)
    }

    private static func hex(_ value: UInt64) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: 16 - text.count) + text
    }
}

/// Names a partition's log directory: `<topic>-<partition>-<topicUUIDhex>`. The UUID keeps a recreated
/// topic of the same name from ever meeting the old topic's files.
public struct PartitionDirectory: Hashable, Sendable, CustomStringConvertible {
    public let topic: String
    public let partition: Int32
    public let topicID: TopicUUID

    public init(topic: String, partition: Int32, topicID: TopicUUID) {
        precondition(!topic.isEmpty && !topic.contains("/") && partition >= 0)
        self.topic = topic
        self.partition = partition
        self.topicID = topicID
    }

    public var name: String { "\(topic)-\(partition)-\(topicID.hex)" }
    public var description: String { name }

    /// Parses a directory name; nil for anything else (topics may contain '-', so it reads from the right).
    public init?(name: String) {
        let parts = name.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 3, let id = TopicUUID(hex: parts[parts.count - 1]),
            let partition = Int32(parts[parts.count - 2]), partition >= 0
        else { return nil }
        let topic = parts.dropLast(2).joined(separator: "-")
        guard !topic.isEmpty else { return nil }
        self.init(topic: topic, partition: partition, topicID: id)
    }
}
