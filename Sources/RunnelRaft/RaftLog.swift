/// The in-memory log: a snapshot point followed by contiguous entries. Entries above `stableIndex` are not
/// yet durable; the driver persists them from `Ready` and `advance` moves `stableIndex` up.
struct RaftLog: Sendable {
    /// The latest snapshot, whose index and term stand in for the compacted prefix.
    private(set) var snapshot: Snapshot
    /// Entries `snapshot.metadata.index + 1 ... lastIndex`.
    private(set) var entries: [Entry]
    /// Entries through here are durable (reported by the driver through `advance`).
    private(set) var stableIndex: LogIndex
    /// A snapshot received from a leader that the driver has not yet persisted.
    private(set) var pendingSnapshot: Snapshot?
    private(set) var committed: LogIndex
    /// Committed entries through here were handed to the driver to apply.
    private(set) var applied: LogIndex
    /// Whether appends assert that terms never decrease along the log. Only the deliberately broken
    /// variants (`RaftFaults`) turn this off: skipping the log matching check breaks that very property,
    /// and their checkers, not a crash, should report it.
    var checksTermOrder = true

    init(snapshot: Snapshot, entries: [Entry], committed: LogIndex) {
        let first = snapshot.metadata.index.next
        for (offset, entry) in entries.enumerated() {
            precondition(entry.index == first.advanced(by: UInt64(offset)), "persisted entries are not contiguous")
        }
        self.snapshot = snapshot
        self.entries = entries
        self.stableIndex = snapshot.metadata.index.advanced(by: UInt64(entries.count))
        self.pendingSnapshot = nil
        // A snapshot is only taken of committed state, so its index is committed even if the hard state lags.
        self.committed = max(committed, snapshot.metadata.index)
        self.applied = snapshot.metadata.index
        precondition(self.committed <= lastIndex, "persisted commit index is beyond the persisted log")
    }

    var snapshotIndex: LogIndex { snapshot.metadata.index }
    var firstIndex: LogIndex { snapshotIndex.next }
    var lastIndex: LogIndex { snapshotIndex.advanced(by: UInt64(entries.count)) }
    var lastTerm: Term { entries.last?.term ?? snapshot.metadata.term }

    /// The term of the entry at `index`; nil when compacted away or beyond the end.
    func term(at index: LogIndex) -> Term? {
        if index == snapshotIndex { return snapshot.metadata.term }
        guard index > snapshotIndex, index <= lastIndex else { return nil }
        return entries[position(of: index)].term
    }

    func entry(at index: LogIndex) -> Entry? {
        guard index > snapshotIndex, index <= lastIndex else { return nil }
        return entries[position(of: index)]
    }

    func matchTerm(_ index: LogIndex, _ term: Term) -> Bool { self.term(at: index) == term }

    /// Entries from `start` on, at most `countMax` and, beyond the first, `bytesMax` of data; nil when
    /// `start` was compacted away.
    func entries(from start: LogIndex, countMax: Int, bytesMax: Int = Int.max) -> [Entry]? {
        guard start > snapshotIndex else { return nil }
        guard start <= lastIndex else { return [] }
        let lower = position(of: start)
        var upper = lower
        var bytes = 0
        while upper < entries.count && upper - lower < countMax {
            bytes += entries[upper].data.count
            if upper > lower && bytes > bytesMax { break }
            upper += 1
        }
        return Array(entries[lower..<upper])
    }

    /// Raft §5.4.1: a candidate's log is at least as up-to-date as ours.
    func isUpToDate(lastIndex candidateIndex: LogIndex, lastTerm candidateTerm: Term) -> Bool {
        candidateTerm > lastTerm || (candidateTerm == lastTerm && candidateIndex >= lastIndex)
    }

    /// The first index where `newEntries` disagree with the log or extend it; nil when all are present.
    func firstConflict(in newEntries: [Entry]) -> LogIndex? {
        for entry in newEntries where !matchTerm(entry.index, entry.term) { return entry.index }
        return nil
    }

