/// Why the controller refused a change; the broker maps each case to Kafka's error code.
public enum MetadataError: Error, Hashable, Sendable {
    case topicAlreadyExists(String)
    case invalidTopic(String)
    case unknownTopic(String)
    case invalidPartitions(String)
    case invalidReplicationFactor(String)
    case invalidReplicaAssignment(String)
    case invalidConfig(String)
    case invalidRequest(String)
    /// Past a limit of `TopicLimits`.
    case policyViolation(String)

    public var message: String {
        switch self {
        case .topicAlreadyExists(let m), .invalidTopic(let m), .unknownTopic(let m), .invalidPartitions(let m),
            .invalidReplicationFactor(let m), .invalidReplicaAssignment(let m), .invalidConfig(let m), .invalidRequest(let m),
            .policyViolation(let m):
            return m
        }
    }
}

public struct TopicSpec: Sendable {
    public var name: String
    /// -1: the broker default.
    public var partitions: Int32
    /// -1: the broker default (capped by the live brokers, as `default.replication.factor` is).
    public var replicationFactor: Int16
    /// Explicit replicas per partition; overrides the two counts when non-empty.
    public var assignments: [Int32: [BrokerID]]
    public var configs: [String: String]
    public init(name: String, partitions: Int32 = -1, replicationFactor: Int16 = -1,
                assignments: [Int32: [BrokerID]] = [:], configs: [String: String] = [:]) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.assignments = assignments
        self.configs = configs
    }
}

public enum ConfigOperation: Int8, Sendable {
    case set = 0, delete = 1, append = 2, subtract = 3
}

/// The controller's decisions: pure functions from the current image and a request to the records that
/// carry it out, or the reason it is refused. Run serially by whichever node is the controller, against
/// the newest image, so two racing requests never both succeed.
public struct Controller: Sendable {
    public var defaultPartitions: Int32
    public var defaultReplicationFactor: Int16
    public var limits: TopicLimits

    public init(defaultPartitions: Int32 = 1, defaultReplicationFactor: Int16 = 1, limits: TopicLimits = TopicLimits()) {
        self.defaultPartitions = defaultPartitions
        self.defaultReplicationFactor = defaultReplicationFactor
        self.limits = limits
    }

    static func replicasPerBroker(_ assignments: [(Int32, [BrokerID])]) -> [BrokerID: Int] {
        var counts: [BrokerID: Int] = [:]
        for (_, replicas) in assignments { for broker in replicas { counts[broker, default: 0] += 1 } }
        return counts
    }

    public static let topicNameLengthMax = 249

    public static func validateTopicName(_ name: String) throws(MetadataError) {
        guard !name.isEmpty else { throw .invalidTopic("Topic name is illegal, it can't be empty") }
        guard name != "." && name != ".." else { throw .invalidTopic("Topic name cannot be \".\" or \"..\"") }
        guard name.utf8.count <= topicNameLengthMax else {
            throw .invalidTopic("Topic name is illegal, it can't be longer than \(topicNameLengthMax) characters")
        }
        let legal = name.utf8.allSatisfy { c in
            (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39) || c == 0x2E || c == 0x5F || c == 0x2D
        }
        guard legal else {
            throw .invalidTopic("Topic name \(name) is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'")
        }
    }

    /// Each partition's log lives in a directory named `<topic>-<partition>` (Kafka's layout), and a file
    /// name holds at most 255 bytes. Names of at most 249 characters and fewer than 100 000 partitions
    /// always fit; checked before anything is committed all the same, so that no change of either
    /// limit can commit a partition whose log cannot exist.
    public static let partitionDirectoryNameBytesMax = 255

    static func checkDirectoryNamesFit(topic: String, partitionCount: Int32) throws(MetadataError) {
        let longest = topic.utf8.count + 1 + String(max(partitionCount - 1, 0)).utf8.count
        guard longest <= partitionDirectoryNameBytesMax else {
            throw .invalidTopic("Topic name \(topic) with \(partitionCount) partitions makes directory names of \(longest) bytes, over \(partitionDirectoryNameBytesMax)")
        }
    }

