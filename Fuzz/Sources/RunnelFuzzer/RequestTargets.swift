import Dispatch
import Logging
import NIOCore
import RunnelBroker
import RunnelMetadata
import RunnelStorage
import RunnelWire

enum RequestTargets {
    /// Any bytes as a request frame payload: decoding answers with a request or an error; a decoded
    /// request re-encodes.
    static func decodeRequest(_ bytes: [UInt8]) {
        guard let decoded = try? RequestFrame.decode(payload: ByteBuffer(bytes: bytes)) else { return }
        var out = ByteBuffer()
        do {
            try decoded.request.encode(into: &out, version: decoded.header.apiVersion)
        } catch {
            fatalError("decoded \(decoded.header.apiKey) v\(decoded.header.apiVersion) but could not re-encode it: \(error)")
        }
    }
}

/// Fsyncs at once, on the caller's thread (the log allows a scheduler to complete inside `sync`).
final class InlineSyncScheduler: SyncScheduling {
    func sync(_ file: any StorageFile, then completion: @escaping @Sendable (Result<Void, StorageError>) -> Void) {
        do {
            try file.sync()
            completion(.success(()))
        } catch let error as StorageError {
            completion(.failure(error))
        } catch {
            completion(.failure(.io(operation: "sync: \(error)", path: file.path, errno: 0)))
        }
    }
}

/// The whole request path: each input is a request frame payload handed to a broker on a simulated
/// disk (a temporary data directory in memory), as the server would hand it; then the broker must still
/// answer ApiVersions. The broker lives across inputs (state is what makes many bugs reachable) and is
/// replaced every `inputsPerBroker` inputs to bound memory; a crash found after several inputs may need
/// them all to reproduce. Waits that the protocol lets a client ask for (fetch long polls, group session
/// and rebalance timeouts) are capped so that one input cannot stall the run, and produced batches get
/// valid CRCs; nothing else is changed.
enum BrokerTarget {
    static let inputsPerBroker = 2_000
    static let replyTimeoutSeconds = 20.0

    nonisolated(unsafe) static var broker: Broker?
    nonisolated(unsafe) static var inputs = 0
    nonisolated(unsafe) static var correlation: Int32 = 0

    static func handle(_ bytes: [UInt8]) {
        if broker == nil || inputs >= inputsPerBroker {
            broker?.shutdown()
            broker = makeBroker()
            inputs = 0
        }
        inputs += 1
        let broker = broker!
        let frame = capped(bytes)
        let reply = waitForReply { await broker.handle(frame: frame, listener: "CLIENT", peer: "fuzz") }
        if case .close = reply { /* garbage or an unserved version: the connection closes, the broker serves on */ }
        correlation &+= 1
        var probe = ByteBuffer()
        let header = RequestHeader(apiKey: .apiVersions, apiVersion: 3, correlationId: correlation, clientId: "fuzz")
        try! header.encode(into: &probe, version: RequestHeader.version(apiKey: .apiVersions, apiVersion: 3))
        try! ApiVersionsRequest().encode(into: &probe, version: 3)
        let probeReply = waitForReply { [probe] in await broker.handle(frame: probe, listener: "CLIENT", peer: "fuzz") }
        guard case .respond(let payload) = probeReply,
            let response = try? ResponseFrame.decode(ApiVersionsResponse.self, version: 3, payload: payload).message,
            response.errorCode == 0
        else { fatalError("the broker no longer answers ApiVersions after \(bytes.count) bytes of input: \(probeReply)") }
    }

    /// The frame with client-chosen waits capped and produced batches' CRCs fixed; undecodable bytes go
    /// through as they are.
    static func capped(_ bytes: [UInt8]) -> ByteBuffer {
        let raw = ByteBuffer(bytes: bytes)
        guard var decoded = try? RequestFrame.decode(payload: raw) else { return raw }
        switch decoded.request {
        case .produce(var request):
            // A hostile client computes valid CRCs as easily as a real one: fix them, so that what lies
            // behind the CRC check (stamping, compacted-topic key checks, the log) is reached.
            for t in request.topicData.indices {
                for p in request.topicData[t].partitionData.indices {
                    guard let records = request.topicData[t].partitionData[p].records else { continue }
                    var bytes = records.getBytes(at: records.readerIndex, length: records.readableBytes) ?? []
                    Checksums.fixRecordBatches(&bytes)
                    request.topicData[t].partitionData[p].records = ByteBuffer(bytes: bytes)
                }
            }
            decoded.request = .produce(request)
        case .fetch(var request):
            request.maxWaitMs = min(request.maxWaitMs, 5)
            decoded.request = .fetch(request)
        case .joinGroup(var request):
            request.sessionTimeoutMs = min(max(request.sessionTimeoutMs, 10), 200)
            request.rebalanceTimeoutMs = min(request.rebalanceTimeoutMs, 200)
            decoded.request = .joinGroup(request)
        default:
            return raw
        }
        var frame = ByteBuffer()
        do {
            let version = decoded.header.apiVersion
            try decoded.header.encode(into: &frame, version: RequestHeader.version(apiKey: decoded.header.apiKey, apiVersion: version))
            try decoded.request.encode(into: &frame, version: version)
        } catch {
            return raw
        }
        return frame
    }

    static func makeBroker() -> Broker {
        let fileSystem = SimulatedFileSystem()
        var settings = BrokerSettings(nodeID: 1, clusterID: "fuzz-cluster", dataDirectory: "/data",
                                      advertisedEndpoints: [Endpoint(listener: "CLIENT", host: "localhost", port: 9092)])
        settings.groupInitialRebalanceDelayMs = 0
        settings.groupSessionTimeoutMsMin = 10
        settings.groupSessionTimeoutMsMax = 200
        // Creating partitions is slow on purpose (each log is opened and made durable): a few hundred
        // keep one input well inside libFuzzer's timeout, and creates past them exercise the limit.
        settings.partitionsPerBrokerMax = 200
        let logger = Logger(label: "fuzz") { _ in SwiftLogNoOpLogHandler() }
        return block { [settings] in
            do {
                try fileSystem.createDirectory("/data")
                try fileSystem.syncDirectory("/")
                return try await Broker(settings: settings, fileSystem: fileSystem, syncScheduler: InlineSyncScheduler(),
                                        logger: logger, nowMs: { Clock.nowMs })
            } catch {
                fatalError("the broker does not start on an empty disk: \(error)")
            }
        }
    }

    /// Runs `body` to completion from libFuzzer's (non-concurrency) thread, following `.later` replies.
    static func waitForReply(_ body: @escaping @Sendable () async -> BrokerReply) -> BrokerReply {
        block {
            var reply = await body()
            while case .later(let task) = reply { reply = await task.value }
            return reply
        }
    }

    static func block<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
        let done = DispatchSemaphore(value: 0)
        let result = ResultBox<T>()
        Task {
            result.value = await body()
            done.signal()
        }
        if done.wait(timeout: .now() + replyTimeoutSeconds) == .timedOut {
            fatalError("no reply within \(replyTimeoutSeconds) s: the request hangs")
        }
        return result.value!
    }
}

/// Handed from the task to the waiting thread; the semaphore orders the write before the read.
final class ResultBox<T>: @unchecked Sendable {
    var value: T?
}

enum Clock {
    static let start = ContinuousClock.now
    /// Real time since start, from a fixed epoch (group timers and segment ages measure it).
    static var nowMs: Int64 {
        let elapsed = start.duration(to: .now)
        return 1_700_000_000_000 + elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
    }
}
