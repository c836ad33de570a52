import NIOCore
import RunnelCompression

/// Checks the record batches of one partition of a Produce request before append: structure, sizes and
/// CRCs of the batches, and for a client's batches every record in them, as Kafka's LogValidator does
/// (lengths, varints, counts and offset deltas must fit; keys where the topic is compacted). Uncompressed
/// records are walked in place; compressed ones are inflated for the walk, at most
/// `uncompressedBytesMax` in all, and stored compressed as sent.
public struct RecordBatchValidator: Sendable {
    /// Who is appending: clients get the strict producer rules; replication accepts what a leader's log
    /// may legitimately hold (compacted batches with offset gaps, empty batches, control batches) and,
    /// as Kafka's followers, does not look at records: the leader did.
    public enum Origin: Sendable, Hashable {
        case client
        case replication
    }

    /// What the broker inflates unless told otherwise; a broker setting, never a topic config.
    public static let uncompressedBytesMaxDefault = 64 << 20

    /// The topic's `max.message.bytes`: the largest batch accepted, header included.
    public let maxMessageBytes: Int
    public let origin: Origin
    /// The most bytes one validation inflates, over all its compressed batches (a bomb is refused with
    /// MESSAGE_TOO_LARGE); a client cannot raise it, whatever the topic's `max.message.bytes`.
    public let uncompressedBytesMax: Int
    /// A compacted topic's rule: every data record has a key (Kafka answers INVALID_RECORD otherwise,
    /// since the cleaner could never decide which record of a key to keep).
    public let requiresKeys: Bool

    public init(maxMessageBytes: Int, origin: Origin = .client, uncompressedBytesMax: Int = Self.uncompressedBytesMaxDefault,
                requiresKeys: Bool = false) {
        precondition(maxMessageBytes >= 0, "negative maxMessageBytes")
        precondition(uncompressedBytesMax >= 0, "negative uncompressedBytesMax")
        self.maxMessageBytes = maxMessageBytes
        self.origin = origin
        self.uncompressedBytesMax = uncompressedBytesMax
        self.requiresKeys = requiresKeys
    }

    /// Validates every batch in the readable bytes of `records` and returns their headers in order.
    /// The buffer must hold whole batches only. Errors carry the Kafka error code to answer with.
    public func validate(_ records: ByteBuffer) throws -> [RecordBatchHeader] {
        var iterator = RecordBatchIterator(records, verifyingChecksums: true)
        var headers: [RecordBatchHeader] = []
        while let entry = try iterator.next() {
            try check(entry.header)
            headers.append(entry.header)
        }
        guard iterator.trailingBytes == 0 else {
            let needed = (try? RecordBatchHeader(parsing: records, at: iterator.position).totalSize)
                ?? RecordBatchHeader.sizeBytes
            throw RecordBatchError.truncated(
                index: iterator.position, neededBytes: needed, availableBytes: iterator.trailingBytes)
        }
        // Records only once every header passed, so that nothing is inflated for a batch refused anyway.
        if origin == .client {
            var inflationLeftBytes = uncompressedBytesMax
            var index = records.readerIndex
            for header in headers {
                try checkRecords(records.getSlice(at: index, length: header.totalSize)!, header: header,
                                 inflationLeftBytes: &inflationLeftBytes)
                index += header.totalSize
            }
        }
        return headers
    }

    private func checkRecords(_ batch: ByteBuffer, header: RecordBatchHeader, inflationLeftBytes: inout Int) throws {
        let keyless: Int
        let recordsAt = RecordBatchHeader.sizeBytes
        if header.codec == .none {
            keyless = try batch.withUnsafeReadableBytes { raw in
                try RecordLayout.walk(UnsafeRawBufferPointer(rebasing: raw[recordsAt...]), header: header)
            }
        } else {
            let inflated: [UInt8]
            do {
                inflated = try batch.withUnsafeReadableBytes { raw in
                    try Compression.decompress(UnsafeRawBufferPointer(rebasing: raw[recordsAt...]), codec: header.codec,
                                               maxOutputBytes: inflationLeftBytes)
                }
            } catch let error as CompressionError {
                throw RecordBatchError.decompressionFailed(error)
            }
            inflationLeftBytes -= inflated.count
            keyless = try inflated.withUnsafeBytes { raw in try RecordLayout.walk(raw, header: header) }
        }
        if requiresKeys && keyless > 0 { throw RecordBatchError.recordWithoutKey }
    }

    private func check(_ header: RecordBatchHeader) throws {
        guard header.totalSize <= maxMessageBytes else {
            throw RecordBatchError.batchTooLarge(sizeBytes: header.totalSize, maxMessageBytes: maxMessageBytes)
        }
        guard !header.baseOffset.addingReportingOverflow(Int64(header.lastOffsetDelta) + 1).overflow else {
            throw RecordBatchError.inconsistentOffsetRange(
                lastOffsetDelta: header.lastOffsetDelta, recordCount: header.recordCount)
        }
        switch origin {
        case .client:
            guard header.recordCount > 0 else { throw RecordBatchError.invalidRecordCount(header.recordCount) }
            guard Int64(header.lastOffsetDelta) == Int64(header.recordCount) - 1 else {
                throw RecordBatchError.inconsistentOffsetRange(
                    lastOffsetDelta: header.lastOffsetDelta, recordCount: header.recordCount)
            }
            guard !header.isControl else { throw RecordBatchError.controlBatchFromClient }
        case .replication:
            guard header.recordCount >= 0 else { throw RecordBatchError.invalidRecordCount(header.recordCount) }
            // Compaction leaves offset gaps, so the range may exceed the count but never fall short of it.
            guard header.lastOffsetDelta >= 0, Int64(header.lastOffsetDelta) >= Int64(header.recordCount) - 1 else {
                throw RecordBatchError.inconsistentOffsetRange(
                    lastOffsetDelta: header.lastOffsetDelta, recordCount: header.recordCount)
            }
        }
        // Each record takes at least 7 bytes; only an uncompressed batch's count can be checked against
        // its size without inflating it.
        if header.codec == .none {
            let recordBytes = header.totalSize - RecordBatchHeader.sizeBytes
            guard Int(header.recordCount) <= recordBytes / Record.encodedBytesMin else {
                throw RecordBatchError.invalidRecordCount(header.recordCount)
            }
        }
    }
}
