/// The classic group coordinator as a deterministic state machine: no clocks, no I/O, no randomness.
/// Events take the time explicitly and return what the broker must do (`GroupEffects`): answers owed to
/// waiting JoinGroup/SyncGroup requests and records to persist. `tick` drives every timeout.
public struct GroupCoordinatorCore: Sendable {
    public let config: GroupConfig
    var groups: [String: Group] = [:]
    private var tokenCounter: UInt64 = 0
    private var memberCounter: UInt64 = 0
    var lastRetentionCheckMs: Int64?

    public init(config: GroupConfig = GroupConfig()) {
        precondition(config.groupSizeMax > 0 && config.groupsMax > 0, "limits must be positive")
        precondition(config.sessionTimeoutMsMin <= config.sessionTimeoutMsMax, "session timeout bounds reversed")
        self.config = config
    }

    public var groupCount: Int { groups.count }
    public var groupIDs: [String] { groups.keys.sorted() }

    public func state(of groupID: String) -> GroupState? { groups[groupID]?.state }
    public func generation(of groupID: String) -> Int32? { groups[groupID]?.generationID }

    mutating func nextJoinToken() -> JoinToken {
        tokenCounter += 1
        return JoinToken(value: tokenCounter)
    }

    mutating func nextSyncToken() -> SyncToken {
        tokenCounter += 1
        return SyncToken(value: tokenCounter)
    }

    /// Kafka appends a UUID to the client id; here a counter and the configured incarnation keep ids unique.
    mutating func makeMemberID(clientID: String, in group: Group) -> String {
        var id: String
        repeat {
            memberCounter += 1
            id = "\(clientID)-\(config.memberIDIncarnation)-\(memberCounter)"
        } while group.members[id] != nil || group.pendingMembers[id] != nil
        return id
    }

    /// Kafka's check of a request's member: a static instance must map to this member id; the id must exist.
    func validateCurrentMember(_ group: Group, memberID: String, groupInstanceID: String?) -> GroupError? {
        if let instance = groupInstanceID {
            guard let current = group.staticMemberID(instance) else { return .unknownMemberID }
            if current != memberID { return .fencedInstanceID }
            return nil
        }
        return group.members[memberID] == nil ? .unknownMemberID : nil
    }

    /// Groups that hold nothing are dropped so that failed requests leave no trace.
    mutating func dropIfVacant(_ groupID: String) {
        guard let group = groups[groupID] else { return }
        if group.state == .empty && group.members.isEmpty && group.pendingMembers.isEmpty && group.offsets.isEmpty
            && group.generationID == 0
        {
            groups[groupID] = nil
        }
    }

    // MARK: Rebalance mechanics shared by the events.

    /// Starts a rebalance: an empty group waits the initial delay for more members, others the rebalance timeout.
    func prepareRebalance(_ group: inout Group, nowMs: Int64) -> GroupEffects {
        precondition([.empty, .stable, .completingRebalance].contains(group.state), "rebalance from \(group.state)")
        var effects = GroupEffects()
        if group.state == .completingRebalance {
            effects.append(resetAssignments(&group, error: .rebalanceInProgress))
        }
        group.pendingSync = []
        group.syncDeadlineMs = nil
        if group.state == .empty {
            let delayMs = config.initialRebalanceDelayMs
            group.joinPhase = JoinPhase(
                deadlineMs: nowMs + delayMs, initialDelayRemainingMs: max(group.rebalanceTimeoutMs - delayMs, 0))
        } else {
            group.joinPhase = JoinPhase(deadlineMs: nowMs + group.rebalanceTimeoutMs, initialDelayRemainingMs: nil)
        }
        group.transition(to: .preparingRebalance, nowMs: nowMs)
        return effects
    }

    /// Clears every assignment and answers waiting SyncGroup requests with `error`.
    func resetAssignments(_ group: inout Group, error: GroupError) -> GroupEffects {
        var effects = GroupEffects()
        for memberID in group.memberOrder {
            group.update(memberID) { member in
                member.assignment = []
                if let token = member.syncToken {
                    effects.completions.append(.sync(token, .failure(error)))
                    member.syncToken = nil
                }
            }
        }
        return effects
    }

