import Synchronization

/// Nanoseconds since the recorder was made, from the monotonic clock (wall-clock jumps cannot reorder it).
public struct MonotonicClock: Sendable {
    private let origin: ContinuousClock.Instant

    public init() { origin = ContinuousClock.now }

    public func nowNs() -> UInt64 {
        let elapsed = ContinuousClock.now - origin
        let (seconds, attoseconds) = elapsed.components
        return UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attoseconds)) / 1_000_000_000
    }
}

/// The shared, thread-safe history of one scenario: clients and the fault injector append to it from
/// their own threads, stamped by one clock.
public final class HistoryRecorder: Sendable {
    public let clock: MonotonicClock
    private let history = Mutex(History())

    public init(clock: MonotonicClock = MonotonicClock()) { self.clock = clock }

    public func nowNs() -> UInt64 { clock.nowNs() }

    public func record(_ operation: Operation) {
        history.withLock { $0.append(operation) }
    }

    public var snapshot: History { history.withLock { $0 } }
}
