import RunnelRaft
import RunnelStorage

public enum RaftWALError: Error, Equatable, Sendable, CustomStringConvertible {
    case storage(StorageError)
    /// The directory has no identity file: it must be formatted first.
    case notFormatted(path: String)
    case alreadyFormatted(path: String)
    /// The identity file is unreadable (bad checksum or layout).
    case badIdentity(path: String)
    /// The directory belongs to another node.
    case identityMismatch(expected: NodeID, found: NodeID)
    /// A record before the end of the log is damaged: recovery stopped there and changed nothing, because
    /// dropping acknowledged records could break Raft's promises. An operator must decide.
    case corruptRecord(path: String, offset: Int64, recordsBefore: Int, reason: String)
    /// The records are intact but do not describe a contiguous log.
    case inconsistentLog(path: String, offset: Int64, reason: String)
    case missingSnapshot(index: LogIndex, term: Term)
    /// Entries handed to `append` do not continue the log (a driver or core bug).
    case nonContiguousEntries(expected: LogIndex, got: LogIndex)
    /// An earlier sync failed; the log refuses further work (the data may be gone from the page cache).
    case failed(StorageError)

    public var description: String {
        switch self {
        case .storage(let e): return "storage: \(e)"
        case .notFormatted(let p): return "not formatted: \(p)"
        case .alreadyFormatted(let p): return "already formatted: \(p)"
        case .badIdentity(let p): return "unreadable identity file in \(p)"
        case .identityMismatch(let e, let f): return "directory belongs to node \(f), expected \(e)"
        case .corruptRecord(let p, let o, let n, let r): return "corrupt record in \(p) at offset \(o) after \(n) good records: \(r)"
        case .inconsistentLog(let p, let o, let r): return "inconsistent log in \(p) at offset \(o): \(r)"
        case .missingSnapshot(let i, let t): return "snapshot \(i)/\(t) named by the log is missing or damaged"
        case .nonContiguousEntries(let e, let g): return "entries must continue the log at or before \(e), got \(g)"
        case .failed(let e): return "write-ahead log failed earlier: \(e)"
        }
    }
}
