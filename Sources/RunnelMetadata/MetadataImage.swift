/// The metadata as of some applied record: what every handler reads. A value: readers hold a copy
/// that never changes under them.
public struct MetadataImage: Hashable, Sendable {
    public struct Partition: Hashable, Sendable {
        public var replicas: [BrokerID]
        public var isr: [BrokerID]
        public var leader: BrokerID
        public var leaderEpoch: Int32
        public var partitionEpoch: Int32
    }

    public struct Topic: Hashable, Sendable {
        public var name: String
        public var id: TopicID
        public var partitions: [Int32: Partition] = [:]
        public var partitionCount: Int32 { Int32(partitions.count) }
    }

    public private(set) var brokers: [BrokerID: BrokerRegistration] = [:]
    public private(set) var topics: [TopicID: Topic] = [:]
    public private(set) var topicIDs: [String: TopicID] = [:]
    /// Each topic's name with '.' read as '_' (Kafka's `Topic.unifyCollisionChars`) → the name: two
    /// such topics would share metric names. An index, so the check per new topic is one lookup.
    public private(set) var topicsByCollisionKey: [String: String] = [:]
    public private(set) var configs: [ConfigResource: [String: String]] = [:]
    /// How many partition replicas each broker hosts: what `TopicLimits` checks, kept as records apply.
    public private(set) var replicaCounts: [BrokerID: Int] = [:]
    /// The first producer id not yet handed out in a block: the persisted high mark.
    public private(set) var nextProducerID: Int64 = 0
    /// How many records have been applied: the image's position in the metadata log.
    public private(set) var appliedCount: Int64 = 0

    public init() {}

    public func topic(named name: String) -> Topic? { topicIDs[name].flatMap { topics[$0] } }

    public func replicaCount(on broker: BrokerID) -> Int { replicaCounts[broker] ?? 0 }

    public func partition(_ tp: TopicPartition) -> Partition? { topic(named: tp.topic)?.partitions[tp.partition] }

    /// The name with every '.' read as '_'.
    public static func collisionKey(_ name: String) -> String { String(name.map { $0 == "." ? "_" : $0 }) }

    public func configOverrides(_ resource: ConfigResource) -> [String: String] { configs[resource] ?? [:] }

    /// Applies one committed record. Records were validated by the controller against the image they
    /// were made from, so a record that does not fit is a bug, not bad input: it stops loudly.
    public mutating func apply(_ record: MetadataRecord) {
        appliedCount += 1
        switch record {
        case .registerBroker(let registration):
            brokers[registration.id] = registration
        case .topic(let name, let id):
            precondition(topicIDs[name] == nil && topics[id] == nil, "topic \(name) applied twice")
            topics[id] = Topic(name: name, id: id)
            topicIDs[name] = id
            topicsByCollisionKey[Self.collisionKey(name)] = name
        case .partition(let p):
            precondition(topics[p.topicID] != nil, "partition of unknown topic \(p.topicID)")
            precondition(p.isr.allSatisfy(p.replicas.contains), "ISR outside the replicas")
            for broker in topics[p.topicID]!.partitions[p.partition]?.replicas ?? [] { replicaCounts[broker, default: 0] -= 1 }
            for broker in p.replicas { replicaCounts[broker, default: 0] += 1 }
            topics[p.topicID]!.partitions[p.partition] = Partition(
                replicas: p.replicas, isr: p.isr, leader: p.leader, leaderEpoch: p.leaderEpoch,
                partitionEpoch: p.partitionEpoch)
        case .partitionChange(let change):
            guard var partition = topics[change.topicID]?.partitions[change.partition] else {
                preconditionFailure("change of unknown partition \(change.topicID)-\(change.partition)")
            }
            if let leader = change.leader, leader != partition.leader {
                partition.leader = leader
                partition.leaderEpoch += 1
            }
            if let isr = change.isr {
                precondition(isr.allSatisfy(partition.replicas.contains), "ISR outside the replicas")
                partition.isr = isr
            }
            partition.partitionEpoch += 1
            topics[change.topicID]!.partitions[change.partition] = partition
        case .removeTopic(let id):
            guard let topic = topics.removeValue(forKey: id) else { preconditionFailure("removal of unknown topic \(id)") }
            for partition in topic.partitions.values {
                for broker in partition.replicas { replicaCounts[broker, default: 0] -= 1 }
            }
            replicaCounts = replicaCounts.filter { $0.value > 0 }
            topicIDs[topic.name] = nil
            if topicsByCollisionKey[Self.collisionKey(topic.name)] == topic.name { topicsByCollisionKey[Self.collisionKey(topic.name)] = nil }
            configs[ConfigResource(.topic, topic.name)] = nil
        case .config(let resource, let name, let value):
            configs[resource, default: [:]][name] = value
            if configs[resource]?.isEmpty == true { configs[resource] = nil }
        case .producerIdBlock(let firstID, let size):
            precondition(firstID == nextProducerID && size > 0, "producer id block \(firstID)+\(size) does not follow \(nextProducerID)")
            nextProducerID = firstID + size
        }
    }

    /// Records that rebuild this image from an empty one (what a snapshot of the metadata log holds).
    public var snapshotRecords: [MetadataRecord] {
        var records: [MetadataRecord] = brokers.keys.sorted().map { .registerBroker(brokers[$0]!) }
        for topic in topics.values.sorted(by: { $0.name < $1.name }) {
            records.append(.topic(name: topic.name, id: topic.id))
            for (index, p) in topic.partitions.sorted(by: { $0.key < $1.key }) {
                records.append(.partition(PartitionRecord(
                    topicID: topic.id, partition: index, replicas: p.replicas, isr: p.isr, leader: p.leader,
                    leaderEpoch: p.leaderEpoch, partitionEpoch: p.partitionEpoch)))
            }
        }
        for (resource, values) in configs.sorted(by: { ($0.key.kind.rawValue, $0.key.name) < ($1.key.kind.rawValue, $1.key.name) }) {
            for (name, value) in values.sorted(by: { $0.key < $1.key }) {
                records.append(.config(resource: resource, name: name, value: value))
            }
        }
        if nextProducerID > 0 { records.append(.producerIdBlock(firstID: 0, size: nextProducerID)) }
        return records
    }
}
