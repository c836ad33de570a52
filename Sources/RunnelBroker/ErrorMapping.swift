import RunnelLog
import RunnelMetadata
import RunnelRecords
import RunnelWire

/// Kafka error codes for the core's errors: the one place where they meet the wire.
extension MetadataError {
    var errorCode: ErrorCode {
        switch self {
        case .topicAlreadyExists: return .topicAlreadyExists
        case .invalidTopic: return .invalidTopicException
        case .unknownTopic: return .unknownTopicOrPartition
        case .invalidPartitions: return .invalidPartitions
        case .invalidReplicationFactor: return .invalidReplicationFactor
        case .invalidReplicaAssignment: return .invalidReplicaAssignment
        case .invalidConfig: return .invalidConfig
        case .invalidRequest: return .invalidRequest
        // Non-retriable, and clients show the message (Java's PolicyViolationException, as for
        // Kafka's create-topic policies); a quota error would be retried in vain.
        case .policyViolation: return .policyViolation
        }
    }
}

extension LogError {
    var errorCode: ErrorCode {
        switch self {
        case .offsetOutOfRange: return .offsetOutOfRange
        case .invalidBatches: return .corruptMessage
        case .recordBatchTooLarge: return .recordListTooLarge
        case .staleLeaderEpoch: return .fencedLeaderEpoch
        case .unexpectedAppendOffset: return .unknownServerError
        case .storage, .flushUnavailable, .corrupt: return .kafkaStorageError
        case .truncated: return .notLeaderOrFollower
        case .tooManyFlushWaiters: return .requestTimedOut
        case .closed: return .notLeaderOrFollower
        case .outOfOrderSequence: return .outOfOrderSequenceNumber
        case .invalidProducerEpoch: return .invalidProducerEpoch
        }
    }
}

extension RecordBatchError {
    var errorCode: ErrorCode { ErrorCode(rawValue: kafkaErrorCode) }
}

/// Maps any error of the core to a code and a message for the client.
func errorCodeAndMessage(_ error: any Error) -> (ErrorCode, String) {
    switch error {
    case let e as MetadataError: return (e.errorCode, e.message)
    case let e as LogError: return (e.errorCode, e.description)
    case let e as RecordBatchError: return (e.errorCode, e.description)
    case let e as BrokerError: return (e.errorCode, e.message)
    default: return (.unknownServerError, "\(error)")
    }
}

/// Errors the broker itself decides.
struct BrokerError: Error {
    let errorCode: ErrorCode
    let message: String
    init(_ errorCode: ErrorCode, _ message: String) {
        self.errorCode = errorCode
        self.message = message
    }
}
