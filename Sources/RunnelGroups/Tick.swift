extension GroupCoordinatorCore {
    /// Drives every timeout: members whose session ran out, members told MEMBER_ID_REQUIRED that never came
    /// back, members that did not sync in time, join phases (initial delay and rebalance timeout), and,
    /// every `offsetsRetentionCheckIntervalMs`, expired offsets and the empty groups they leave behind.
    /// Call it often (e.g. every 100 ms); each call visits every group once.
    public mutating func tick(nowMs: Int64) -> ([Expiration], GroupEffects) {
        var expirations: [Expiration] = []
        var effects = GroupEffects()
        for groupID in groups.keys.sorted() {
            var group = groups[groupID]!
            expireMembers(&group, nowMs: nowMs, expirations: &expirations, effects: &effects)
            advanceJoinPhase(&group, nowMs: nowMs, expirations: &expirations, effects: &effects)
            groups[groupID] = group
        }
        if lastRetentionCheckMs.map({ nowMs - $0 >= config.offsetsRetentionCheckIntervalMs }) ?? true {
            lastRetentionCheckMs = nowMs
            expireOffsets(nowMs: nowMs, expirations: &expirations, effects: &effects)
        }
        return (expirations, effects)
    }

    private func expireMembers(
        _ group: inout Group, nowMs: Int64, expirations: inout [Expiration], effects: inout GroupEffects
    ) {
        for (memberID, deadlineMs) in group.pendingMembers.sorted(by: { $0.key < $1.key }) where deadlineMs <= nowMs {
            group.pendingMembers[memberID] = nil
            expirations.append(Expiration(groupID: group.groupID, memberID: memberID, kind: .pendingMemberTimedOut))
            effects.append(maybeCompleteJoin(&group, nowMs: nowMs))
        }
        for member in group.orderedMembers
        where !member.shouldKeepAlive(nowMs: nowMs, newMemberJoinTimeoutMs: config.newMemberJoinTimeoutMs) {
            expirations.append(Expiration(groupID: group.groupID, memberID: member.memberID, kind: .memberSessionTimedOut))
            effects.append(removeMemberAndUpdateGroup(&group, memberID: member.memberID, nowMs: nowMs))
        }
        if let deadlineMs = group.syncDeadlineMs, deadlineMs <= nowMs {
            group.syncDeadlineMs = nil
            // Members of the generation that never asked for their assignment are dropped and the rest rebalance.
            let missing = group.memberOrder.filter { group.pendingSync.contains($0) }
            for memberID in missing where group.members[memberID] != nil {
                expirations.append(Expiration(groupID: group.groupID, memberID: memberID, kind: .memberMissedSync))
                effects.append(removeMemberAndUpdateGroup(&group, memberID: memberID, nowMs: nowMs))
            }
        }
    }

    private func advanceJoinPhase(
        _ group: inout Group, nowMs: Int64, expirations: inout [Expiration], effects: inout GroupEffects
    ) {
        guard group.state == .preparingRebalance, var phase = group.joinPhase, phase.deadlineMs <= nowMs else { return }
        if let remainingMs = phase.initialDelayRemainingMs, phase.memberJoinedDuringDelay, remainingMs > 0 {
            // Someone joined during the delay: wait once more, up to the rebalance timeout in total.
            let delayMs = min(config.initialRebalanceDelayMs, remainingMs)
            phase.deadlineMs = nowMs + delayMs
            phase.initialDelayRemainingMs = remainingMs - delayMs
            phase.memberJoinedDuringDelay = false
            group.joinPhase = phase
            return
        }
        expirations.append(Expiration(groupID: group.groupID, memberID: nil, kind: .joinPhaseCompleted))
        effects.append(completeJoin(&group, nowMs: nowMs))
    }

    /// Kafka's rule: offsets of an empty group expire `offsetsRetentionMs` after it became empty; offsets
    /// of a group that never used group management expire that long after their commit.
    private mutating func expireOffsets(nowMs: Int64, expirations: inout [Expiration], effects: inout GroupEffects) {
        let retentionMs = config.offsetsRetentionMs
        for groupID in groups.keys.sorted() {
            var group = groups[groupID]!
            let expired: [TopicPartition]
            // A commit's own expiry time, when it had one, wins over the broker's retention.
            if group.protocolType == nil {
                expired = group.offsets.filter {
                    $0.value.expireTimestampMs.map { nowMs >= $0 }
                        ?? (nowMs.saturatingSubtracting($0.value.commitTimestampMs) >= retentionMs)
                }.map(\.key)
            } else if group.state == .empty {
                expired = group.offsets.filter {
                    $0.value.expireTimestampMs.map { nowMs >= $0 }
                        ?? (nowMs.saturatingSubtracting(group.stateSinceMs) >= retentionMs)
                }.map(\.key)
            } else {
                expired = []
            }
            for partition in expired.sorted() {
                group.offsets[partition] = nil
                effects.records.append(.offsetTombstone(groupID: groupID, partition))
            }
            if !expired.isEmpty {
                expirations.append(Expiration(groupID: groupID, memberID: nil, kind: .offsetsExpired(count: expired.count)))
            }
            if group.state == .empty && group.offsets.isEmpty && group.members.isEmpty && group.pendingMembers.isEmpty
                && nowMs.saturatingSubtracting(group.stateSinceMs) >= retentionMs
            {
                group.transition(to: .dead, nowMs: nowMs)
                effects.records.append(.groupTombstone(groupID: groupID))
                expirations.append(Expiration(groupID: groupID, memberID: nil, kind: .groupRemoved))
                groups[groupID] = nil
            } else {
                groups[groupID] = group
            }
        }
    }
}

extension GroupCoordinatorCore {
    /// The earliest time at which `tick` has work, so the shell can arm one timer instead of polling.
    /// Visits every member; nil when nothing is timed.
    public func nextDeadlineMs() -> Int64? {
        var earliest: Int64?
        func consider(_ deadlineMs: Int64?) {
            guard let deadlineMs else { return }
            earliest = min(earliest ?? deadlineMs, deadlineMs)
        }
        var holdsOffsets = false
        for group in groups.values {
            consider(group.joinPhase?.deadlineMs)
            consider(group.syncDeadlineMs)
            for deadlineMs in group.pendingMembers.values { consider(deadlineMs) }
            for member in group.members.values {
                if member.isAwaitingJoin {
                    if member.isNew { consider(member.lastHeartbeatMs + config.newMemberJoinTimeoutMs) }
                } else if !member.isAwaitingSync {
                    consider(member.heartbeatDeadlineMs)
                }
            }
            holdsOffsets = holdsOffsets || !group.offsets.isEmpty || group.state == .empty
        }
        if holdsOffsets { consider((lastRetentionCheckMs ?? Int64.min / 2) + config.offsetsRetentionCheckIntervalMs) }
        return earliest
    }
}
