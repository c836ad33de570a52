extension GroupCoordinatorCore {
    /// DescribeGroups. An unknown group is described as Dead with no members, as Kafka does. Member
    /// metadata and assignments are shown only while the group is Stable.
    public func describe(groupIDs: [String]) -> [GroupDescription] {
        groupIDs.map { groupID in
            guard let group = groups[groupID] else {
                return GroupDescription(
                    groupID: groupID, error: .none, state: .dead, protocolType: "", protocolName: "", members: [])
            }
            let stable = group.state == .stable
            let members = group.orderedMembers.map { member in
                MemberDescription(
                    memberID: member.memberID, groupInstanceID: member.groupInstanceID, clientID: member.clientID,
                    clientHost: member.clientHost,
                    metadata: stable ? (group.protocolName.flatMap(member.metadata(for:)) ?? []) : [],
                    assignment: stable ? member.assignment : [])
            }
            return GroupDescription(
                groupID: groupID, error: .none, state: group.state, protocolType: group.protocolType ?? "",
                protocolName: stable ? (group.protocolName ?? "") : "", members: members)
        }
    }

    /// ListGroups, optionally only in the given states (v4), in group id order.
    public func list(states: Set<GroupState>? = nil) -> [GroupListing] {
        groups.keys.sorted().compactMap { groupID in
            let group = groups[groupID]!
            if let states, !states.contains(group.state) { return nil }
            return GroupListing(groupID: groupID, protocolType: group.protocolType ?? "", state: group.state)
        }
    }

    /// DeleteGroups: only groups without members; their offsets go with them (tombstones to persist).
    public mutating func delete(groupIDs: [String], nowMs: Int64) -> ([(String, GroupError)], GroupEffects) {
        var effects = GroupEffects()
        var answers: [(String, GroupError)] = []
        for groupID in groupIDs {
            guard var group = groups[groupID], group.state != .dead else {
                answers.append((groupID, .groupIDNotFound))
                continue
            }
            guard group.state == .empty else {
                answers.append((groupID, .nonEmptyGroup))
                continue
            }
            group.transition(to: .dead, nowMs: nowMs)
            effects.records.append(contentsOf: tombstones(group))
            groups[groupID] = nil
            answers.append((groupID, .none))
        }
        return (answers, effects)
    }

    func tombstones(_ group: Group) -> [GroupRecord] {
        group.offsets.keys.sorted().map { GroupRecord.offsetTombstone(groupID: group.groupID, $0) }
            + [.groupTombstone(groupID: group.groupID)]
    }
}
