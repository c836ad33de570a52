import Logging
import NIOCore
import RunnelBroker
import RunnelMetadata
import RunnelCompression
import RunnelRecords
import RunnelStorage
import RunnelWire
import Synchronization
import XCTest

/// A broker on the simulated disk with a hand-driven fsync scheduler and clock.
final class BrokerHarness: Sendable {
    let fileSystem: SimulatedFileSystem
    let syncs = ManualSyncScheduler()
    let clock = WallClock()
    let broker: Broker
    let correlation = Atomic<Int32>(0)
    static let dataDirectory = "/data"

    init(fileSystem: SimulatedFileSystem = SimulatedFileSystem(), configure: (inout BrokerSettings) -> Void = { _ in }) async throws {
        self.fileSystem = fileSystem
        try fileSystem.createDirectory(Self.dataDirectory)
        try fileSystem.syncDirectory("/")
        var settings = BrokerSettings(nodeID: 1, clusterID: "test-cluster", dataDirectory: Self.dataDirectory,
                                      advertisedEndpoints: [Endpoint(listener: "CLIENT", host: "localhost", port: 9092)])
        configure(&settings)
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let clock = self.clock
        broker = try await Broker(settings: settings, fileSystem: fileSystem, syncScheduler: syncs, logger: logger,
                                  nowMs: { clock.nowMs })
    }

    /// Sends a request and decodes the response; nil when the broker sent none.
    func call<Request: KafkaRequestMessage>(_ request: Request, version: Int16) async throws -> Request.Response? {
        let id = correlation.add(1, ordering: .relaxed).newValue
        var frame = ByteBuffer()
        try RequestFrame.encode(request, version: version, correlationId: id, clientId: "harness", into: &frame)
        frame.moveReaderIndex(forwardBy: 4)
        var reply = await broker.handle(frame: frame, listener: "CLIENT", peer: "test")
        while case .later(let task) = reply { reply = await task.value }
        switch reply {
        case .later: preconditionFailure("unwrapped above")
        case .noResponse: return nil
        case .close(let reason): throw HarnessError.closed(reason)
        case .respond(let payload):
            let (header, message) = try ResponseFrame.decode(Request.Response.self, version: version, payload: payload)
            XCTAssertEqual(header.correlationId, id)
            return message
        }
    }

    /// Completes every fsync requested so far, as the scheduler thread would.
    func runSyncs() { syncs.runPass() }

    /// Runs fsync passes in the background until the task is cancelled.
    func pumpSyncs() -> Task<Void, Never> {
        let syncs = self.syncs
        return Task.detached {
            while !Task.isCancelled {
                syncs.runPass()
                try? await Task.sleep(for: .milliseconds(1))
            }
        }
    }

    func createTopic(_ name: String, partitions: Int32 = 1, configs: [String: String] = [:]) async throws {
        var request = CreateTopicsRequest()
        var topic = CreateTopicsRequest.CreatableTopic()
        topic.name = name
        topic.numPartitions = partitions
        topic.replicationFactor = 1
        topic.configs = configs.map { var c = CreateTopicsRequest.CreatableTopicConfig(); c.name = $0.key; c.value = $0.value; return c }
        request.topics = [topic]
        let response = try await call(request, version: 5)
        XCTAssertEqual(response?.topics.first?.errorCode, 0, response?.topics.first?.errorMessage ?? "")
    }

    static func batch(_ values: [String], timestampMs: Int64 = 1_700_000_000_000, codec: RunnelCompression.CompressionCodec = .none) throws -> ByteBuffer {
        var builder = RecordBatchBuilder(codec: codec)
        for (i, value) in values.enumerated() {
            builder.append(key: Array("k\(i)".utf8), value: Array(value.utf8), timestampMs: timestampMs + Int64(i))
        }
        return try builder.build()
    }

    static func produceRequest(topic: String, partition: Int32 = 0, records: ByteBuffer, acks: Int16) -> ProduceRequest {
        var data = ProduceRequest.PartitionProduceData()
        data.index = partition
        data.records = records
        var topicData = ProduceRequest.TopicProduceData()
        topicData.name = topic
        topicData.partitionData = [data]
        var request = ProduceRequest()
        request.acks = acks
        request.timeoutMs = 30_000
        request.topicData = [topicData]
        return request
    }

    static func fetchRequest(topic: String, partition: Int32 = 0, offset: Int64, maxWaitMs: Int32 = 0, minBytes: Int32 = 1) -> FetchRequest {
        var p = FetchRequest.FetchPartition()
        p.partition = partition
        p.fetchOffset = offset
        p.partitionMaxBytes = 1 << 20
        p.currentLeaderEpoch = -1
        p.lastFetchedEpoch = -1
        p.logStartOffset = -1
        var t = FetchRequest.FetchTopic()
        t.topic = topic
        t.partitions = [p]
        var request = FetchRequest()
        request.replicaId = -1
        request.maxWaitMs = maxWaitMs
        request.minBytes = minBytes
        request.maxBytes = 50 << 20
        request.sessionEpoch = -1
        request.topics = [t]
        return request
    }
}

/// Real milliseconds (long polls and timeouts run on real time in these tests).
final class WallClock: Sendable {
    private let start = ContinuousClock.now
    var nowMs: Int64 {
        let now = start.duration(to: .now)
        return 1_700_000_000_000 + now.components.seconds * 1000 + now.components.attoseconds / 1_000_000_000_000_000
    }
}

enum HarnessError: Error { case closed(String) }

/// Values of every record in a fetch response's partition data.
func values(_ records: ByteBuffer?) throws -> [String] {
    guard var buffer = records else { return [] }
    var out: [String] = []
    var iterator = RecordBatchIterator(buffer)
    while let entry = try iterator.next() {
        let batch = try RecordBatch(decoding: entry.bytes, maxUncompressedBytes: 1 << 24)
        out += batch.records.map { String(decoding: $0.value ?? [], as: UTF8.self) }
    }
    buffer.moveReaderIndex(to: buffer.writerIndex)
    return out
}
