/// One record of a batch with its offset and timestamp made absolute.
public struct Record: Sendable, Hashable {
    /// The smallest encoded record: one byte each for length, attributes, timestamp delta, offset delta,
    /// key length, value length and header count.
    public static let encodedBytesMin = 7

    public var offset: Int64
    /// CreateTime records carry the producer's time; in LogAppendTime batches every record reports the
    /// batch's max timestamp (the append time).
    public var timestampMs: Int64
    /// nil is Kafka's null key (length -1), distinct from an empty key.
    public var key: [UInt8]?
    /// nil is a tombstone in a compacted topic.
    public var value: [UInt8]?
    public var headers: [RecordHeader]

    public init(offset: Int64, timestampMs: Int64, key: [UInt8]?, value: [UInt8]?, headers: [RecordHeader] = []) {
        self.offset = offset
        self.timestampMs = timestampMs
        self.key = key
        self.value = value
        self.headers = headers
    }
}

/// A record header: a UTF-8 key and an optional byte value. Invalid UTF-8 in a decoded key is replaced
/// with U+FFFD, as the Java client does when it turns header keys into strings.
public struct RecordHeader: Sendable, Hashable {
    public var key: String
    public var value: [UInt8]?

    public init(key: String, value: [UInt8]?) {
        self.key = key
        self.value = value
    }
}
