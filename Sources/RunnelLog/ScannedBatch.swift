import RunnelChecksum
import RunnelCompression
import RunnelRecords

/// One record as the cleaner sees it: its offset, key, whether it is a tombstone, and where its bytes
/// lie in the batch's uncompressed record bytes (so kept records are copied, never re-encoded).
struct ScannedRecord: Equatable {
    var offset: Int64
    var key: [UInt8]?
    var isTombstone: Bool
    var bytes: Range<Int>
}

/// Why a stored batch could not be taken apart; the cleaner then keeps it as it is.
struct BatchScanError: Error, Equatable {
    var reason: String
}

/// A stored batch with its records located. Pure: bytes in, bytes out.
struct ScannedBatch {
    let header: RecordBatchHeader
    /// The whole batch as stored.
    let stored: [UInt8]
    /// The record bytes, inflated when the batch is compressed.
    let payload: [UInt8]
    let records: [ScannedRecord]

    /// Byte offsets of the header fields the cleaner rewrites (Kafka's v2 layout).
    private static let batchLengthAt = 8
    private static let crcAt = 17
    private static let attributesAt = 21
    private static let recordCountAt = 57
    private static let codecMask: Int16 = 0x07

    init(stored: [UInt8], header: RecordBatchHeader, maxUncompressedBytes: Int) throws(BatchScanError) {
        guard stored.count == header.totalSize, header.recordCount >= 0 else {
            throw BatchScanError(reason: "batch size or record count off")
        }
        let body = stored[RecordBatchHeader.sizeBytes...]
        var payload: [UInt8]
        if header.codec == .none {
            payload = Array(body)
        } else {
            do {
                payload = try Compression.decompress(body, codec: header.codec, maxOutputBytes: maxUncompressedBytes)
            } catch {
                throw BatchScanError(reason: "cannot inflate: \(error)")
            }
        }
        var records: [ScannedRecord] = []
        records.reserveCapacity(min(Int(header.recordCount), payload.count / Record.encodedBytesMin + 1))
        var reader = ByteReader(bytes: payload)
        for _ in 0..<header.recordCount {
            records.append(try Self.scanRecord(&reader, header: header))
        }
        guard reader.position == payload.count else { throw BatchScanError(reason: "bytes after the last record") }
        self.header = header
        self.stored = stored
        self.payload = payload
        self.records = records
    }

    private static func scanRecord(_ reader: inout ByteReader, header: RecordBatchHeader) throws(BatchScanError) -> ScannedRecord {
        let start = reader.position
        let length = try reader.varint()
        let bodyStart = reader.position
        guard length >= 0, bodyStart + Int(length) <= reader.bytes.count else { throw BatchScanError(reason: "record length") }
        _ = try reader.byte()  // attributes
        _ = try reader.varint()  // timestamp delta (a varlong: same encoding)
        let offsetDelta = try reader.varint()
        let keyLength = try reader.varint()
        var key: [UInt8]?
        if keyLength >= 0 { key = try reader.take(Int(keyLength)) } else if keyLength != -1 { throw BatchScanError(reason: "key length") }
        let valueLength = try reader.varint()
        guard valueLength >= -1 else { throw BatchScanError(reason: "value length") }
        let end = bodyStart + Int(length)
        guard reader.position + max(Int(valueLength), 0) <= end else { throw BatchScanError(reason: "value past record end") }
        reader.position = end
        let offset = header.baseOffset.addingReportingOverflow(Int64(offsetDelta))
        guard !offset.overflow, offsetDelta >= 0, offsetDelta <= header.lastOffsetDelta else {
            throw BatchScanError(reason: "offset delta \(offsetDelta)")
        }
        return ScannedRecord(offset: offset.partialValue, key: key, isTombstone: valueLength == -1, bytes: start..<end)
    }

    /// The batch holding only `kept` (a subsequence of `records`), with the original base offset, last
    /// offset delta, timestamps, producer fields and codec: no record's offset changes, and the producer's
    /// sequence range stays what it was. With nothing kept it is an empty, uncompressed batch (kept for
    /// the last batch of an idempotent producer, as Kafka keeps it, so the producer's state survives).
    func rebuilt(keeping kept: [ScannedRecord]) throws -> [UInt8] {
        var body: [UInt8] = []
        for record in kept { body += payload[record.bytes] }
        var attributes = header.attributes
        if kept.isEmpty {
            attributes &= ~Self.codecMask
        } else if header.codec != .none {
            body = try Compression.compress(body, codec: header.codec)
        }
        var batch = Array(stored[..<RecordBatchHeader.sizeBytes])
        Self.put(Int32(RecordBatchHeader.sizeBytes - RecordBatchHeader.logOverheadBytes + body.count), at: Self.batchLengthAt, in: &batch)
        Self.put(attributes, at: Self.attributesAt, in: &batch)
        Self.put(Int32(kept.count), at: Self.recordCountAt, in: &batch)
        batch += body
        Self.put(CRC32C.checksum(batch[Self.attributesAt...]), at: Self.crcAt, in: &batch)
        return batch
    }

    private static func put<T: FixedWidthInteger>(_ value: T, at index: Int, in bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { raw in
            for (i, byte) in raw.enumerated() { bytes[index + i] = byte }
        }
    }
}

/// Reads Kafka's zig-zag varints from a byte array.
struct ByteReader {
    let bytes: [UInt8]
    var position = 0

    mutating func byte() throws(BatchScanError) -> UInt8 {
        guard position < bytes.count else { throw BatchScanError(reason: "truncated record") }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func take(_ count: Int) throws(BatchScanError) -> [UInt8] {
        guard count >= 0, position + count <= bytes.count else { throw BatchScanError(reason: "truncated record") }
        defer { position += count }
        return Array(bytes[position..<(position + count)])
    }

    /// A zig-zag varint or varlong, as Int64 (at most 10 bytes).
    mutating func varint() throws(BatchScanError) -> Int64 {
        var raw: UInt64 = 0
        var shift: UInt64 = 0
        for _ in 0..<10 {
            let b = try byte()
            raw |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1))) }
            shift += 7
        }
        throw BatchScanError(reason: "varint too long")
    }
}
