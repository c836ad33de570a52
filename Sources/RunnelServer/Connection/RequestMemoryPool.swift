import Logging
import NIOCore
import Synchronization

/// Kafka's `queued.max.request.bytes`: one budget, shared by every connection, for the bytes of
/// requests held in memory, from the moment a frame's size is read (the bytes it announces) until its
/// request is answered. A connection that finds the budget spent stops reading before the payload of
/// its next request and is woken when requests finish.
///
/// As Kafka's pool (`SimpleMemoryPool`, not strict), a request is taken while any of the budget is
/// left, so the held bytes stay below `bytesMax` plus one request (`socket.request.max.bytes`), and a
/// request larger than what is left is delayed, not refused. A reservation is only ever waited for
/// before its frame's payload is read, so a connection holding one can always finish its frame.
///
/// Thread-safe: connections on every event loop share it under one short lock.
public final class RequestMemoryPool: Sendable {
    public let bytesMax: Int

    private struct State {
        var usedBytes = 0
        /// Connections that found the budget spent, by connection id; each is woken once, then forgotten.
        var waiters: [UInt64: @Sendable () -> Void] = [:]
        /// Connections turned away since the last warning.
        var refusalsUnreported = 0
        var lastWarningNanoseconds: UInt64?
    }

    private let state = Mutex(State())
    private let logger: Logger
    /// At most one warning per this interval, however often the budget runs out.
    private let warningIntervalNanoseconds: UInt64 = 10_000_000_000

    public init(bytesMax: Int, logger: Logger) {
        precondition(bytesMax >= 1, "the request memory budget must be positive")
        self.bytesMax = bytesMax
        self.logger = logger
    }

    /// Bytes reserved now.
    public var usedBytes: Int { state.withLock { $0.usedBytes } }

    /// Connections waiting for room now.
    public var waitingConnections: Int { state.withLock { $0.waiters.count } }

    /// Reserves `bytes` for connection `connectionId` if any of the budget is left; otherwise remembers
    /// `wake`, which is called (on any thread) once requests have released some, and returns false.
    func tryReserve(_ bytes: Int, connectionId: UInt64, wake: @escaping @Sendable () -> Void) -> Bool {
        precondition(bytes >= 0, "a negative reservation")
        let (reserved, warning) = state.withLock { state -> (Bool, (used: Int, refusals: Int)?) in
            if state.usedBytes < bytesMax {
                state.usedBytes += bytes
                return (true, nil)
            }
            state.waiters[connectionId] = wake
            state.refusalsUnreported += 1
            let now = NIODeadline.now().uptimeNanoseconds
            if let last = state.lastWarningNanoseconds, now - last < warningIntervalNanoseconds { return (false, nil) }
            state.lastWarningNanoseconds = now
            defer { state.refusalsUnreported = 0 }
            return (false, (state.usedBytes, state.refusalsUnreported))
        }
        if let warning {
            logger.warning(
                "request memory budget spent: \(warning.used) of \(bytesMax) bytes held by requests being received or answered; \(warning.refusals) connection(s) stopped reading until some are answered (--queued-max-request-bytes)")
        }
        return reserved
    }

    /// Returns `bytes` to the budget and wakes the waiting connections if there is room again.
    func release(_ bytes: Int) {
        guard bytes > 0 else { return }
        let woken: [@Sendable () -> Void] = state.withLock { state in
            precondition(bytes <= state.usedBytes, "released more request bytes than were reserved")
            state.usedBytes -= bytes
            guard state.usedBytes < bytesMax, !state.waiters.isEmpty else { return [] }
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for wake in woken { wake() }
    }

    /// Forgets a waiting connection (it closed).
    func cancelWait(connectionId: UInt64) {
        _ = state.withLock { $0.waiters.removeValue(forKey: connectionId) }
    }
}
