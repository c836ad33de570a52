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

    /// Takes the batch apart, inflating it to at most `maxUncompressedBytes`; throws unless every record
    /// fits the batch as `RecordLayout.walk` checks (so offsets rise strictly within the batch and stay
    /// within its range). Bytes from disk are trusted no more than bytes from the wire.
    init(stored: [UInt8], header: RecordBatchHeader, maxUncompressedBytes: Int) throws(BatchScanError) {
        guard stored.count == header.totalSize, header.recordCount >= 0, header.lastOffsetDelta >= 0,
            !header.baseOffset.addingReportingOverflow(Int64(header.lastOffsetDelta)).overflow
        else {
            throw BatchScanError(reason: "batch size, record count or offset range off")
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
        var failure: RecordBatchError?
        payload.withUnsafeBytes { raw in
            do throws(RecordBatchError) {
                try RecordLayout.walk(raw, header: header) { layout in
                    // In range: 0 <= offsetDelta <= lastOffsetDelta, and base + lastOffsetDelta fits (above).
                    records.append(ScannedRecord(offset: header.baseOffset + Int64(layout.offsetDelta),
                                                 key: layout.key.map { Array(raw[$0]) }, isTombstone: layout.hasNullValue,
                                                 bytes: layout.bytes))
                }
            } catch {
                failure = error
            }
        }
        if let failure { throw BatchScanError(reason: failure.description) }
        self.header = header
        self.stored = stored
        self.payload = payload
        self.records = records
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
