import CRunnelAllocationHooks
import Logging
import NIOCore
import RunnelBroker
import RunnelCompression
import RunnelMetadata
import RunnelRecords
import RunnelStorage
import RunnelWire

#if canImport(Glibc)
import Glibc
#endif

/// Heap allocations per request on the broker's produce path, counted the way swift-nio's
/// allocation-counter tests count them: this executable replaces malloc (CRunnelAllocationHooks) and
/// counts what the calling thread allocates while the broker appends one request and answers it.
/// The count must not grow with the records in a batch (batches are validated and stored whole).
///
///     runnel-allocations           prints the counts
///     runnel-allocations --check   also fails when a count passes its limit (`make test`, release build)
@main
struct AllocationCounts {
    struct Scenario {
        let name: String
        let records: Int
        let codec: CompressionCodec
        /// Allocations per request allowed by `--check`: the measured count with a little headroom, so a
        /// change that adds allocations to the hot path fails and has to be looked at.
        let limit: Int
    }

    static let scenarios = [
        Scenario(name: "produce acks=1, 1 batch of 1 record of 1 KiB", records: 1, codec: .none, limit: 31),
        Scenario(name: "produce acks=1, 1 batch of 100 records of 1 KiB", records: 100, codec: .none, limit: 31),
        // Compressed batches are inflated to check every record on append, as Kafka's LogValidator does:
        // a decompression context and the output buffer's growth, about 7 allocations more (32 measured).
        Scenario(name: "produce acks=1, 1 zstd batch of 100 records of 1 KiB", records: 100, codec: .zstd, limit: 38),
    ]
    static let warmupRequests = 100
    static let measuredRequests = 1000
    static let topic = "allocations"

    static func main() async throws {
        let check = CommandLine.arguments.dropFirst().contains("--check")
        let fileSystem = PosixFileSystem()
        let directory = "/tmp/runnel-allocations-\(getpid())"
        try fileSystem.createDirectory(directory)
        defer { try? fileSystem.removeDirectory(directory) }
        let syncs = FsyncScheduler(onFailure: { error in fatalError("fsync failed: \(error)") })
        defer { syncs.shutdown() }
        var logger = Logger(label: "runnel-allocations")
        logger.logLevel = .error
        let settings = BrokerSettings(nodeID: 1, clusterID: "allocations", dataDirectory: directory,
                                      advertisedEndpoints: [Endpoint(listener: "CLIENT", host: "localhost", port: 9092)])
        let broker = try await Broker(settings: settings, fileSystem: fileSystem, syncScheduler: syncs, logger: logger,
                                      nowMs: { wallClockMs() })
        try await createTopic(on: broker)

        var failures: [String] = []
        for scenario in scenarios {
            let perRequest = try measure(scenario, on: broker)
            let verdict = perRequest <= scenario.limit ? "ok" : "OVER"
            print("\(scenario.name): \(perRequest) allocations per request (limit \(scenario.limit)) \(verdict)")
            if perRequest > scenario.limit { failures.append(scenario.name) }
        }
        broker.shutdown()
        if check && !failures.isEmpty {
            print("allocation counts over their limits: \(failures.joined(separator: "; "))")
            exit(1)
        }
    }

    /// Allocations per request, rounded up, over `measuredRequests` after `warmupRequests`.
    static func measure(_ scenario: Scenario, on broker: Broker) throws -> Int {
        var builder = RecordBatchBuilder(codec: scenario.codec)
        let value = [UInt8](repeating: 0x61, count: 1024)
        // Current timestamps: a batch older than segment.ms would roll a segment per append, as in Kafka.
        let nowMs = wallClockMs()
        for index in 0..<scenario.records {
            builder.append(key: Array("key-\(index)".utf8), value: value, timestampMs: nowMs + Int64(index))
        }
        let request = produceRequest(records: try builder.build())
        var encoded = ByteBuffer()
        try RequestFrame.encode(request, version: 9, correlationId: 1, clientId: "allocations", into: &encoded)
        encoded.moveReaderIndex(forwardBy: 4)

        var total = 0
        for round in 0..<(warmupRequests + measuredRequests) {
            // A fresh copy, as each request arrives in its own read buffer; made outside the count.
            var frame = ByteBuffer()
            frame.writeImmutableBuffer(encoded)
            runnel_allocations_start()
            let reply = broker.handleImmediately(frame: frame, listener: "CLIENT", peer: "allocations")
            let allocations = runnel_allocations_stop()
            guard case .respond = reply else { fatalError("\(scenario.name): expected an immediate answer, got \(String(describing: reply))") }
            if round >= warmupRequests { total += allocations }
        }
        return (total + measuredRequests - 1) / measuredRequests
    }

    static func produceRequest(records: ByteBuffer) -> ProduceRequest {
        var data = ProduceRequest.PartitionProduceData()
        data.index = 0
        data.records = records
        var topicData = ProduceRequest.TopicProduceData()
        topicData.name = topic
        topicData.partitionData = [data]
        var request = ProduceRequest()
        request.acks = 1
        request.timeoutMs = 30_000
        request.topicData = [topicData]
        return request
    }

    static func createTopic(on broker: Broker) async throws {
        var topicRequest = CreateTopicsRequest.CreatableTopic()
        topicRequest.name = topic
        topicRequest.numPartitions = 1
        topicRequest.replicationFactor = 1
        var request = CreateTopicsRequest()
        request.topics = [topicRequest]
        request.timeoutMs = 30_000
        var frame = ByteBuffer()
        try RequestFrame.encode(request, version: 5, correlationId: 0, clientId: "allocations", into: &frame)
        frame.moveReaderIndex(forwardBy: 4)
        var reply = await broker.handle(frame: frame, listener: "CLIENT", peer: "allocations")
        while case .later(let task) = reply { reply = await task.value }
        guard case .respond(let payload) = reply else { fatalError("CreateTopics: no answer") }
        let (_, response) = try ResponseFrame.decode(CreateTopicsResponse.self, version: 5, payload: payload)
        guard response.topics.first?.errorCode == 0 else { fatalError("CreateTopics failed: \(response)") }
    }

    static func wallClockMs() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}
