import Synchronization

/// Group commit: many requests and partitions share one fsync pass.
///
/// A waiter asks for a file to be synced and is completed after a sync of that file which *started after
/// its request*, so everything it wrote before asking is durable. A failed sync is final: every waiter,
/// then and later, gets the error, and the owner must stop (the page cache may have dropped the data,
/// so a retry could report success for bytes that are gone).
public protocol SyncScheduling: Sendable {
    func sync(_ file: any StorageFile, then completion: @escaping @Sendable (Result<Void, StorageError>) -> Void)
}

/// What one pass does, kept apart from the thread so the twin and the real scheduler share it.
struct SyncBatch {
    var files: [ObjectIdentifier: any StorageFile] = [:]
    var waiters: [@Sendable (Result<Void, StorageError>) -> Void] = []

    var isEmpty: Bool { waiters.isEmpty }

    mutating func add(_ file: any StorageFile, _ completion: @escaping @Sendable (Result<Void, StorageError>) -> Void) {
        files[ObjectIdentifier(file)] = file
        waiters.append(completion)
    }

    /// Syncs each file once; the first failure fails the whole batch.
    func run() -> Result<Void, StorageError> {
        for file in files.values {
            do { try file.sync() } catch let error as StorageError { return .failure(error) } catch {
                return .failure(.syncFailed(path: file.path, errno: -1))
            }
        }
        return .success(())
    }
}

/// The real scheduler: one thread, one pass at a time; requests that arrive during a pass form the next.
public final class FsyncScheduler: SyncScheduling {
    struct State {
        var next = SyncBatch()
        var failure: StorageError?
        var stopping = false
    }

    private let state = Mutex(State())
    private let wake = WakeCondition()
    private let waitersMax: Int
    private let onFailure: @Sendable (StorageError) -> Void
    private let onPass: (@Sendable (_ durationNanoseconds: Int64, _ files: Int, _ waiters: Int) -> Void)?
    private let passes = Atomic<Int>(0)

    /// - Parameters:
    ///   - waitersMax: the queue's limit; beyond it requests fail fast with `queueFull` (back-pressure).
    ///   - onFailure: called once, from the scheduler thread, when a sync fails.
    ///   - onPass: told each pass's duration and size (for the fsync latency metric).
    public init(waitersMax: Int = 65_536, onFailure: @escaping @Sendable (StorageError) -> Void,
                onPass: (@Sendable (_ durationNanoseconds: Int64, _ files: Int, _ waiters: Int) -> Void)? = nil) {
        self.waitersMax = waitersMax
        self.onFailure = onFailure
        self.onPass = onPass
        startThread(name: "runnel-fsync") { self.loop() }  // the scheduler lives as long as its thread
    }

    /// Number of completed sync passes (each covering any number of waiters).
    public var passCount: Int { passes.load(ordering: .relaxed) }

    public func sync(_ file: any StorageFile, then completion: @escaping @Sendable (Result<Void, StorageError>) -> Void) {
        let immediate: StorageError? = state.withLock { s in
            if let failure = s.failure { return failure }
            if s.stopping { return .schedulerStopped }
            if s.next.waiters.count >= waitersMax { return .queueFull(limit: waitersMax) }
            s.next.add(file, completion)
            return nil
        }
        if let immediate { completion(.failure(immediate)); return }
        wake.lock()
        wake.signal()
        wake.unlock()
    }

    /// Finishes the pending pass, then stops; later requests fail with `schedulerStopped`.
    public func shutdown() {
        state.withLock { $0.stopping = true }
        wake.lock()
        wake.signal()
        wake.unlock()
    }

    private func loop() {
        while true {
            wake.lock()
            var batch = SyncBatch()
            var stop = false
            while true {
                (batch, stop) = state.withLock { s in
                    let taken = s.next
                    s.next = SyncBatch()
                    return (taken, s.stopping)
                }
                if !batch.isEmpty || stop { break }
                wake.wait()
            }
            wake.unlock()
            if !batch.isEmpty { complete(batch) }
            if stop && batch.isEmpty { return }
        }
    }

    private func complete(_ batch: SyncBatch) {
        let previous = state.withLock { $0.failure }
        let started = ContinuousClock.now
        let result: Result<Void, StorageError> = previous.map { .failure($0) } ?? batch.run()
        let elapsed = started.duration(to: .now).components
        onPass?(elapsed.seconds * 1_000_000_000 + elapsed.attoseconds / 1_000_000_000, batch.files.count, batch.waiters.count)
        if case .failure(let error) = result, previous == nil {
            state.withLock { $0.failure = error }
            onFailure(error)
        }
        passes.add(1, ordering: .relaxed)
        for waiter in batch.waiters { waiter(result) }
    }
}

/// The deterministic twin: requests wait until the test (or simulator) runs a pass.
public final class ManualSyncScheduler: SyncScheduling {
    private let pending = Mutex(SyncBatch())
    private let failure = Mutex<StorageError?>(nil)

    public init() {}

    public var waiterCount: Int { pending.withLock { $0.waiters.count } }

    public func sync(_ file: any StorageFile, then completion: @escaping @Sendable (Result<Void, StorageError>) -> Void) {
        pending.withLock { $0.add(file, completion) }
    }

    /// Runs one pass over everything requested so far and completes its waiters.
    public func runPass() {
        let batch = pending.withLock { b in
            let taken = b
            b = SyncBatch()
            return taken
        }
        guard !batch.isEmpty else { return }
        let previous = failure.withLock { $0 }
        let result: Result<Void, StorageError> = previous.map { .failure($0) } ?? batch.run()
        if case .failure(let error) = result { failure.withLock { $0 = error } }
        for waiter in batch.waiters { waiter(result) }
    }
}
