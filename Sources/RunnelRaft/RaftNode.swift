/// One Raft participant as a deterministic state machine with no I/O (modelled on etcd-io/raft).
///
/// Drive it with `tick()` (a logical clock), `step(_:)` (messages from peers) and the proposal calls;
/// then take a `Ready`, carry it out in the documented order and hand it back to `advance(_:)`.
public struct RaftNode: Sendable {
    public let config: RaftConfig

    var log: RaftLog
    public internal(set) var term: Term
    public internal(set) var vote: NodeID?
    public internal(set) var role: Role = .follower
    public internal(set) var leader: NodeID?
    /// The configuration in force: the latest one in the log, committed or not (Raft thesis §4.1).
    public internal(set) var membership: Membership
    /// Index of the entry (or snapshot) that carries `membership`.
    var membershipIndex: LogIndex
    /// A leader accepts a membership change only once the commit index reaches this: its first entry
    /// (so it knows the committed configuration) and the last configuration entry.
    var membershipBarrier: LogIndex = .zero

    /// The leader's view of every other member; empty on other roles.
    var progress: [NodeID: Progress] = [:]
    /// Answers to this node's (pre-)vote request, only from voters answering from their configured directory.
    var votes: [NodeID: Bool] = [:]

    var electionElapsedTicks = 0
    var heartbeatElapsedTicks = 0
    var randomizedElectionTicks: Int
    var rng: SplitMix64

    /// While set, the leader is handing leadership to this node and refuses proposals.
    public internal(set) var transferTarget: NodeID?
    var transferElapsedTicks = 0

    /// Messages produced since the last `ready()`, bounded by `outboxMax`.
    var outbox: [Message] = []
    /// Messages discarded because the outbox was full (the driver stopped taking Ready). Raft tolerates
    /// lost messages, so this is back-pressure rather than an error.
    public internal(set) var messagesDropped: UInt64 = 0
    var lastHardState: HardState
    var lastSoftState: SoftState
    var readyOutstanding = false

    /// Bounds one Ready's messages; a leader sends at most a few per member per event, so reaching this
    /// means the driver stopped calling `ready()`. Beyond it messages are dropped, as a network would.
    static let outboxMax = 1 << 16
    /// Committed entries handed to the driver in one Ready.
    static let applyBatchMax = 1024

    /// Restarts a node from what its write-ahead log holds. It comes back as a follower; entries after the
    /// snapshot up to the persisted commit index are handed out again to apply, so the driver restores its
    /// state machine from `state.snapshot` first.
    public init(config: RaftConfig, state: PersistentState) {
        precondition(config.electionTicks > config.heartbeatTicks && config.heartbeatTicks > 0, "bad tick config")
        precondition(
            config.inflightAppendsMax > 0 && config.entriesPerAppendMax > 0 && config.appendBytesMax > 0
                && config.uncommittedEntriesMax > 0, "bad limits")
        self.config = config
        // A write-ahead log may still hold entries the snapshot covers; they are not needed.
        let entries = state.entries.filter { $0.index > state.snapshot.metadata.index }
        self.log = RaftLog(snapshot: state.snapshot, entries: entries, committed: state.hardState.commit)
        self.log.checksTermOrder = config.faults == .none
        // A crash between writing entries and the hard state of the same Ready can leave entries of a newer
        // term than the persisted term. No vote of that newer term was sent (messages wait for the fsync),
        // so the node moves to that term without a vote.
        if log.lastTerm > state.hardState.term {
            self.term = log.lastTerm
            self.vote = nil
        } else {
            self.term = state.hardState.term
            self.vote = state.hardState.vote
        }
        (self.membership, self.membershipIndex) = log.membership(atOrBelow: log.lastIndex)
        self.rng = SplitMix64(seed: config.seed ^ config.id.rawValue)
        self.randomizedElectionTicks = config.electionTicks
        self.lastHardState = state.hardState
        self.lastSoftState = SoftState(leader: nil, role: .follower)
        resetRandomizedElectionTimeout()
    }

