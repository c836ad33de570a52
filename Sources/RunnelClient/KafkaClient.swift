import NIOCore
import NIOPosix
import RunnelWire
import Synchronization

/// A small Kafka client for the CLI and our own tests: one connection per broker, versions
/// negotiated with ApiVersions, produce/fetch/list-offsets sent to the partition leader.
/// Kafka error codes come back inside the returned response structs; only transport and codec
/// failures throw.
public final class KafkaClient: Sendable {
    public struct Options: Sendable {
        public var clientId: String
        public var requestTimeoutMs: Int64
        public var connectTimeoutMs: Int64

        public init(clientId: String = "runnel-cli", requestTimeoutMs: Int64 = 30_000, connectTimeoutMs: Int64 = 10_000) {
            self.clientId = clientId
            self.requestTimeoutMs = requestTimeoutMs
            self.connectTimeoutMs = connectTimeoutMs
        }
    }

    private struct State {
        /// Broker id → connection; the bootstrap connection is kept under `bootstrapNodeId`.
        var connections: [Int32: KafkaConnection] = [:]
        var brokers: [Int32: (host: String, port: Int)] = [:]
        var controllerId: Int32 = -1
    }

    private static let bootstrapNodeId: Int32 = -1
    public let options: Options
    /// Per API key, the broker's supported range, from ApiVersions.
    public let brokerVersions: [Int16: ClosedRange<Int16>]
    private let group: any EventLoopGroup
    private let state: Mutex<State>

    private init(options: Options, bootstrap: KafkaConnection, versions: [Int16: ClosedRange<Int16>], group: any EventLoopGroup) {
        self.options = options
        self.brokerVersions = versions
        self.group = group
        self.state = Mutex(State(connections: [Self.bootstrapNodeId: bootstrap]))
    }

