/// One member of a classic group as the coordinator tracks it.
struct GroupMember: Sendable {
    let memberID: String
    var groupInstanceID: String?
    var clientID: String
    var clientHost: String
    var rebalanceTimeoutMs: Int32
    var sessionTimeoutMs: Int32
    var protocolType: String
    var protocols: [GroupProtocol]
    var assignment: [UInt8] = []
    /// Set while the member waits in JoinGroup for the rebalance to complete.
    var joinToken: JoinToken?
    /// Set while the member waits in SyncGroup for the leader's assignment.
    var syncToken: SyncToken?
    var heartbeatDeadlineMs: Int64
    var lastHeartbeatMs: Int64
    /// Joined but not yet part of a completed generation.
    var isNew: Bool

    var isAwaitingJoin: Bool { joinToken != nil }
    var isAwaitingSync: Bool { syncToken != nil }

    func metadata(for protocolName: String) -> [UInt8]? {
        protocols.first(where: { $0.name == protocolName })?.metadata
    }

    /// Kafka keeps members alive while they wait on the coordinator, except a new member that never came back.
    func shouldKeepAlive(nowMs: Int64, newMemberJoinTimeoutMs: Int64) -> Bool {
        if isAwaitingJoin { return !isNew || lastHeartbeatMs + newMemberJoinTimeoutMs > nowMs }
        return isAwaitingSync || heartbeatDeadlineMs > nowMs
    }

    mutating func heartbeat(nowMs: Int64) {
        lastHeartbeatMs = nowMs
        heartbeatDeadlineMs = nowMs + Int64(sessionTimeoutMs)
    }
}

/// The join phase of a rebalance: when it ends, and whether it is the initial (delayed) one.
struct JoinPhase: Sendable {
    var deadlineMs: Int64
    /// Set during an empty group's initial delay: rebalance time left after the current delay.
    var initialDelayRemainingMs: Int64?
    var memberJoinedDuringDelay = false
}

/// One classic group: membership, generation and committed offsets.
struct Group: Sendable {
    let groupID: String
    private(set) var state: GroupState = .empty
    private(set) var stateSinceMs: Int64
    var generationID: Int32 = 0
    var protocolType: String?
    var protocolName: String?
    var leaderID: String?
    private(set) var members: [String: GroupMember] = [:]
    /// Member ids in the order they were added, so protocol votes and leader choice are deterministic.
    private(set) var memberOrder: [String] = []
    private(set) var staticMembers: [String: String] = [:]
    /// Members told MEMBER_ID_REQUIRED, with the deadline for their second join.
    var pendingMembers: [String: Int64] = [:]
    /// Members of the current generation that have not synced yet, and when they are dropped for it.
    var pendingSync: Set<String> = []
    var syncDeadlineMs: Int64?
    var joinPhase: JoinPhase?
    var offsets: [TopicPartition: CommittedOffset] = [:]

    init(groupID: String, nowMs: Int64) {
        self.groupID = groupID
        self.stateSinceMs = nowMs
    }

    var size: Int { members.count + pendingMembers.count }
    var orderedMembers: [GroupMember] { memberOrder.map { members[$0]! } }
    var rebalanceTimeoutMs: Int64 { Int64(members.values.map(\.rebalanceTimeoutMs).max() ?? 0) }
    var hasAllMembersJoined: Bool { pendingMembers.isEmpty && members.values.allSatisfy(\.isAwaitingJoin) }

    mutating func transition(to next: GroupState, nowMs: Int64) {
        precondition(next.canFollow(state), "group \(groupID): illegal transition \(state) -> \(next)")
        state = next
        stateSinceMs = nowMs
    }

    /// Loading puts a group straight into the state its records describe.
    mutating func restore(state: GroupState, sinceMs: Int64) {
        self.state = state
        self.stateSinceMs = sinceMs
    }

    mutating func add(_ member: GroupMember) {
        precondition(members[member.memberID] == nil, "member \(member.memberID) added twice")
        if members.isEmpty { protocolType = member.protocolType }
        members[member.memberID] = member
        memberOrder.append(member.memberID)
        if let instance = member.groupInstanceID { staticMembers[instance] = member.memberID }
        if leaderID == nil { leaderID = member.memberID }
    }

