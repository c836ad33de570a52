import RunnelStorage

public typealias FlushCompletion = @Sendable (Result<Void, LogError>) -> Void

/// A completion to call once the log's lock is released.
struct FlushNotification {
    let completion: FlushCompletion
    let result: Result<Void, LogError>

    func deliver() { completion(result) }
}

/// Pure bookkeeping of the durable log end offset (`flushedOffset`) and of the callers waiting for it.
/// Every event returns the completions it made due, which the owner delivers outside its lock.
struct FlushTracker {
    private struct Waiter {
        let offset: Int64
        let completion: FlushCompletion
    }

    private(set) var flushedOffset: Int64
    /// A failed sync is final: later waits fail at once.
    private(set) var failure: StorageError?
    private var waiters: [Waiter] = []
    let waitersMax: Int

    init(flushedOffset: Int64, waitersMax: Int) {
        precondition(waitersMax > 0)
        self.flushedOffset = flushedOffset
        self.waitersMax = waitersMax
    }

    var waiterCount: Int { waiters.count }

    mutating func wait(until offset: Int64, completion: @escaping FlushCompletion) -> [FlushNotification] {
        if let failure { return [FlushNotification(completion: completion, result: .failure(.storage(failure)))] }
        if offset <= flushedOffset { return [FlushNotification(completion: completion, result: .success(()))] }
        if waiters.count >= waitersMax {
            return [FlushNotification(completion: completion, result: .failure(.tooManyFlushWaiters(limit: waitersMax)))]
        }
        waiters.append(Waiter(offset: offset, completion: completion))
        return []
    }

    /// A sync covering everything below `offset` completed.
    mutating func advance(to offset: Int64) -> [FlushNotification] {
        guard failure == nil, offset > flushedOffset else { return [] }
        flushedOffset = offset
        return take { $0.offset <= offset }.map { FlushNotification(completion: $0.completion, result: .success(())) }
    }

    /// A sync failed: everyone waiting, now and later, gets the error.
    mutating func fail(_ error: StorageError) -> [FlushNotification] {
        if failure == nil { failure = error }
        return take { _ in true }.map { FlushNotification(completion: $0.completion, result: .failure(.storage(error))) }
    }

    /// The scheduler refused a sync (full or stopped): those waiting are told; nothing is lost yet.
    mutating func refuse(_ error: StorageError) -> [FlushNotification] {
        take { _ in true }.map { FlushNotification(completion: $0.completion, result: .failure(.flushUnavailable(error))) }
    }

    /// The log now ends at `logEndOffset` (truncation): waits beyond it can never be met.
    mutating func truncate(to logEndOffset: Int64) -> [FlushNotification] {
        flushedOffset = min(flushedOffset, logEndOffset)
        return take { $0.offset > logEndOffset }.map {
            FlushNotification(completion: $0.completion, result: .failure(.truncated(offset: $0.offset, logEndOffset: logEndOffset)))
        }
    }

    /// The log was emptied and restarted at `offset`: every wait was for data that is gone.
    mutating func restart(at offset: Int64) -> [FlushNotification] {
        flushedOffset = offset
        return take { _ in true }.map {
            FlushNotification(completion: $0.completion, result: .failure(.truncated(offset: $0.offset, logEndOffset: offset)))
        }
    }

    mutating func close() -> [FlushNotification] {
        take { _ in true }.map { FlushNotification(completion: $0.completion, result: .failure(.closed)) }
    }

    private mutating func take(where due: (Waiter) -> Bool) -> [Waiter] {
        let taken = waiters.filter(due)
        waiters.removeAll(where: due)
        return taken
    }
}
