/// Byte form of group records in the layout of Kafka's `__consumer_offsets` (keys: OffsetCommitKey v1,
/// GroupMetadataKey v2; values: OffsetCommitValue v3 — v1 when the commit set its own expiry —,
/// GroupMetadataValue v3; a tombstone has no value),
/// so the broker can store them as ordinary keyed records in a compacted topic. Decoding accepts value
/// versions 0–3 and answers nil for anything it cannot read: the bytes come from disk.
extension GroupRecord {
    /// The longest string, in UTF-8 bytes, a record holds: Kafka's record schemas give strings int16
    /// lengths. The core refuses requests whose persisted strings are longer, so `encoded` never meets one.
    public static let stringBytesMax = Int(Int16.max)

    static func fits(_ text: String) -> Bool { text.utf8.count <= stringBytesMax }

    public func encoded() -> (key: [UInt8], value: [UInt8]?) {
        var key = RecordWriter()
        switch self.key {
        case .offset(let groupID, let partition):
            key.int16(1)
            key.string(groupID)
            key.string(partition.topic)
            key.int32(partition.partition)
        case .group(let groupID):
            key.int16(2)
            key.string(groupID)
        }
        switch self {
        case .groupTombstone, .offsetTombstone:
            return (key.bytes, nil)
        case .offsetCommit(_, _, let committed):
            var value = RecordWriter()
            if let expireTimestampMs = committed.expireTimestampMs {
                // Only version 1 holds an expiry time (and no leader epoch), as Kafka writes it.
                value.int16(1)
                value.int64(committed.offset)
                value.string(committed.metadata)
                value.int64(committed.commitTimestampMs)
                value.int64(expireTimestampMs)
            } else {
                value.int16(3)
                value.int64(committed.offset)
                value.int32(committed.leaderEpoch)
                value.string(committed.metadata)
                value.int64(committed.commitTimestampMs)
            }
            return (key.bytes, value.bytes)
        case .groupMetadata(_, let metadata):
            var value = RecordWriter()
            value.int16(3)
            value.string(metadata.protocolType ?? "")
            value.int32(metadata.generationID)
            value.nullableString(metadata.protocolName)
            value.nullableString(metadata.leaderID)
            value.int64(metadata.stateTimestampMs)
            value.int32(Int32(metadata.members.count))
            for member in metadata.members {
                value.string(member.memberID)
                value.nullableString(member.groupInstanceID)
                value.string(member.clientID)
                value.string(member.clientHost)
                value.int32(member.rebalanceTimeoutMs)
                value.int32(member.sessionTimeoutMs)
                value.blob(member.subscription)
                value.blob(member.assignment)
            }
            return (key.bytes, value.bytes)
        }
    }

    public static func decode(key: [UInt8], value: [UInt8]?) -> GroupRecord? {
        var reader = RecordReader(key)
        guard let keyVersion = reader.int16() else { return nil }
        switch keyVersion {
        case 0, 1:
            guard let groupID = reader.string(), let topic = reader.string(), let index = reader.int32(), reader.atEnd
            else { return nil }
            let partition = TopicPartition(topic, index)
            guard let value else { return .offsetTombstone(groupID: groupID, partition) }
            guard let committed = decodeOffset(value) else { return nil }
            return .offsetCommit(groupID: groupID, partition, committed)
        case 2:
            guard let groupID = reader.string(), reader.atEnd else { return nil }
            guard let value else { return .groupTombstone(groupID: groupID) }
            guard let metadata = decodeGroup(value) else { return nil }
            return .groupMetadata(groupID: groupID, metadata)
        default:
            return nil
        }
    }

    private static func decodeOffset(_ bytes: [UInt8]) -> CommittedOffset? {
        var reader = RecordReader(bytes)
        guard let version = reader.int16(), (0...3).contains(version), let offset = reader.int64() else { return nil }
        var leaderEpoch: Int32 = -1
        if version >= 3 {
            guard let epoch = reader.int32() else { return nil }
            leaderEpoch = epoch
        }
        guard let metadata = reader.string(), let timestampMs = reader.int64() else { return nil }
        var expireTimestampMs: Int64?
        if version == 1 {
            guard let expire = reader.int64() else { return nil }
            expireTimestampMs = expire < 0 ? nil : expire
        }
        guard reader.atEnd else { return nil }
        return CommittedOffset(
            offset: offset, leaderEpoch: leaderEpoch, metadata: metadata, commitTimestampMs: timestampMs,
            expireTimestampMs: expireTimestampMs)
    }

