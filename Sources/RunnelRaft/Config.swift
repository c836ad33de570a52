/// Static configuration of one Raft node.
public struct RaftConfig: Hashable, Sendable {
    public var id: NodeID
    public var directory: DirectoryID
    /// Followers campaign after a randomized timeout in [electionTicks, 2 * electionTicks).
    public var electionTicks: Int
    /// The leader sends heartbeats every heartbeatTicks; must be below electionTicks.
    public var heartbeatTicks: Int
    public var preVote: Bool
    public var checkQuorum: Bool
    /// Appends in flight to one follower before the leader waits for acknowledgements.
    public var inflightAppendsMax: Int
    /// Entries carried by one append message.
    public var entriesPerAppendMax: Int
    /// Entry data bytes carried by one append message (at least one entry is always sent).
    public var appendBytesMax: Int
    /// Proposals the leader accepts beyond its commit index before dropping new ones.
    public var uncommittedEntriesMax: Int
    /// Seeds the election-timeout generator; the core uses no other randomness.
    public var seed: UInt64
    public var faults: RaftFaults

    public init(
        id: NodeID, directory: DirectoryID, electionTicks: Int = 10, heartbeatTicks: Int = 1,
        preVote: Bool = true, checkQuorum: Bool = true, inflightAppendsMax: Int = 64,
        entriesPerAppendMax: Int = 64, uncommittedEntriesMax: Int = 4096, seed: UInt64 = 0,
        faults: RaftFaults = RaftFaults(), appendBytesMax: Int = 1 << 20
    ) {
        self.id = id
        self.directory = directory
        self.electionTicks = electionTicks
        self.heartbeatTicks = heartbeatTicks
        self.preVote = preVote
        self.checkQuorum = checkQuorum
        self.inflightAppendsMax = inflightAppendsMax
        self.entriesPerAppendMax = entriesPerAppendMax
        self.appendBytesMax = appendBytesMax
        self.uncommittedEntriesMax = uncommittedEntriesMax
        self.seed = seed
        self.faults = faults
    }
}

/// Deliberately broken variants, for tests only: they prove the simulator's checkers can fail.
public struct RaftFaults: Hashable, Sendable {
    /// Commit by counting replicas of any entry, dropping the rule that only entries of the leader's own
    /// term are committed by counting (Raft paper, Figure 8).
    public var commitByCountingOlderTermEntries: Bool
    /// Followers accept appends without checking that the entry before them matches.
    public var skipLogMatchingCheck: Bool
    public init(commitByCountingOlderTermEntries: Bool = false, skipLogMatchingCheck: Bool = false) {
        self.commitByCountingOlderTermEntries = commitByCountingOlderTermEntries
        self.skipLogMatchingCheck = skipLogMatchingCheck
    }
    public static let none = RaftFaults()
}
