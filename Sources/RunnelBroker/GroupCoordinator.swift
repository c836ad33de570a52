import RunnelGroups
import RunnelWire
import Synchronization

/// The shell around `GroupCoordinatorCore`: one lock around the core, parked JoinGroup/SyncGroup
/// requests resumed from the core's completions, and a timer task that drives `tick`.
/// Records the core emits go to the offsets topic through `GroupRecordWriter`; the answers that depend on
/// them (the event's own and the completions it caused) are sent once the write is committed.
final class GroupCoordinator: Sendable {
    private struct State {
        var core: GroupCoordinatorCore
        var joinWaiters: [JoinToken: CheckedContinuation<JoinResult?, Never>] = [:]
        var syncWaiters: [SyncToken: CheckedContinuation<SyncResult?, Never>] = [:]
        var timer: Task<Void, Never>?
        var writer: GroupRecordWriter?
        var stopped = false
        /// The offsets log could not be read back after a failed write: this node no longer coordinates.
        var resigned = false
        /// Member ids of a rebuilt core must not repeat those of the one it replaces.
        var memberIDIncarnation: UInt64
    }

    /// A parked request's answer, held until the records of its event are committed.
    private enum Delivery: Sendable {
        case join(CheckedContinuation<JoinResult?, Never>, JoinResult)
        case sync(CheckedContinuation<SyncResult?, Never>, SyncResult)

        func deliver(committed: Bool) {
            switch self {
            case .join(let waiter, var result):
                if !committed { result.error = .coordinatorNotAvailable }
                waiter.resume(returning: result)
            case .sync(let waiter, var result):
                if !committed { result.error = .coordinatorNotAvailable }
                waiter.resume(returning: result)
            }
        }
    }

    /// Taken under the lock: the answers to send and the write to wait for first.
    private struct Pending: Sendable {
        var deliveries: [Delivery] = []
        var write: (@Sendable () async -> Bool)?

        func finish() async -> Bool {
            let committed = await write?() ?? true
            for delivery in deliveries { delivery.deliver(committed: committed) }
            return committed
        }
    }

    /// The timer wakes at least this often, so that a deadline set by a request is never missed by more.
    static let tickIntervalMsMax: Int64 = 100

    private let state: Mutex<State>
    private let config: GroupConfig
    private let nowMs: @Sendable () -> Int64

    init(config: GroupConfig, nowMs: @escaping @Sendable () -> Int64) {
        state = Mutex(State(core: GroupCoordinatorCore(config: config), memberIDIncarnation: config.memberIDIncarnation))
        self.config = config
        self.nowMs = nowMs
    }

    /// Why requests cannot be served now: nil when loaded and running.
    var unavailableError: ErrorCode? {
        state.withLock { state in
            if state.stopped { return .coordinatorNotAvailable }
            if state.resigned { return .notCoordinator }
            return state.writer == nil ? .coordinatorLoadInProgress : nil
        }
    }

    /// Rebuilds the core from the offsets topic's records, then serves requests and runs the timer.
    func load(_ records: [GroupRecord], writer: GroupRecordWriter) {
        let now = nowMs()
        state.withLock { state in
            state.core.load(records, nowMs: now)
            state.writer = writer
        }
        start()
    }

    /// Starts the tick timer; `stop` ends it.
    private func start() {
        let task = Task { [weak self] in
            while !Task.isCancelled {
                guard let self else { return }
                let waitMs = await self.runTick()
                try? await Task.sleep(for: .milliseconds(waitMs))
            }
        }
        let replaced = state.withLock { state -> Task<Void, Never>? in
            defer { state.timer = task }
            return state.timer
        }
        replaced?.cancel()
    }

    /// Stops the timer and answers every parked request COORDINATOR_NOT_AVAILABLE, so no task waits forever.
    func stop() {
        state.withLock { state in
            state.stopped = true
            state.timer?.cancel()
            state.timer = nil
            Self.releaseWaiters(&state)
        }
    }

    /// Answers every parked join and sync with nil (COORDINATOR_NOT_AVAILABLE).
    private static func releaseWaiters(_ state: inout State) {
        for (_, waiter) in state.joinWaiters {
            waiter.resume(returning: nil)
        }
        for (_, waiter) in state.syncWaiters {
            waiter.resume(returning: nil)
        }
        state.joinWaiters = [:]
        state.syncWaiters = [:]
    }

