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
    /// The records inside a batch do not parse (lengths, varints, counts, trailing bytes).
    case malformedRecords(reason: String)
    case decompressionFailed(CompressionError)

    /// Kafka error codes: CORRUPT_MESSAGE (2), MESSAGE_TOO_LARGE (10), UNSUPPORTED_FOR_MESSAGE_FORMAT (43),
    /// INVALID_RECORD (87).
    public var kafkaErrorCode: Int16 {
        switch self {
        case .truncated, .batchLengthTooSmall, .unknownCodec, .checksumMismatch, .malformedRecords,
            .decompressionFailed:
            return 2
        case .unsupportedMagic(let magic):
            return magic < 2 ? 43 : 2
        case .invalidRecordCount, .inconsistentOffsetRange, .controlBatchFromClient:
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
        case .decompressionFailed(let error): "decompression failed: \(error)"
        }
    }
}
