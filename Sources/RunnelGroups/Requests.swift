/// JoinGroup, in the core's terms (all versions 0–7; fields a version lacks keep their defaults).
public struct JoinRequest: Sendable, Hashable {
    public var groupID: String
    /// "" for a member joining for the first time.
    public var memberID: String
    /// `group.instance.id` (v5+): a static member.
    public var groupInstanceID: String?
    public var clientID: String
    public var clientHost: String
    public var protocolType: String
    public var protocols: [GroupProtocol]
    public var sessionTimeoutMs: Int32
    /// v0 has none; Kafka then uses the session timeout.
    public var rebalanceTimeoutMs: Int32
    /// v4+: an unknown member first gets MEMBER_ID_REQUIRED with its id, then joins again with it.
    public var requireKnownMemberID: Bool

    public init(
        groupID: String, memberID: String = "", groupInstanceID: String? = nil, clientID: String = "client",
        clientHost: String = "/127.0.0.1", protocolType: String = "consumer", protocols: [GroupProtocol],
        sessionTimeoutMs: Int32 = 10_000, rebalanceTimeoutMs: Int32 = 30_000, requireKnownMemberID: Bool = false
    ) {
        self.groupID = groupID
        self.memberID = memberID
        self.groupInstanceID = groupInstanceID
        self.clientID = clientID
        self.clientHost = clientHost
        self.protocolType = protocolType
        self.protocols = protocols
        self.sessionTimeoutMs = sessionTimeoutMs
        self.rebalanceTimeoutMs = rebalanceTimeoutMs
        self.requireKnownMemberID = requireKnownMemberID
    }
}

/// SyncGroup: the leader sends every member's assignment; the others send none.
public struct SyncRequest: Sendable, Hashable {
    public var groupID: String
    public var generationID: Int32
    public var memberID: String
    public var groupInstanceID: String?
    /// v5+: checked against the group's when present.
    public var protocolType: String?
    public var protocolName: String?
    public var assignments: [(memberID: String, assignment: [UInt8])]

    public init(
        groupID: String, generationID: Int32, memberID: String, groupInstanceID: String? = nil,
        protocolType: String? = nil, protocolName: String? = nil, assignments: [(memberID: String, assignment: [UInt8])] = []
    ) {
        self.groupID = groupID
        self.generationID = generationID
        self.memberID = memberID
        self.groupInstanceID = groupInstanceID
        self.protocolType = protocolType
        self.protocolName = protocolName
        self.assignments = assignments
    }

    public static func == (a: SyncRequest, b: SyncRequest) -> Bool {
        a.groupID == b.groupID && a.generationID == b.generationID && a.memberID == b.memberID
            && a.groupInstanceID == b.groupInstanceID && a.protocolType == b.protocolType
            && a.protocolName == b.protocolName && a.assignments.elementsEqual(b.assignments, by: { $0 == $1 })
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(groupID)
        hasher.combine(generationID)
        hasher.combine(memberID)
    }
}

/// One member leaving (LeaveGroup v3+ carries several; older versions one member id).
public struct LeavingMember: Sendable, Hashable {
    public var memberID: String
    public var groupInstanceID: String?

    public init(memberID: String, groupInstanceID: String? = nil) {
        self.memberID = memberID
        self.groupInstanceID = groupInstanceID
    }
}

/// One partition of an OffsetCommit.
public struct OffsetCommitEntry: Sendable, Hashable {
    public var topicPartition: TopicPartition
    public var offset: Int64
    public var leaderEpoch: Int32
    public var metadata: String?

    public init(_ topicPartition: TopicPartition, offset: Int64, leaderEpoch: Int32 = -1, metadata: String? = nil) {
        self.topicPartition = topicPartition
        self.offset = offset
        self.leaderEpoch = leaderEpoch
        self.metadata = metadata
    }
}
