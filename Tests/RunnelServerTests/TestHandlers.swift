import Logging
import NIOCore
import Synchronization

@testable import RunnelServer

/// Answers every frame with the same bytes, remembering what it saw.
final class RecordingHandler: RequestHandling {
    private let seen = Mutex<[(ByteBuffer, RequestContext)]>([])

    var frames: [ByteBuffer] { seen.withLock { $0.map(\.0) } }
    var contexts: [RequestContext] { seen.withLock { $0.map(\.1) } }

    func handle(_ frame: ByteBuffer, context: RequestContext) async -> RequestOutcome {
        seen.withLock { $0.append((frame, context)) }
        return .respond(frame)
    }
}

/// Answers even-numbered requests on the event loop (`handleImmediately`) and odd ones through
/// `handle`, after a short sleep; records which path each took and the thread-hop-free answers' order.
final class HalfImmediateHandler: RequestHandling {
    private let seen = Mutex<(immediate: [Int32], async: [Int32])>(([], []))
    var immediate: [Int32] { seen.withLock { $0.immediate } }
    var viaTask: [Int32] { seen.withLock { $0.async } }

    private static func answer(_ number: Int32) -> RequestOutcome {
        var response = ByteBuffer()
        response.writeInteger(number)
        return .respond(response)
    }

    func handleImmediately(_ frame: ByteBuffer, context: RequestContext) -> RequestOutcome? {
        let number = frame.getInteger(at: frame.readerIndex, as: Int32.self) ?? -1
        guard number % 2 == 0 else { return nil }
        seen.withLock { $0.immediate.append(number) }
        return Self.answer(number)
    }

    func handle(_ frame: ByteBuffer, context: RequestContext) async -> RequestOutcome {
        let number = frame.getInteger(at: frame.readerIndex, as: Int32.self) ?? -1
        seen.withLock { $0.async.append(number) }
        try? await Task.sleep(for: .milliseconds(5))
        return Self.answer(number)
    }
}

/// Test frames carry a 4-byte request number. Each request is taken at once and answered later
/// (`.later`), when the test releases it: with its number, or with nothing when the number is in
/// `silent`, or by closing the connection when it is in `closing`.
final class GatedHandler: RequestHandling {
    private struct State {
        var received: [Int32] = []
        var released: Set<Int32> = []
        var waiting: [Int32: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())
    let silent: Set<Int32>
    let closing: Set<Int32>

    init(silent: Set<Int32> = [], closing: Set<Int32> = []) {
        self.silent = silent
        self.closing = closing
    }

    var received: [Int32] { state.withLock { $0.received } }

    func handle(_ frame: ByteBuffer, context: RequestContext) async -> RequestOutcome {
        let number = frame.getInteger(at: frame.readerIndex, as: Int32.self) ?? -1
        state.withLock { $0.received.append(number) }
        return .later(Task { await self.answer(number) })
    }

    private func answer(_ number: Int32) async -> RequestOutcome {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let go = state.withLock { state in
                if state.released.contains(number) { return true }
                state.waiting[number] = continuation
                return false
            }
            if go { continuation.resume() }
        }
        if silent.contains(number) { return .noResponse }
        if closing.contains(number) { return .closeConnection(reason: "request \(number) says so") }
        var response = ByteBuffer()
        response.writeInteger(number)
        return .respond(response)
    }

    func release(_ number: Int32) {
        let continuation = state.withLock { state in
            state.released.insert(number)
            return state.waiting.removeValue(forKey: number)
        }
        continuation?.resume()
    }

    /// Waits (bounded) until `count` requests have reached the handler.
    func waitForReceived(_ count: Int) async throws {
        for _ in 0..<2000 where received.count < count {
            try await Task.sleep(for: .milliseconds(1))
        }
    }
}

/// Keeps log records so tests can check what an operator would see.
final class CapturedLogs: Sendable {
    private let records = Mutex<[(Logger.Level, String)]>([])

    var all: [(Logger.Level, String)] { records.withLock { $0 } }

    func append(_ level: Logger.Level, _ message: String) {
        records.withLock { $0.append((level, message)) }
    }

    func logger() -> Logger {
        var logger = Logger(label: "test") { _ in CapturingLogHandler(sink: self) }
        logger.logLevel = .debug
        return logger
    }
}

struct CapturingLogHandler: LogHandler {
    let sink: CapturedLogs
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .debug

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        sink.append(event.level, "\(event.message)")
    }
}

func frame(number: Int32) -> ByteBuffer {
    var buffer = ByteBuffer()
    buffer.writeInteger(Int32(4))
    buffer.writeInteger(number)
    return buffer
}

/// Answers each request after a short sleep, noting how many calls overlap.
final class SerialProbeHandler: RequestHandling {
    private struct State {
        var running = 0
        var mostRunning = 0
        var order: [Int32] = []
    }

    private let state = Mutex(State())

    var mostRunningAtOnce: Int { state.withLock { $0.mostRunning } }
    var order: [Int32] { state.withLock { $0.order } }

    func handle(_ frame: ByteBuffer, context: RequestContext) async -> RequestOutcome {
        let number = frame.getInteger(at: frame.readerIndex, as: Int32.self) ?? -1
        state.withLock { state in
            state.running += 1
            state.mostRunning = max(state.mostRunning, state.running)
            state.order.append(number)
        }
        try? await Task.sleep(for: .milliseconds(5))
        state.withLock { $0.running -= 1 }
        var response = ByteBuffer()
        response.writeInteger(number)
        return .respond(response)
    }
}