    private static func decodeGroup(_ bytes: [UInt8]) -> GroupMetadataValue? {
        var reader = RecordReader(bytes)
        guard let version = reader.int16(), (0...3).contains(version), let protocolType = reader.string(),
            let generation = reader.int32(), let protocolName = reader.nullableString(),
            let leader = reader.nullableString()
        else { return nil }
        var stateTimestampMs: Int64 = -1
        if version >= 2 {
            guard let timestamp = reader.int64() else { return nil }
            stateTimestampMs = timestamp
        }
        guard let count = reader.int32(), count >= 0, count <= reader.remaining else { return nil }
        var members: [PersistedMember] = []
        for _ in 0..<count {
            guard let memberID = reader.string() else { return nil }
            var instanceID: String?? = .some(nil)
            if version >= 3 { instanceID = reader.nullableString() }
            guard let groupInstanceID = instanceID, let clientID = reader.string(), let clientHost = reader.string()
            else { return nil }
            var rebalanceTimeoutMs: Int32?
            if version >= 1 {
                guard let timeout = reader.int32() else { return nil }
                rebalanceTimeoutMs = timeout
            }
            guard let sessionTimeoutMs = reader.int32(), let subscription = reader.blob(), let assignment = reader.blob()
            else { return nil }
            members.append(
                PersistedMember(
                    memberID: memberID, groupInstanceID: groupInstanceID, clientID: clientID, clientHost: clientHost,
                    rebalanceTimeoutMs: rebalanceTimeoutMs ?? sessionTimeoutMs, sessionTimeoutMs: sessionTimeoutMs,
                    subscription: subscription, assignment: assignment))
        }
        guard reader.atEnd else { return nil }
        return GroupMetadataValue(
            protocolType: protocolType.isEmpty ? nil : protocolType, generationID: generation, protocolName: protocolName,
            leaderID: leader, stateTimestampMs: stateTimestampMs, members: members)
    }
}

/// Big-endian writer for Kafka's classic (non-flexible) encodings.
struct RecordWriter {
    var bytes: [UInt8] = []

    mutating func int16(_ value: Int16) { append(UInt64(UInt16(bitPattern: value)), width: 2) }
    mutating func int32(_ value: Int32) { append(UInt64(UInt32(bitPattern: value)), width: 4) }
    mutating func int64(_ value: Int64) { append(UInt64(bitPattern: value), width: 8) }

    mutating func string(_ value: String) {
        let utf8 = Array(value.utf8)
        precondition(utf8.count <= GroupRecord.stringBytesMax, "string too long for an int16 length")
        int16(Int16(utf8.count))
        bytes += utf8
    }

    mutating func nullableString(_ value: String?) {
        guard let value else { return int16(-1) }
        string(value)
    }

    mutating func blob(_ value: [UInt8]) {
        precondition(value.count <= Int(Int32.max), "bytes too long for an int32 length")
        int32(Int32(value.count))
        bytes += value
    }

    private mutating func append(_ value: UInt64, width: Int) {
        for index in (0..<width).reversed() { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(index)))) }
    }
}

/// Reader for the same encodings; every read answers nil past the end or on a bad length.
struct RecordReader {
    private let bytes: [UInt8]
    private var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { offset == bytes.count }
    var remaining: Int { bytes.count - offset }

    private mutating func read(width: Int) -> UInt64? {
        guard remaining >= width else { return nil }
        var value: UInt64 = 0
        for byte in bytes[offset..<offset + width] { value = value << 8 | UInt64(byte) }
        offset += width
        return value
    }

    mutating func int16() -> Int16? { read(width: 2).map { Int16(bitPattern: UInt16(truncatingIfNeeded: $0)) } }
    mutating func int32() -> Int32? { read(width: 4).map { Int32(bitPattern: UInt32(truncatingIfNeeded: $0)) } }
    mutating func int64() -> Int64? { read(width: 8).map { Int64(bitPattern: $0) } }

    mutating func string() -> String? {
        guard let length = int16(), length >= 0, remaining >= Int(length) else { return nil }
        let text = String(decoding: bytes[offset..<offset + Int(length)], as: UTF8.self)
        offset += Int(length)
        return text
    }

    /// `.some(nil)` for a null string, nil for unreadable input.
    mutating func nullableString() -> String?? {
        guard let length = int16() else { return nil }
        if length == -1 { return .some(nil) }
        guard length >= 0, remaining >= Int(length) else { return nil }
        let text = String(decoding: bytes[offset..<offset + Int(length)], as: UTF8.self)
        offset += Int(length)
        return .some(text)
    }

    mutating func blob() -> [UInt8]? {
        guard let length = int32(), length >= 0, remaining >= Int(length) else { return nil }
        let value = Array(bytes[offset..<offset + Int(length)])
        offset += Int(length)
        return value
    }
}
