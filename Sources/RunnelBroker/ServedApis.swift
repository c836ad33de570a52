import RunnelWire

/// The APIs and versions this broker advertises in ApiVersions, and serves. One table: what is
/// advertised is exactly what is served, with one named exception — Produce 0–2 are advertised but
/// answered with UNSUPPORTED_VERSION, because librdkafka 2.0 enables gzip and snappy only when Produce 0
/// is in range.
enum ServedApis {
    static let advertised: [(ApiKey, ClosedRange<Int16>)] = [
        (.produce, 0...9),
        (.fetch, 4...12),
        (.listOffsets, 1...7),
        (.metadata, 0...12),
        (.findCoordinator, 0...4),
        (.apiVersions, 0...3),
        (.createTopics, 2...5),
        (.deleteTopics, 1...4),
        (.deleteRecords, 0...2),
        (.offsetForLeaderEpoch, 2...4),
        (.describeConfigs, 1...4),
        (.alterConfigs, 0...2),
        (.incrementalAlterConfigs, 0...1),
        (.createPartitions, 0...3),
        (.describeCluster, 0...1),
        (.initProducerId, 0...4),
        (.joinGroup, 0...7),
        (.syncGroup, 0...4),
        (.heartbeat, 0...4),
        (.leaveGroup, 0...4),
        (.offsetCommit, 2...9),
        (.offsetFetch, 1...7),
        (.describeGroups, 0...5),
        (.listGroups, 0...4),
        (.deleteGroups, 0...2),
    ]

    static let byKey: [ApiKey: ClosedRange<Int16>] = Dictionary(uniqueKeysWithValues: advertised)

    /// Produce versions below this are advertised only for librdkafka's feature detection.
    static let produceVersionMin: Int16 = 3

    static var apiVersionsList: [ApiVersionsResponse.ApiVersion] {
        advertised.map { key, range in
            var entry = ApiVersionsResponse.ApiVersion()
            entry.apiKey = key.rawValue
            entry.minVersion = range.lowerBound
            entry.maxVersion = range.upperBound
            return entry
        }
    }
}