    /// Sends the answers once the records are committed; after a write that failed, rebuilds the state.
    private func finish(_ pending: Pending) async -> Bool {
        let committed = await pending.finish()
        if !committed { rebuildFromLog() }
        return committed
    }

    /// The core applied the failed write's records already, so memory may hold what the log lacks (an
    /// offset answered as failed but then fetched). Like Kafka, which reverts to its last committed
    /// state, the core is rebuilt from what the log holds. Parked joins and syncs are answered
    /// COORDINATOR_NOT_AVAILABLE and their members rejoin. A log that cannot be read (the offsets topic
    /// was deleted) makes this node resign (NOT_COORDINATOR) until the log is reopened.
    private func rebuildFromLog() {
        let now = nowMs()
        let reopen = state.withLock { state -> GroupRecordWriter? in
            guard !state.stopped, let writer = state.writer else { return nil }
            Self.releaseWaiters(&state)
            do {
                replaceCore(&state, records: try writer.readAll(), nowMs: now)
                return nil
            } catch {
                replaceCore(&state, records: [], nowMs: now)
                state.writer = nil
                state.resigned = true
                return writer
            }
        }
        if let reopen { reopenLog(reopen) }
    }

    /// A fresh core with member ids of a new incarnation, rebuilt from `records`.
    private func replaceCore(_ state: inout State, records: [GroupRecord], nowMs: Int64) {
        var config = self.config
        state.memberIDIncarnation = max(state.memberIDIncarnation + 1, UInt64(max(nowMs, 0)))
        config.memberIDIncarnation = state.memberIDIncarnation
        state.core = GroupCoordinatorCore(config: config)
        state.core.load(records, nowMs: nowMs)
    }

    /// How often and how long a resigned coordinator tries to reopen the offsets log (Kafka recreates a
    /// missing offsets topic when a client looks for its coordinator).
    static let reopenIntervalMs: Int64 = 1000
    static let reopenAttemptsMax = 60

    /// Recreates or reopens the offsets log in the background, then serves again from what it holds.
    private func reopenLog(_ writer: GroupRecordWriter) {
        Task { [weak self] in
            for _ in 0..<Self.reopenAttemptsMax {
                guard let self, !self.isStopped else { return }
                if let (records, reopened) = try? await writer.reopen() {
                    let now = self.nowMs()
                    self.state.withLock { state in
                        guard !state.stopped else { return }
                        self.replaceCore(&state, records: records, nowMs: now)
                        state.writer = reopened
                        state.resigned = false
                    }
                    return
                }
                try? await Task.sleep(for: .milliseconds(Self.reopenIntervalMs))
            }
        }
    }

    private var isStopped: Bool { state.withLock { $0.stopped } }

    /// Runs one tick; returns how long to sleep before the next.
    private func runTick() async -> Int64 {
        let now = nowMs()
        let (pending, waitMs) = state.withLock { state -> (Pending, Int64) in
            guard state.writer != nil, !state.stopped else { return (Pending(), Self.tickIntervalMsMax) }
            let (_, effects) = state.core.tick(nowMs: now)
            let pending = Self.take(effects, from: &state)
            let next = state.core.nextDeadlineMs().map { $0 - now } ?? Self.tickIntervalMsMax
            return (pending, min(max(next, 1), Self.tickIntervalMsMax))
        }
        _ = await finish(pending)
        return waitMs
    }

    /// Takes the parked requests the core answered and appends the event's records, in the core's order
    /// because this runs under the lock. Called after any new waiter of the same event was registered,
    /// so no completion can miss its waiter.
    private static func take(_ effects: GroupEffects, from state: inout State) -> Pending {
        var pending = Pending()
        for completion in effects.completions {
            switch completion {
            case .join(let token, let result):
                if let waiter = state.joinWaiters.removeValue(forKey: token) { pending.deliveries.append(.join(waiter, result)) }
            case .sync(let token, let result):
                if let waiter = state.syncWaiters.removeValue(forKey: token) { pending.deliveries.append(.sync(waiter, result)) }
            }
        }
        if !effects.records.isEmpty {
            guard let writer = state.writer else { preconditionFailure("records before the coordinator loaded") }
            pending.write = writer.append(effects.records)
        }
        return pending
    }

    // MARK: Events

