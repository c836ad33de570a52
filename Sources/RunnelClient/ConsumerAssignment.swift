/// The consumer protocol's assignment bytes (Kafka's `ConsumerProtocolAssignment`, versions 0–3, which
/// classic consumers put in SyncGroup and DescribeGroups shows): which partitions of which topics a
/// member owns. Newer versions only append fields, so a reader of the common prefix reads them all.
public struct ConsumerAssignment: Sendable {
    public var version: Int16
    /// Topic → partitions, in the order the bytes list them.
    public var partitions: [(topic: String, partitions: [Int32])]

    public init(version: Int16 = 0, partitions: [(topic: String, partitions: [Int32])]) {
        self.version = version
        self.partitions = partitions
    }

    /// nil for bytes that are not a consumer assignment (another protocol type, or truncated).
    /// Empty bytes are an empty assignment, as Kafka's consumer reads them.
    public static func decode(_ bytes: [UInt8]) -> ConsumerAssignment? {
        if bytes.isEmpty { return ConsumerAssignment(partitions: []) }
        var reader = BigEndianReader(bytes)
        guard let version = reader.int16(), version >= 0, let topicCount = reader.int32(), topicCount >= 0,
            Int(topicCount) <= bytes.count
        else { return nil }
        var topics: [(topic: String, partitions: [Int32])] = []
        for _ in 0..<topicCount {
            guard let topic = reader.string(), let count = reader.int32(), count >= 0, Int(count) <= bytes.count else { return nil }
            var partitions: [Int32] = []
            for _ in 0..<count {
                guard let partition = reader.int32() else { return nil }
                partitions.append(partition)
            }
            topics.append((topic, partitions))
        }
        return ConsumerAssignment(version: version, partitions: topics)
    }
}

/// Reads big-endian Kafka primitives from bytes; nil once the bytes run out.
struct BigEndianReader {
    private let bytes: [UInt8]
    private var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func int16() -> Int16? {
        guard index + 2 <= bytes.count else { return nil }
        defer { index += 2 }
        return Int16(bitPattern: UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1]))
    }

    mutating func int32() -> Int32? {
        guard index + 4 <= bytes.count else { return nil }
        defer { index += 4 }
        var value: UInt32 = 0
        for offset in 0..<4 { value = value << 8 | UInt32(bytes[index + offset]) }
        return Int32(bitPattern: value)
    }

    /// A non-null string with an int16 length.
    mutating func string() -> String? {
        guard let length = int16(), length >= 0, index + Int(length) <= bytes.count else { return nil }
        defer { index += Int(length) }
        return String(decoding: bytes[index..<index + Int(length)], as: UTF8.self)
    }
}
