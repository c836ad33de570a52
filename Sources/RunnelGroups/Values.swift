/// One partition of one topic, as committed offsets are keyed.
public struct TopicPartition: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32

    public init(_ topic: String, _ partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public static func < (a: TopicPartition, b: TopicPartition) -> Bool {
        (a.topic, a.partition) < (b.topic, b.partition)
    }

    public var description: String { "\(topic)-\(partition)" }
}

/// A protocol a member offers in JoinGroup (e.g. "range" with its subscription bytes).
public struct GroupProtocol: Sendable, Hashable {
    public var name: String
    public var metadata: [UInt8]

    public init(name: String, metadata: [UInt8]) {
        self.name = name
        self.metadata = metadata
    }
}

/// An offset as stored for a group and partition.
public struct CommittedOffset: Sendable, Hashable {
    public var offset: Int64
    /// -1 when the client did not send one.
    public var leaderEpoch: Int32
    public var metadata: String
    public var commitTimestampMs: Int64
    /// Set when the commit carried its own retention (OffsetCommit v2–4 `retention_time_ms`).
    public var expireTimestampMs: Int64?

    public init(
        offset: Int64, leaderEpoch: Int32 = -1, metadata: String = "", commitTimestampMs: Int64,
        expireTimestampMs: Int64? = nil
    ) {
        self.offset = offset
        self.leaderEpoch = leaderEpoch
        self.metadata = metadata
        self.commitTimestampMs = commitTimestampMs
        self.expireTimestampMs = expireTimestampMs
    }
}

/// Identifies an answer the core owes to a JoinGroup or SyncGroup request it could not answer at once.
public struct JoinToken: Sendable, Hashable { public let value: UInt64 }
public struct SyncToken: Sendable, Hashable { public let value: UInt64 }