    func maybePrepareRebalance(_ group: inout Group, nowMs: Int64) -> GroupEffects {
        guard [.empty, .stable, .completingRebalance].contains(group.state) else { return GroupEffects() }
        return prepareRebalance(&group, nowMs: nowMs)
    }

    /// The join phase ends early once everyone is back, except during the initial delay, which always runs out.
    func maybeCompleteJoin(_ group: inout Group, nowMs: Int64) -> GroupEffects {
        guard group.state == .preparingRebalance, let phase = group.joinPhase, phase.initialDelayRemainingMs == nil,
            group.hasAllMembersJoined
        else { return GroupEffects() }
        return completeJoin(&group, nowMs: nowMs)
    }

    /// Ends the join phase: drops dynamic members that did not rejoin, starts the next generation and answers
    /// every waiting JoinGroup (the leader gets the member list).
    func completeJoin(_ group: inout Group, nowMs: Int64) -> GroupEffects {
        precondition(group.state == .preparingRebalance, "join completes only while preparing a rebalance")
        var effects = GroupEffects()
        for member in group.orderedMembers where !member.isAwaitingJoin && member.groupInstanceID == nil {
            group.remove(member.memberID)
        }
        group.joinPhase = nil
        if !group.members.isEmpty {
            let leaderJoined = group.leaderID.flatMap { group.members[$0] }?.isAwaitingJoin ?? false
            if !leaderJoined {
                guard let joined = group.orderedMembers.first(where: \.isAwaitingJoin) else {
                    // Only static members that have not come back: give them another rebalance timeout.
                    group.joinPhase = JoinPhase(deadlineMs: nowMs + group.rebalanceTimeoutMs, initialDelayRemainingMs: nil)
                    return effects
                }
                group.leaderID = joined.memberID
            }
        }
        // Kafka's classic group increments a Java int, which wraps: Int32.max (from a record) is followed by Int32.min.
        group.generationID &+= 1
        if group.members.isEmpty {
            group.protocolName = nil
            group.leaderID = nil
            group.transition(to: .empty, nowMs: nowMs)
            effects.records.append(.groupMetadata(groupID: group.groupID, group.metadataValue()))
            return effects
        }
        guard let selected = group.selectProtocol() else {
            preconditionFailure("group \(group.groupID) has members but no common protocol")
        }
        group.protocolName = selected
        group.transition(to: .completingRebalance, nowMs: nowMs)
        let leaderID = group.leaderID!
        let generationID = group.generationID
        let protocolType = group.protocolType
        let memberList = group.orderedMembers.map {
            JoinedMember(memberID: $0.memberID, groupInstanceID: $0.groupInstanceID, metadata: $0.metadata(for: selected) ?? [])
        }
        for memberID in group.memberOrder {
            group.update(memberID) { member in
                if let token = member.joinToken {
                    effects.completions.append(
                        .join(
                            token,
                            JoinResult(
                                error: .none, generationID: generationID, protocolType: protocolType,
                                protocolName: selected, leaderID: leaderID, memberID: memberID,
                                members: memberID == leaderID ? memberList : [])))
                    member.joinToken = nil
                }
                member.heartbeat(nowMs: nowMs)
                member.isNew = false
            }
            group.pendingSync.insert(memberID)
        }
        group.syncDeadlineMs = nowMs + group.rebalanceTimeoutMs
        return effects
    }

    /// A member leaves (or is expired): its waits are answered UNKNOWN_MEMBER_ID and the group rebalances.
    func removeMemberAndUpdateGroup(_ group: inout Group, memberID: String, nowMs: Int64) -> GroupEffects {
        var effects = GroupEffects()
        guard let member = group.remove(memberID) else { return effects }
        if let token = member.joinToken { effects.completions.append(.join(token, .failure(.unknownMemberID, memberID: memberID))) }
        if let token = member.syncToken { effects.completions.append(.sync(token, .failure(.unknownMemberID))) }
        switch group.state {
        case .dead, .empty: break
        case .stable, .completingRebalance:
            effects.append(prepareRebalance(&group, nowMs: nowMs))
            // The last member leaving empties the group at once.
            effects.append(maybeCompleteJoin(&group, nowMs: nowMs))
        case .preparingRebalance: effects.append(maybeCompleteJoin(&group, nowMs: nowMs))
        }
        return effects
    }
}
