extension GroupCoordinatorCore {
    /// SyncGroup. Followers wait (`.pending`) until the leader's assignment arrives; the leader's sync
    /// answers everyone and emits the generation's metadata record.
    public mutating func sync(_ request: SyncRequest, nowMs: Int64) -> (SyncOutcome, GroupEffects) {
        if request.groupID.isEmpty { return (.done(.failure(.invalidGroupID)), GroupEffects()) }
        guard var group = groups[request.groupID] else { return (.done(.failure(.unknownMemberID)), GroupEffects()) }
        let result = sync(&group, request, nowMs: nowMs)
        groups[request.groupID] = group
        return result
    }

    private mutating func sync(_ group: inout Group, _ request: SyncRequest, nowMs: Int64) -> (SyncOutcome, GroupEffects) {
        if group.state == .dead { return (.done(.failure(.coordinatorNotAvailable)), GroupEffects()) }
        if let error = validateCurrentMember(group, memberID: request.memberID, groupInstanceID: request.groupInstanceID) {
            return (.done(.failure(error)), GroupEffects())
        }
        if request.generationID != group.generationID { return (.done(.failure(.illegalGeneration)), GroupEffects()) }
        if let type = request.protocolType, type != group.protocolType {
            return (.done(.failure(.inconsistentGroupProtocol)), GroupEffects())
        }
        if let name = request.protocolName, name != group.protocolName {
            return (.done(.failure(.inconsistentGroupProtocol)), GroupEffects())
        }
        switch group.state {
        case .empty: return (.done(.failure(.unknownMemberID)), GroupEffects())
        case .preparingRebalance: return (.done(.failure(.rebalanceInProgress)), GroupEffects())
        case .stable:
            group.pendingSync.remove(request.memberID)
            if group.pendingSync.isEmpty { group.syncDeadlineMs = nil }
            group.update(request.memberID) { $0.heartbeat(nowMs: nowMs) }
            return (.done(syncResult(group, assignment: group.members[request.memberID]!.assignment)), GroupEffects())
        case .completingRebalance:
            var effects = GroupEffects()
            let token = nextSyncToken()
            group.update(request.memberID) { member in
                if let superseded = member.syncToken {
                    effects.completions.append(.sync(superseded, .failure(.rebalanceInProgress)))
                }
                member.syncToken = token
            }
            group.pendingSync.remove(request.memberID)
            if group.pendingSync.isEmpty { group.syncDeadlineMs = nil }
            if group.leaderID == request.memberID {
                effects.append(applyAssignment(&group, request.assignments, nowMs: nowMs))
            }
            return (.pending(token), effects)
        case .dead: preconditionFailure("dead group handled above")
        }
    }

    private func syncResult(_ group: Group, assignment: [UInt8]) -> SyncResult {
        SyncResult(error: .none, protocolType: group.protocolType, protocolName: group.protocolName, assignment: assignment)
    }

    /// The leader's assignment: members it left out get an empty one, as Kafka.
    private func applyAssignment(_ group: inout Group, _ assignments: [(memberID: String, assignment: [UInt8])], nowMs: Int64)
        -> GroupEffects
    {
        var byMember: [String: [UInt8]] = [:]
        for entry in assignments where group.members[entry.memberID] != nil { byMember[entry.memberID] = entry.assignment }
        var effects = GroupEffects()
        let protocolType = group.protocolType
        let protocolName = group.protocolName
        group.transition(to: .stable, nowMs: nowMs)
        for memberID in group.memberOrder {
            group.update(memberID) { member in
                member.assignment = byMember[memberID] ?? []
                if let token = member.syncToken {
                    effects.completions.append(
                        .sync(
                            token,
                            SyncResult(
                                error: .none, protocolType: protocolType, protocolName: protocolName,
                                assignment: member.assignment)))
                    member.syncToken = nil
                    member.heartbeat(nowMs: nowMs)
                }
            }
        }
        effects.records.append(.groupMetadata(groupID: group.groupID, group.metadataValue()))
        return effects
    }

    /// Heartbeat: keeps the session alive and tells members about a rebalance (REBALANCE_IN_PROGRESS).
    public mutating func heartbeat(
        groupID: String, generationID: Int32, memberID: String, groupInstanceID: String? = nil, nowMs: Int64
    ) -> GroupError {
        if groupID.isEmpty { return .invalidGroupID }
        guard var group = groups[groupID] else { return .unknownMemberID }
        if group.state == .dead { return .coordinatorNotAvailable }
        if let error = validateCurrentMember(group, memberID: memberID, groupInstanceID: groupInstanceID) { return error }
        if generationID != group.generationID { return .illegalGeneration }
        let answer: GroupError
        switch group.state {
        case .empty, .dead: return .unknownMemberID
        case .completingRebalance, .stable: answer = .none
        case .preparingRebalance: answer = .rebalanceInProgress
        }
        group.update(memberID) { $0.heartbeat(nowMs: nowMs) }
        groups[groupID] = group
        return answer
    }

    /// LeaveGroup (one member before v3, a batch from v3). Members may be named by `group.instance.id`
    /// alone (administrative removal). The broker folds a single member's error into the top level for v0–2.
    public mutating func leave(groupID: String, members: [LeavingMember], nowMs: Int64) -> (LeaveResult, GroupEffects) {
        if groupID.isEmpty { return (LeaveResult(error: .invalidGroupID, members: []), GroupEffects()) }
        guard var group = groups[groupID] else {
            return (LeaveResult(error: .none, members: members.map { ($0, .unknownMemberID) }), GroupEffects())
        }
        if group.state == .dead {
            return (LeaveResult(error: .coordinatorNotAvailable, members: []), GroupEffects())
        }
        var effects = GroupEffects()
        var answers: [(member: LeavingMember, error: GroupError)] = []
        for leaving in members {
            if leaving.memberID.isEmpty {
                if let instance = leaving.groupInstanceID, let current = group.staticMemberID(instance) {
                    effects.append(removeMemberAndUpdateGroup(&group, memberID: current, nowMs: nowMs))
                    answers.append((leaving, .none))
                } else {
                    answers.append((leaving, .unknownMemberID))
                }
            } else if group.pendingMembers.removeValue(forKey: leaving.memberID) != nil {
                effects.append(maybeCompleteJoin(&group, nowMs: nowMs))
                answers.append((leaving, .none))
            } else if let error = validateCurrentMember(
                group, memberID: leaving.memberID, groupInstanceID: leaving.groupInstanceID)
            {
                answers.append((leaving, error))
            } else {
                effects.append(removeMemberAndUpdateGroup(&group, memberID: leaving.memberID, nowMs: nowMs))
                answers.append((leaving, .none))
            }
        }
        groups[groupID] = group
        return (LeaveResult(error: .none, members: answers), effects)
    }
}