    // MARK: Queries

    public var commitIndex: LogIndex { log.committed }
    public var appliedIndex: LogIndex { log.applied }
    public var lastIndex: LogIndex { log.lastIndex }
    public var lastTerm: Term { log.lastTerm }
    /// The first index still held in memory; earlier ones are in the snapshot.
    public var firstIndex: LogIndex { log.firstIndex }
    public var snapshotMetadata: SnapshotMetadata { log.snapshot.metadata }
    public var hardState: HardState { HardState(term: term, vote: vote, commit: log.committed) }
    public var softState: SoftState { SoftState(leader: leader, role: role) }
    public func entry(at index: LogIndex) -> Entry? { log.entry(at: index) }
    public func entries(from start: LogIndex, countMax: Int = Int.max) -> [Entry]? {
        log.entries(from: start, countMax: countMax)
    }

    /// Whether this node is a voter of the configuration in force, answering from the configured directory.
    public var isVoter: Bool {
        membership.voters.contains(Voter(id: config.id, directory: config.directory))
    }

    var selfVoter: Voter { Voter(id: config.id, directory: config.directory) }

    /// A voter of the latest configuration campaigns; so does one whose removal is not yet committed, as
    /// the cluster may still need it to elect a leader that commits the removal (Raft thesis §4.2.2). Its
    /// own vote then does not count.
    var canCampaign: Bool {
        if isVoter { return true }
        guard membershipIndex > log.committed else { return false }
        return log.membership(atOrBelow: log.committed).0.voters.contains(selfVoter)
    }

    // MARK: Clock

    public mutating func tick() {
        if role == .leader {
            tickLeader()
        } else {
            tickFollower()
        }
    }

    private mutating func tickFollower() {
        electionElapsedTicks += 1
        guard electionElapsedTicks >= randomizedElectionTicks, canCampaign else { return }
        electionElapsedTicks = 0
        campaign(preVote: config.preVote, transfer: false)
    }

    private mutating func tickLeader() {
        heartbeatElapsedTicks += 1
        electionElapsedTicks += 1
        for id in progress.keys.sorted() where progress[id]!.state != .probe && progress[id]!.state != .replicate {
            progress[id]!.snapshotElapsedTicks += 1
        }
        if transferTarget != nil {
            transferElapsedTicks += 1
            // A transfer that did not finish within an election timeout failed; resume serving.
            if transferElapsedTicks >= config.electionTicks { transferTarget = nil }
        }
        if electionElapsedTicks >= config.electionTicks {
            electionElapsedTicks = 0
            if config.checkQuorum {
                guard hasActiveQuorum() else {
                    becomeFollower(term: term, leader: nil)
                    return
                }
                for id in progress.keys { progress[id]!.recentActive = false }
            }
        }
        guard role == .leader else { return }
        if heartbeatElapsedTicks >= config.heartbeatTicks {
            heartbeatElapsedTicks = 0
            broadcastHeartbeat()
        }
    }

    /// Check quorum: the leader heard from a majority of voters during the last election timeout.
    private func hasActiveQuorum() -> Bool {
        let active = membership.voters.filter { voter in
            voter == selfVoter || (progress[voter.id].map { $0.recentActive && $0.directory == voter.directory } ?? false)
        }
        return active.count >= quorumSize
    }

    var quorumSize: Int { membership.voters.count / 2 + 1 }

    func isConfiguredVoter(_ id: NodeID, directory: DirectoryID) -> Bool {
        membership.voters.contains(Voter(id: id, directory: directory))
    }

    func isConfiguredMember(_ id: NodeID, directory: DirectoryID) -> Bool {
        isConfiguredVoter(id, directory: directory) || membership.learners.contains(Voter(id: id, directory: directory))
    }

    mutating func resetRandomizedElectionTimeout() {
        randomizedElectionTicks = config.electionTicks + rng.next(below: config.electionTicks)
    }

