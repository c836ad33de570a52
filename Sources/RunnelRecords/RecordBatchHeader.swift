import NIOCore
import RunnelChecksum
import RunnelCompression

/// The fixed 61-byte header of a Kafka record batch v2 (magic 2), parsed without touching the records.
public struct RecordBatchHeader: Sendable, Hashable, CustomStringConvertible {
    /// Header bytes before the first record.
    public static let sizeBytes = RecordBatchLayout.records
    /// `baseOffset` and `batchLength`: the bytes not counted by `batchLength`.
    public static let logOverheadBytes = 12
    /// The smallest valid `batchLength`: a header with no records.
    public static let batchLengthMin = Int32(sizeBytes - logOverheadBytes)
    public static let magicV2: Int8 = 2
    /// Bytes from the batch start needed to read `batchLength` and `magic`.
    static let prefixBytes = RecordBatchLayout.magic + 1

    public let baseOffset: Int64
    /// Bytes after the `batchLength` field, to the end of the batch.
    public let batchLength: Int32
    public let partitionLeaderEpoch: Int32
    public let magic: Int8
    /// CRC-32C of the bytes from `attributes` to the end of the batch, as stored.
    public let crc: UInt32
    public let attributes: Int16
    public let lastOffsetDelta: Int32
    public let baseTimestampMs: Int64
    public let maxTimestampMs: Int64
    public let producerId: Int64
    public let producerEpoch: Int16
    public let baseSequence: Int32
    public let recordCount: Int32

    /// Parses the header of the batch starting at `index` (an absolute buffer index, at or after the
    /// reader index) without moving the reader index. Checks the magic, the minimum batch length and the
    /// codec id; it does not require the whole batch to be present (compare `totalSize` with the bytes
    /// available) and does not verify the CRC (`verifyChecksum`).
    public init(parsing buffer: ByteBuffer, at index: Int) throws {
        precondition(index >= buffer.readerIndex, "index before the reader index")
        let available = buffer.writerIndex - index
        guard available >= Self.prefixBytes else {
            throw RecordBatchError.truncated(index: index, neededBytes: Self.prefixBytes, availableBytes: max(available, 0))
        }
        let magic = buffer.getInteger(at: index + RecordBatchLayout.magic, as: Int8.self)!
        guard magic == Self.magicV2 else { throw RecordBatchError.unsupportedMagic(magic) }
        let batchLength = buffer.getInteger(at: index + RecordBatchLayout.batchLength, as: Int32.self)!
        guard batchLength >= Self.batchLengthMin else { throw RecordBatchError.batchLengthTooSmall(batchLength) }
        guard available >= Self.sizeBytes else {
            throw RecordBatchError.truncated(index: index, neededBytes: Self.sizeBytes, availableBytes: available)
        }
        let attributes = buffer.getInteger(at: index + RecordBatchLayout.attributes, as: Int16.self)!
        guard CompressionCodec(attributeBits: attributes) != nil else {
            throw RecordBatchError.unknownCodec(UInt8(attributes & RecordBatchLayout.codecMask))
        }
        self.baseOffset = buffer.getInteger(at: index + RecordBatchLayout.baseOffset, as: Int64.self)!
        self.batchLength = batchLength
        self.partitionLeaderEpoch = buffer.getInteger(at: index + RecordBatchLayout.partitionLeaderEpoch, as: Int32.self)!
        self.magic = magic
        self.crc = buffer.getInteger(at: index + RecordBatchLayout.crc, as: UInt32.self)!
        self.attributes = attributes
        self.lastOffsetDelta = buffer.getInteger(at: index + RecordBatchLayout.lastOffsetDelta, as: Int32.self)!
        self.baseTimestampMs = buffer.getInteger(at: index + RecordBatchLayout.baseTimestamp, as: Int64.self)!
        self.maxTimestampMs = buffer.getInteger(at: index + RecordBatchLayout.maxTimestamp, as: Int64.self)!
        self.producerId = buffer.getInteger(at: index + RecordBatchLayout.producerId, as: Int64.self)!
        self.producerEpoch = buffer.getInteger(at: index + RecordBatchLayout.producerEpoch, as: Int16.self)!
        self.baseSequence = buffer.getInteger(at: index + RecordBatchLayout.baseSequence, as: Int32.self)!
        self.recordCount = buffer.getInteger(at: index + RecordBatchLayout.recordCount, as: Int32.self)!
    }

