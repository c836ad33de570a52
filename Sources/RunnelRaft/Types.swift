// Public value types of the Raft core. Additive changes only: the WAL and the simulator build on them.

/// A Raft node's identity in the cluster (stable across restarts and disk wipes).
public struct NodeID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public static func < (a: NodeID, b: NodeID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "\(rawValue)" }
}

/// Identity of one node's data directory: a fresh id is drawn when a disk is formatted, so a node whose
/// disk was wiped is a different voter even though its `NodeID` is unchanged.
public struct DirectoryID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64
    public init(high: UInt64, low: UInt64) { self.high = high; self.low = low }
    public static let none = DirectoryID(high: 0, low: 0)
    public static func < (a: DirectoryID, b: DirectoryID) -> Bool { (a.high, a.low) < (b.high, b.low) }
    public var description: String {
        high == 0 ? "d\(low)" : "d\(high):\(low)"
    }
}

public struct Term: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public static let zero = Term(0)
    public static func < (a: Term, b: Term) -> Bool { a.rawValue < b.rawValue }
    public var next: Term { Term(rawValue + 1) }
    public var description: String { "\(rawValue)" }
}

public struct LogIndex: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public static let zero = LogIndex(0)
    public static func < (a: LogIndex, b: LogIndex) -> Bool { a.rawValue < b.rawValue }
    public var next: LogIndex { LogIndex(rawValue + 1) }
    /// The index before this one; `zero` stays `zero`.
    public var previous: LogIndex { LogIndex(rawValue == 0 ? 0 : rawValue - 1) }
    public func advanced(by n: UInt64) -> LogIndex { LogIndex(rawValue + n) }
    public var description: String { "\(rawValue)" }
}

public enum EntryKind: UInt8, Hashable, Sendable {
    /// Application data.
    case normal = 0
    /// Appended by every new leader so it can commit entries of its own term (Raft §5.4.2).
    case noop = 1
    /// `data` is `Membership.encoded()` of the configuration that takes effect when the entry is appended.
    case configChange = 2
}

public struct Entry: Hashable, Sendable {
    public var term: Term
    public var index: LogIndex
    public var kind: EntryKind
    public var data: [UInt8]
    public init(term: Term, index: LogIndex, kind: EntryKind = .normal, data: [UInt8] = []) {
        self.term = term
        self.index = index
        self.kind = kind
        self.data = data
    }
}

/// What must be durable before any message of the same `Ready` is sent.
public struct HardState: Hashable, Sendable {
    public var term: Term
    public var vote: NodeID?
    public var commit: LogIndex
    public init(term: Term = .zero, vote: NodeID? = nil, commit: LogIndex = .zero) {
        self.term = term
        self.vote = vote
        self.commit = commit
    }
}

/// A member of the configuration: a node id together with the directory it must answer from.
public struct Voter: Hashable, Sendable, CustomStringConvertible {
    public var id: NodeID
    public var directory: DirectoryID
    public init(id: NodeID, directory: DirectoryID) { self.id = id; self.directory = directory }
    public var description: String { "\(id)/\(directory)" }
}

/// The cluster configuration. Voters elect and count for commit; learners only receive the log.
public struct Membership: Hashable, Sendable {
    public var voters: [Voter]
    public var learners: [Voter]
    public init(voters: [Voter] = [], learners: [Voter] = []) {
        self.voters = voters
        self.learners = learners
    }
}

/// One single-server change, proposed through the log (at most one uncommitted at a time).
public enum MembershipChange: Hashable, Sendable {
    case addVoter(Voter)
    case removeVoter(NodeID)
    case addLearner(Voter)
    case removeLearner(NodeID)
    case promoteLearner(NodeID)
}

public struct SnapshotMetadata: Hashable, Sendable {
    public var index: LogIndex
    public var term: Term
    public var membership: Membership
    public init(index: LogIndex, term: Term, membership: Membership) {
        self.index = index
        self.term = term
        self.membership = membership
    }
}

public struct Snapshot: Hashable, Sendable {
    public var metadata: SnapshotMetadata
    /// The application's state machine through `metadata.index`; opaque to Raft.
    public var data: [UInt8]
    public init(metadata: SnapshotMetadata, data: [UInt8] = []) {
        self.metadata = metadata
        self.data = data
    }
}

/// How a follower answered an append.
public enum AppendOutcome: Hashable, Sendable {
    /// The follower's log matches the leader's through `matchIndex`.
    case accepted(matchIndex: LogIndex)
    /// The entry at `rejectedIndex` (the append's previous index) did not match. `hintIndex`/`hintTerm`
    /// name the follower's last entry at or below `rejectedIndex` whose term is ≤ the leader's term
    /// there, so the leader can skip a whole conflicting term at once.
    case rejected(rejectedIndex: LogIndex, hintIndex: LogIndex, hintTerm: Term)
}

