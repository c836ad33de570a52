import RunnelRaft

extension Simulation {
    // MARK: Clients and the membership manager

    func proposeFromClient() {
        let leaders = nodes.filter { $0.isUp && $0.role == .leader }
        guard !leaders.isEmpty else { return }
        let target = leaders[Int(random.next() % UInt64(leaders.count))]
        proposalCounter += 1
        let data = Array("c\(proposalCounter)".utf8)
        if let index = try? target.raft!.propose(data) {
            trace.record(0x90, target.id.rawValue, index.rawValue, text: "@\(now) propose c\(proposalCounter) at \(index) on \(target.id)")
        }
    }

    /// Brings the configuration back to every node with its current directory: a voter whose disk was
    /// wiped is removed, re-added as a learner and promoted once it has caught up.
    func manageMembership() {
        guard let leader = currentLeader(), let raft = leader.raft, raft.transferTarget == nil else { return }
        let membership = raft.membership
        for node in nodes {
            let change: MembershipChange?
            if let voter = membership.voters.first(where: { $0.id == node.id }) {
                change = voter.directory != node.directory ? .removeVoter(node.id) : nil
            } else if let learner = membership.learners.first(where: { $0.id == node.id }) {
                if learner.directory != node.directory {
                    change = .removeLearner(node.id)
                } else if let status = raft.followerStatus[node.id], status.match >= raft.commitIndex {
                    change = .promoteLearner(node.id)
                } else {
                    change = nil
                }
            } else {
                change = now >= node.demotedUntilUnits ? .addLearner(node.member) : nil
            }
            guard let change else { continue }
            if (try? leader.raft!.proposeMembershipChange(change)) != nil {
                trace.record(0x70, leader.id.rawValue, node.id.rawValue, text: "@\(now) leader \(leader.id) proposes \(change)")
            }
            return
        }
    }
}
