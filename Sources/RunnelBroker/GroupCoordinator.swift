import RunnelGroups
import Synchronization

/// The shell around `GroupCoordinatorCore`: one lock around the core, parked JoinGroup/SyncGroup
/// requests resumed from the core's completions, and a timer task that drives `tick`.
/// State lives in memory only; nothing is written to an offsets topic yet.
final class GroupCoordinator: Sendable {
    private struct State {
        var core: GroupCoordinatorCore
        var joinWaiters: [JoinToken: CheckedContinuation<JoinResult?, Never>] = [:]
        var syncWaiters: [SyncToken: CheckedContinuation<SyncResult?, Never>] = [:]
        var timer: Task<Void, Never>?
        var stopped = false
    }

    /// The timer wakes at least this often, so that a deadline set by a request is never missed by more.
    static let tickIntervalMsMax: Int64 = 100

    private let state: Mutex<State>
    private let nowMs: @Sendable () -> Int64

    init(config: GroupConfig, nowMs: @escaping @Sendable () -> Int64) {
        state = Mutex(State(core: GroupCoordinatorCore(config: config)))
        self.nowMs = nowMs
    }

    /// Starts the tick timer; `stop` ends it.
    func start() {
        let task = Task { [weak self] in
            while !Task.isCancelled {
                guard let self else { return }
                let waitMs = self.runTick()
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
            for (_, waiter) in state.joinWaiters {
                waiter.resume(returning: nil)
            }
            for (_, waiter) in state.syncWaiters {
                waiter.resume(returning: nil)
            }
            state.joinWaiters = [:]
            state.syncWaiters = [:]
        }
    }

    /// Runs one tick; returns how long to sleep before the next.
    private func runTick() -> Int64 {
        let now = nowMs()
        return state.withLock { state in
            let (_, effects) = state.core.tick(nowMs: now)
            Self.deliver(effects, to: &state)
            let next = state.core.nextDeadlineMs().map { $0 - now } ?? Self.tickIntervalMsMax
            return min(max(next, 1), Self.tickIntervalMsMax)
        }
    }

    /// Resumes the parked requests the core answered. Called under the lock, after any new waiter of the
    /// same event was registered, so no completion can miss its waiter.
    private static func deliver(_ effects: GroupEffects, to state: inout State) {
        for completion in effects.completions {
            switch completion {
            case .join(let token, let result):
                state.joinWaiters.removeValue(forKey: token)?.resume(returning: result)
            case .sync(let token, let result):
                state.syncWaiters.removeValue(forKey: token)?.resume(returning: result)
            }
        }
    }

    // MARK: Events

    /// nil: the coordinator stopped (COORDINATOR_NOT_AVAILABLE).
    func join(_ request: JoinRequest) async -> JoinResult? {
        let now = nowMs()
        return await withCheckedContinuation { continuation in
            state.withLock { state in
                guard !state.stopped else { return continuation.resume(returning: nil) }
                let (outcome, effects) = state.core.join(request, nowMs: now)
                switch outcome {
                case .done(let result): continuation.resume(returning: result)
                case .pending(let token): state.joinWaiters[token] = continuation
                }
                Self.deliver(effects, to: &state)
            }
        }
    }

    /// nil: the coordinator stopped (COORDINATOR_NOT_AVAILABLE).
    func sync(_ request: SyncRequest) async -> SyncResult? {
        let now = nowMs()
        return await withCheckedContinuation { continuation in
            state.withLock { state in
                guard !state.stopped else { return continuation.resume(returning: nil) }
                let (outcome, effects) = state.core.sync(request, nowMs: now)
                switch outcome {
                case .done(let result): continuation.resume(returning: result)
                case .pending(let token): state.syncWaiters[token] = continuation
                }
                Self.deliver(effects, to: &state)
            }
        }
    }

    func heartbeat(groupID: String, generationID: Int32, memberID: String, groupInstanceID: String?) -> GroupError {
        let now = nowMs()
        return state.withLock {
            $0.core.heartbeat(groupID: groupID, generationID: generationID, memberID: memberID, groupInstanceID: groupInstanceID, nowMs: now)
        }
    }

    func leave(groupID: String, members: [LeavingMember]) -> LeaveResult {
        let now = nowMs()
        return state.withLock { state in
            let (result, effects) = state.core.leave(groupID: groupID, members: members, nowMs: now)
            Self.deliver(effects, to: &state)
            return result
        }
    }

    func commitOffsets(
        groupID: String, generationID: Int32, memberID: String, groupInstanceID: String?, offsets: [OffsetCommitEntry],
        retentionMs: Int64?
    ) -> [(TopicPartition, GroupError)] {
        let now = nowMs()
        return state.withLock { state in
            let (answers, effects) = state.core.commitOffsets(
                groupID: groupID, generationID: generationID, memberID: memberID, groupInstanceID: groupInstanceID,
                offsets: offsets, retentionMs: retentionMs, nowMs: now)
            Self.deliver(effects, to: &state)
            return answers
        }
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

    func delete(groupIDs: [String]) -> [(String, GroupError)] {
        let now = nowMs()
        return state.withLock { state in
            let (answers, effects) = state.core.delete(groupIDs: groupIDs, nowMs: now)
            Self.deliver(effects, to: &state)
            return answers
        }
    }
}
