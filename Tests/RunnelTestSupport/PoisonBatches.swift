import NIOCore
import RunnelCompression
import RunnelRecords

/// Record batches v2 whose records are encoded by hand, CRC-valid, so a test can send what no
/// `RecordBatchBuilder` would write: lengths past the batch, 10-byte varints, wrong counts, repeated
/// offset deltas. Shared by the record, log and hostile-input tests.
public enum PoisonBatch {
    /// The zig-zag varint of any 64-bit value; Int64.max takes 10 bytes, which Kafka's 5-byte varints refuse.
    public static func varint(_ value: Int64) -> [UInt8] {
        var raw = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        var bytes: [UInt8] = []
        while raw >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: raw) | 0x80)
            raw >>= 7
        }
        bytes.append(UInt8(raw))
        return bytes
    }

    /// One record, its length prefix included. The lengths default to the true ones; a test overrides one
    /// to lie about it.
    public static func record(offsetDelta: Int64, key: [UInt8]?, value: [UInt8]?, length: Int64? = nil,
                       keyLength: Int64? = nil, valueLength: Int64? = nil) -> [UInt8] {
        var body: [UInt8] = [0]  // attributes
        body += varint(0)  // timestamp delta
        body += varint(offsetDelta)
        body += varint(keyLength ?? key.map { Int64($0.count) } ?? -1)
        body += key ?? []
        body += varint(valueLength ?? value.map { Int64($0.count) } ?? -1)
        body += value ?? []
        body += varint(0)  // header count
        return varint(length ?? Int64(body.count)) + body
    }

    /// A batch holding `records` (compressed with `codec`), declaring `recordCount` and `lastOffsetDelta`
    /// (by default the number of records and that minus one), with its CRC computed over the result.
    public static func batch(_ records: [[UInt8]], recordCount: Int32? = nil, lastOffsetDelta: Int32? = nil,
                      baseOffset: Int64 = 0, timestampMs: Int64 = 1_700_000_000_000, codec: CompressionCodec = .none) -> ByteBuffer {
        var payload = records.flatMap { $0 }
        if codec != .none { payload = try! Compression.compress(payload, codec: codec) }  // our own input
        let count = recordCount ?? Int32(records.count)
        var batch = ByteBuffer()
        batch.writeInteger(baseOffset)
        batch.writeInteger(Int32(RecordBatchHeader.sizeBytes - RecordBatchHeader.logOverheadBytes + payload.count))
        batch.writeInteger(Int32(-1))  // partition leader epoch
        batch.writeInteger(RecordBatchHeader.magicV2)
        batch.writeInteger(UInt32(0))  // CRC, below
        batch.writeInteger(Int16(codec.rawValue))
        batch.writeInteger(lastOffsetDelta ?? count - 1)
        batch.writeInteger(timestampMs)
        batch.writeInteger(timestampMs)
        batch.writeInteger(Int64(-1))  // producer id
        batch.writeInteger(Int16(-1))  // producer epoch
        batch.writeInteger(Int32(-1))  // base sequence
        batch.writeInteger(count)
        batch.writeBytes(payload)
        let crc = try! RecordBatchHeader(parsing: batch).computeChecksum(in: batch, at: 0)
        batch.setInteger(crc, at: 17)
        return batch
    }

    /// The poisons of issue 12, item 1, by name: each a CRC-valid batch that Kafka refuses.
    public static let named: [(name: String, batch: ByteBuffer)] = [
        ("a record length of Int64.max",
         batch([record(offsetDelta: 0, key: Array("k".utf8), value: Array("v".utf8), length: .max)])),
        ("a key length of Int64.max",
         batch([record(offsetDelta: 0, key: Array("k".utf8), value: Array("v".utf8), keyLength: .max)])),
        ("a key length past the batch",
         batch([record(offsetDelta: 0, key: Array("k".utf8), value: Array("v".utf8), keyLength: 1_000)])),
        ("a value length of Int64.max",
         batch([record(offsetDelta: 0, key: Array("k".utf8), value: Array("v".utf8), valueLength: .max)])),
        ("a record count above the records present",
         batch([record(offsetDelta: 0, key: Array("k".utf8), value: Array("v".utf8))], recordCount: 2, lastOffsetDelta: 1)),
        ("a record count below the records present",
         batch([record(offsetDelta: 0, key: Array("k".utf8), value: Array("v".utf8)),
                record(offsetDelta: 1, key: Array("k".utf8), value: Array("w".utf8))], recordCount: 1, lastOffsetDelta: 0)),
        ("offset deltas 0, 0",
         batch([record(offsetDelta: 0, key: Array("k".utf8), value: Array("v".utf8)),
                record(offsetDelta: 0, key: Array("k".utf8), value: Array("w".utf8))])),
        ("offset deltas 1, 0",
         batch([record(offsetDelta: 1, key: Array("k".utf8), value: Array("v".utf8)),
                record(offsetDelta: 0, key: Array("k".utf8), value: Array("w".utf8))])),
        ("offset deltas 0, 0 compressed",
         batch([record(offsetDelta: 0, key: Array("k".utf8), value: Array("v".utf8)),
                record(offsetDelta: 0, key: Array("k".utf8), value: Array("w".utf8))], codec: .gzip)),
        ("a record length of Int64.max compressed",
         batch([record(offsetDelta: 0, key: Array("k".utf8), value: Array("v".utf8), length: .max)], codec: .zstd)),
    ]
}