    /// nil: the coordinator stopped (COORDINATOR_NOT_AVAILABLE).
    func join(_ request: JoinRequest) async -> JoinResult? {
        let now = nowMs()
        return await withCheckedContinuation { continuation in
            let pending = state.withLock { state -> Pending? in
                guard !state.stopped, state.writer != nil else { return nil }
                let (outcome, effects) = state.core.join(request, nowMs: now)
                var own: Delivery?
                switch outcome {
                case .done(let result): own = .join(continuation, result)
                case .pending(let token): state.joinWaiters[token] = continuation
                }
                var pending = Self.take(effects, from: &state)
                if let own { pending.deliveries.append(own) }
                return pending
            }
            guard let pending else { return continuation.resume(returning: nil) }
            Task { _ = await self.finish(pending) }
        }
    }

    /// nil: the coordinator stopped (COORDINATOR_NOT_AVAILABLE).
    func sync(_ request: SyncRequest) async -> SyncResult? {
        let now = nowMs()
        return await withCheckedContinuation { continuation in
            let pending = state.withLock { state -> Pending? in
                guard !state.stopped, state.writer != nil else { return nil }
                let (outcome, effects) = state.core.sync(request, nowMs: now)
                var own: Delivery?
                switch outcome {
                case .done(let result): own = .sync(continuation, result)
                case .pending(let token): state.syncWaiters[token] = continuation
                }
                var pending = Self.take(effects, from: &state)
                if let own { pending.deliveries.append(own) }
                return pending
            }
            guard let pending else { return continuation.resume(returning: nil) }
            Task { _ = await self.finish(pending) }
        }
    }

    func heartbeat(groupID: String, generationID: Int32, memberID: String, groupInstanceID: String?) -> GroupError {
        let now = nowMs()
        return state.withLock {
            $0.core.heartbeat(groupID: groupID, generationID: generationID, memberID: memberID, groupInstanceID: groupInstanceID, nowMs: now)
        }
    }

    func leave(groupID: String, members: [LeavingMember]) async -> LeaveResult {
        let now = nowMs()
        var (result, pending) = state.withLock { state in
            let (result, effects) = state.core.leave(groupID: groupID, members: members, nowMs: now)
            return (result, Self.take(effects, from: &state))
        }
        if !(await finish(pending)) { result.error = .coordinatorNotAvailable }
        return result
    }

    func commitOffsets(
        groupID: String, generationID: Int32, memberID: String, groupInstanceID: String?, offsets: [OffsetCommitEntry],
        retentionMs: Int64?
    ) async -> [(TopicPartition, GroupError)] {
        let now = nowMs()
        let (answers, pending) = state.withLock { state in
            let (answers, effects) = state.core.commitOffsets(
                groupID: groupID, generationID: generationID, memberID: memberID, groupInstanceID: groupInstanceID,
                offsets: offsets, retentionMs: retentionMs, nowMs: now)
            return (answers, Self.take(effects, from: &state))
        }
        guard await finish(pending) else { return answers.map { ($0.0, .coordinatorNotAvailable) } }
        return answers
    }

    func fetchOffsets(groupID: String, partitions: [TopicPartition]?) -> OffsetFetchResult {
        state.withLock { $0.core.fetchOffsets(groupID: groupID, partitions: partitions) }
    }

    func describe(groupIDs: [String]) -> [GroupDescription] {
        state.withLock { $0.core.describe(groupIDs: groupIDs) }
    }

    func list(states: Set<GroupState>?) -> [GroupListing] {
        state.withLock { $0.core.list(states: states) }
    }

    func delete(groupIDs: [String]) async -> [(String, GroupError)] {
        let now = nowMs()
        let (answers, pending) = state.withLock { state in
            let (answers, effects) = state.core.delete(groupIDs: groupIDs, nowMs: now)
            return (answers, Self.take(effects, from: &state))
        }
        guard await finish(pending) else { return answers.map { ($0.0, .coordinatorNotAvailable) } }
        return answers
    }
}

/// Where the coordinator's records go. `append` runs under the coordinator's lock, so the log holds them
/// in the core's order; the wait it returns ends with true once they are committed (high watermark).
struct GroupRecordWriter: Sendable {
    let append: @Sendable ([GroupRecord]) -> (@Sendable () async -> Bool)
    /// Every record the log holds, in order: the state to rebuild after a failed write.
    let readAll: @Sendable () throws -> [GroupRecord]
    /// The log (recreated if it was deleted), its records and a writer for it: how a coordinator that
    /// could not read its log starts over.
    let reopen: @Sendable () async throws -> (records: [GroupRecord], writer: GroupRecordWriter)
}
