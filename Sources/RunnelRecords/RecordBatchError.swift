import RunnelCompression

/// Why bytes are not an acceptable record batch. `kafkaErrorCode` is the code a produce response carries.
public enum RecordBatchError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Fewer bytes than the header or the declared batch length need.
    case truncated(index: Int, neededBytes: Int, availableBytes: Int)
    /// Magic other than 2; 0 and 1 are the pre-0.11 message formats Runnel does not store.
    case unsupportedMagic(Int8)
    /// `batchLength` smaller than a header without records.
    case batchLengthTooSmall(Int32)
    /// Compression codec ids 5-7 are unassigned.
    case unknownCodec(UInt8)
    case checksumMismatch(stored: UInt32, computed: UInt32)
    case invalidRecordCount(Int32)
    /// `lastOffsetDelta` does not match the record count (producer batches hold contiguous offsets).
    case inconsistentOffsetRange(lastOffsetDelta: Int32, recordCount: Int32)
    /// Clients may not write control batches (transaction markers are the coordinator's).
    case controlBatchFromClient
    case batchTooLarge(sizeBytes: Int, maxMessageBytes: Int)
    /// The records inside a batch do not parse (lengths, varints, counts, offset deltas, trailing bytes).
    case malformedRecords(reason: String)
    /// A data record without a key, produced to a compacted topic.
    case recordWithoutKey
    /// Corrupt compressed bytes, or more than the broker inflates one batch to (`outputLimitExceeded`).
    case decompressionFailed(CompressionError)

    /// Kafka error codes: CORRUPT_MESSAGE (2), MESSAGE_TOO_LARGE (10), UNSUPPORTED_FOR_MESSAGE_FORMAT (43),
    /// INVALID_RECORD (87). Records that do not parse are INVALID_RECORD, as Kafka's DefaultRecord throws
    /// InvalidRecordException for them. A batch inflating past the broker's bound is MESSAGE_TOO_LARGE, so
    /// that a Java producer splits it and retries rather than retrying it whole (CORRUPT_MESSAGE is retriable).
    public var kafkaErrorCode: Int16 {
        switch self {
        case .truncated, .batchLengthTooSmall, .unknownCodec, .checksumMismatch:
            return 2
        case .decompressionFailed(.outputLimitExceeded):
            return 10
        case .decompressionFailed:
            return 2
        case .unsupportedMagic(let magic):
            return magic < 2 ? 43 : 2
        case .invalidRecordCount, .inconsistentOffsetRange, .controlBatchFromClient, .malformedRecords, .recordWithoutKey:
            return 87
        case .batchTooLarge:
            return 10
        }
    }

    public var description: String {
        switch self {
        case .truncated(let index, let neededBytes, let availableBytes):
            "batch at byte \(index) needs \(neededBytes) bytes, \(availableBytes) available"
        case .unsupportedMagic(let magic): "unsupported record batch magic \(magic)"
        case .batchLengthTooSmall(let length): "batch length \(length) is below the v2 header size"
        case .unknownCodec(let id): "unknown compression codec id \(id)"
        case .checksumMismatch(let stored, let computed):
            "CRC-32C mismatch: stored \(stored), computed \(computed)"
        case .invalidRecordCount(let count): "invalid record count \(count)"
        case .inconsistentOffsetRange(let lastOffsetDelta, let recordCount):
            "lastOffsetDelta \(lastOffsetDelta) is inconsistent with \(recordCount) records"
        case .controlBatchFromClient: "clients may not write control batches"
        case .batchTooLarge(let sizeBytes, let maxMessageBytes):
            "batch of \(sizeBytes) bytes exceeds max.message.bytes \(maxMessageBytes)"
        case .malformedRecords(let reason): "malformed records: \(reason)"
        case .recordWithoutKey: "Compacted topic cannot accept message without key"
        case .decompressionFailed(let error): "decompression failed: \(error)"
        }
    }
}
