/// Why a leadership transfer was refused.
public enum TransferError: Error, Hashable, Sendable {
    case notLeader(leader: NodeID?)
    /// The target is not a voter of the configuration in force.
    case notVoter
}

extension RaftNode {
    /// Hands leadership to `target`: once its log matches ours it is told to campaign at once. Proposals
    /// are refused meanwhile; the transfer is abandoned after an election timeout.
    public mutating func transferLeadership(to target: NodeID) throws(TransferError) {
        guard role == .leader else { throw .notLeader(leader: leader) }
        guard membership.voters.contains(where: { $0.id == target }) else { throw .notVoter }
        guard target != config.id, transferTarget != target else { return }
        transferTarget = target
        transferElapsedTicks = 0
        if progress[target]?.match == log.lastIndex {
            send(to: target, .timeoutNow)
        } else {
            // Even an empty append makes a lagging target answer, which starts its repair.
            sendAppend(to: target, evenIfEmpty: true)
        }
    }
}
