/// A member as persisted with its group's generation (only the selected protocol's metadata survives).
public struct PersistedMember: Sendable, Hashable {
    public var memberID: String
    public var groupInstanceID: String?
    public var clientID: String
    public var clientHost: String
    public var rebalanceTimeoutMs: Int32
    public var sessionTimeoutMs: Int32
    public var subscription: [UInt8]
    public var assignment: [UInt8]
}

/// A group's generation as persisted after it stabilizes or empties.
public struct GroupMetadataValue: Sendable, Hashable {
    public var protocolType: String?
    public var generationID: Int32
    public var protocolName: String?
    public var leaderID: String?
    public var stateTimestampMs: Int64
    public var members: [PersistedMember]
}

/// Records to append to the offsets topic. Each has a compaction key (`key`): the latest record per key
/// is the state; tombstones remove it. `GroupCoordinatorCore.load` rebuilds the core from them in log order.
public enum GroupRecord: Sendable, Hashable {
    case groupMetadata(groupID: String, GroupMetadataValue)
    case groupTombstone(groupID: String)
    case offsetCommit(groupID: String, TopicPartition, CommittedOffset)
    case offsetTombstone(groupID: String, TopicPartition)

    public enum Key: Sendable, Hashable {
        case group(String)
        case offset(String, TopicPartition)
    }

    public var key: Key {
        switch self {
        case .groupMetadata(let groupID, _), .groupTombstone(let groupID): return .group(groupID)
        case .offsetCommit(let groupID, let tp, _), .offsetTombstone(let groupID, let tp): return .offset(groupID, tp)
        }
    }

    public var isTombstone: Bool {
        switch self {
        case .groupTombstone, .offsetTombstone: return true
        case .groupMetadata, .offsetCommit: return false
        }
    }
}
