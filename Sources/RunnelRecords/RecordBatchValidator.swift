import NIOCore

/// Checks the record batches of one partition of a Produce request before append, touching only batch
/// headers and CRCs — never individual records, so compressed batches stay compressed and the cost is
/// one CRC pass over the bytes.
public struct RecordBatchValidator: Sendable {
    /// Who is appending: clients get the strict producer rules; replication accepts what a leader's log
    /// may legitimately hold (compacted batches with offset gaps, empty batches, control batches).
    public enum Origin: Sendable, Hashable {
        case client
        case replication
    }

    /// The topic's `max.message.bytes`: the largest batch accepted, header included.
    public let maxMessageBytes: Int
    public let origin: Origin

    public init(maxMessageBytes: Int, origin: Origin = .client) {
        precondition(maxMessageBytes >= 0, "negative maxMessageBytes")
        self.maxMessageBytes = maxMessageBytes
        self.origin = origin
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
        return headers
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
