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
