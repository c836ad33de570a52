import NIOCore

// Length-prefixed values. Classic encodings use a signed fixed-width length with -1 for null;
// compact encodings (flexible versions) use an unsigned varint holding length + 1, 0 for null.
extension ByteBuffer {
    /// Reads a length prefix; nil means null. The length is checked against the readable bytes
    /// so callers can slice without further checks.
    mutating func readKafkaLength(compact: Bool, wide: Bool) throws(WireError) -> Int? {
        let length: Int
        if compact {
            let raw = try readUnsignedVarint()
            if raw == 0 {
                return nil
            }
            length = Int(raw) - 1
        } else if wide {
            length = Int(try readKafkaInt32())
        } else {
            length = Int(try readKafkaInt16())
        }
        if length == -1 && !compact {
            return nil
        }
        guard length >= 0 else {
            throw WireError.invalidLength(length)
        }
        try requireReadable(length)
        return length
    }

    mutating func writeKafkaLength(_ length: Int?, compact: Bool, wide: Bool, field: String) throws(WireError) {
        guard let length else {
            if compact {
                writeUnsignedVarint(0)
            } else if wide {
                writeInteger(Int32(-1))
            } else {
                writeInteger(Int16(-1))
            }
            return
        }
        if compact {
            guard length < Int(UInt32.max) else { throw WireError.valueTooLong(field: field, length: length) }
            writeUnsignedVarint(UInt32(length + 1))
        } else if wide {
            guard length <= Int(Int32.max) else { throw WireError.valueTooLong(field: field, length: length) }
            writeInteger(Int32(length))
        } else {
            guard length <= Int(Int16.max) else { throw WireError.valueTooLong(field: field, length: length) }
            writeInteger(Int16(length))
        }
    }

    // MARK: Strings (int16 length classic, varint compact). Invalid UTF-8 is repaired, not fatal,
    // matching Kafka's Java decoder.

    public mutating func readKafkaNullableString(compact: Bool) throws(WireError) -> String? {
        guard let length = try readKafkaLength(compact: compact, wide: false) else {
            return nil
        }
        return readString(length: length)!
    }

    public mutating func readKafkaString(compact: Bool, field: String = "string") throws(WireError) -> String {
        guard let value = try readKafkaNullableString(compact: compact) else {
            throw WireError.unexpectedNull(field: field)
        }
        return value
    }

    public mutating func writeKafkaNullableString(_ value: String?, compact: Bool, field: String = "string") throws(WireError) {
        guard let value else {
            try writeKafkaLength(nil, compact: compact, wide: false, field: field)
            return
        }
        try writeKafkaLength(value.utf8.count, compact: compact, wide: false, field: field)
        writeString(value)
    }

    public mutating func writeKafkaString(_ value: String, compact: Bool, field: String = "string") throws(WireError) {
        try writeKafkaNullableString(value, compact: compact, field: field)
    }

    // MARK: Bytes (int32 length classic, varint compact).

    public mutating func readKafkaNullableBytes(compact: Bool) throws(WireError) -> [UInt8]? {
        guard let length = try readKafkaLength(compact: compact, wide: true) else {
            return nil
        }
        return readBytes(length: length)!
    }

    public mutating func readKafkaBytes(compact: Bool, field: String = "bytes") throws(WireError) -> [UInt8] {
        guard let value = try readKafkaNullableBytes(compact: compact) else {
            throw WireError.unexpectedNull(field: field)
        }
        return value
    }

    public mutating func writeKafkaNullableBytes(_ value: [UInt8]?, compact: Bool, field: String = "bytes") throws(WireError) {
        guard let value else {
            try writeKafkaLength(nil, compact: compact, wide: true, field: field)
            return
        }
        try writeKafkaLength(value.count, compact: compact, wide: true, field: field)
        writeBytes(value)
    }

    public mutating func writeKafkaBytes(_ value: [UInt8], compact: Bool, field: String = "bytes") throws(WireError) {
        try writeKafkaNullableBytes(value, compact: compact, field: field)
    }

    /// Bytes kept as a slice of this buffer (no copy); used for record batches.
    public mutating func readKafkaNullableBytesSlice(compact: Bool) throws(WireError) -> ByteBuffer? {
        guard let length = try readKafkaLength(compact: compact, wide: true) else {
            return nil
        }
        return readSlice(length: length)!
    }

    public mutating func writeKafkaNullableBytesSlice(_ value: ByteBuffer?, compact: Bool, field: String = "records") throws(WireError) {
        guard let value else {
            try writeKafkaLength(nil, compact: compact, wide: true, field: field)
            return
        }
        try writeKafkaLength(value.readableBytes, compact: compact, wide: true, field: field)
        writeImmutableBuffer(value)
    }

    // MARK: Arrays

    /// Reads an array length; nil means null. Rejects counts above `WireLimits.arrayCountMax`
    /// and counts larger than the remaining bytes (every element we decode takes at least one
    /// byte), so a garbage length fails fast instead of allocating.
    public mutating func readKafkaArrayCount(compact: Bool) throws(WireError) -> Int? {
        let count: Int
        if compact {
            let raw = try readUnsignedVarint()
            if raw == 0 {
                return nil
            }
            count = Int(raw) - 1
        } else {
            let raw = try readKafkaInt32()
            if raw == -1 {
                return nil
            }
            count = Int(raw)
        }
        guard count >= 0 else {
            throw WireError.invalidLength(count)
        }
        guard count <= WireLimits.arrayCountMax, count <= readableBytes else {
            throw WireError.arrayTooLarge(count: count)
        }
        return count
    }

    public mutating func writeKafkaArrayCount(_ count: Int?, compact: Bool, field: String = "array") throws(WireError) {
        try writeKafkaLength(count, compact: compact, wide: true, field: field)
    }
}

// Tagged fields (flexible versions): a varint count, then per field a varint tag, a varint
// size and that many bytes. Unknown tags are skipped, which is what makes them forward compatible.
extension ByteBuffer {
    /// Reads the number of tagged fields that follow, bounded by the remaining bytes (each
    /// field takes at least two).
    public mutating func readTaggedFieldCount() throws(WireError) -> Int {
        let count = Int(try readUnsignedVarint())
        guard count <= readableBytes / 2 else {
            throw WireError.arrayTooLarge(count: count)
        }
        return count
    }

    /// Reads one tagged field's tag and returns its body as a slice.
    public mutating func readTaggedField() throws(WireError) -> (tag: UInt32, body: ByteBuffer) {
        let tag = try readUnsignedVarint()
        let size = Int(try readUnsignedVarint())
        try requireReadable(size)
        return (tag, readSlice(length: size)!)
    }

    /// Skips a whole tagged-field section; for headers and structs that define no tags.
    public mutating func skipTaggedFields() throws(WireError) {
        let count = try readTaggedFieldCount()
        for _ in 0..<count {
            _ = try readTaggedField()
        }
    }

    public mutating func writeTaggedField(tag: UInt32, body: ByteBuffer) {
        writeUnsignedVarint(tag)
        writeUnsignedVarint(UInt32(body.readableBytes))
        writeImmutableBuffer(body)
    }

    /// An empty tagged-field section.
    public mutating func writeEmptyTaggedFields() {
        writeUnsignedVarint(0)
    }
}
