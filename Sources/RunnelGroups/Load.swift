extension GroupCoordinatorCore {
    /// Rebuilds groups and offsets from persisted records, in log order (the latest record per key wins;
    /// tombstones remove). Members of a loaded generation get a fresh session from `nowMs`, as Kafka
    /// schedules their heartbeats on load. Loading into a core that already holds a group replaces it.
    public mutating func load(_ records: [GroupRecord], nowMs: Int64) {
        var hasMetadata: Set<String> = []
        for record in records {
            switch record {
            case .groupMetadata(let groupID, let value):
                var group = Group(groupID: groupID, nowMs: value.stateTimestampMs)
                group.offsets = groups[groupID]?.offsets ?? [:]
                restore(&group, value, nowMs: nowMs)
                groups[groupID] = group
                hasMetadata.insert(groupID)
            case .groupTombstone(let groupID):
                var group = Group(groupID: groupID, nowMs: nowMs)
                group.offsets = groups[groupID]?.offsets ?? [:]
                groups[groupID] = group
                hasMetadata.remove(groupID)
            case .offsetCommit(let groupID, let partition, let committed):
                groups[groupID, default: Group(groupID: groupID, nowMs: nowMs)].offsets[partition] = committed
            case .offsetTombstone(let groupID, let partition):
                groups[groupID]?.offsets[partition] = nil
            }
        }
        for (groupID, group) in groups where group.offsets.isEmpty && !hasMetadata.contains(groupID) && group.members.isEmpty {
            groups[groupID] = nil
        }
    }

    private func restore(_ group: inout Group, _ value: GroupMetadataValue, nowMs: Int64) {
        group.generationID = value.generationID
        group.protocolType = value.protocolType
        group.protocolName = value.protocolName
        let protocolType = value.protocolType ?? ""
        // Records come from disk: a repeated member id is skipped rather than trusted.
        for persisted in value.members where group.members[persisted.memberID] == nil {
            var member = GroupMember(
                memberID: persisted.memberID, groupInstanceID: persisted.groupInstanceID, clientID: persisted.clientID,
                clientHost: persisted.clientHost, rebalanceTimeoutMs: persisted.rebalanceTimeoutMs,
                sessionTimeoutMs: persisted.sessionTimeoutMs, protocolType: protocolType,
                protocols: [GroupProtocol(name: value.protocolName ?? "", metadata: persisted.subscription)],
                heartbeatDeadlineMs: 0, lastHeartbeatMs: 0, isNew: false)
            member.assignment = persisted.assignment
            member.heartbeat(nowMs: nowMs)
            group.add(member)
        }
        group.protocolType = value.protocolType
        group.leaderID = value.leaderID.flatMap { group.members[$0] == nil ? nil : $0 } ?? group.memberOrder.first
        group.restore(state: value.members.isEmpty ? .empty : .stable, sinceMs: value.stateTimestampMs)
    }
}
