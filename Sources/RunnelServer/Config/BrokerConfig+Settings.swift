extension BrokerConfig {
    public static let defaultListeners = "CLIENT://0.0.0.0:9092"
    /// Where `/metrics` is served unless `--metrics-listener` says otherwise ('none' serves none): the
    /// address the image, compose file and `make run` use, so that the README holds everywhere.
    public static let defaultMetricsListener = HostPort(host: "0.0.0.0", port: 9644)
    /// The listener name `--kafka-listener` gives its address.
    public static let singleListenerName = "CLIENT"

    /// Builds and validates the configuration from flags and `RUNNEL_*` variables.
    /// `hostName` replaces wildcard hosts in the advertised addresses (empty: 127.0.0.1).
    public static func resolve(_ values: SettingValues, hostName: String) throws(ConfigError) -> BrokerConfig {
        let listeners = try resolveListeners(values)
        let explicitAdvertised = try resolveAdvertised(values)
        let metricsText = values.raw(.metricsListener)
        let metricsListener: HostPort?
        if let metricsText {
            metricsListener = metricsText.trimmingWhitespace().lowercased() == "none"
                ? nil : try HostPort.parse(metricsText, what: Setting.metricsListener.displayName)
        } else {
            metricsListener = defaultMetricsListener
        }
        let requestBytesMax = try values.integer(.socketRequestMaxBytes, default: NetworkConfig.defaultRequestBytesMax)
        // Kafka's -1 (any value below 1): no broker-wide limit. The default grows with a larger request maximum.
        let queuedRequestBytes = try values.integer(
            .queuedMaxRequestBytes, default: max(NetworkConfig.defaultQueuedRequestBytesMax, Int(requestBytesMax)))
        var network = NetworkConfig(
            listeners: listeners,
            advertisedListeners: NetworkConfig.resolveAdvertised(
                listeners: listeners, explicit: explicitAdvertised, hostName: hostName),
            metricsListener: metricsListener,
            requestBytesMax: requestBytesMax,
            connectionIdleMs: try values.integer(.connectionsMaxIdleMs, default: NetworkConfig.defaultConnectionIdleMs),
            inFlightRequestsPerConnectionMax: try values.integer(.maxInFlightRequestsPerConnection, default: 100),
            connectionsMax: try values.integer(.maxConnections, default: 10_000),
            shutdownGraceMs: try values.integer(.shutdownGraceMs, default: 10_000))
        network.metricsListenerIsDefault = metricsText == nil
        network.queuedRequestBytesMax = queuedRequestBytes >= 1 ? queuedRequestBytes : nil
        let defaults = TopicDefaults()
        let topicDefaults = TopicDefaults(
            partitionCount: try values.integer(.numPartitions, default: defaults.partitionCount),
            replicationFactor: try values.integer(.defaultReplicationFactor, default: defaults.replicationFactor),
            autoCreateTopics: try values.bool(.autoCreateTopicsEnable, default: defaults.autoCreateTopics),
            segmentBytes: try values.integer(.logSegmentBytes, default: defaults.segmentBytes),
            retentionMs: try values.integer(.logRetentionMs, default: defaults.retentionMs),
            minInsyncReplicas: try values.integer(.minInsyncReplicas, default: defaults.minInsyncReplicas))
        let config = BrokerConfig(
            nodeId: try values.integer(.nodeId, default: 1),
            clusterId: values.raw(.clusterId),
            dataDir: values.string(.dataDir, default: "./runnel-data"),
            network: network,
            topicDefaults: topicDefaults,
            partitionsPerBrokerMax: Self.derivedIfNegative(try values.integer(.partitionsPerBrokerMax, default: -1)),
            topicsMax: Self.derivedIfNegative(try values.integer(.topicsMax, default: -1)))
        try config.validate()
        return config
    }

    /// -1 (the default) leaves a limit to be derived at start.
    private static func derivedIfNegative(_ value: Int) -> Int? { value == -1 ? nil : value }

    private static func resolveListeners(_ values: SettingValues) throws(ConfigError) -> [Listener] {
        let list = values.raw(.listeners)
        let single = values.raw(.kafkaListener)
        if list != nil, single != nil {
            throw ConfigError("\(Setting.listeners.displayName) and \(Setting.kafkaListener.displayName) cannot both be given")
        }
        if let single {
            let address = try HostPort.parse(single, what: Setting.kafkaListener.displayName)
            return [Listener(name: singleListenerName, host: address.host, port: address.port)]
        }
        return try Listener.parseList(list ?? defaultListeners, what: Setting.listeners.displayName)
    }

    private static func resolveAdvertised(_ values: SettingValues) throws(ConfigError) -> [Listener] {
        let list = values.raw(.advertisedListeners)
        let single = values.raw(.advertisedKafkaListener)
        if list != nil, single != nil {
            throw ConfigError(
                "\(Setting.advertisedListeners.displayName) and \(Setting.advertisedKafkaListener.displayName) cannot both be given")
        }
        if let single {
            let address = try HostPort.parse(single, what: Setting.advertisedKafkaListener.displayName)
            return [Listener(name: singleListenerName, host: address.host, port: address.port)]
        }
        guard let list else { return [] }
        return try Listener.parseList(list, what: Setting.advertisedListeners.displayName)
    }
}
