/// The leader's view of one member's replication.
public struct FollowerStatus: Hashable, Sendable {
    public var match: LogIndex
    public var next: LogIndex
    public var state: ReplicationState
    public var recentActive: Bool
}

extension RaftNode {
    /// Per-member replication as the leader sees it; empty unless leader.
    public var followerStatus: [NodeID: FollowerStatus] {
        progress.mapValues {
            FollowerStatus(match: $0.match, next: $0.next, state: $0.state, recentActive: $0.recentActive)
        }
    }
}
