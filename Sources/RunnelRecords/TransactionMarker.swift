import NIOCore

/// The control record a transaction coordinator writes to end a transaction on a partition: key
/// [version int16 = 0][type int16: 0 abort, 1 commit], value [version int16 = 0][coordinatorEpoch int32].
public struct TransactionMarker: Sendable, Hashable {
    public enum Kind: Int16, Sendable, Hashable {
        case abort = 0
        case commit = 1
    }

    public var kind: Kind
    public var coordinatorEpoch: Int32

    public init(kind: Kind, coordinatorEpoch: Int32) {
        self.kind = kind
        self.coordinatorEpoch = coordinatorEpoch
    }

    /// Reads a marker from a record of a control batch; nil if the record is some other control record
    /// (KRaft and leader-change records share the control flag) or is malformed.
    public init?(record: Record) {
        guard let key = record.key, key.count >= 4, let value = record.value, value.count >= 6,
            Self.int16(key, at: 0) == 0, let kind = Kind(rawValue: Self.int16(key, at: 2)),
            Self.int16(value, at: 0) >= 0
        else { return nil }
        self.kind = kind
        self.coordinatorEpoch = Int32(bitPattern: UInt32(Self.int16Bits(value, at: 2)) << 16 | UInt32(Self.int16Bits(value, at: 4)))
    }

    public var recordKey: [UInt8] { Self.bigEndian(Int16(0)) + Self.bigEndian(kind.rawValue) }
    public var recordValue: [UInt8] { Self.bigEndian(Int16(0)) + Self.bigEndian(coordinatorEpoch) }

    /// A transactional control batch holding this marker at `offset` (stamped again on append).
    public func batch(
        producerId: Int64, producerEpoch: Int16, timestampMs: Int64, offset: Int64 = 0, partitionLeaderEpoch: Int32 = -1
    ) throws -> ByteBuffer {
        var builder = RecordBatchBuilder(
            baseOffset: offset, producerId: producerId, producerEpoch: producerEpoch, baseSequence: -1,
            isTransactional: true, isControl: true, partitionLeaderEpoch: partitionLeaderEpoch)
        builder.append(key: recordKey, value: recordValue, timestampMs: timestampMs)
        return try builder.build()
    }

    private static func int16Bits(_ bytes: [UInt8], at index: Int) -> UInt16 {
        UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1])
    }

    private static func int16(_ bytes: [UInt8], at index: Int) -> Int16 { Int16(bitPattern: int16Bits(bytes, at: index)) }

    private static func bigEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }
}
