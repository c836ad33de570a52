import RunnelMetadata
import Synchronization

/// Incremental fetch sessions (KIP-227): a client names its partitions once, then sends only what
/// changed; the broker answers only partitions with news. Bounded: the least recently used session
/// is evicted when the cache is full (the client then gets FETCH_SESSION_ID_NOT_FOUND and starts over).
final class FetchSessionCache: Sendable {
    struct PartitionState: Sendable {
        var fetchOffset: Int64
        var maxBytes: Int32
        var currentLeaderEpoch: Int32
        /// What the last response said, to tell whether there is news.
        var lastHighWatermark: Int64 = -1
        var lastLogStartOffset: Int64 = -1
    }

    struct Session: Sendable {
        var id: Int32
        /// The epoch the next request must carry.
        var nextEpoch: Int32
        var partitions: [TopicPartition: PartitionState]
        /// Insertion order, so responses list partitions stably.
        var order: [TopicPartition]
        var lastUsed: UInt64
    }

    enum Lookup {
        case found(Session)
        case notFound
        case invalidEpoch
    }

    private struct State {
        var sessions: [Int32: Session] = [:]
        var nextID: Int32 = 1
        var clock: UInt64 = 0
    }

    private let state = Mutex(State())
    let sessionsMax: Int

    init(sessionsMax: Int) { self.sessionsMax = sessionsMax }

    /// A new session holding `partitions`; nil when sessions are disabled (limit 0).
    func create(partitions: [(TopicPartition, PartitionState)]) -> Session? {
        guard sessionsMax > 0 else { return nil }
        return state.withLock { s in
            if s.sessions.count >= sessionsMax, let oldest = s.sessions.values.min(by: { $0.lastUsed < $1.lastUsed }) {
                s.sessions[oldest.id] = nil
            }
            let id = s.nextID
            s.nextID = s.nextID == Int32.max ? 1 : s.nextID + 1
            s.clock += 1
            let session = Session(id: id, nextEpoch: 0, partitions: Dictionary(partitions, uniquingKeysWith: { $1 }),
                                  order: partitions.map(\.0), lastUsed: s.clock)
            s.sessions[id] = session
            return session
        }
    }

    func lookup(id: Int32, epoch: Int32) -> Lookup {
        state.withLock { s in
            guard let session = s.sessions[id] else { return .notFound }
            guard session.nextEpoch == epoch else { return .invalidEpoch }
            return .found(session)
        }
    }

    /// Stores the session after a response, expecting the next epoch.
    func store(_ session: Session) {
        state.withLock { s in
            guard s.sessions[session.id] != nil else { return }
            s.clock += 1
            var updated = session
            updated.nextEpoch = session.nextEpoch == Int32.max ? 1 : session.nextEpoch + 1
            updated.lastUsed = s.clock
            s.sessions[session.id] = updated
        }
    }

    func remove(id: Int32) { _ = state.withLock { $0.sessions.removeValue(forKey: id) } }
}
