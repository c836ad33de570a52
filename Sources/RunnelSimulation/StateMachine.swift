import RunnelRaft

/// The replicated application: a hash chain over every applied entry, so two nodes that applied the
/// same sequence agree on one number. Its snapshot is that number.
struct StateMachine {
    private(set) var index: LogIndex
    private(set) var hash: UInt64

    init(snapshot: Snapshot) {
        index = snapshot.metadata.index
        hash = snapshot.data.count == 8 ? snapshot.data.reduce(0) { $0 << 8 | UInt64($1) } : 0
    }

    mutating func apply(_ entry: Entry) {
        precondition(entry.index == index.next, "entries are applied in order")
        index = entry.index
        hash = fnv(entry.data, hash ^ entry.index.rawValue ^ (entry.term.rawValue << 32) ^ (UInt64(entry.kind.rawValue) << 60))
    }

    var snapshotData: [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: hash >> UInt64(56 - 8 * $0)) } }
}
