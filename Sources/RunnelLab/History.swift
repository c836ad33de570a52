/// What a lab run did, in the order operations completed. Times are nanoseconds of a monotonic clock
/// since the run started; the history itself reads no clock (the recorder stamps operations).
public struct History: Codable, Sendable {
    /// A bound on memory: a scenario that records more than this is a runaway loop.
    public static let operationsMax = 2_000_000

    public private(set) var operations: [Operation] = []

    public init(_ operations: [Operation] = []) {
        precondition(operations.count <= Self.operationsMax, "history over \(Self.operationsMax) operations")
        self.operations = operations
    }

    public mutating func append(_ operation: Operation) {
        precondition(operations.count < Self.operationsMax, "history over \(Self.operationsMax) operations")
        operations.append(operation)
    }

    public var sends: [SendOperation] { operations.compactMap { if case .send(let s) = $0 { s } else { nil } } }
    public var polls: [PollOperation] { operations.compactMap { if case .poll(let p) = $0 { p } else { nil } } }
    public var faults: [FaultOperation] { operations.compactMap { if case .fault(let f) = $0 { f } else { nil } } }
    public var clientErrors: [ClientErrorEvent] {
        operations.compactMap { if case .clientError(let e) = $0 { e } else { nil } }
    }

    /// The latest time any operation mentions.
    public var endNs: UInt64 { operations.map(\.latestNs).max() ?? 0 }
}

/// One thing a client or the lab did.
public enum Operation: Codable, Sendable {
    case send(SendOperation)
    case poll(PollOperation)
    case assign(AssignOperation)
    case fault(FaultOperation)
    case clientError(ClientErrorEvent)

    public var latestNs: UInt64 {
        switch self {
        case .send(let s): s.completedNs
        case .poll(let p): p.completedNs
        case .assign(let a): a.timeNs
        case .fault(let f): f.healedNs ?? f.healIssuedNs ?? f.verifiedNs
        case .clientError(let e): e.timeNs
        }
    }
}

/// A produce of one value and how it ended.
public struct SendOperation: Codable, Sendable, Equatable {
    public let client: ClientID
    /// The producer's own order of invocation (0, 1, 2, ...); acknowledgements may complete out of it.
    public let sequence: Int
    public let partition: TopicPartition
    public let value: String
    public let invokedNs: UInt64
    public let completedNs: UInt64
    public let outcome: SendOutcome

    public init(client: ClientID, sequence: Int, partition: TopicPartition, value: String, invokedNs: UInt64,
                completedNs: UInt64, outcome: SendOutcome) {
        precondition(completedNs >= invokedNs, "a send completes after it is invoked")
        self.client = client
        self.sequence = sequence
        self.partition = partition
        self.value = value
        self.invokedNs = invokedNs
        self.completedNs = completedNs
        self.outcome = outcome
    }

    public var acknowledgedOffset: Int64? {
        if case .acknowledged(let offset) = outcome { offset } else { nil }
    }
}

/// An acknowledged send names its offset; any other ending is indeterminate (the record may or may not
/// be in the log), so the checker allows it to be read or not.
public enum SendOutcome: Codable, Sendable, Equatable {
    case acknowledged(offset: Int64)
    case failed(error: String)
}

/// One record a poll returned.
public struct PolledRecord: Codable, Sendable, Equatable {
    public let partition: TopicPartition
    public let offset: Int64
    public let value: String

    public init(partition: TopicPartition, offset: Int64, value: String) {
        self.partition = partition
        self.offset = offset
        self.value = value
    }
}

/// One poll by a consumer: the records in the order returned, and the errors it reported.
public struct PollOperation: Codable, Sendable, Equatable {
    public let client: ClientID
    public let invokedNs: UInt64
    public let completedNs: UInt64
    public let records: [PolledRecord]
    public let errors: [String]

    public init(client: ClientID, invokedNs: UInt64, completedNs: UInt64, records: [PolledRecord], errors: [String] = []) {
        precondition(completedNs >= invokedNs, "a poll completes after it is invoked")
        self.client = client
        self.invokedNs = invokedNs
        self.completedNs = completedNs
        self.records = records
        self.errors = errors
    }
}

/// A consumer (re)positioned on partitions: its poll order starts afresh there.
public struct AssignOperation: Codable, Sendable, Equatable {
    public let client: ClientID
    public let timeNs: UInt64
    public let partitions: [TopicPartition]

    public init(client: ClientID, timeNs: UInt64, partitions: [TopicPartition]) {
        self.client = client
        self.timeNs = timeNs
        self.partitions = partitions
    }
}

public enum FaultKind: String, Codable, Sendable {
    case kill, pause, disconnect
}

/// A fault the lab injected: when it was issued, when it was seen to have taken effect (it counts only
/// from then), when the heal was issued (start, unpause, connect), and when the node was seen back
/// (healthy and answering), if it came back.
public struct FaultOperation: Codable, Sendable, Equatable {
    public let kind: FaultKind
    public let target: String
    public let injectedNs: UInt64
    public let verifiedNs: UInt64
    public let healIssuedNs: UInt64?
    public let healedNs: UInt64?

    public init(kind: FaultKind, target: String, injectedNs: UInt64, verifiedNs: UInt64, healIssuedNs: UInt64?,
                healedNs: UInt64?) {
        precondition(verifiedNs >= injectedNs, "a fault is verified after it is injected")
        precondition(healIssuedNs.map { $0 >= verifiedNs } ?? true, "a fault is healed after it is verified")
        precondition(healedNs.map { healed in healIssuedNs.map { healed >= $0 } ?? false } ?? true,
                     "a node is seen back after its heal was issued")
        self.kind = kind
        self.target = target
        self.injectedNs = injectedNs
        self.verifiedNs = verifiedNs
        self.healIssuedNs = healIssuedNs
        self.healedNs = healedNs
    }
}

/// An error a client reported outside any one send or poll (a broker connection failing, say).
public struct ClientErrorEvent: Codable, Sendable, Equatable {
    public let client: ClientID
    public let timeNs: UInt64
    public let message: String

    public init(client: ClientID, timeNs: UInt64, message: String) {
        self.client = client
        self.timeNs = timeNs
        self.message = message
    }
}
