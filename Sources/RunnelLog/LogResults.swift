import NIOCore
import RunnelStorage

/// What an append did.
public struct LogAppendInfo: Equatable, Sendable {
    /// The base offset of the first batch and the last offset of the last batch.
    public let firstOffset: Int64
    public let lastOffset: Int64
    /// The log end offset after the append (`lastOffset + 1`).
    public let logEndOffset: Int64
    public let batchCount: Int
    public let sizeBytes: Int
    /// The largest batch max timestamp in the append and the base offset of its batch.
    public let maxTimestamp: Int64
    public let offsetOfMaxTimestamp: Int64
    /// True when the batch was an idempotent producer's retry of one already in the log: nothing was
    /// appended and the offsets are the original batch's.
    public internal(set) var isDuplicate = false
}

/// The log's offsets at one moment.
public struct LogOffsets: Equatable, Sendable {
    public let logStartOffset: Int64
    public let highWatermark: Int64
    /// The durable log end offset: everything below it is synced.
    public let flushedOffset: Int64
    public let logEndOffset: Int64

    public init(logStartOffset: Int64, highWatermark: Int64, flushedOffset: Int64, logEndOffset: Int64) {
        self.logStartOffset = logStartOffset
        self.highWatermark = highWatermark
        self.flushedOffset = flushedOffset
        self.logEndOffset = logEndOffset
    }
}

/// A batch found by a timestamp lookup; the broker decodes it to find the exact record.
public struct TimestampedBatch: Equatable, Sendable {
    public let baseOffset: Int64
    public let lastOffset: Int64
    public let maxTimestamp: Int64

    public init(baseOffset: Int64, lastOffset: Int64, maxTimestamp: Int64) {
        self.baseOffset = baseOffset
        self.lastOffset = lastOffset
        self.maxTimestamp = maxTimestamp
    }
}

/// Whole batches as bytes in a segment file, for zero-copy transfer (sendfile). A segment deleted by
/// retention or truncation after the read closes its file; the sender then fails and the fetch retries.
public struct FileSlice: Sendable {
    public let file: any StorageFile
    public let position: Int64
    public let length: Int
}

/// The result of a read: whole batches starting at the batch holding the requested offset.
public struct LogReadResult: Sendable {
    /// Empty when nothing is readable below the limit (or the first batch exceeds `maxBytes` without
    /// `minOneBatch`).
    public let records: ByteBuffer
    /// The base offset of the first batch returned, nil when none.
    public let firstBatchOffset: Int64?
    public let offsets: LogOffsets
}

public struct LogSliceReadResult: Sendable {
    public let slice: FileSlice?
    public let firstBatchOffset: Int64?
    public let offsets: LogOffsets
}

public struct RetentionOutcome: Equatable, Sendable {
    public let deletedSegments: Int
    public let deletedBytes: Int64
    public let logStartOffset: Int64
}