public enum MessageKind: Hashable, Sendable {
    /// Asks whether the sender could win an election at `Message.term` (not yet its own term).
    case preVote(lastLogIndex: LogIndex, lastLogTerm: Term)
    case preVoteResponse(granted: Bool)
    /// `leadershipTransfer` lets the candidate bypass leader stickiness: the leader asked for this election.
    case vote(lastLogIndex: LogIndex, lastLogTerm: Term, leadershipTransfer: Bool)
    case voteResponse(granted: Bool)
    case append(prevLogIndex: LogIndex, prevLogTerm: Term, entries: [Entry], commit: LogIndex)
    case appendResponse(AppendOutcome)
    case heartbeat(commit: LogIndex)
    case heartbeatResponse
    /// The follower answers with `appendResponse(.accepted(matchIndex:))` once it holds the snapshot.
    case installSnapshot(Snapshot)
    /// Sent by a leader transferring leadership: campaign now, without pre-vote.
    case timeoutNow
}

public struct Message: Hashable, Sendable {
    public var from: NodeID
    /// The sender's directory: votes and acks count only when it matches the configured voter.
    public var fromDirectory: DirectoryID
    public var to: NodeID
    public var term: Term
    public var kind: MessageKind
    public init(from: NodeID, fromDirectory: DirectoryID, to: NodeID, term: Term, kind: MessageKind) {
        self.from = from
        self.fromDirectory = fromDirectory
        self.to = to
        self.term = term
        self.kind = kind
    }
}

public enum Role: String, Hashable, Sendable {
    case follower
    case preCandidate
    case candidate
    case leader
}

/// Volatile state worth reporting; not persisted.
public struct SoftState: Hashable, Sendable {
    public var leader: NodeID?
    public var role: Role
    public init(leader: NodeID?, role: Role) { self.leader = leader; self.role = role }
}

/// Everything the driver must do, in this order:
/// 1. persist `snapshot` (if any; it replaces the whole persisted log), then `entries` (an entry whose
///    index is at or below the last persisted index replaces that entry and every later one), then
///    `hardState` (if any) — and fsync;
/// 2. only then send `messages`;
/// 3. apply `snapshot` (if any) and then `committedEntries` to the state machine (they may include entries
///    persisted in step 1 of this same Ready);
/// 4. call `advance(_:)` with this value, before asking for the next Ready.
public struct Ready: Hashable, Sendable {
    public var softState: SoftState?
    public var hardState: HardState?
    public var snapshot: Snapshot?
    public var entries: [Entry]
    public var committedEntries: [Entry]
    public var messages: [Message]
    public init(
        softState: SoftState? = nil, hardState: HardState? = nil, snapshot: Snapshot? = nil,
        entries: [Entry] = [], committedEntries: [Entry] = [], messages: [Message] = []
    ) {
        self.softState = softState
        self.hardState = hardState
        self.snapshot = snapshot
        self.entries = entries
        self.committedEntries = committedEntries
        self.messages = messages
    }
}

/// Why a proposal was not appended.
public enum ProposalError: Error, Hashable, Sendable {
    /// Only the leader appends; `leader` is the node believed to lead, if known.
    case notLeader(leader: NodeID?)
    /// The leader is transferring leadership, or the proposal exceeds a limit.
    case proposalDropped
    /// A membership change is already appended but not committed.
    case membershipChangePending
    /// The change does not apply to the current membership (unknown node, already a member, …).
    case invalidMembershipChange
}

/// What the driver loads from its write-ahead log to restart a node.
public struct PersistentState: Hashable, Sendable {
    public var hardState: HardState
    /// The latest snapshot; a new cluster starts from one at index 0 holding the initial membership.
    public var snapshot: Snapshot
    /// Entries after `snapshot.metadata.index`, contiguous (earlier ones are ignored).
    public var entries: [Entry]
    public init(hardState: HardState = HardState(), snapshot: Snapshot, entries: [Entry] = []) {
        self.hardState = hardState
        self.snapshot = snapshot
        self.entries = entries
    }

    /// A brand-new node of a new cluster whose initial voters are `voters`.
    public static func bootstrap(voters: [Voter], learners: [Voter] = []) -> PersistentState {
        PersistentState(
            snapshot: Snapshot(
                metadata: SnapshotMetadata(
                    index: .zero, term: .zero, membership: Membership(voters: voters, learners: learners))))
    }

    /// A brand-new node that joins an existing cluster: it knows nothing until the leader contacts it.
    public static let empty = PersistentState(
        snapshot: Snapshot(metadata: SnapshotMetadata(index: .zero, term: .zero, membership: Membership())))
}
