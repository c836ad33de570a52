import RunnelMetadata
import RunnelWire
import Synchronization

/// ApiVersions, Metadata, FindCoordinator and DescribeCluster: who is where.
extension Broker {
    func apiVersions(_ request: ApiVersionsRequest, _ context: RequestContext) -> ApiVersionsResponse {
        if context.version >= 3 {
            logger.debug("client \(escapedForLog(context.header.clientId ?? "-")) is \(escapedForLog(request.clientSoftwareName)) \(escapedForLog(request.clientSoftwareVersion))")
        }
        var response = ApiVersionsResponse()
        response.apiKeys = ServedApis.apiVersionsList
        return response
    }

    /// This listener's address of every registered broker: clients are told the addresses of the
    /// listener they connected to.
    func brokersForListener(_ listener: String, image: MetadataImage) -> [(id: BrokerID, host: String, port: Int32, rack: String?)] {
        image.brokers.values.sorted { $0.id < $1.id }.compactMap { broker in
            guard let endpoint = broker.endpoints.first(where: { $0.listener == listener }) else { return nil }
            return (broker.id, endpoint.host, endpoint.port, broker.rack)
        }
    }

    func handleMetadata(_ request: MetadataRequest, _ context: RequestContext) async -> MetadataResponse {
        var image = metadata.image
        var refused: [String: MetadataError] = [:]
        // v0 asks for every topic with an empty list; v1+ with a null one. Each topic is described once
        // however often it is named, as Kafka does (it takes the set of the names).
        let requested: [MetadataRequest.MetadataRequestTopic]? = (context.version == 0 && request.topics?.isEmpty == true)
            ? nil : request.topics.map(Self.distinctTopics)
        let mayCreate = settings.autoCreateTopics && (context.version < 4 || request.allowAutoTopicCreation)
        if let requested, mayCreate {
            let missing = requested.compactMap(\.name).filter { name in
                name != InternalTopics.metadataLog && image.topic(named: name) == nil && (try? Controller.validateTopicName(name)) != nil
            }
            if !missing.isEmpty { (image, refused) = await autoCreate(Set(missing)) }
        }

        var response = MetadataResponse()
        response.brokers = brokersForListener(context.listener, image: image).map { broker in
            var entry = MetadataResponse.MetadataResponseBroker()
            entry.nodeId = broker.id
            entry.host = broker.host
            entry.port = broker.port
            entry.rack = broker.rack
            return entry
        }
        response.clusterId = identity.clusterID
        response.controllerId = settings.nodeID
        let topics: [MetadataResponse.MetadataResponseTopic]
        if let requested {
            topics = requested.map { wanted in
                if let name = wanted.name {
                    if let topic = visibleTopic(named: name, in: image) { return describe(topic, context) }
                    if let error = refused[name] { return topicError(name: name, id: nil, error.errorCode) }
                    let invalid = name == InternalTopics.metadataLog || (try? Controller.validateTopicName(name)) == nil
                    return topicError(name: name, id: nil, invalid ? .invalidTopicException : .unknownTopicOrPartition)
                }
                let id = TopicID(high: wanted.topicId.high, low: wanted.topicId.low)
                if let topic = image.topics[id], topic.name != InternalTopics.metadataLog { return describe(topic, context) }
                return topicError(name: nil, id: wanted.topicId, .unknownTopicId)
            }
        } else {
            // The offsets topic is shown only to those who name it; `__meta` never.
            topics = image.topics.values.filter { $0.name != InternalTopics.offsets && $0.name != InternalTopics.metadataLog }.sorted { $0.name < $1.name }.map { describe($0, context) }
        }
        response.topics = topics
        return response
    }

    /// The requested topics without repeats (by name, or by id when unnamed), in first-seen order.
    static func distinctTopics(_ topics: [MetadataRequest.MetadataRequestTopic]) -> [MetadataRequest.MetadataRequestTopic] {
        var names: Set<String> = [], ids: Set<KafkaUUID> = []
        return topics.filter { topic in
            if let name = topic.name { return names.insert(name).inserted }
            return ids.insert(topic.topicId).inserted
        }
    }

    /// The topic of that name as clients may see it: `__meta` is the metadata log, never a topic (an image
    /// of an older version may still hold a topic of that name).
    func visibleTopic(named name: String, in image: MetadataImage) -> MetadataImage.Topic? {
        name == InternalTopics.metadataLog ? nil : image.topic(named: name)
    }

