/// Where one record of a batch lies in the batch's record bytes (inflated, when the batch is compressed),
/// found by `RecordLayout.walk` without copying anything.
public struct RecordLayout: Sendable, Hashable {
    /// The whole record, its length prefix included.
    public var bytes: Range<Int>
    public var offsetDelta: Int32
    public var timestampDelta: Int64
    /// The key's bytes; nil for Kafka's null key (length -1), distinct from an empty key.
    public var key: Range<Int>?
    /// A null value: a tombstone in a compacted topic.
    public var hasNullValue: Bool
}

extension RecordLayout {
    /// Walks the `header.recordCount` records in `records`, handing each to `visit` in order, and throws
    /// `malformedRecords` (INVALID_RECORD, as Kafka's DefaultRecord answers) unless:
    /// - every length and count inside a record is a varint of at most 5 bytes (timestamps: 10), fits the
    ///   record's bytes, and the fields fill the record exactly;
    /// - the records fill `records` exactly: the declared count is the count present;
    /// - offset deltas rise strictly, from at least 0 to at most `lastOffsetDelta` (a producer's batch has
    ///   lastOffsetDelta = count - 1, so its deltas are 0, 1, 2, …; a compacted one may have gaps);
    /// - no record's timestamp overflows.
    /// Every step is bounded by the bytes, whatever the count claims. Allocates nothing unless it throws.
    /// Returns how many records have a null key (a compacted topic refuses them).
    @discardableResult
    public static func walk(_ records: UnsafeRawBufferPointer, header: RecordBatchHeader,
                            _ visit: (RecordLayout) -> Void = { _ in }) throws(RecordBatchError) -> Int {
        guard header.recordCount >= 0 else { throw .invalidRecordCount(header.recordCount) }
        var cursor = RecordCursor(records, end: records.count)
        var previousDelta: Int32 = -1
        var keyless = 0
        for index in 0..<Int(header.recordCount) {
            let layout = try record(&cursor, index: index)
            guard layout.offsetDelta > previousDelta, layout.offsetDelta <= header.lastOffsetDelta else {
                throw .malformedRecords(reason: "record \(index) has offset delta \(layout.offsetDelta) after \(previousDelta) "
                                        + "(last offset delta \(header.lastOffsetDelta))")
            }
            guard !header.baseTimestampMs.addingReportingOverflow(layout.timestampDelta).overflow else {
                throw .malformedRecords(reason: "record \(index) has a timestamp delta that overflows")
            }
            previousDelta = layout.offsetDelta
            if layout.key == nil { keyless += 1 }
            visit(layout)
        }
        guard cursor.remaining == 0 else {
            throw .malformedRecords(reason: "\(cursor.remaining) bytes after the \(header.recordCount) records the batch declares")
        }
        return keyless
    }

    private static func record(_ cursor: inout RecordCursor, index: Int) throws(RecordBatchError) -> RecordLayout {
        let start = cursor.position
        let length = try cursor.varint(index, "record length")
        guard length >= 0, Int(length) <= cursor.remaining else {
            throw .malformedRecords(reason: "record \(index) has length \(length), \(cursor.remaining) bytes are left")
        }
        let end = cursor.position + Int(length)
        var body = RecordCursor(cursor.bytes, position: cursor.position, end: end)
        _ = try body.byte(index, "attributes")
        let timestampDelta = try body.varlong(index, "timestamp delta")
        let offsetDelta = try body.varint(index, "offset delta")
        let key = try body.nullableBytes(index, "key")
        let value = try body.nullableBytes(index, "value")
        let headerCount = try body.varint(index, "header count")
        // Each header takes at least two bytes; Kafka refuses a count beyond the bytes left.
        guard headerCount >= 0, Int(headerCount) <= body.remaining else {
            throw .malformedRecords(reason: "record \(index) has \(headerCount) headers")
        }
        for _ in 0..<Int(headerCount) {
            guard try body.nullableBytes(index, "header key") != nil else {
                throw .malformedRecords(reason: "record \(index) has a header with a null key")
            }
            _ = try body.nullableBytes(index, "header value")
        }
        guard body.remaining == 0 else {
            throw .malformedRecords(reason: "record \(index) has \(body.remaining) bytes after its headers")
        }
        cursor.position = end
        return RecordLayout(bytes: start..<end, offsetDelta: offsetDelta, timestampDelta: timestampDelta, key: key,
                            hasNullValue: value == nil)
    }
}

/// Reads Kafka's zig-zag varints from raw bytes up to `end`; every read checks what is left first, so no
/// length from the bytes is ever added to a position before it is known to fit.
private struct RecordCursor {
    let bytes: UnsafeRawBufferPointer
    var position: Int
    let end: Int

    init(_ bytes: UnsafeRawBufferPointer, position: Int = 0, end: Int) {
        self.bytes = bytes
        self.position = position
        self.end = end
    }

    var remaining: Int { end - position }

    mutating func byte(_ index: Int, _ field: StaticString) throws(RecordBatchError) -> UInt8 {
        guard position < end else { throw .malformedRecords(reason: "record \(index) ends inside its \(field)") }
        defer { position += 1 }
        return bytes[position]
    }

    /// A varint of at most 5 bytes whose value fits 32 bits, as Kafka's `ByteUtils.readVarint` requires.
    mutating func varint(_ index: Int, _ field: StaticString) throws(RecordBatchError) -> Int32 {
        let raw = try unsignedVarint(maxBytes: 5, index, field)
        guard raw <= UInt64(UInt32.max) else { throw .malformedRecords(reason: "record \(index) has a \(field) past 32 bits") }
        let value = UInt32(raw)
        return Int32(bitPattern: (value >> 1) ^ (0 &- (value & 1)))
    }

    mutating func varlong(_ index: Int, _ field: StaticString) throws(RecordBatchError) -> Int64 {
        let raw = try unsignedVarint(maxBytes: 10, index, field)
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    /// A length-prefixed field (length -1: null); the range of its bytes, which are skipped.
    mutating func nullableBytes(_ index: Int, _ field: StaticString) throws(RecordBatchError) -> Range<Int>? {
        let length = try varint(index, field)
        if length == -1 { return nil }
        guard length >= 0, Int(length) <= remaining else {
            throw .malformedRecords(reason: "record \(index) has a \(field) of \(length) bytes, \(remaining) are left")
        }
        defer { position += Int(length) }
        return position..<(position + Int(length))
    }

    private mutating func unsignedVarint(maxBytes: Int, _ index: Int, _ field: StaticString) throws(RecordBatchError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        for _ in 0..<maxBytes {
            let byte = try byte(index, field)
            if shift == 63 && byte > 1 { break }  // more than 64 bits
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
        throw .malformedRecords(reason: "record \(index) has a \(field) varint longer than \(maxBytes) bytes")
    }
}