    /// Parses the header of the batch at the reader index.
    public init(parsing buffer: ByteBuffer) throws {
        try self.init(parsing: buffer, at: buffer.readerIndex)
    }

    /// Whole batch size in bytes, including `baseOffset` and `batchLength`.
    public var totalSize: Int { Int(batchLength) + Self.logOverheadBytes }
    /// Wraps instead of trapping on a hostile `baseOffset` near Int64.max; the validator refuses those.
    public var lastOffset: Int64 { baseOffset &+ Int64(lastOffsetDelta) }
    /// The offset the next batch in the log starts at.
    public var nextOffset: Int64 { lastOffset &+ 1 }
    public var codec: CompressionCodec { CompressionCodec(attributeBits: attributes)! }  // checked by init
    public var timestampType: TimestampType {
        attributes & RecordBatchLayout.logAppendTimeFlag != 0 ? .logAppendTime : .createTime
    }
    public var isTransactional: Bool { attributes & RecordBatchLayout.transactionalFlag != 0 }
    public var isControl: Bool { attributes & RecordBatchLayout.controlFlag != 0 }
    /// Set by compaction: `baseTimestampMs` then holds the time tombstones and markers may be removed.
    public var hasDeleteHorizon: Bool { attributes & RecordBatchLayout.deleteHorizonFlag != 0 }
    /// Producer id -1 marks a batch from a producer without idempotence.
    public var hasProducerId: Bool { producerId >= 0 }
    /// Sequence of the last record; sequences wrap from Int32.max to 0.
    public var lastSequence: Int32 {
        guard baseSequence >= 0 else { return baseSequence }
        let headroom = Int32.max - baseSequence
        return lastOffsetDelta > headroom ? lastOffsetDelta - headroom - 1 : baseSequence + lastOffsetDelta
    }

    /// One line for logs and the CLI's log dump.
    public var description: String {
        "baseOffset: \(baseOffset) lastOffset: \(lastOffset) count: \(recordCount) size: \(totalSize) "
            + "magic: \(magic) codec: \(codec) crc: \(crc) leaderEpoch: \(partitionLeaderEpoch) "
            + "producerId: \(producerId) producerEpoch: \(producerEpoch) baseSequence: \(baseSequence) "
            + "transactional: \(isTransactional) control: \(isControl) timestampType: \(timestampType) "
            + "maxTimestampMs: \(maxTimestampMs)"
    }

    /// CRC-32C of the batch at `index` as it is now in `buffer` (the whole batch must be present).
    public func computeChecksum(in buffer: ByteBuffer, at index: Int) throws -> UInt32 {
        let available = buffer.writerIndex - index
        guard available >= totalSize else {
            throw RecordBatchError.truncated(index: index, neededBytes: totalSize, availableBytes: available)
        }
        let start = index + RecordBatchLayout.checksumStart
        let view = buffer.viewBytes(at: start, length: totalSize - RecordBatchLayout.checksumStart)!
        return CRC32C.checksum(view)
    }

    /// Throws `checksumMismatch` unless the stored CRC matches the batch bytes at `index`.
    public func verifyChecksum(in buffer: ByteBuffer, at index: Int) throws {
        let computed = try computeChecksum(in: buffer, at: index)
        guard computed == crc else { throw RecordBatchError.checksumMismatch(stored: crc, computed: computed) }
    }
}
