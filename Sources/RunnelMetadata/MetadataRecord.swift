/// A change to the cluster's metadata. Handlers never mutate metadata: the controller turns a request
/// into records, the metadata log makes them durable (locally now, through Raft in a cluster), and
/// every node applies them, in order, to its `MetadataImage`.
public enum MetadataRecord: Hashable, Sendable {
    case registerBroker(BrokerRegistration)
    case topic(name: String, id: TopicID)
    case partition(PartitionRecord)
    /// A new leader and/or ISR for a partition; bumps the partition epoch, and the leader epoch when the
    /// leader changes.
    case partitionChange(PartitionChange)
    case removeTopic(id: TopicID)
    /// Sets (value non-nil) or deletes a config override.
    case config(resource: ConfigResource, name: String, value: String?)
    /// Producer ids [firstID, firstID + size) are handed out to idempotent producers; the next block
    /// starts after them, so no id is ever given twice, even across restarts.
    case producerIdBlock(firstID: Int64, size: Int64)
}

public struct Endpoint: Hashable, Sendable {
    public var listener: String
    public var host: String
    public var port: Int32
    public init(listener: String, host: String, port: Int32) {
        self.listener = listener
        self.host = host
        self.port = port
    }
}

public struct BrokerRegistration: Hashable, Sendable {
    public var id: BrokerID
    public var directoryID: UUID128
    public var endpoints: [Endpoint]
    public var rack: String?
    public init(id: BrokerID, directoryID: UUID128, endpoints: [Endpoint], rack: String? = nil) {
        self.id = id
        self.directoryID = directoryID
        self.endpoints = endpoints
        self.rack = rack
    }
}

public struct PartitionRecord: Hashable, Sendable {
    public var topicID: TopicID
    public var partition: Int32
    public var replicas: [BrokerID]
    public var isr: [BrokerID]
    public var leader: BrokerID
    public var leaderEpoch: Int32
    public var partitionEpoch: Int32
    public init(topicID: TopicID, partition: Int32, replicas: [BrokerID], isr: [BrokerID], leader: BrokerID,
                leaderEpoch: Int32 = 0, partitionEpoch: Int32 = 0) {
        self.topicID = topicID
        self.partition = partition
        self.replicas = replicas
        self.isr = isr
        self.leader = leader
        self.leaderEpoch = leaderEpoch
        self.partitionEpoch = partitionEpoch
    }
}

public struct PartitionChange: Hashable, Sendable {
    public var topicID: TopicID
    public var partition: Int32
    /// nil: unchanged. `noLeader` (-1): offline.
    public var leader: BrokerID?
    public var isr: [BrokerID]?
    public init(topicID: TopicID, partition: Int32, leader: BrokerID? = nil, isr: [BrokerID]? = nil) {
        self.topicID = topicID
        self.partition = partition
        self.leader = leader
        self.isr = isr
    }
}

public struct ConfigResource: Hashable, Sendable {
    public enum Kind: Int8, Hashable, Sendable {
        case topic = 2
        case broker = 4
    }
    public var kind: Kind
    /// Topic name, or broker id as a string ("" for the cluster-wide broker default).
    public var name: String
    public init(_ kind: Kind, _ name: String) { self.kind = kind; self.name = name }
}

public let noLeader: BrokerID = -1