    public func createTopic<G: RandomNumberGenerator>(
        _ spec: TopicSpec, in image: MetadataImage, liveBrokers: [BrokerID], using generator: inout G
    ) throws(MetadataError) -> [MetadataRecord] {
        try Self.validateTopicName(spec.name)
        // As Kafka refuses `__cluster_metadata`: the name belongs to the broker's own metadata log.
        guard spec.name != InternalTopics.metadataLog else {
            throw .invalidRequest("Creation of internal topic \(spec.name) is prohibited.")
        }
        guard image.topic(named: spec.name) == nil else { throw .topicAlreadyExists("Topic '\(spec.name)' already exists.") }
        if let other = image.topicsByCollisionKey[MetadataImage.collisionKey(spec.name)] {
            throw .invalidTopic("Topic '\(spec.name)' collides with existing topic: \(other)")
        }
        for (name, value) in spec.configs {
            if let problem = TopicConfig.validate(name: name, value: value) { throw .invalidConfig(problem) }
        }
        let count = spec.assignments.isEmpty ? try partitionCount(spec.partitions) : Int32(spec.assignments.count)
        try Self.checkDirectoryNamesFit(topic: spec.name, partitionCount: count)
        let assignments = try assign(
            partitions: 0..<count,
            replicationFactor: spec.replicationFactor, explicit: spec.assignments, liveBrokers: liveBrokers,
            rotation: image.topics.count)
        try limits.check(addingReplicas: Self.replicasPerBroker(assignments), newTopics: 1, to: image)
        var id = TopicID.random(using: &generator)
        while image.topics[id] != nil || id == .zero { id = TopicID.random(using: &generator) }
        var records: [MetadataRecord] = [.topic(name: spec.name, id: id)]
        for (partition, replicas) in assignments {
            records.append(.partition(PartitionRecord(topicID: id, partition: partition, replicas: replicas, isr: replicas, leader: replicas[0])))
        }
        for (name, value) in spec.configs.sorted(by: { $0.key < $1.key }) {
            records.append(.config(resource: ConfigResource(.topic, spec.name), name: name, value: value))
        }
        return records
    }

    public func deleteTopic(named name: String, in image: MetadataImage) throws(MetadataError) -> [MetadataRecord] {
        guard let topic = image.topic(named: name) else { throw .unknownTopic("This server does not host this topic-partition.") }
        // Deleting the offsets topic would drop every group's committed offsets.
        guard !InternalTopics.isInternal(name) else { throw .invalidTopic("Cannot delete internal topic \(name)") }
        return [.removeTopic(id: topic.id)]
    }

    public func createPartitions(
        topic name: String, totalCount: Int32, assignments explicit: [[BrokerID]]?, in image: MetadataImage,
        liveBrokers: [BrokerID]
    ) throws(MetadataError) -> [MetadataRecord] {
        guard let topic = image.topic(named: name) else { throw .unknownTopic("Topic '\(name)' does not exist.") }
        let current = topic.partitionCount
        guard totalCount > current else {
            throw .invalidPartitions("Topic currently has \(current) partitions, \(totalCount) would not be an increase.")
        }
        guard totalCount <= 100_000 else { throw .invalidPartitions("Too many partitions: \(totalCount)") }
        try Self.checkDirectoryNamesFit(topic: name, partitionCount: totalCount)
        let replicationFactor = Int16(topic.partitions[0]?.replicas.count ?? 1)
        var explicitMap: [Int32: [BrokerID]] = [:]
        if let explicit {
            guard explicit.count == Int(totalCount - current) else {
                throw .invalidReplicaAssignment("Increasing the number of partitions by \(totalCount - current) but \(explicit.count) assignments provided.")
            }
            for (i, replicas) in explicit.enumerated() { explicitMap[current + Int32(i)] = replicas }
        }
        let assignments = try assign(
            partitions: current..<totalCount, replicationFactor: replicationFactor, explicit: explicitMap,
            liveBrokers: liveBrokers, rotation: 0)
        try limits.check(addingReplicas: Self.replicasPerBroker(assignments), newTopics: 0, to: image)
        return assignments.map { partition, replicas in
            .partition(PartitionRecord(topicID: topic.id, partition: partition, replicas: replicas, isr: replicas, leader: replicas[0]))
        }
    }