    /// Connects to `bootstrap` (`HOST:PORT`) and learns the broker's API versions.
    public static func connect(
        bootstrap: String, options: Options = Options(), group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws(ClientError) -> KafkaClient {
        let (host, port) = try parseAddress(bootstrap)
        let connection = try await KafkaConnection.connect(host: host, port: port, timeoutMs: options.connectTimeoutMs, group: group)
        do {
            let response = try await Self.apiVersions(on: connection, options: options)
            var versions: [Int16: ClosedRange<Int16>] = [:]
            for api in response.apiKeys where api.minVersion <= api.maxVersion {
                versions[api.apiKey] = api.minVersion...api.maxVersion
            }
            return KafkaClient(options: options, bootstrap: connection, versions: versions, group: group)
        } catch {
            await connection.close()
            throw error
        }
    }

    /// ApiVersions at the newest version we speak, falling back to v0 when the broker says it is
    /// unsupported (its answer is then a v0 body listing what it does support).
    public static func apiVersions(on connection: KafkaConnection, options: Options) async throws(ClientError) -> ApiVersionsResponse {
        var request = ApiVersionsRequest()
        request.clientSoftwareName = "runnel"
        request.clientSoftwareVersion = "0.1"
        let latest = try await connection.send(
            request, version: ApiVersionsRequest.versions.upperBound, clientId: options.clientId, timeoutMs: options.requestTimeoutMs)
        guard latest.errorCode == ErrorCode.unsupportedVersion.rawValue else { return latest }
        return try await connection.send(ApiVersionsRequest(), version: 0, clientId: options.clientId, timeoutMs: options.requestTimeoutMs)
    }

    public func close() async {
        let connections = state.withLock { state in
            defer { state.connections = [:] }
            return Array(state.connections.values)
        }
        for connection in connections {
            await connection.close()
        }
    }

    /// The newest version both sides speak for `Request`.
    public func version<Request: KafkaRequestMessage>(for request: Request.Type) throws(ClientError) -> Int16 {
        guard let broker = brokerVersions[Request.apiKey.rawValue] else { throw .unsupportedApi(Request.apiKey) }
        let high = min(broker.upperBound, Request.versions.upperBound)
        guard high >= max(broker.lowerBound, Request.versions.lowerBound) else { throw .unsupportedApi(Request.apiKey) }
        return high
    }

    // MARK: Requests

    public func apiVersions() async throws(ClientError) -> ApiVersionsResponse {
        try await Self.apiVersions(on: try bootstrapConnection(), options: options)
    }

    /// Metadata for `topics` (nil: every topic). Also refreshes the broker addresses used for routing.
    public func metadata(topics: [String]?, allowAutoTopicCreation: Bool = false) async throws(ClientError) -> MetadataResponse {
        let request = MetadataRequest(
            topics: topics.map { $0.map { MetadataRequest.MetadataRequestTopic(name: $0) } },
            allowAutoTopicCreation: allowAutoTopicCreation)
        let response = try await send(request, on: try bootstrapConnection())
        state.withLock { state in
            for broker in response.brokers {
                state.brokers[broker.nodeId] = (broker.host, Int(broker.port))
            }
            state.controllerId = response.controllerId
        }
        return response
    }

    public struct NewTopic: Sendable {
        public var name: String
        /// -1: the broker's default.
        public var partitionCount: Int32
        /// -1: the broker's default.
        public var replicationFactor: Int16
        public var configs: [String: String]

        public init(name: String, partitionCount: Int32 = -1, replicationFactor: Int16 = -1, configs: [String: String] = [:]) {
            self.name = name
            self.partitionCount = partitionCount
            self.replicationFactor = replicationFactor
            self.configs = configs
        }
    }

    public func createTopics(_ topics: [NewTopic], timeoutMs: Int32 = 30_000) async throws(ClientError) -> CreateTopicsResponse {
        let request = CreateTopicsRequest(
            topics: topics.map { topic in
                CreateTopicsRequest.CreatableTopic(
                    name: topic.name, numPartitions: topic.partitionCount, replicationFactor: topic.replicationFactor,
                    configs: topic.configs.sorted { $0.key < $1.key }.map { .init(name: $0.key, value: $0.value) })
            },
            timeoutMs: timeoutMs)
        return try await send(request, on: try await controllerConnection())
    }

    public func deleteTopics(_ names: [String], timeoutMs: Int32 = 30_000) async throws(ClientError) -> DeleteTopicsResponse {
        let request = DeleteTopicsRequest(topicNames: names, timeoutMs: timeoutMs)
        return try await send(request, on: try await controllerConnection())
    }

    /// Produces one record batch (as `RecordBatchBuilder` builds it) to a partition's leader.
    /// Returns nil for acks=0, which the broker does not answer.
    public func produce(
        topic: String, partition: Int32, records: ByteBuffer, acks: Int16, timeoutMs: Int32 = 30_000
    ) async throws(ClientError) -> ProduceResponse.PartitionProduceResponse? {
        var partitionData = ProduceRequest.PartitionProduceData()
        partitionData.index = partition
        partitionData.records = records
        var topicData = ProduceRequest.TopicProduceData()
        topicData.name = topic
        topicData.partitionData = [partitionData]
        let request = ProduceRequest(acks: acks, timeoutMs: timeoutMs, topicData: [topicData])
        let connection = try await leaderConnection(topic: topic, partition: partition)
        let version = try version(for: ProduceRequest.self)
        if acks == 0 {
            try await connection.sendWithoutResponse(request, version: version, clientId: options.clientId, timeoutMs: options.requestTimeoutMs)
            return nil
        }
        let response = try await connection.send(request, version: version, clientId: options.clientId, timeoutMs: options.requestTimeoutMs)
        return response.responses.first { $0.name == topic }?.partitionResponses.first { $0.index == partition }
            ?? ProduceResponse.PartitionProduceResponse(index: partition, errorCode: ErrorCode.unknownServerError.rawValue)
    }

    /// Fetches from one partition's leader, waiting up to `maxWaitMs` for at least `minBytes`.
    public func fetch(
        topic: String, partition: Int32, offset: Int64, maxWaitMs: Int32 = 500, minBytes: Int32 = 1,
        partitionMaxBytes: Int32 = 1024 * 1024
    ) async throws(ClientError) -> FetchResponse.PartitionData {
        var fetchPartition = FetchRequest.FetchPartition()
        fetchPartition.partition = partition
        fetchPartition.fetchOffset = offset
        fetchPartition.partitionMaxBytes = partitionMaxBytes
        var fetchTopic = FetchRequest.FetchTopic()
        fetchTopic.topic = topic
        fetchTopic.partitions = [fetchPartition]
        let request = FetchRequest(maxWaitMs: maxWaitMs, minBytes: minBytes, maxBytes: partitionMaxBytes, topics: [fetchTopic])
        // The broker may hold a fetch for maxWaitMs before answering.
        let response = try await send(
            request, on: try await leaderConnection(topic: topic, partition: partition),
            timeoutMs: options.requestTimeoutMs + Int64(maxWaitMs))
        if response.errorCode != 0 {
            var failed = FetchResponse.PartitionData()
            failed.partitionIndex = partition
            failed.errorCode = response.errorCode
            return failed
        }
        if let data = response.responses.first(where: { $0.topic == topic })?.partitions.first(where: { $0.partitionIndex == partition }) {
            return data
        }
        var missing = FetchResponse.PartitionData()
        missing.partitionIndex = partition
        missing.errorCode = ErrorCode.unknownServerError.rawValue
        return missing
    }

    public enum OffsetSpec: Sendable {
        case earliest
        case latest
        case timestampMs(Int64)

        var wireTimestamp: Int64 {
            switch self {
            case .earliest: return -2
            case .latest: return -1
            case .timestampMs(let value): return value
            }
        }
    }

    public func listOffsets(
        topic: String, partition: Int32, spec: OffsetSpec
    ) async throws(ClientError) -> ListOffsetsResponse.ListOffsetsPartitionResponse {
        var listPartition = ListOffsetsRequest.ListOffsetsPartition()
        listPartition.partitionIndex = partition
        listPartition.timestamp = spec.wireTimestamp
        var listTopic = ListOffsetsRequest.ListOffsetsTopic()
        listTopic.name = topic
        listTopic.partitions = [listPartition]
        var request = ListOffsetsRequest()
        request.replicaId = -1
        request.topics = [listTopic]
        let response = try await send(request, on: try await leaderConnection(topic: topic, partition: partition))
        if let found = response.topics.first(where: { $0.name == topic })?.partitions.first(where: { $0.partitionIndex == partition }) {
            return found
        }
        var missing = ListOffsetsResponse.ListOffsetsPartitionResponse()
        missing.partitionIndex = partition
        missing.errorCode = ErrorCode.unknownServerError.rawValue
        return missing
    }

    // MARK: Routing

    func send<Request: KafkaRequestMessage>(
        _ request: Request, on connection: KafkaConnection, timeoutMs: Int64? = nil
    ) async throws(ClientError) -> Request.Response {
        try await connection.send(
            request, version: try version(for: Request.self), clientId: options.clientId,
            timeoutMs: timeoutMs ?? options.requestTimeoutMs)
    }

    private func bootstrapConnection() throws(ClientError) -> KafkaConnection {
        guard let connection = state.withLock({ $0.connections[Self.bootstrapNodeId] }) else { throw .connectionClosed }
        return connection
    }

    private func controllerConnection() async throws(ClientError) -> KafkaConnection {
        var controller = state.withLock { $0.controllerId }
        if controller < 0 {
            controller = try await metadata(topics: []).controllerId
        }
        guard controller >= 0 else { return try bootstrapConnection() }
        return try await connection(toNode: controller)
    }

    private func leaderConnection(topic: String, partition: Int32) async throws(ClientError) -> KafkaConnection {
        let response = try await metadata(topics: [topic])
        let topicInfo = response.topics.first(where: { $0.name == topic })
        if let topicInfo, topicInfo.errorCode != 0 {
            throw .metadataError(topic: topic, ErrorCode(rawValue: topicInfo.errorCode))
        }
        guard let partitionInfo = topicInfo?.partitions.first(where: { $0.partitionIndex == partition }),
            partitionInfo.leaderId >= 0
        else { throw .noLeader(topic: topic, partition: partition) }
        return try await connection(toNode: partitionInfo.leaderId)
    }

    /// Remembers a broker's address (a FindCoordinator answer) so `connection(toNode:)` can reach it.
    func learn(broker nodeId: Int32, host: String, port: Int) {
        state.withLock { $0.brokers[nodeId] = (host, port) }
    }

    func connection(toNode nodeId: Int32) async throws(ClientError) -> KafkaConnection {
        let (existing, address) = state.withLock { ($0.connections[nodeId], $0.brokers[nodeId]) }
        if let existing { return existing }
        guard let address else { throw .unknownBroker(nodeId: nodeId) }
        let made = try await KafkaConnection.connect(
            host: address.host, port: address.port, timeoutMs: options.connectTimeoutMs, group: group)
        let (winner, loser) = state.withLock { state -> (KafkaConnection, KafkaConnection?) in
            if let raced = state.connections[nodeId] { return (raced, made) }
            state.connections[nodeId] = made
            return (made, nil)
        }
        await loser?.close()
        return winner
    }
}

/// Splits `HOST:PORT` (IPv6 in brackets).
public func parseAddress(_ text: String) throws(ClientError) -> (host: String, port: Int) {
    var host: Substring
    let portText: Substring
    if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
        host = text[text.index(after: text.startIndex)..<close]
        let rest = text[text.index(after: close)...]
        guard rest.hasPrefix(":") else { throw .invalidAddress(text) }
        portText = rest.dropFirst()
    } else {
        guard let colon = text.lastIndex(of: ":") else { throw .invalidAddress(text) }
        host = text[..<colon]
        portText = text[text.index(after: colon)...]
    }
    if host.isEmpty { host = "127.0.0.1" }
    guard let port = Int(portText), (1...65535).contains(port) else { throw .invalidAddress(text) }
    return (String(host), port)
}