    /// The last index at or below `index` whose term is at most `term`: every entry above it has a larger
    /// term, so a follower rejecting an append at `index` can send the leader straight past them.
    func lastIndex(atOrBelow index: LogIndex, withTermAtMost term: Term) -> (LogIndex, Term) {
        var candidate = min(index, lastIndex)
        while candidate > snapshotIndex, let candidateTerm = self.term(at: candidate), candidateTerm > term {
            candidate = candidate.previous
        }
        return (candidate, self.term(at: candidate) ?? .zero)
    }

    /// Appends `newEntries`, replacing any suffix they conflict with. Committed entries are never replaced.
    mutating func append(_ newEntries: [Entry]) {
        guard let first = newEntries.first else { return }
        precondition(first.index > committed, "an append would replace committed entry \(first.index)")
        precondition(first.index > snapshotIndex && first.index <= lastIndex.next, "an append leaves a gap")
        for (offset, entry) in newEntries.enumerated() {
            precondition(entry.index == first.index.advanced(by: UInt64(offset)), "appended entries are not contiguous")
        }
        if first.index <= lastIndex {
            entries.removeSubrange(position(of: first.index)...)
            stableIndex = min(stableIndex, first.index.previous)
        }
        precondition(
            !checksTermOrder || (entries.last?.term ?? snapshot.metadata.term) <= first.term, "terms decrease along the log")
        entries.append(contentsOf: newEntries)
    }

    mutating func commit(to index: LogIndex) {
        guard index > committed else { return }
        precondition(index <= lastIndex, "commit \(index) beyond last index \(lastIndex)")
        committed = index
    }

    /// Committed entries not yet handed out for applying.
    func entriesToApply(countMax: Int) -> [Entry] {
        guard committed > applied else { return [] }
        let start = max(applied.next, firstIndex)
        guard start <= committed else { return [] }
        let count = min(Int(committed.rawValue - start.rawValue) + 1, countMax)
        return Array(entries[position(of: start)..<(position(of: start) + count)])
    }

    mutating func applied(through index: LogIndex) {
        guard index > applied else { return }
        precondition(index <= committed, "applied \(index) beyond commit \(committed)")
        applied = index
    }

    var unstableEntries: [Entry] {
        guard lastIndex > stableIndex else { return [] }
        return Array(entries[position(of: stableIndex.next)...])
    }

    /// The driver made entries through (index, term) durable. A stale report about entries that were
    /// since replaced by a different term is ignored.
    mutating func stable(through index: LogIndex, term: Term) {
        guard index > stableIndex, matchTerm(index, term) else { return }
        stableIndex = index
    }

    mutating func snapshotPersisted(_ metadata: SnapshotMetadata) {
        if pendingSnapshot?.metadata == metadata { pendingSnapshot = nil }
    }

    /// Replaces the whole log by a snapshot from the leader (its index is above our commit index).
    mutating func restore(_ newSnapshot: Snapshot) {
        precondition(newSnapshot.metadata.index > committed, "restoring a snapshot at or below the commit index")
        snapshot = newSnapshot
        pendingSnapshot = newSnapshot
        entries = []
        stableIndex = newSnapshot.metadata.index
        committed = newSnapshot.metadata.index
        applied = newSnapshot.metadata.index
    }

    /// Drops entries through `index` (applied) behind a snapshot of the application's state.
    mutating func compact(through index: LogIndex, membership: Membership, data: [UInt8]) -> Snapshot {
        precondition(index > snapshotIndex && index <= applied && index <= stableIndex, "compaction point not applied")
        let term = self.term(at: index)!
        entries.removeSubrange(..<(position(of: index) + 1))
        snapshot = Snapshot(metadata: SnapshotMetadata(index: index, term: term, membership: membership), data: data)
        return snapshot
    }

    /// The membership in force after the entry at `index`: the latest configuration entry at or below it,
    /// else the snapshot's, and the index where that configuration was written.
    func membership(atOrBelow index: LogIndex) -> (Membership, LogIndex) {
        var candidate = min(index, lastIndex)
        while candidate > snapshotIndex {
            let entry = entries[position(of: candidate)]
            if entry.kind == .configChange, let membership = Membership(decoding: entry.data) {
                return (membership, candidate)
            }
            candidate = candidate.previous
        }
        return (snapshot.metadata.membership, snapshotIndex)
    }

    private func position(of index: LogIndex) -> Int { Int(index.rawValue - snapshotIndex.rawValue - 1) }
}