    @discardableResult
    mutating func remove(_ memberID: String) -> GroupMember? {
        guard let member = members.removeValue(forKey: memberID) else { return nil }
        memberOrder.removeAll { $0 == memberID }
        pendingSync.remove(memberID)
        if let instance = member.groupInstanceID, staticMembers[instance] == memberID {
            staticMembers[instance] = nil
        }
        if leaderID == memberID { leaderID = memberOrder.first }
        return member
    }

    mutating func update(_ memberID: String, _ body: (inout GroupMember) -> Void) {
        precondition(members[memberID] != nil, "update of unknown member \(memberID)")
        body(&members[memberID]!)
    }

    func staticMemberID(_ instanceID: String) -> String? { staticMembers[instanceID] }

    /// A static member rejoining with a new member id takes the old one's place (and leadership).
    mutating func replaceStaticMember(instanceID: String, oldMemberID: String, newMemberID: String) -> GroupMember {
        var member = members.removeValue(forKey: oldMemberID)!
        member = GroupMember(
            memberID: newMemberID, groupInstanceID: member.groupInstanceID, clientID: member.clientID,
            clientHost: member.clientHost, rebalanceTimeoutMs: member.rebalanceTimeoutMs,
            sessionTimeoutMs: member.sessionTimeoutMs, protocolType: member.protocolType, protocols: member.protocols,
            assignment: member.assignment, joinToken: member.joinToken, syncToken: member.syncToken,
            heartbeatDeadlineMs: member.heartbeatDeadlineMs, lastHeartbeatMs: member.lastHeartbeatMs, isNew: member.isNew)
        members[newMemberID] = member
        memberOrder = memberOrder.map { $0 == oldMemberID ? newMemberID : $0 }
        staticMembers[instanceID] = newMemberID
        if leaderID == oldMemberID { leaderID = newMemberID }
        if pendingSync.remove(oldMemberID) != nil { pendingSync.insert(newMemberID) }
        return member
    }

    /// Protocols every member offers.
    func candidateProtocols() -> [String] {
        guard let first = orderedMembers.first else { return [] }
        return first.protocols.map(\.name).filter { name in
            members.values.allSatisfy { $0.protocols.contains(where: { $0.name == name }) }
        }
    }

    /// Kafka's rule: each member votes for its most preferred candidate; the most votes win.
    /// Ties go to the candidate the first member prefers, to stay deterministic.
    func selectProtocol() -> String? {
        let candidates = candidateProtocols()
        guard !candidates.isEmpty else { return nil }
        var votes: [String: Int] = [:]
        for member in orderedMembers {
            if let choice = member.protocols.first(where: { candidates.contains($0.name) }) {
                votes[choice.name, default: 0] += 1
            }
        }
        var best = candidates[0]
        for name in candidates where votes[name, default: 0] > votes[best, default: 0] { best = name }
        return best
    }

    /// Whether a joining member's protocols fit the group.
    func supports(protocolType: String, protocols: [GroupProtocol]) -> Bool {
        if members.isEmpty { return !protocolType.isEmpty && !protocols.isEmpty }
        guard self.protocolType == protocolType else { return false }
        let candidates = Set(candidateProtocols())
        return protocols.contains(where: { candidates.contains($0.name) })
    }

    func metadataValue() -> GroupMetadataValue {
        GroupMetadataValue(
            protocolType: protocolType, generationID: generationID, protocolName: protocolName,
            leaderID: members.isEmpty ? nil : leaderID, stateTimestampMs: stateSinceMs,
            members: orderedMembers.map { member in
                PersistedMember(
                    memberID: member.memberID, groupInstanceID: member.groupInstanceID, clientID: member.clientID,
                    clientHost: member.clientHost, rebalanceTimeoutMs: member.rebalanceTimeoutMs,
                    sessionTimeoutMs: member.sessionTimeoutMs,
                    subscription: protocolName.flatMap { member.metadata(for: $0) } ?? [], assignment: member.assignment)
            })
    }
}