    /// Creates the topics a Metadata request named, with the broker's defaults, as many as the limits
    /// allow: returns the image after them and why each of the others was refused. Races with another
    /// creator are fine: whoever loses finds the topic there.
    func autoCreate(_ names: Set<String>) async -> (MetadataImage, refused: [String: MetadataError]) {
        let controller = self.controller, live = liveBrokers
        let refused = Mutex<[String: MetadataError]>([:])
        do {
            let image = try await metadata.submit { image in
                var generator = SystemRandomNumberGenerator()
                var records: [MetadataRecord] = []
                var scratch = image
                var failures: [String: MetadataError] = [:]
                for name in names.sorted() where scratch.topic(named: name) == nil {
                    do throws(MetadataError) {
                        let created = try controller.createTopic(TopicSpec(name: name), in: scratch, liveBrokers: live, using: &generator)
                        created.forEach { scratch.apply($0) }
                        records += created
                    } catch {
                        failures[name] = error
                    }
                }
                refused.withLock { $0 = failures }
                return records
            }
            let failures = refused.withLock { $0 }
            if !failures.isEmpty {
                logger.warning("auto-creating \(failures.keys.sorted()) refused: \(failures.values.first!.message)")
            }
            return (image, failures)
        } catch {
            logger.warning("auto-creating \(names.sorted()) failed: \(error)")
            return (metadata.image, [:])
        }
    }

    func describe(_ topic: MetadataImage.Topic, _ context: RequestContext) -> MetadataResponse.MetadataResponseTopic {
        var entry = MetadataResponse.MetadataResponseTopic()
        entry.name = topic.name
        entry.isInternal = InternalTopics.isInternal(topic.name)
        if context.version >= 10 { entry.topicId = KafkaUUID(high: topic.id.high, low: topic.id.low) }
        entry.partitions = topic.partitions.keys.sorted().map { index in
            let p = topic.partitions[index]!
            var partition = MetadataResponse.MetadataResponsePartition()
            partition.partitionIndex = index
            partition.leaderId = p.leader
            partition.leaderEpoch = p.leaderEpoch
            partition.replicaNodes = p.replicas
            partition.isrNodes = p.isr
            if p.leader == noLeader { partition.errorCode = ErrorCode.leaderNotAvailable.rawValue }
            return partition
        }
        return entry
    }

    func topicError(name: String?, id: KafkaUUID?, _ code: ErrorCode) -> MetadataResponse.MetadataResponseTopic {
        var entry = MetadataResponse.MetadataResponseTopic()
        entry.name = name
        if let id { entry.topicId = id }
        entry.errorCode = code.rawValue
        return entry
    }

    /// This node coordinates every group and transactional id until the group coordinator lands.
    func handleFindCoordinator(_ request: FindCoordinatorRequest, _ context: RequestContext) -> FindCoordinatorResponse {
        var response = FindCoordinatorResponse()
        let me = brokersForListener(context.listener, image: metadata.image).first { $0.id == settings.nodeID }
        if context.version < 4 {
            if let me {
                response.nodeId = me.id
                response.host = me.host
                response.port = me.port
            } else {
                response.errorCode = ErrorCode.coordinatorNotAvailable.rawValue
                response.nodeId = -1
            }
            return response
        }
        response.coordinators = request.coordinatorKeys.map { key in
            var coordinator = FindCoordinatorResponse.Coordinator()
            coordinator.key = key
            if let me {
                coordinator.nodeId = me.id
                coordinator.host = me.host
                coordinator.port = me.port
            } else {
                coordinator.nodeId = -1
                coordinator.errorCode = ErrorCode.coordinatorNotAvailable.rawValue
            }
            return coordinator
        }
        return response
    }

    func handleDescribeCluster(_ request: DescribeClusterRequest, _ context: RequestContext) -> DescribeClusterResponse {
        var response = DescribeClusterResponse()
        if context.version >= 1 && request.endpointType != 1 {
            response.errorCode = ErrorCode.unsupportedEndpointType.rawValue
            response.errorMessage = "Only brokers (endpoint type 1) are described"
            return response
        }
        response.clusterId = identity.clusterID
        response.controllerId = settings.nodeID
        response.brokers = brokersForListener(context.listener, image: metadata.image).map { broker in
            var entry = DescribeClusterResponse.DescribeClusterBroker()
            entry.brokerId = broker.id
            entry.host = broker.host
            entry.port = broker.port
            entry.rack = broker.rack
            return entry
        }
        return response
    }
}
