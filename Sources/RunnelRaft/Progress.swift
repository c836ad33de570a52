/// How the leader sends to one follower (etcd's progress states).
public enum ReplicationState: Hashable, Sendable {
    /// Where the follower's log matches is unknown: one append per heartbeat until it answers.
    case probe
    /// The follower matched: appends stream ahead, bounded by the inflight limit.
    case replicate
    /// The follower needs the snapshot at this index; appends wait until it acknowledges.
    case snapshot(LogIndex)
}

/// The leader's view of one member's log.
struct Progress: Sendable {
    /// The member this progress tracks; acknowledgements from any other directory are ignored.
    var directory: DirectoryID
    var match: LogIndex = .zero
    var next: LogIndex
    var state: ReplicationState = .probe
    /// In probe state, an append is outstanding; cleared by a reply or a heartbeat response.
    var probeSent = false
    /// Last indexes of appends sent in replicate state and not yet acknowledged, oldest first.
    var inflights: [LogIndex] = []
    /// Heard from since the last check-quorum round.
    var recentActive = false
    /// Ticks since the snapshot was sent, to resend one that was lost.
    var snapshotElapsedTicks = 0

    init(directory: DirectoryID, next: LogIndex) {
        self.directory = directory
        self.next = next
    }

    func isPaused(inflightMax: Int) -> Bool {
        switch state {
        case .probe: return probeSent
        case .replicate: return inflights.count >= inflightMax
        case .snapshot: return true
        }
    }

    mutating func becomeProbe() {
        if case .snapshot(let pending) = state {
            next = max(match.next, pending.next)
        } else {
            next = match.next
        }
        state = .probe
        probeSent = false
        inflights = []
    }

    mutating func becomeReplicate() {
        state = .replicate
        next = match.next
        probeSent = false
        inflights = []
    }

    mutating func becomeSnapshot(_ index: LogIndex) {
        state = .snapshot(index)
        probeSent = false
        inflights = []
        snapshotElapsedTicks = 0
    }

    /// Records an acknowledgement through `index`; false when it says nothing new.
    mutating func acknowledge(_ index: LogIndex) -> Bool {
        guard index > match else {
            if next <= index { next = index.next }
            return false
        }
        match = index
        next = max(next, index.next)
        probeSent = false
        inflights.removeAll { $0 <= index }
        return true
    }

    /// Records that an append through `last` was sent.
    mutating func sent(through last: LogIndex, entryCount: Int) {
        switch state {
        case .replicate:
            if entryCount > 0 {
                next = last.next
                inflights.append(last)
            }
        case .probe:
            probeSent = true
        case .snapshot:
            preconditionFailure("appends are not sent while a snapshot is pending")
        }
    }

    /// A follower rejected the append whose previous index was `rejected`; `hint` is where to try next.
    /// False when the rejection is stale (about an append sent before the last decision).
    mutating func rejected(_ rejected: LogIndex, hint: LogIndex) -> Bool {
        if state == .replicate {
            guard rejected > match else { return false }
            next = match.next
            return true
        }
        guard next.previous == rejected else { return false }
        next = max(min(rejected, hint.next), max(match.next, LogIndex(1)))
        probeSent = false
        return true
    }
}
