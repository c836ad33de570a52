extension GroupCoordinatorCore {
    /// JoinGroup. The answer is either immediate or owed: `.pending(token)` is answered by a
    /// `Completion.join(token, _)` in the effects of this or a later event (including `tick`).
    public mutating func join(_ request: JoinRequest, nowMs: Int64) -> (JoinOutcome, GroupEffects) {
        if request.groupID.isEmpty || !GroupRecord.fits(request.groupID) {
            return (.done(.failure(.invalidGroupID, memberID: request.memberID)), GroupEffects())
        }
        if !Self.persistedFieldsFit(request) {
            return (.done(.failure(.invalidRequest, memberID: request.memberID)), GroupEffects())
        }
        if request.sessionTimeoutMs < config.sessionTimeoutMsMin || request.sessionTimeoutMs > config.sessionTimeoutMsMax {
            return (.done(.failure(.invalidSessionTimeout, memberID: request.memberID)), GroupEffects())
        }
        let isUnknownMember = request.memberID.isEmpty
        if groups[request.groupID] == nil {
            if !isUnknownMember { return (.done(.failure(.unknownMemberID, memberID: request.memberID)), GroupEffects()) }
            if groups.count >= config.groupsMax {
                return (.done(.failure(.coordinatorNotAvailable)), GroupEffects())
            }
            groups[request.groupID] = Group(groupID: request.groupID, nowMs: nowMs)
        }
        var group = groups[request.groupID]!
        let result =
            isUnknownMember
            ? joinUnknownMember(&group, request, nowMs: nowMs) : joinKnownMember(&group, request, nowMs: nowMs)
        groups[request.groupID] = group
        dropIfVacant(request.groupID)
        return result
    }

    private mutating func joinUnknownMember(_ group: inout Group, _ request: JoinRequest, nowMs: Int64) -> (
        JoinOutcome, GroupEffects
    ) {
        if group.state == .dead { return (.done(.failure(.coordinatorNotAvailable)), GroupEffects()) }
        if !group.supports(protocolType: request.protocolType, protocols: request.protocols) {
            return (.done(.failure(.inconsistentGroupProtocol)), GroupEffects())
        }
        let newMemberID = makeMemberID(clientID: request.clientID, in: group)
        // The id is the client id and a suffix: a client id that fits (the header's int16 length) may still
        // make an id the group's record cannot hold.
        guard GroupRecord.fits(newMemberID) else { return (.done(.failure(.invalidRequest)), GroupEffects()) }
        if let instance = request.groupInstanceID, let oldMemberID = group.staticMemberID(instance) {
            return rejoinStaticMember(&group, request, oldMemberID: oldMemberID, newMemberID: newMemberID, nowMs: nowMs)
        }
        if group.size >= config.groupSizeMax { return (.done(.failure(.groupMaxSizeReached)), GroupEffects()) }
        if request.requireKnownMemberID && request.groupInstanceID == nil {
            // The client learns its id first, so a retried join after a lost answer cannot leave a ghost member.
            group.pendingMembers[newMemberID] = nowMs + Int64(request.sessionTimeoutMs)
            return (.done(.failure(.memberIDRequired, memberID: newMemberID)), GroupEffects())
        }
        return addMemberAndRebalance(&group, request, memberID: newMemberID, nowMs: nowMs)
    }

    private mutating func joinKnownMember(_ group: inout Group, _ request: JoinRequest, nowMs: Int64) -> (
        JoinOutcome, GroupEffects
    ) {
        let memberID = request.memberID
        if group.state == .dead { return (.done(.failure(.coordinatorNotAvailable, memberID: memberID)), GroupEffects()) }
        if !group.supports(protocolType: request.protocolType, protocols: request.protocols) {
            return (.done(.failure(.inconsistentGroupProtocol, memberID: memberID)), GroupEffects())
        }
        if group.pendingMembers[memberID] != nil {
            return addMemberAndRebalance(&group, request, memberID: memberID, nowMs: nowMs)
        }
        if let error = validateCurrentMember(group, memberID: memberID, groupInstanceID: request.groupInstanceID) {
            return (.done(.failure(error, memberID: memberID)), GroupEffects())
        }
        let member = group.members[memberID]!
        let protocolsUnchanged = member.protocols == request.protocols
        switch group.state {
        case .preparingRebalance:
            return updateMemberAndRebalance(&group, request, nowMs: nowMs)
        case .completingRebalance where protocolsUnchanged:
            // The member lost our answer; repeat it.
            return (.done(currentGenerationResult(group, memberID: memberID, withMembers: true)), GroupEffects())
        case .completingRebalance:
            return updateMemberAndRebalance(&group, request, nowMs: nowMs)
        case .stable where group.leaderID == memberID || !protocolsUnchanged:
            // A leader rejoining means it wants a new assignment (e.g. topic metadata changed).
            return updateMemberAndRebalance(&group, request, nowMs: nowMs)
        case .stable:
            return (.done(currentGenerationResult(group, memberID: memberID, withMembers: false)), GroupEffects())
        case .empty, .dead:
            return (.done(.failure(.unknownMemberID, memberID: memberID)), GroupEffects())
        }
    }

    /// Whether every string of the request that the group's record would hold fits it. Kafka checks
    /// nothing here and fails the record's write later; refusing first leaves no member behind.
    private static func persistedFieldsFit(_ request: JoinRequest) -> Bool {
        GroupRecord.fits(request.protocolType) && GroupRecord.fits(request.clientID)
            && GroupRecord.fits(request.clientHost) && (request.groupInstanceID.map(GroupRecord.fits) ?? true)
            && request.protocols.allSatisfy { GroupRecord.fits($0.name) }
    }

    func currentGenerationResult(_ group: Group, memberID: String, withMembers: Bool) -> JoinResult {
        let isLeader = group.leaderID == memberID
        let members: [JoinedMember] =
            withMembers && isLeader
            ? group.orderedMembers.map {
                JoinedMember(
                    memberID: $0.memberID, groupInstanceID: $0.groupInstanceID,
                    metadata: group.protocolName.flatMap($0.metadata(for:)) ?? [])
            } : []
        return JoinResult(
            error: .none, generationID: group.generationID, protocolType: group.protocolType,
            protocolName: group.protocolName, leaderID: group.leaderID ?? "", memberID: memberID, members: members)
    }

    private mutating func addMemberAndRebalance(_ group: inout Group, _ request: JoinRequest, memberID: String, nowMs: Int64)
        -> (JoinOutcome, GroupEffects)
    {
        let token = nextJoinToken()
        group.pendingMembers[memberID] = nil
        group.add(
            GroupMember(
                memberID: memberID, groupInstanceID: request.groupInstanceID, clientID: request.clientID,
                clientHost: request.clientHost, rebalanceTimeoutMs: request.rebalanceTimeoutMs,
                sessionTimeoutMs: request.sessionTimeoutMs, protocolType: request.protocolType,
                protocols: request.protocols, joinToken: token,
                heartbeatDeadlineMs: nowMs + Int64(request.sessionTimeoutMs), lastHeartbeatMs: nowMs, isNew: true))
        if group.joinPhase?.initialDelayRemainingMs != nil { group.joinPhase!.memberJoinedDuringDelay = true }
        var effects = maybePrepareRebalance(&group, nowMs: nowMs)
        effects.append(maybeCompleteJoin(&group, nowMs: nowMs))
        return (.pending(token), effects)
    }

    private mutating func updateMemberAndRebalance(_ group: inout Group, _ request: JoinRequest, nowMs: Int64) -> (
        JoinOutcome, GroupEffects
    ) {
        let token = nextJoinToken()
        var effects = GroupEffects()
        group.update(request.memberID) { member in
            if let superseded = member.joinToken {
                effects.completions.append(.join(superseded, .failure(.rebalanceInProgress, memberID: member.memberID)))
            }
            member.protocols = request.protocols
            member.rebalanceTimeoutMs = request.rebalanceTimeoutMs
            member.sessionTimeoutMs = request.sessionTimeoutMs
            member.joinToken = token
            member.lastHeartbeatMs = nowMs
        }
        effects.append(maybePrepareRebalance(&group, nowMs: nowMs))
        effects.append(maybeCompleteJoin(&group, nowMs: nowMs))
        return (.pending(token), effects)
    }

    /// A known `group.instance.id` joining without its member id: it takes the old member's place. In a
    /// stable group whose protocol would not change there is no rebalance; the answer names the previous
    /// leader so that a rejoining leader (JoinGroup < v9) does not reassign.
    private mutating func rejoinStaticMember(
        _ group: inout Group, _ request: JoinRequest, oldMemberID: String, newMemberID: String, nowMs: Int64
    ) -> (JoinOutcome, GroupEffects) {
        var effects = GroupEffects()
        let old = group.members[oldMemberID]!
        if let token = old.joinToken { effects.completions.append(.join(token, .failure(.fencedInstanceID, memberID: oldMemberID))) }
        if let token = old.syncToken { effects.completions.append(.sync(token, .failure(.fencedInstanceID))) }
        let previousLeader = group.leaderID
        _ = group.replaceStaticMember(instanceID: request.groupInstanceID!, oldMemberID: oldMemberID, newMemberID: newMemberID)
        group.update(newMemberID) { member in
            member.joinToken = nil
            member.syncToken = nil
            member.protocols = request.protocols
            member.rebalanceTimeoutMs = request.rebalanceTimeoutMs
            member.sessionTimeoutMs = request.sessionTimeoutMs
            member.clientID = request.clientID
            member.clientHost = request.clientHost
            member.heartbeat(nowMs: nowMs)
        }
        if group.state == .stable && group.selectProtocol() == group.protocolName {
            effects.records.append(.groupMetadata(groupID: group.groupID, group.metadataValue()))
            let result = JoinResult(
                error: .none, generationID: group.generationID, protocolType: group.protocolType,
                protocolName: group.protocolName, leaderID: previousLeader ?? "",
                memberID: newMemberID, members: [])
            return (.done(result), effects)
        }
        let token = nextJoinToken()
        group.update(newMemberID) { $0.joinToken = token }
        effects.append(maybePrepareRebalance(&group, nowMs: nowMs))
        effects.append(maybeCompleteJoin(&group, nowMs: nowMs))
        return (.pending(token), effects)
    }
}
