/// One partition of one topic: the unit in which Kafka orders records.
public struct TopicPartition: Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    public let topic: String
    public let partition: Int32

    public init(_ topic: String, _ partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public var description: String { "\(topic)-\(partition)" }

    public static func < (a: TopicPartition, b: TopicPartition) -> Bool {
        (a.topic, a.partition) < (b.topic, b.partition)
    }
}

/// Who performed an operation: a producer or consumer instance, or the lab's fault injector.
public struct ClientID: Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init(_ rawValue: String) { self.rawValue = rawValue }

    public var description: String { rawValue }

    public static func < (a: ClientID, b: ClientID) -> Bool { a.rawValue < b.rawValue }
}
