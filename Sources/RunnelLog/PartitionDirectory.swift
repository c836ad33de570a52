/// A topic's 128-bit UUID, as Kafka's topic IDs.
public struct TopicUUID: Hashable, Sendable, CustomStringConvertible {
    public let high: UInt64
    public let low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// 32 lowercase hex digits.
    public var hex: String { Self.hex(high) + Self.hex(low) }
    public var description: String { hex }

    public init?(hex: Substring) {
        guard hex.utf8.count == 32, hex.allSatisfy(\.isHexDigit),
            let high = UInt64(hex.prefix(16), radix: 16), let low = UInt64(hex.suffix(16), radix: 16)
        else { return nil }
        self.init(high: high, low: low)
    }

    private static func hex(_ value: UInt64) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: 16 - text.count) + text
    }

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Kafka's text form (`Uuid.toString`): base64url of the 16 bytes without padding, 22 characters.
    public var base64: String {
        let bytes = (0..<16).map { i in UInt8(truncatingIfNeeded: (i < 8 ? high : low) >> (56 - 8 * UInt64(i % 8))) }
        var out: [UInt8] = []
        var i = 0
        while i < 16 {
            let n = UInt32(bytes[i]) << 16 | UInt32(i + 1 < 16 ? bytes[i + 1] : 0) << 8 | UInt32(i + 2 < 16 ? bytes[i + 2] : 0)
            out.append(Self.alphabet[Int(n >> 18 & 63)])
            out.append(Self.alphabet[Int(n >> 12 & 63)])
            if i + 1 < 16 { out.append(Self.alphabet[Int(n >> 6 & 63)]) }
            if i + 2 < 16 { out.append(Self.alphabet[Int(n & 63)]) }
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    public init?(base64: Substring) {
        let digits = base64.utf8.map { c in Self.alphabet.firstIndex(of: c) }
        guard digits.count == 22, digits.allSatisfy({ $0 != nil }) else { return nil }
        // 22 digits carry 132 bits: the 128 of the UUID and 4 zero bits at the end.
        var high: UInt64 = 0, low: UInt64 = 0, bits = 0
        for digit in digits.map({ UInt64($0!) }) {
            for shift in stride(from: 5, through: 0, by: -1) {
                let bit = digit >> UInt64(shift) & 1
                if bits < 64 { high = high << 1 | bit } else if bits < 128 { low = low << 1 | bit } else if bit != 0 { return nil }
                bits += 1
            }
        }
        self.init(high: high, low: low)
    }
}

/// Names a partition's log directory as Kafka does: `<topic>-<partition>`, with the topic id in the
/// directory's `partition.metadata`. Every legal topic name (at most 249 characters) and partition
/// (below 100 000) fits in a file name of 255 bytes. The id, checked when the log is opened, keeps a
/// recreated topic of the same name from ever meeting the old topic's files.
public struct PartitionDirectory: Hashable, Sendable, CustomStringConvertible {
    public let topic: String
    public let partition: Int32
    public let topicID: TopicUUID

    /// The longest file name the file systems we run on accept.
    public static let nameBytesMax = 255
    static let strayDirSuffix = "-stray"
    static let deleteDirSuffix = "-delete"

    public init(topic: String, partition: Int32, topicID: TopicUUID) {
        precondition(!topic.isEmpty && !topic.contains("/") && partition >= 0)
        self.topic = topic
        self.partition = partition
        self.topicID = topicID
    }

    public var name: String { Self.name(topic: topic, partition: partition) }
    public var description: String { "\(name) (topic id \(topicID.base64))" }

    public static func name(topic: String, partition: Int32) -> String { "\(topic)-\(partition)" }

    /// The topic and partition a directory `<topic>-<partition>` holds; nil for any other name (the
    /// metadata log, stray and deleted directories, the old layout, whatever else lives there).
    public static func parse(_ name: String) -> (topic: String, partition: Int32)? {
        guard let dash = name.lastIndex(of: "-") else { return nil }
        let topic = name[..<dash], digits = name[name.index(after: dash)...]
        guard isTopicName(topic), let partition = canonicalPartition(digits) else { return nil }
        return (String(topic), partition)
    }

    /// The directory name of Runnel's first layout, `<topic>-<partition>-<topic id hex>`, which does
    /// not fit for names over 220 characters; kept to migrate such directories.
    public var legacyName: String { "\(topic)-\(partition)-\(topicID.hex)" }

    public init?(legacyName: String) {
        guard let last = legacyName.lastIndex(of: "-"), let id = TopicUUID(hex: legacyName[legacyName.index(after: last)...]),
            let (topic, partition) = Self.parse(String(legacyName[..<last]))
        else { return nil }
        self.init(topic: topic, partition: partition, topicID: id)
    }

    /// Where a directory goes that the metadata does not name: Kafka's `<topic>-<partition>.<unique>-stray`,
    /// the topic cut short so that the name still fits.
    public static func strayName(topic: String, partition: Int32, unique: String) -> String {
        nameWithSuffix(topic: topic, partition: partition, unique: unique, suffix: strayDirSuffix)
    }

    /// Where a deleted partition's directory goes first, so that its removal is all or nothing:
    /// Kafka's `<topic>-<partition>.<unique>-delete`.
    public static func deletedName(topic: String, partition: Int32, unique: String) -> String {
        nameWithSuffix(topic: topic, partition: partition, unique: unique, suffix: deleteDirSuffix)
    }

    public static func isDeletedName(_ name: String) -> Bool {
        name.hasSuffix(deleteDirSuffix) && name.contains(".")
    }

    private static func nameWithSuffix(topic: String, partition: Int32, unique: String, suffix: String) -> String {
        let tail = "-\(partition).\(unique)\(suffix)"
        return String(decoding: topic.utf8.prefix(max(nameBytesMax - tail.utf8.count, 0)), as: UTF8.self) + tail
    }

    /// Kafka's legal topic characters: ASCII alphanumerics, '.', '_' and '-'; at most 249 of them.
    private static func isTopicName(_ text: Substring) -> Bool {
        !text.isEmpty && text.utf8.count <= 249 && text != "." && text != ".."
            && text.utf8.allSatisfy { c in
                (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39) || c == 0x2E || c == 0x5F || c == 0x2D
            }
    }

    /// A partition number as we write it: decimal digits without leading zeros.
    private static func canonicalPartition(_ digits: Substring) -> Int32? {
        guard !digits.isEmpty, digits.utf8.count <= 10, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            digits == "0" || digits.first != "0", let value = Int32(digits)
        else { return nil }
        return value
    }
}