    // MARK: Role changes

    mutating func becomeFollower(term newTerm: Term, leader newLeader: NodeID?) {
        setTerm(newTerm)
        role = .follower
        leader = newLeader
        resetRoleState()
    }

    /// Moves to `newTerm`, forgetting the vote of an older term.
    mutating func setTerm(_ newTerm: Term) {
        precondition(newTerm >= term, "term must never decrease (\(term) -> \(newTerm))")
        if newTerm > term {
            term = newTerm
            vote = nil
        }
    }

    mutating func resetRoleState() {
        electionElapsedTicks = 0
        heartbeatElapsedTicks = 0
        resetRandomizedElectionTimeout()
        progress = [:]
        votes = [:]
        transferTarget = nil
        transferElapsedTicks = 0
    }

    // MARK: Messages out

    mutating func send(to: NodeID, term messageTerm: Term? = nil, _ kind: MessageKind) {
        precondition(to != config.id, "a node never messages itself")
        guard outbox.count < RaftNode.outboxMax else {
            messagesDropped += 1
            return
        }
        outbox.append(
            Message(from: config.id, fromDirectory: config.directory, to: to, term: messageTerm ?? term, kind: kind))
    }

    // MARK: Ready

    public var hasReady: Bool {
        !outbox.isEmpty || log.lastIndex > log.stableIndex || log.pendingSnapshot != nil
            || log.committed > log.applied || hardState != lastHardState || softState != lastSoftState
    }

    /// What to persist, send and apply now; nil when there is nothing. Hand the value back to `advance`
    /// before asking again.
    public mutating func ready() -> Ready? {
        precondition(!readyOutstanding, "ready() called again before advance()")
        guard hasReady else { return nil }
        var ready = Ready()
        if softState != lastSoftState {
            ready.softState = softState
            lastSoftState = softState
        }
        if hardState != lastHardState {
            // What reaches the disk never goes back: terms and commit indexes only grow, one vote per term.
            precondition(hardState.term >= lastHardState.term, "term went back")
            precondition(
                hardState.term > lastHardState.term || lastHardState.vote == nil || hardState.vote == lastHardState.vote,
                "a second vote in term \(term)")
            precondition(hardState.commit >= lastHardState.commit, "commit index went back")
            ready.hardState = hardState
            lastHardState = hardState
        }
        ready.snapshot = log.pendingSnapshot
        ready.entries = log.unstableEntries
        ready.committedEntries = log.entriesToApply(countMax: RaftNode.applyBatchMax)
        ready.messages = outbox
        outbox = []
        readyOutstanding = true
        return ready
    }

    /// The driver carried out `ready`: its snapshot and entries are durable and its committed entries applied.
    public mutating func advance(_ ready: Ready) {
        precondition(readyOutstanding, "advance() without a Ready")
        readyOutstanding = false
        if let snapshot = ready.snapshot { log.snapshotPersisted(snapshot.metadata) }
        if let last = ready.entries.last { log.stable(through: last.index, term: last.term) }
        if let last = ready.committedEntries.last { log.applied(through: last.index) }
    }

    // MARK: Compaction

    /// Takes a snapshot of the application's state through `index` (already applied) and drops the log
    /// through it. The driver persists the returned snapshot, then may drop its own copies of the entries
    /// at or below `index` (later ones stay).
    public mutating func compact(through index: LogIndex, snapshotData: [UInt8]) throws(CompactionError) -> Snapshot {
        guard index > log.snapshotIndex else { throw .alreadyCompacted }
        guard index <= log.applied, index <= log.stableIndex else { throw .notApplied }
        let (membershipThen, _) = log.membership(atOrBelow: index)
        return log.compact(through: index, membership: membershipThen, data: snapshotData)
    }
}

public enum CompactionError: Error, Hashable, Sendable {
    /// The index is at or below the current snapshot.
    case alreadyCompacted
    /// The index is beyond what the driver has applied (and persisted).
    case notApplied
}
