import RunnelRaft

/// The named safety properties checked after every step.
public enum Invariant: String, Hashable, Sendable, CaseIterable {
    /// At most one leader per term, ever.
    case singleLeaderPerTerm = "SingleLeaderPerTerm"
    /// Two logs holding an entry with the same index and term hold identical entries up to it.
    case logMatching = "LogMatching"
    /// An entry committed anywhere stays at its index on every node, across restarts.
    case committedEntriesNeverChange = "CommittedEntriesNeverChange"
    /// A node's durable commit index never goes down, across restarts (per data directory).
    case monotonicCommitIndex = "MonotonicCommitIndex"
    /// Every node applies the same sequence of entries.
    case stateMachineSafety = "StateMachineSafety"
    /// A node that becomes leader holds every entry committed before (Raft §5.4).
    case leaderCompleteness = "LeaderCompleteness"
    /// The core handed the driver something the contract forbids (entries that do not continue the log).
    case readyContract = "ReadyContract"
    /// After healing, a leader is elected and a fresh proposal commits on a majority in time.
    case liveness = "Liveness"
}

public struct Violation: Hashable, Sendable, CustomStringConvertible {
    public var invariant: Invariant
    public var atUnits: Int
    public var detail: String
    public var description: String { "\(invariant.rawValue) at \(atUnits): \(detail)" }
}

/// The fingerprint of one entry: enough to tell two entries apart.
struct EntryKey: Hashable {
    var term: Term
    var kind: EntryKind
    var dataHash: UInt64

    init(_ entry: Entry) {
        term = entry.term
        kind = entry.kind
        dataHash = fnv(entry.data)
    }
}

func fnv(_ bytes: [UInt8], _ seed: UInt64 = 0xCBF2_9CE4_8422_2325) -> UInt64 {
    var hash = seed
    for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
    return hash
}

/// Incremental checkers: each observation is checked against everything seen before in the run.
struct InvariantChecker {
    private(set) var violations: [Violation] = []
    var now = 0

    private var leaders: [Term: NodeID] = [:]
    /// (index, term) → the entry there and the term of the entry before it: by induction, equal
    /// predecessors at every step mean equal prefixes.
    private var matching: [LogIndex: [Term: (previousTerm: Term, entry: EntryKey)]] = [:]
    private var committed: [LogIndex: EntryKey] = [:]
    private var durableCommit: [Voter: LogIndex] = [:]
    /// The state machine's hash after applying each index.
    private var appliedHash: [LogIndex: UInt64] = [:]

    mutating func fail(_ invariant: Invariant, _ detail: String) {
        violations.append(Violation(invariant: invariant, atUnits: now, detail: detail))
    }

    private(set) var committedIndexMax = LogIndex.zero

    /// A new leader's log must hold every committed entry above its snapshot.
    mutating func observeNewLeader(_ node: NodeID, term: Term, snapshotIndex: LogIndex, entry: (LogIndex) -> Entry?) {
        var index = snapshotIndex.next
        while index <= committedIndexMax {
            if let seen = committed[index] {
                let held = entry(index)
                if held.map(EntryKey.init) != seen {
                    fail(.leaderCompleteness,
                        "node \(node) leads term \(term) without committed entry \(index)/\(seen.term) (holds \(held.map { "\($0.index)/\($0.term)" } ?? "nothing"))")
                    return
                }
            }
            index = index.next
        }
    }

    mutating func observeLeader(_ node: NodeID, term: Term) {
        if let existing = leaders[term] {
            if existing != node { fail(.singleLeaderPerTerm, "nodes \(existing) and \(node) both lead term \(term)") }
        } else {
            leaders[term] = node
        }
    }

    /// A node persisted `entries`; `previousTerm` is the term of the entry before the first of them.
    mutating func observeAppended(_ node: NodeID, entries: [Entry], previousTerm: Term) {
        var previous = previousTerm
        for entry in entries {
            let key = EntryKey(entry)
            if let seen = matching[entry.index]?[entry.term] {
                if seen.previousTerm != previous || seen.entry != key {
                    fail(.logMatching,
                        "node \(node) holds entry \(entry.index)/\(entry.term) after term \(previous), another log after term \(seen.previousTerm)\(seen.entry != key ? " with different content" : "")")
                    return
                }
            } else {
                matching[entry.index, default: [:]][entry.term] = (previous, key)
            }
            previous = entry.term
        }
    }

    /// A node's log holds `entry` at or below its commit index.
    mutating func observeCommitted(_ node: NodeID, _ entry: Entry) {
        let key = EntryKey(entry)
        if let seen = committed[entry.index] {
            if seen != key {
                fail(.committedEntriesNeverChange,
                    "node \(node) has committed \(entry.index)/\(entry.term) where \(entry.index)/\(seen.term) was committed")
            }
        } else {
            committed[entry.index] = key
            committedIndexMax = max(committedIndexMax, entry.index)
        }
    }

    /// A node replaced its entry at `index` although it had committed it.
    mutating func observeOverwrite(_ node: NodeID, index: LogIndex, commit: LogIndex) {
        fail(.committedEntriesNeverChange, "node \(node) overwrites entry \(index) at or below its commit \(commit)")
    }

    /// A node holds a snapshot: the entry it covers at its index must be the committed one.
    mutating func observeSnapshot(_ node: NodeID, _ metadata: SnapshotMetadata) {
        guard metadata.index > .zero, let seen = committed[metadata.index] else { return }
        if seen.term != metadata.term {
            fail(.committedEntriesNeverChange,
                "node \(node) holds snapshot \(metadata.index)/\(metadata.term) where \(metadata.index)/\(seen.term) was committed")
        }
    }

    mutating func observeDurableCommit(_ member: Voter, _ commit: LogIndex, context: String) {
        if let before = durableCommit[member], commit < before {
            fail(.monotonicCommitIndex, "node \(member) durable commit went from \(before) to \(commit) (\(context))")
        }
        durableCommit[member] = max(commit, durableCommit[member] ?? .zero)
    }

    mutating func observeApplied(_ node: NodeID, index: LogIndex, hash: UInt64) {
        if let seen = appliedHash[index] {
            if seen != hash { fail(.stateMachineSafety, "node \(node) state after applying \(index) differs from another node's") }
        } else {
            appliedHash[index] = hash
        }
    }
}
