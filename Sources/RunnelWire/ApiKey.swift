import NIOCore

/// The Kafka APIs this codec speaks. `ApiKey(rawValue:)` is nil for any other key, which the
/// frame decoder reports as an unknown API key.
public enum ApiKey: Int16, Sendable, Hashable, CaseIterable {
    case produce = 0
    case fetch = 1
    case listOffsets = 2
    case metadata = 3
    case offsetCommit = 8
    case offsetFetch = 9
    case findCoordinator = 10
    case joinGroup = 11
    case heartbeat = 12
    case leaveGroup = 13
    case syncGroup = 14
    case describeGroups = 15
    case listGroups = 16
    case apiVersions = 18
    case createTopics = 19
    case deleteTopics = 20
    case deleteRecords = 21
    case initProducerId = 22
    case offsetForLeaderEpoch = 23
    case describeConfigs = 32
    case alterConfigs = 33
    case createPartitions = 37
    case deleteGroups = 42
    case incrementalAlterConfigs = 44
    case describeCluster = 60
}

/// What every generated message provides.
public protocol KafkaMessage: Sendable, Equatable {
    static var apiKey: ApiKey { get }
    /// The versions this codec encodes and decodes (a subset of the spec's validVersions).
    static var versions: ClosedRange<Int16> { get }
    /// Versions using compact encodings and tagged fields; nil if none in `versions`.
    static var flexibleVersions: PartialRangeFrom<Int16>? { get }
    init()
    /// Decodes the message body; throws `.unsupportedVersion` outside `versions`.
    init(from buffer: inout ByteBuffer, version: Int16) throws(WireError)
    /// Encodes the message body; throws `.unsupportedVersion` outside `versions` and
    /// `.fieldNotInVersion` for a non-default value the version cannot carry.
    func encode(into buffer: inout ByteBuffer, version: Int16) throws(WireError)
}

public protocol KafkaRequestMessage: KafkaMessage {
    associatedtype Response: KafkaResponseMessage
}

public protocol KafkaResponseMessage: KafkaMessage {}

extension KafkaMessage {
    public static func isFlexible(version: Int16) -> Bool {
        flexibleVersions?.contains(version) ?? false
    }
}

