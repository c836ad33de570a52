import RunnelRaft

/// Rebuilds the log's state from its records, in order. Pure: recovery and tests share it.
struct LogReplay {
    var hardState = HardState()
    var snapshot: (index: LogIndex, term: Term)?
    /// Entries after the snapshot, contiguous.
    var entries: [Entry] = []
    var recordCount = 0

    var lastIndex: LogIndex { entries.last?.index ?? snapshot?.index ?? .zero }

    /// Applies one record; returns why it does not fit the log so far, if it does not. Records come from
    /// the disk, so every index is checked before any arithmetic on it: no record traps the replay.
    mutating func apply(_ record: WALRecord) -> String? {
        recordCount += 1
        switch record {
        case .hardState(let state):
            hardState = state
        case .snapshot(let index, let term):
            guard index.rawValue < UInt64.max else { return "snapshot index \(index) leaves no room for entries" }
            snapshot = (index, term)
            entries = []
        case .truncate(let from):
            guard let snapshot else { return "truncation before any snapshot record" }
            guard from > snapshot.index, from <= lastIndex.next else {
                return "truncation from \(from) outside (\(snapshot.index), \(lastIndex.next)]"
            }
            // Entries run contiguously from the snapshot's index + 1 to lastIndex; truncating from the
            // index after the last removes nothing.
            let removed = from <= lastIndex ? lastIndex.rawValue - from.rawValue + 1 : 0
            entries.removeLast(Int(removed))
        case .entry(let entry):
            guard snapshot != nil else { return "entry before any snapshot record" }
            guard lastIndex.rawValue < UInt64.max - 1, entry.index == lastIndex.next else {
                return "entry \(entry.index) does not follow \(lastIndex)"
            }
            if let last = entries.last, entry.term < last.term {
                return "entry \(entry.index) has term \(entry.term) below its predecessor's \(last.term)"
            }
            entries.append(entry)
        }
        return nil
    }
}
