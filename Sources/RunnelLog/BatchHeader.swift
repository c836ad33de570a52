import RunnelChecksum

/// The fields of a v2 record batch header that the log store needs: where the batch ends, which offsets
/// and timestamps it covers, its leader epoch, and whether its CRC holds. The log never decodes records.
///
/// Big-endian layout: baseOffset i64 @0, batchLength i32 @8, partitionLeaderEpoch i32 @12, magic i8 @16,
/// crc u32 @17, attributes i16 @21, lastOffsetDelta i32 @23, baseTimestamp i64 @27, maxTimestamp i64 @35,
/// producerId i64 @43, producerEpoch i16 @51, baseSequence i32 @53, recordCount i32 @57; records @61.
struct BatchHeader: Equatable, Sendable {
    static let sizeBytes = 61
    /// baseOffset and batchLength precede what batchLength counts.
    static let logOverheadBytes = 12
    static let partitionLeaderEpochPosition = 12
    /// The CRC covers the bytes from the attributes field to the end of the batch.
    static let crcCoverageStart = 21
    static let magicV2: Int8 = 2

    var baseOffset: Int64
    var batchLength: Int32
    var partitionLeaderEpoch: Int32
    var magic: Int8
    var crc: UInt32
    var lastOffsetDelta: Int32
    var baseTimestamp: Int64
    var maxTimestamp: Int64
    var recordCount: Int32

    var totalSizeBytes: Int { Int(batchLength) + Self.logOverheadBytes }
    var lastOffset: Int64 { baseOffset + Int64(lastOffsetDelta) }
    var nextOffset: Int64 { lastOffset + 1 }

    /// nil when `raw` holds fewer than 61 bytes or the fields cannot describe a v2 batch
    /// (a torn or zero-filled tail looks like that).
    init?(parsing raw: UnsafeRawBufferPointer) {
        guard raw.count >= Self.sizeBytes else { return nil }
        func int64(_ at: Int) -> Int64 { Int64(bigEndian: raw.loadUnaligned(fromByteOffset: at, as: Int64.self)) }
        func int32(_ at: Int) -> Int32 { Int32(bigEndian: raw.loadUnaligned(fromByteOffset: at, as: Int32.self)) }
        baseOffset = int64(0)
        batchLength = int32(8)
        partitionLeaderEpoch = int32(12)
        magic = Int8(bitPattern: raw[16])
        crc = UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: 17, as: UInt32.self))
        lastOffsetDelta = int32(23)
        baseTimestamp = int64(27)
        maxTimestamp = int64(35)
        recordCount = int32(57)
        guard magic == Self.magicV2, baseOffset >= 0, lastOffsetDelta >= 0, recordCount >= 0,
            Int(batchLength) >= Self.sizeBytes - Self.logOverheadBytes,
            baseOffset <= Int64.max - Int64(lastOffsetDelta)
        else { return nil }
    }

    /// Whether the stored CRC-32C matches `batch`, which must hold exactly this whole batch.
    func crcMatches(_ batch: UnsafeRawBufferPointer) -> Bool {
        precondition(batch.count == totalSizeBytes)
        return CRC32C.checksum(UnsafeRawBufferPointer(rebasing: batch[Self.crcCoverageStart...])) == crc
    }
}
