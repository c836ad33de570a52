import RunnelMetadata
import RunnelWire

/// CreateTopics, DeleteTopics and CreatePartitions: each change is decided by the controller against
/// the newest image and takes effect when the metadata log applied it.
extension Broker {
    func handleCreateTopics(_ request: CreateTopicsRequest, _ context: RequestContext) async -> CreateTopicsResponse {
        var response = CreateTopicsResponse()
        // Every copy of a name given twice is refused, as Kafka does; counted in one pass.
        var counts: [String: Int] = [:]
        for topic in request.topics { counts[topic.name, default: 0] += 1 }
        let duplicated = Set(counts.filter { $0.value > 1 }.keys)
        for topic in request.topics {
            var result = CreateTopicsResponse.CreatableTopicResult()
            result.name = topic.name
            result.numPartitions = -1
            result.replicationFactor = -1
            if duplicated.contains(topic.name) {
                result.errorCode = ErrorCode.invalidRequest.rawValue
                result.errorMessage = "Create topics request from client contains a duplicate topic: \(topic.name)"
                response.topics.append(result)
                continue
            }
            var configs: [String: String] = [:]
            for config in topic.configs { if let value = config.value { configs[config.name] = value } }
            let spec = TopicSpec(
                name: topic.name, partitions: topic.numPartitions, replicationFactor: topic.replicationFactor,
                assignments: Dictionary(topic.assignments.map { ($0.partitionIndex, $0.brokerIds) }, uniquingKeysWith: { $1 }),
                configs: configs)
            let controller = self.controller, live = liveBrokers
            let decide: @Sendable (MetadataImage) throws -> [MetadataRecord] = { image in
                var generator = SystemRandomNumberGenerator()
                return try controller.createTopic(spec, in: image, liveBrokers: live, using: &generator)
            }
            do {
                let image = request.validateOnly ? metadata.image : try await metadata.submit(decide)
                if request.validateOnly { _ = try decide(image) }
                let created = image.topic(named: topic.name)
                result.numPartitions = created?.partitionCount ?? (topic.numPartitions == -1 ? settings.defaultPartitions : topic.numPartitions)
                result.replicationFactor = Int16(created?.partitions[0]?.replicas.count ?? Int(topic.replicationFactor))
                if context.version >= 5 {
                    let effective = TopicSettings.effective(overrides: configs, brokerDefaults: settings.topicDefaults)
                    result.configs = effective.keys.sorted().map { name in
                        var entry = CreateTopicsResponse.CreatableTopicConfigs()
                        entry.name = name
                        entry.value = effective[name]!.value
                        entry.configSource = effective[name]!.source.rawValue
                        return entry
                    }
                }
                logger.info("created topic \(topic.name)\(request.validateOnly ? " (validate only)" : "")")
            } catch {
                let (code, message) = errorCodeAndMessage(error)
                result.errorCode = code.rawValue
                result.errorMessage = message
            }
            response.topics.append(result)
        }
        return response
    }

    func handleDeleteTopics(_ request: DeleteTopicsRequest, _ context: RequestContext) async -> DeleteTopicsResponse {
        var response = DeleteTopicsResponse()
        for name in request.topicNames {
            var result = DeleteTopicsResponse.DeletableTopicResult()
            result.name = name
            let controller = self.controller
            do {
                _ = try await metadata.submit { image in try controller.deleteTopic(named: name, in: image) }
                logger.info("deleted topic \(name)")
            } catch {
                result.errorCode = errorCodeAndMessage(error).0.rawValue
            }
            response.responses.append(result)
        }
        return response
    }

    func handleCreatePartitions(_ request: CreatePartitionsRequest, _ context: RequestContext) async -> CreatePartitionsResponse {
        var response = CreatePartitionsResponse()
        for topic in request.topics {
            var result = CreatePartitionsResponse.CreatePartitionsTopicResult()
            result.name = topic.name
            let controller = self.controller, live = liveBrokers
            let assignments = topic.assignments?.map(\.brokerIds)
            let decide: @Sendable (MetadataImage) throws -> [MetadataRecord] = { image in
                try controller.createPartitions(topic: topic.name, totalCount: topic.count, assignments: assignments, in: image, liveBrokers: live)
            }
            do {
                if request.validateOnly { _ = try decide(metadata.image) } else { _ = try await metadata.submit(decide) }
            } catch {
                let (code, message) = errorCodeAndMessage(error)
                result.errorCode = code.rawValue
                result.errorMessage = message
            }
            response.results.append(result)
        }
        return response
    }
}
