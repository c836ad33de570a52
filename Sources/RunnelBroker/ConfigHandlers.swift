import RunnelMetadata
import RunnelWire

/// DescribeConfigs, AlterConfigs and IncrementalAlterConfigs for topics (dynamic) and this broker
/// (its static settings, read-only).
extension Broker {
    static let topicResourceType: Int8 = 2
    static let brokerResourceType: Int8 = 4

    /// Kafka's ConfigType numbers for DescribeConfigs v3+.
    static func configType(_ kind: TopicConfigDefinition.Kind) -> Int8 {
        switch kind {
        case .boolean: return 1
        case .string: return 2
        case .int: return 3
        case .long: return 5
        case .double: return 6
        case .list: return 7
        }
    }

    /// The broker's own settings as DescribeConfigs shows them.
    var brokerConfigs: [String: String] {
        var configs = settings.topicDefaults
        configs["broker.id"] = "\(settings.nodeID)"
        configs["node.id"] = "\(settings.nodeID)"
        configs["num.partitions"] = "\(settings.defaultPartitions)"
        configs["default.replication.factor"] = "\(settings.defaultReplicationFactor)"
        configs["auto.create.topics.enable"] = "\(settings.autoCreateTopics)"
        configs["log.dirs"] = settings.dataDirectory
        return configs
    }

    func handleDescribeConfigs(_ request: DescribeConfigsRequest, _ context: RequestContext) -> DescribeConfigsResponse {
        var response = DescribeConfigsResponse()
        let image = metadata.image
        // Each resource is described once however often it is named (Kafka would describe every copy;
        // its clients never send one twice), so a request cannot multiply the response.
        var seen: Set<String> = []
        let resources = request.resources.filter { seen.insert("\($0.resourceType)/\($0.resourceName)").inserted }
        response.results = resources.map { resource in
            var result = DescribeConfigsResponse.DescribeConfigsResult()
            result.resourceType = resource.resourceType
            result.resourceName = resource.resourceName
            let wanted = resource.configurationKeys.map(Set.init)
            switch resource.resourceType {
            case Self.topicResourceType:
                guard image.topic(named: resource.resourceName) != nil else {
                    result.errorCode = ErrorCode.unknownTopicOrPartition.rawValue
                    result.errorMessage = "Topic \(resource.resourceName) does not exist"
                    return result
                }
                let overrides = image.configOverrides(ConfigResource(.topic, resource.resourceName))
                let effective = TopicSettings.effective(overrides: overrides, brokerDefaults: settings.topicDefaults)
                result.configs = TopicConfig.definitions.filter { wanted?.contains($0.name) ?? true }.map { definition in
                    let (value, source) = effective[definition.name]!
                    var entry = DescribeConfigsResponse.DescribeConfigsResourceResult()
                    entry.name = definition.name
                    entry.value = value
                    entry.configSource = source.rawValue
                    if context.version >= 3 { entry.configType = Self.configType(definition.kind) }
                    if request.includeSynonyms {
                        var synonyms: [DescribeConfigsResponse.DescribeConfigsSynonym] = []
                        if let value = overrides[definition.name] { synonyms.append(synonym(definition.name, value, .topicOverride)) }
                        if let name = definition.brokerSynonym, let value = settings.topicDefaults[name] {
                            synonyms.append(synonym(name, value, .staticBrokerConfig))
                        }
                        synonyms.append(synonym(definition.brokerSynonym ?? definition.name, definition.defaultValue, .defaultConfig))
                        entry.synonyms = synonyms
                    }
                    return entry
                }
            case Self.brokerResourceType:
                guard resource.resourceName.isEmpty || resource.resourceName == "\(settings.nodeID)" else {
                    result.errorCode = ErrorCode.invalidRequest.rawValue
                    result.errorMessage = "This is broker \(settings.nodeID), not \(resource.resourceName)"
                    return result
                }
                let configs = brokerConfigs
                result.configs = configs.keys.sorted().filter { wanted?.contains($0) ?? true }.map { name in
                    var entry = DescribeConfigsResponse.DescribeConfigsResourceResult()
                    entry.name = name
                    entry.value = configs[name]
                    entry.readOnly = true
                    entry.configSource = ConfigSource.staticBrokerConfig.rawValue
                    if context.version >= 3 { entry.configType = 2 }
                    return entry
                }
            default:
                result.errorCode = ErrorCode.invalidRequest.rawValue
                result.errorMessage = "Unsupported resource type \(resource.resourceType)"
            }
            return result
        }
        return response
    }

    private func synonym(_ name: String, _ value: String, _ source: ConfigSource) -> DescribeConfigsResponse.DescribeConfigsSynonym {
        var entry = DescribeConfigsResponse.DescribeConfigsSynonym()
        entry.name = name
        entry.value = value
        entry.source = source.rawValue
        return entry
    }

    func handleAlterConfigs(_ request: AlterConfigsRequest, _ context: RequestContext) async -> AlterConfigsResponse {
        var response = AlterConfigsResponse()
        for resource in request.resources {
            let changes = resource.configs.map { (name: $0.name, operation: ConfigOperation.set, value: $0.value) }
            let (code, message) = await alterConfigs(type: resource.resourceType, name: resource.resourceName, changes: changes,
                                                     incremental: false, validateOnly: request.validateOnly)
            var result = AlterConfigsResponse.AlterConfigsResourceResponse()
            result.resourceType = resource.resourceType
            result.resourceName = resource.resourceName
            result.errorCode = code.rawValue
            result.errorMessage = message
            response.responses.append(result)
        }
        return response
    }

    func handleIncrementalAlterConfigs(_ request: IncrementalAlterConfigsRequest, _ context: RequestContext) async -> IncrementalAlterConfigsResponse {
        var response = IncrementalAlterConfigsResponse()
        for resource in request.resources {
            var result = IncrementalAlterConfigsResponse.AlterConfigsResourceResponse()
            result.resourceType = resource.resourceType
            result.resourceName = resource.resourceName
            var changes: [(name: String, operation: ConfigOperation, value: String?)] = []
            var invalid: String?
            for config in resource.configs {
                guard let operation = ConfigOperation(rawValue: config.configOperation) else {
                    invalid = "Unknown config operation \(config.configOperation)"
                    break
                }
                changes.append((config.name, operation, config.value))
            }
            if let invalid {
                result.errorCode = ErrorCode.invalidRequest.rawValue
                result.errorMessage = invalid
            } else {
                let (code, message) = await alterConfigs(type: resource.resourceType, name: resource.resourceName, changes: changes,
                                                         incremental: true, validateOnly: request.validateOnly)
                result.errorCode = code.rawValue
                result.errorMessage = message
            }
            response.responses.append(result)
        }
        return response
    }

    private func alterConfigs(type: Int8, name: String, changes: [(name: String, operation: ConfigOperation, value: String?)],
                              incremental: Bool, validateOnly: Bool) async -> (ErrorCode, String?) {
        guard type == Self.topicResourceType else {
            return (.invalidRequest, "Only topic configs can be altered; broker settings are static")
        }
        let controller = self.controller
        let decide: @Sendable (MetadataImage) throws -> [MetadataRecord] = { image in
            try controller.alterConfigs(ConfigResource(.topic, name), changes: changes, incremental: incremental, in: image)
        }
        do {
            if validateOnly { _ = try decide(metadata.image) } else { _ = try await metadata.submit(decide) }
            return (.noError, nil)
        } catch {
            let (code, message) = errorCodeAndMessage(error)
            return (code, message)
        }
    }
}
