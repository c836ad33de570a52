#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
import Foundation
#endif

// The scheduler's thread and its wake-up, on pthreads rather than Foundation's Thread and NSCondition:
// those are the part of Foundation that would link ICU and its 34 MB of data into the static binary
// of the container image (FoundationEssentials, which the rest uses, has no ICU).

/// A mutex with one condition variable: the scheduler thread sleeps on it until there is work.
final class WakeCondition: @unchecked Sendable {  // pthread mutexes and conditions are made to be shared
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
        mutex.initialize(to: pthread_mutex_t())
        condition.initialize(to: pthread_cond_t())
        precondition(pthread_mutex_init(mutex, nil) == 0 && pthread_cond_init(condition, nil) == 0)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    func lock() { precondition(pthread_mutex_lock(mutex) == 0) }
    func unlock() { precondition(pthread_mutex_unlock(mutex) == 0) }
    /// Unlocks, sleeps until signalled (or spuriously), locks again: callers re-check their condition.
    func wait() { precondition(pthread_cond_wait(condition, mutex) == 0) }
    func signal() { precondition(pthread_cond_signal(condition) == 0) }
}

/// Runs `body` on a new detached thread named `name` (at most 15 characters show in `ps`/`top`).
func startThread(name: String, _ body: @escaping @Sendable () -> Void) {
    #if canImport(Glibc)
    final class Work {
        let name: String
        let body: @Sendable () -> Void
        init(_ name: String, _ body: @escaping @Sendable () -> Void) {
            self.name = name
            self.body = body
        }
    }
    let context = Unmanaged.passRetained(Work(name, body)).toOpaque()
    var thread = pthread_t()
    let status = pthread_create(&thread, nil, { raw in
        let work = Unmanaged<Work>.fromOpaque(raw!).takeRetainedValue()
        nameCurrentThread(work.name)
        work.body()
        return nil
    }, context)
    precondition(status == 0, "cannot start thread \(name): error \(status)")
    pthread_detach(thread)
    #else
    let thread = Thread(block: body)
    thread.name = name
    thread.start()
    #endif
}

#if canImport(Glibc)
/// pthread_setname_np is not visible to Swift here; the kernel takes the name through /proc as well.
private func nameCurrentThread(_ name: String) {
    let descriptor = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
    guard descriptor >= 0 else { return }
    let bytes = Array(name.utf8.prefix(15))
    _ = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    close(descriptor)
}
#endif
