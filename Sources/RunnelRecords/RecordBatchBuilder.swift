import NIOCore
import RunnelChecksum
import RunnelCompression

/// Builds one valid record batch v2 from records, for the CLI producer, compaction and tests.
public struct RecordBatchBuilder: Sendable {
    public var codec: CompressionCodec
    /// nil uses the codec's default level.
    public var compressionLevel: Int32?
    public var producerId: Int64
    public var producerEpoch: Int16
    public var baseSequence: Int32
    public var isTransactional: Bool
    public var isControl: Bool
    public var partitionLeaderEpoch: Int32
    public private(set) var records: [Record] = []
    /// The offset `append(key:value:headers:timestampMs:)` gives the next record.
    public private(set) var nextOffset: Int64
    /// The batch size before compression, header included: what a producer compares with `batch.size`.
    public private(set) var uncompressedSizeBytes = RecordBatchHeader.sizeBytes

    /// Defaults describe a plain producer without idempotence: producer id, epoch and sequence -1.
    public init(
        baseOffset: Int64 = 0, codec: CompressionCodec = .none, compressionLevel: Int32? = nil,
        producerId: Int64 = -1, producerEpoch: Int16 = -1, baseSequence: Int32 = -1,
        isTransactional: Bool = false, isControl: Bool = false, partitionLeaderEpoch: Int32 = -1
    ) {
        precondition(baseOffset >= 0, "negative base offset")
        self.nextOffset = baseOffset
        self.codec = codec
        self.compressionLevel = compressionLevel
        self.producerId = producerId
        self.producerEpoch = producerEpoch
        self.baseSequence = baseSequence
        self.isTransactional = isTransactional
        self.isControl = isControl
        self.partitionLeaderEpoch = partitionLeaderEpoch
    }

    public var isEmpty: Bool { records.isEmpty }

    /// Appends a record at `nextOffset`.
    public mutating func append(key: [UInt8]?, value: [UInt8]?, headers: [RecordHeader] = [], timestampMs: Int64) {
        append(Record(offset: nextOffset, timestampMs: timestampMs, key: key, value: value, headers: headers))
    }

    /// Appends a record keeping its offset (compaction keeps offsets, leaving gaps); offsets must increase.
    public mutating func append(_ record: Record) {
        precondition(record.offset >= nextOffset, "record offsets must increase")
        if let first = records.first {
            precondition(record.offset - first.offset <= Int64(Int32.max), "offset delta exceeds Int32")
        }
        records.append(record)
        nextOffset = record.offset + 1
        let bodyBytes = Self.encodedBodyBytes(record, baseOffset: records[0].offset, baseTimestampMs: records[0].timestampMs)
        uncompressedSizeBytes += Varint.encodedBytes(Int64(bodyBytes)) + bodyBytes
    }

    /// The encoded batch. Throws only if the compression library fails.
    public func build(allocator: ByteBufferAllocator = ByteBufferAllocator()) throws -> ByteBuffer {
        precondition(!records.isEmpty, "a batch needs at least one record")
        let baseOffset = records[0].offset
        let baseTimestampMs = records[0].timestampMs
        let maxTimestampMs = records.lazy.map(\.timestampMs).max()!

        var body = allocator.buffer(capacity: records.count * 32)
        var scratch = allocator.buffer(capacity: 64)
        for record in records {
            scratch.clear()
            Self.encode(record, baseOffset: baseOffset, baseTimestampMs: baseTimestampMs, into: &scratch)
            body.writeKafkaVarint(Int32(scratch.readableBytes))
            body.writeBuffer(&scratch)
        }
        if codec != .none {
            let compressed = try body.withUnsafeReadableBytes {
                try Compression.compress($0, codec: codec, level: compressionLevel)
            }
            body = allocator.buffer(capacity: compressed.count)
            body.writeBytes(compressed)
        }

        var attributes = Int16(codec.rawValue)
        if isTransactional { attributes |= RecordBatchLayout.transactionalFlag }
        if isControl { attributes |= RecordBatchLayout.controlFlag }
        let totalSize = RecordBatchHeader.sizeBytes + body.readableBytes
        precondition(totalSize - RecordBatchHeader.logOverheadBytes <= Int(Int32.max), "batch exceeds 2 GiB")

        var batch = allocator.buffer(capacity: totalSize)
        batch.writeInteger(baseOffset)
        batch.writeInteger(Int32(totalSize - RecordBatchHeader.logOverheadBytes))
        batch.writeInteger(partitionLeaderEpoch)
        batch.writeInteger(RecordBatchHeader.magicV2)
        batch.writeInteger(UInt32(0))  // CRC, filled in below
        batch.writeInteger(attributes)
        batch.writeInteger(Int32(records.last!.offset - baseOffset))
        batch.writeInteger(baseTimestampMs)
        batch.writeInteger(maxTimestampMs)
        batch.writeInteger(producerId)
        batch.writeInteger(producerEpoch)
        batch.writeInteger(baseSequence)
        batch.writeInteger(Int32(records.count))
        precondition(batch.readableBytes == RecordBatchHeader.sizeBytes)
        batch.writeBuffer(&body)
        let checksumStart = batch.readerIndex + RecordBatchLayout.checksumStart
        let crc = CRC32C.checksum(batch.viewBytes(at: checksumStart, length: totalSize - RecordBatchLayout.checksumStart)!)
        batch.setInteger(crc, at: batch.readerIndex + RecordBatchLayout.crc)
        return batch
    }

    private static func encode(_ record: Record, baseOffset: Int64, baseTimestampMs: Int64, into out: inout ByteBuffer) {
        let timestampDelta = record.timestampMs.subtractingReportingOverflow(baseTimestampMs)
        precondition(!timestampDelta.overflow, "timestamp delta overflows Int64")
        out.writeInteger(Int8(0))  // record attributes: unused by magic 2
        out.writeKafkaVarlong(timestampDelta.partialValue)
        out.writeKafkaVarint(Int32(record.offset - baseOffset))
        writeNullableBytes(record.key, into: &out)
        writeNullableBytes(record.value, into: &out)
        out.writeKafkaVarint(Int32(record.headers.count))
        for header in record.headers {
            let keyBytes = Array(header.key.utf8)
            out.writeKafkaVarint(Int32(keyBytes.count))
            out.writeBytes(keyBytes)
            writeNullableBytes(header.value, into: &out)
        }
    }

    private static func encodedBodyBytes(_ record: Record, baseOffset: Int64, baseTimestampMs: Int64) -> Int {
        var bytes = 1  // attributes
        bytes += Varint.encodedBytes(record.timestampMs &- baseTimestampMs)
        bytes += Varint.encodedBytes(record.offset - baseOffset)
        bytes += nullableBytesSize(record.key) + nullableBytesSize(record.value)
        bytes += Varint.encodedBytes(Int64(record.headers.count))
        for header in record.headers {
            let keyBytes = header.key.utf8.count
            bytes += Varint.encodedBytes(Int64(keyBytes)) + keyBytes + nullableBytesSize(header.value)
        }
        return bytes
    }

    private static func nullableBytesSize(_ bytes: [UInt8]?) -> Int {
        guard let bytes else { return 1 }
        return Varint.encodedBytes(Int64(bytes.count)) + bytes.count
    }

    private static func writeNullableBytes(_ bytes: [UInt8]?, into out: inout ByteBuffer) {
        guard let bytes else {
            out.writeKafkaVarint(-1)
            return
        }
        precondition(bytes.count <= Int(Int32.max), "field exceeds 2 GiB")
        out.writeKafkaVarint(Int32(bytes.count))
        out.writeBytes(bytes)
    }
}
