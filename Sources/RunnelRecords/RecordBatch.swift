import NIOCore
import RunnelCompression

/// A record batch decoded down to its records, for the places that must read them (CLI consumer,
/// compaction, tests). The produce and fetch paths never do this.
public struct RecordBatch: Sendable {
    public let header: RecordBatchHeader
    public let records: [Record]

    /// Decodes the batch starting at `index` (an absolute buffer index; nil means the reader index).
    /// The CRC is verified unless `verifyingChecksum` is false; compressed records are inflated to at most
    /// `maxUncompressedBytes`, so a decompression bomb throws instead of exhausting memory.
    public init(
        decoding buffer: ByteBuffer, at index: Int? = nil, maxUncompressedBytes: Int, verifyingChecksum: Bool = true
    ) throws {
        let start = index ?? buffer.readerIndex
        let header = try RecordBatchHeader(parsing: buffer, at: start)
        let available = buffer.writerIndex - start
        guard available >= header.totalSize else {
            throw RecordBatchError.truncated(index: start, neededBytes: header.totalSize, availableBytes: available)
        }
        if verifyingChecksum { try header.verifyChecksum(in: buffer, at: start) }
        guard header.recordCount >= 0 else { throw RecordBatchError.invalidRecordCount(header.recordCount) }

        let payloadIndex = start + RecordBatchHeader.sizeBytes
        var payload = buffer.getSlice(at: payloadIndex, length: header.totalSize - RecordBatchHeader.sizeBytes)!
        if header.codec != .none {
            let inflated: [UInt8]
            do {
                inflated = try payload.withUnsafeReadableBytes {
                    try Compression.decompress($0, codec: header.codec, maxOutputBytes: maxUncompressedBytes)
                }
            } catch let error as CompressionError {
                throw RecordBatchError.decompressionFailed(error)
            }
            payload = ByteBuffer(bytes: inflated)
        }
        self.header = header
        self.records = try Self.decodeRecords(&payload, header: header)
    }

    /// Decodes every complete batch in the readable bytes of `buffer` (a fetch response's records or a
    /// segment read), ignoring a partial trailing batch as consumers do.
    public static func decodeAll(
        in buffer: ByteBuffer, maxUncompressedBytes: Int, verifyingChecksums: Bool = true
    ) throws -> [RecordBatch] {
        var iterator = RecordBatchIterator(buffer, verifyingChecksums: verifyingChecksums)
        var batches: [RecordBatch] = []
        while let entry = try iterator.next() {
            // The iterator already checked the CRC when asked to.
            batches.append(
                try RecordBatch(decoding: entry.bytes, maxUncompressedBytes: maxUncompressedBytes, verifyingChecksum: false))
        }
        return batches
    }

    private static func decodeRecords(_ payload: inout ByteBuffer, header: RecordBatchHeader) throws -> [Record] {
        let count = Int(header.recordCount)
        // The count comes from the wire: reserve no more than the bytes could possibly hold.
        var records: [Record] = []
        records.reserveCapacity(min(count, payload.readableBytes / Record.encodedBytesMin))
        for _ in 0..<count {
            records.append(try decodeRecord(&payload, header: header))
        }
        guard payload.readableBytes == 0 else {
            throw RecordBatchError.malformedRecords(
                reason: "\(payload.readableBytes) bytes left after \(count) records")
        }
        return records
    }

    private static func decodeRecord(_ payload: inout ByteBuffer, header: RecordBatchHeader) throws -> Record {
        guard let length = payload.readKafkaVarint() else { throw malformed("record length") }
        guard length >= 0, var body = payload.readSlice(length: Int(length)) else {
            throw malformed("record length \(length) exceeds the remaining \(payload.readableBytes) bytes")
        }
        guard body.readInteger(as: Int8.self) != nil,  // record attributes: unused by magic 2
            let timestampDelta = body.readKafkaVarlong(),
            let offsetDelta = body.readKafkaVarint()
        else { throw malformed("record prefix") }
        let key = try readNullableBytes(&body, field: "key")
        let value = try readNullableBytes(&body, field: "value")
        guard let headerCount = body.readKafkaVarint(), headerCount >= 0 else { throw malformed("header count") }
        // Each header takes at least two bytes: refuse counts the body cannot hold before reserving.
        guard Int(headerCount) <= body.readableBytes / 2 else { throw malformed("header count \(headerCount)") }
        var headers: [RecordHeader] = []
        headers.reserveCapacity(Int(headerCount))
        for _ in 0..<headerCount {
            guard let keyLength = body.readKafkaVarint(), keyLength >= 0,
                let headerKey = body.readSlice(length: Int(keyLength))
            else { throw malformed("header key") }
            let headerValue = try readNullableBytes(&body, field: "header value")
            headers.append(RecordHeader(key: String(buffer: headerKey), value: headerValue))
        }
        guard body.readableBytes == 0 else { throw malformed("\(body.readableBytes) bytes left inside a record") }

        let offset = header.baseOffset.addingReportingOverflow(Int64(offsetDelta))
        let timestamp = header.baseTimestampMs.addingReportingOverflow(timestampDelta)
        guard !offset.overflow, !timestamp.overflow else { throw malformed("offset or timestamp overflows") }
        let timestampMs = header.timestampType == .logAppendTime ? header.maxTimestampMs : timestamp.partialValue
        return Record(offset: offset.partialValue, timestampMs: timestampMs, key: key, value: value, headers: headers)
    }

    private static func readNullableBytes(_ body: inout ByteBuffer, field: String) throws -> [UInt8]? {
        guard let length = body.readKafkaVarint(), length >= -1 else { throw malformed("\(field) length") }
        if length == -1 { return nil }
        guard let bytes = body.readBytes(length: Int(length)) else { throw malformed("\(field) of \(length) bytes") }
        return bytes
    }

    private static func malformed(_ reason: String) -> RecordBatchError {
        .malformedRecords(reason: reason)
    }
}
