extension Membership {
    /// The membership after one single-server change; nil when the change does not apply.
    public func applying(_ change: MembershipChange) -> Membership? {
        var result = self
        switch change {
        case .addVoter(let voter):
            guard !contains(voter.id) else { return nil }
            result.voters.append(voter)
        case .removeVoter(let id):
            guard let position = voters.firstIndex(where: { $0.id == id }), voters.count > 1 else { return nil }
            result.voters.remove(at: position)
        case .addLearner(let learner):
            guard !contains(learner.id) else { return nil }
            result.learners.append(learner)
        case .removeLearner(let id):
            guard let position = learners.firstIndex(where: { $0.id == id }) else { return nil }
            result.learners.remove(at: position)
        case .promoteLearner(let id):
            guard let position = learners.firstIndex(where: { $0.id == id }) else { return nil }
            result.voters.append(result.learners.remove(at: position))
        }
        result.voters.sort { $0.id < $1.id }
        result.learners.sort { $0.id < $1.id }
        return result
    }

    public func contains(_ id: NodeID) -> Bool {
        voters.contains { $0.id == id } || learners.contains { $0.id == id }
    }
}

extension RaftNode {
    /// Proposes one single-server membership change. It takes effect on each node as soon as the entry is
    /// in its log (Raft thesis §4.1); the next change waits until this one commits.
    @discardableResult
    public mutating func proposeMembershipChange(_ change: MembershipChange) throws(ProposalError) -> LogIndex {
        try checkCanPropose()
        guard log.committed >= membershipIndex, log.committed >= membershipBarrier else {
            throw .membershipChangePending
        }
        guard let newMembership = membership.applying(change) else { throw .invalidMembershipChange }
        let entry = Entry(term: term, index: log.lastIndex.next, kind: .configChange, data: newMembership.encoded())
        appendAsLeader([entry])
        return entry.index
    }

    /// Puts `newMembership` (written at `index`) in force, and on the leader tracks exactly its members.
    mutating func applyMembership(_ newMembership: Membership, at index: LogIndex) {
        membership = newMembership
        membershipIndex = index
        guard role == .leader else { return }
        let members = newMembership.voters + newMembership.learners
        for id in progress.keys where !members.contains(where: { $0.id == id }) { progress[id] = nil }
        for member in members where member.id != config.id {
            // A member that came back with a new directory is a new member: start its progress afresh.
            if progress[member.id]?.directory != member.directory {
                var pr = Progress(directory: member.directory, next: log.lastIndex.next)
                pr.recentActive = true
                progress[member.id] = pr
            }
        }
        if transferTarget.map({ !newMembership.voters.map(\.id).contains($0) }) ?? false { transferTarget = nil }
    }
}