    /// Config changes for one resource. `incremental` false is AlterConfigs: the given set replaces
    /// every override.
    public func alterConfigs(
        _ resource: ConfigResource, changes: [(name: String, operation: ConfigOperation, value: String?)],
        incremental: Bool, in image: MetadataImage
    ) throws(MetadataError) -> [MetadataRecord] {
        if resource.kind == .topic && image.topic(named: resource.name) == nil {
            throw .unknownTopic("Topic \(resource.name) does not exist")
        }
        var next = incremental ? image.configOverrides(resource) : [:]
        for change in changes {
            if resource.kind == .topic, TopicConfig.byName[change.name] == nil {
                throw .invalidConfig("Unknown topic config name: \(change.name)")
            }
            switch change.operation {
            case .set:
                guard let value = change.value else { throw .invalidRequest("Null value not supported for \(change.name)") }
                next[change.name] = value
            case .delete:
                next[change.name] = nil
            case .append, .subtract:
                guard TopicConfig.byName[change.name]?.kind == .list else {
                    throw .invalidConfig("Config value append/subtract is not allowed for config key \(change.name)")
                }
                let current = image.configOverrides(resource)[change.name].map { $0.split(separator: ",").map(String.init) }
                    ?? (TopicConfig.byName[change.name]!.defaultValue.split(separator: ",").map(String.init))
                let items = (change.value ?? "").split(separator: ",").map(String.init)
                let updated = change.operation == .append
                    ? current + items.filter { !current.contains($0) } : current.filter { !items.contains($0) }
                next[change.name] = updated.joined(separator: ",")
            }
            if resource.kind == .topic, let value = next[change.name], let problem = TopicConfig.validate(name: change.name, value: value) {
                throw .invalidConfig(problem)
            }
        }
        let old = image.configOverrides(resource)
        var records: [MetadataRecord] = []
        for name in Set(old.keys).union(next.keys).sorted() where old[name] != next[name] {
            records.append(.config(resource: resource, name: name, value: next[name]))
        }
        return records
    }

    /// The next block of producer ids, starting at the image's high mark.
    public func allocateProducerIdBlock(size: Int64, in image: MetadataImage) throws(MetadataError) -> [MetadataRecord] {
        precondition(size > 0)
        guard image.nextProducerID <= Int64.max - size else { throw .invalidRequest("producer ids are exhausted") }
        return [.producerIdBlock(firstID: image.nextProducerID, size: size)]
    }

    func partitionCount(_ requested: Int32) throws(MetadataError) -> Int32 {
        let count = requested == -1 ? defaultPartitions : requested
        guard count > 0 else { throw .invalidPartitions("Number of partitions must be larger than 0.") }
        guard count <= 100_000 else { throw .invalidPartitions("Too many partitions: \(count)") }
        return count
    }

    /// Replica lists per partition: explicit ones checked, the rest spread round-robin over the live
    /// brokers so leaders (the first replica) rotate.
    func assign(
        partitions: Range<Int32>, replicationFactor requested: Int16, explicit: [Int32: [BrokerID]],
        liveBrokers: [BrokerID], rotation: Int
    ) throws(MetadataError) -> [(Int32, [BrokerID])] {
        let brokers = liveBrokers.sorted()
        guard !brokers.isEmpty else { throw .invalidReplicationFactor("No live brokers to place replicas on.") }
        if !explicit.isEmpty {
            var out: [(Int32, [BrokerID])] = []
            for partition in partitions {
                guard let replicas = explicit[partition], !replicas.isEmpty else {
                    throw .invalidReplicaAssignment("Missing replica assignment for partition \(partition)")
                }
                guard Set(replicas).count == replicas.count else {
                    throw .invalidReplicaAssignment("Duplicate brokers in the assignment of partition \(partition)")
                }
                guard replicas.allSatisfy(brokers.contains) else {
                    throw .invalidReplicaAssignment("Unknown broker in the assignment of partition \(partition)")
                }
                out.append((partition, replicas))
            }
            return out
        }
        let factor: Int
        if requested == -1 {
            factor = min(Int(defaultReplicationFactor), brokers.count)
        } else {
            guard requested > 0 else { throw .invalidReplicationFactor("Replication factor must be larger than 0.") }
            guard Int(requested) <= brokers.count else {
                throw .invalidReplicationFactor("Replication factor: \(requested) larger than available brokers: \(brokers.count).")
            }
            factor = Int(requested)
        }
        return partitions.map { partition in
            let start = (Int(partition) + rotation) % brokers.count
            return (partition, (0..<factor).map { brokers[(start + $0) % brokers.count] })
        }
    }
}
