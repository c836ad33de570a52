/// Byte offsets of the record batch v2 (magic 2) header fields, from the batch start.
/// The CRC-32C covers everything from `attributes` to the end of the batch, so `baseOffset`,
/// `batchLength` and `partitionLeaderEpoch` can be rewritten by the broker without recomputing it.
enum RecordBatchLayout {
    static let baseOffset = 0
    static let batchLength = 8
    static let partitionLeaderEpoch = 12
    static let magic = 16
    static let crc = 17
    static let attributes = 21
    static let lastOffsetDelta = 23
    static let baseTimestamp = 27
    static let maxTimestamp = 35
    static let producerId = 43
    static let producerEpoch = 51
    static let baseSequence = 53
    static let recordCount = 57
    static let records = 61

    /// The first byte the CRC covers.
    static let checksumStart = attributes

    static let codecMask: Int16 = 0x07
    static let logAppendTimeFlag: Int16 = 0x08
    static let transactionalFlag: Int16 = 0x10
    static let controlFlag: Int16 = 0x20
    static let deleteHorizonFlag: Int16 = 0x40
}
