/// A member as the leader sees it in its JoinGroup answer: the metadata of the selected protocol.
public struct JoinedMember: Sendable, Hashable {
    public var memberID: String
    public var groupInstanceID: String?
    public var metadata: [UInt8]
}

public struct JoinResult: Sendable, Hashable {
    public var error: GroupError
    public var generationID: Int32
    public var protocolType: String?
    public var protocolName: String?
    public var leaderID: String
    public var memberID: String
    /// Filled for the leader only.
    public var members: [JoinedMember]

    static func failure(_ error: GroupError, memberID: String = "") -> JoinResult {
        JoinResult(
            error: error, generationID: -1, protocolType: nil, protocolName: nil, leaderID: "", memberID: memberID,
            members: [])
    }
}

public struct SyncResult: Sendable, Hashable {
    public var error: GroupError
    public var protocolType: String?
    public var protocolName: String?
    public var assignment: [UInt8]

    static func failure(_ error: GroupError) -> SyncResult {
        SyncResult(error: error, protocolType: nil, protocolName: nil, assignment: [])
    }
}

/// What the broker owes a waiting request: it delivers each to the connection that got the token.
public enum Completion: Sendable, Hashable {
    case join(JoinToken, JoinResult)
    case sync(SyncToken, SyncResult)
}

/// Side effects of one event. Contract for the shell: append `records` to the offsets topic and wait for
/// them to be committed before sending the answers (`completions` and the event's own reply), as Kafka
/// answers only after the write.
public struct GroupEffects: Sendable, Hashable {
    public var completions: [Completion] = []
    public var records: [GroupRecord] = []

    public init(completions: [Completion] = [], records: [GroupRecord] = []) {
        self.completions = completions
        self.records = records
    }

    mutating func append(_ other: GroupEffects) {
        completions += other.completions
        records += other.records
    }
}

public enum JoinOutcome: Sendable, Hashable {
    case done(JoinResult)
    /// The answer comes later as `Completion.join(token, _)` — possibly already in this event's effects.
    case pending(JoinToken)
}

public enum SyncOutcome: Sendable, Hashable {
    case done(SyncResult)
    case pending(SyncToken)
}

public struct LeaveResult: Sendable, Hashable {
    public var error: GroupError
    public var members: [(member: LeavingMember, error: GroupError)]

    public static func == (a: LeaveResult, b: LeaveResult) -> Bool {
        a.error == b.error && a.members.elementsEqual(b.members, by: { $0.member == $1.member && $0.error == $1.error })
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(error) }
}

public struct OffsetFetchResult: Sendable, Hashable {
    public var error: GroupError
    /// nil: nothing committed (the broker answers offset -1).
    public var offsets: [TopicPartition: CommittedOffset?]
}

public struct MemberDescription: Sendable, Hashable {
    public var memberID: String
    public var groupInstanceID: String?
    public var clientID: String
    public var clientHost: String
    /// Only in the Stable state, as Kafka.
    public var metadata: [UInt8]
    public var assignment: [UInt8]
}

public struct GroupDescription: Sendable, Hashable {
    public var groupID: String
    public var error: GroupError
    public var state: GroupState
    public var protocolType: String
    public var protocolName: String
    public var members: [MemberDescription]
}

public struct GroupListing: Sendable, Hashable {
    public var groupID: String
    public var protocolType: String
    public var state: GroupState
}

/// What `tick` did, for logs and metrics; its effects carry the answers.
public struct Expiration: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case memberSessionTimedOut
        case pendingMemberTimedOut
        case memberMissedSync
        case joinPhaseCompleted
        case offsetsExpired(count: Int)
        case groupRemoved
    }
    public var groupID: String
    public var memberID: String?
    public var kind: Kind
}
