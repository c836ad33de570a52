extension GroupCoordinatorCore {
    /// OffsetCommit. Generation -1 with no member is a "simple" commit, allowed while the group has no
    /// members (and creates the group if needed). `retentionMs` is OffsetCommit v2–4's `retention_time_ms`
    /// (nil for -1 and other versions). What is committed is stored as is: an explicit lower
    /// offset replaces a higher one; nothing else moves an offset.
    public mutating func commitOffsets(
        groupID: String, generationID: Int32, memberID: String, groupInstanceID: String? = nil,
        offsets: [OffsetCommitEntry], retentionMs: Int64? = nil, nowMs: Int64
    ) -> ([(TopicPartition, GroupError)], GroupEffects) {
        func all(_ error: GroupError) -> ([(TopicPartition, GroupError)], GroupEffects) {
            (offsets.map { ($0.topicPartition, error) }, GroupEffects())
        }
        // Kafka accepts the empty group id here, for old clients; one too long for the records is refused.
        guard GroupRecord.fits(groupID) else { return all(.invalidGroupID) }
        if groups[groupID] == nil {
            // A commit from an older generation of a group that is gone is refused; a simple commit creates it.
            guard generationID < 0 else { return all(.illegalGeneration) }
            guard groups.count < config.groupsMax else { return all(.coordinatorNotAvailable) }
            groups[groupID] = Group(groupID: groupID, nowMs: nowMs)
        }
        var group = groups[groupID]!
        defer { dropIfVacant(groupID) }
        if let error = validateCommit(group, generationID: generationID, memberID: memberID, groupInstanceID: groupInstanceID) {
            return all(error)
        }
        switch group.state {
        case .completingRebalance:
            // The member has its new generation but not its assignment yet.
            return all(.rebalanceInProgress)
        case .stable, .preparingRebalance:
            // Allowed while preparing: the heartbeat answer tells the member about the rebalance.
            if group.members[memberID] != nil { group.update(memberID) { $0.heartbeat(nowMs: nowMs) } }
        case .empty: break
        case .dead: return all(.coordinatorNotAvailable)
        }
        var effects = GroupEffects()
        var answers: [(TopicPartition, GroupError)] = []
        let metadataBytesMax = min(config.offsetMetadataBytesMax, GroupRecord.stringBytesMax)
        for entry in offsets {
            let metadata = entry.metadata ?? ""
            if !GroupRecord.fits(entry.topicPartition.topic) {
                answers.append((entry.topicPartition, .invalidRequest))
                continue
            }
            if metadata.utf8.count > metadataBytesMax {
                answers.append((entry.topicPartition, .offsetMetadataTooLarge))
                continue
            }
            if group.offsets[entry.topicPartition] == nil && group.offsets.count >= config.offsetsPerGroupMax {
                answers.append((entry.topicPartition, .unknownServerError))
                continue
            }
            let committed = CommittedOffset(
                offset: entry.offset, leaderEpoch: entry.leaderEpoch, metadata: metadata, commitTimestampMs: nowMs,
                // Kafka accepts any retention; one past the end of time never expires.
                expireTimestampMs: retentionMs.map { nowMs.saturatingAdding($0) })
            group.offsets[entry.topicPartition] = committed
            effects.records.append(.offsetCommit(groupID: groupID, entry.topicPartition, committed))
            answers.append((entry.topicPartition, .none))
        }
        groups[groupID] = group
        return (answers, effects)
    }

    /// Kafka's order of checks for a commit.
    private func validateCommit(_ group: Group, generationID: Int32, memberID: String, groupInstanceID: String?) -> GroupError? {
        if group.state == .dead { return .coordinatorNotAvailable }
        if generationID < 0 && group.state == .empty { return nil }
        if generationID >= 0 || !memberID.isEmpty || groupInstanceID != nil {
            if let error = validateCurrentMember(group, memberID: memberID, groupInstanceID: groupInstanceID) { return error }
            return generationID != group.generationID ? .illegalGeneration : nil
        }
        // Without a member id only a group without members may be committed to.
        return group.state == .empty ? nil : .unknownMemberID
    }

    /// OffsetFetch: committed offsets, whatever the group's state. `partitions == nil` asks for all of them;
    /// an unknown group simply has none.
    public func fetchOffsets(groupID: String, partitions: [TopicPartition]?) -> OffsetFetchResult {
        let committed = groups[groupID]?.offsets ?? [:]
        guard let partitions else { return OffsetFetchResult(error: .none, offsets: committed.mapValues { $0 }) }
        var answer: [TopicPartition: CommittedOffset?] = [:]
        for partition in partitions { answer[partition] = .some(committed[partition]) }
        return OffsetFetchResult(error: .none, offsets: answer)
    }
}
