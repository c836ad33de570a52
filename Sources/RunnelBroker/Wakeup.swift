import Synchronization

/// A one-shot signal that a parked request (a long-poll fetch, an acks=all produce) waits on. Several
/// partitions and a deadline timer may hold it; the first `fire` resumes the waiter, later ones do nothing.
final class Wakeup: Sendable {
    private struct State {
        var fired = false
        var continuation: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    func fire() {
        let continuation = state.withLock { s -> CheckedContinuation<Void, Never>? in
            s.fired = true
            defer { s.continuation = nil }
            return s.continuation
        }
        continuation?.resume()
    }

    /// Returns once fired (at once if it already was).
    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { s -> Bool in
                if s.fired { return true }
                s.continuation = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// Waits until fired or until `timeoutMs` passed, whichever is first.
    func wait(timeoutMs: Int64) async {
        guard timeoutMs > 0 else { return }
        let timer = Task { [self] in
            try? await Task.sleep(for: .milliseconds(timeoutMs))
            fire()
        }
        await wait()
        timer.cancel()
    }
}

/// The parked requests interested in one partition. Bounded: past `waitersMax` a request is not parked
/// and simply answers with what it has.
struct Watchers {
    private var wakeups: [ObjectIdentifier: Wakeup] = [:]

    mutating func add(_ wakeup: Wakeup, limit: Int) -> Bool {
        guard wakeups.count < limit else { return false }
        wakeups[ObjectIdentifier(wakeup)] = wakeup
        return true
    }

    mutating func remove(_ wakeup: Wakeup) { wakeups[ObjectIdentifier(wakeup)] = nil }

    /// Takes every watcher out, to be fired outside the lock.
    mutating func takeAll() -> [Wakeup] {
        defer { wakeups.removeAll(keepingCapacity: true) }
        return Array(wakeups.values)
    }
}
