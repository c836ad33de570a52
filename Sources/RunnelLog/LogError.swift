import RunnelStorage

/// What the log store reports. `storage` is final: the log has stopped and the broker must too.
public enum LogError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The offset lies before the log start offset or after the log end offset.
    case offsetOutOfRange(offset: Int64, logStartOffset: Int64, logEndOffset: Int64)
    /// The appended bytes are not a sequence of whole v2 record batches.
    case invalidBatches(String)
    /// One append must fit in one segment.
    case recordBatchTooLarge(sizeBytes: Int, segmentBytesMax: Int)
    /// A leader append stamped with an epoch older than one the log already holds (a deposed leader).
    case staleLeaderEpoch(epoch: Int32, latestEpoch: Int32)
    /// A follower append whose offsets do not continue the log.
    case unexpectedAppendOffset(expectedAtLeast: Int64, got: Int64)
    /// A disk error (including a failed fsync). The log accepts nothing more; never retried.
    case storage(StorageError)
    /// The flush scheduler refused the request (queue full or shut down); the data is not known durable.
    case flushUnavailable(StorageError)
    /// A flush wait whose offset was removed by truncation.
    case truncated(offset: Int64, logEndOffset: Int64)
    case tooManyFlushWaiters(limit: Int)
    case closed
    /// An idempotent producer's batch does not follow its last one (a gap, or a new epoch not at 0).
    case outOfOrderSequence(String)
    /// An idempotent producer's batch from an epoch older than one the log holds (a fenced producer).
    case invalidProducerEpoch(String)
    /// Opening found damage in data that was known durable: the log was not opened and nothing was cut.
    /// The partition stays offline until an operator (or, once replicated, a re-fetch from the leader)
    /// repairs it; dropping the batches, and the synced segments after them, would lose acknowledged data.
    case corrupt(LogCorruption)

    public var description: String {
        switch self {
        case .offsetOutOfRange(let o, let start, let end): return "offset \(o) outside [\(start), \(end)]"
        case .invalidBatches(let why): return "invalid record batches: \(why)"
        case .recordBatchTooLarge(let size, let max): return "append of \(size) bytes exceeds segment size \(max)"
        case .staleLeaderEpoch(let epoch, let latest): return "leader epoch \(epoch) is older than the log's \(latest)"
        case .unexpectedAppendOffset(let expected, let got): return "append at offset \(got), expected at least \(expected)"
        case .storage(let e): return "log storage failed: \(e)"
        case .flushUnavailable(let e): return "flush unavailable: \(e)"
        case .truncated(let o, let end): return "offset \(o) truncated; log ends at \(end)"
        case .tooManyFlushWaiters(let limit): return "more than \(limit) flush waiters"
        case .closed: return "log closed"
        case .outOfOrderSequence(let why): return "out of order sequence: \(why)"
        case .invalidProducerEpoch(let why): return "invalid producer epoch: \(why)"
        case .corrupt(let corruption): return "\(corruption)"
        }
    }
}

/// Where recovery found damaged durable data: the segment file, the byte position of the first bad batch
/// (the end of the file when synced batches are missing at its end) and what is wrong there.
public struct LogCorruption: Equatable, Sendable, CustomStringConvertible {
    public var path: String
    public var position: Int64
    public var reason: String

    public init(path: String, position: Int64, reason: String) {
        self.path = path
        self.position = position
        self.reason = reason
    }

    public var description: String { "corrupt log segment \(path) at byte \(position): \(reason)" }
}
