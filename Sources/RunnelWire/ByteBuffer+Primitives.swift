import NIOCore

// Fixed-width primitives. Kafka is big-endian throughout, which is ByteBuffer's default.
extension ByteBuffer {
    @inline(__always)
    mutating func requireReadable(_ count: Int) throws(WireError) {
        if readableBytes < count {
            throw WireError.truncated(neededBytes: count, readableBytes: readableBytes)
        }
    }

    public mutating func readKafkaInt8() throws(WireError) -> Int8 {
        try requireReadable(1)
        return readInteger(as: Int8.self)!
    }

    public mutating func readKafkaInt16() throws(WireError) -> Int16 {
        try requireReadable(2)
        return readInteger(as: Int16.self)!
    }

    public mutating func readKafkaUInt16() throws(WireError) -> UInt16 {
        try requireReadable(2)
        return readInteger(as: UInt16.self)!
    }

    public mutating func readKafkaInt32() throws(WireError) -> Int32 {
        try requireReadable(4)
        return readInteger(as: Int32.self)!
    }

    public mutating func readKafkaUInt32() throws(WireError) -> UInt32 {
        try requireReadable(4)
        return readInteger(as: UInt32.self)!
    }

    public mutating func readKafkaInt64() throws(WireError) -> Int64 {
        try requireReadable(8)
        return readInteger(as: Int64.self)!
    }

    public mutating func readKafkaFloat64() throws(WireError) -> Double {
        try requireReadable(8)
        return Double(bitPattern: readInteger(as: UInt64.self)!)
    }

    /// Any non-zero byte is true, as in Kafka's reader.
    public mutating func readKafkaBool() throws(WireError) -> Bool {
        try requireReadable(1)
        return readInteger(as: UInt8.self)! != 0
    }

    public mutating func readKafkaUUID() throws(WireError) -> KafkaUUID {
        try requireReadable(16)
        let high = readInteger(as: UInt64.self)!
        let low = readInteger(as: UInt64.self)!
        return KafkaUUID(high: high, low: low)
    }

    public mutating func writeKafkaInt8(_ value: Int8) { writeInteger(value) }
    public mutating func writeKafkaInt16(_ value: Int16) { writeInteger(value) }
    public mutating func writeKafkaUInt16(_ value: UInt16) { writeInteger(value) }
    public mutating func writeKafkaInt32(_ value: Int32) { writeInteger(value) }
    public mutating func writeKafkaUInt32(_ value: UInt32) { writeInteger(value) }
    public mutating func writeKafkaInt64(_ value: Int64) { writeInteger(value) }
    public mutating func writeKafkaFloat64(_ value: Double) { writeInteger(value.bitPattern) }
    public mutating func writeKafkaBool(_ value: Bool) { writeInteger(UInt8(value ? 1 : 0)) }

    public mutating func writeKafkaUUID(_ value: KafkaUUID) {
        writeInteger(value.high)
        writeInteger(value.low)
    }
}

// Variable-length integers: unsigned LEB128 for lengths and tags, zigzag for signed values.
extension ByteBuffer {
    /// Unsigned varint of at most 32 bits (5 bytes), as used for compact lengths and tags.
    public mutating func readUnsignedVarint() throws(WireError) -> UInt32 {
        var result: UInt32 = 0
        var shift: UInt32 = 0
        while true {
            guard let byte = readInteger(as: UInt8.self) else {
                throw WireError.truncated(neededBytes: 1, readableBytes: 0)
            }
            if shift == 28 && byte > 0x0F {
                throw WireError.varintTooLong
            }
            result |= UInt32(byte & 0x7F) << shift
            if byte & 0x80 == 0 {
                return result
            }
            shift += 7
        }
    }

    /// Unsigned varint of at most 64 bits (10 bytes).
    public mutating func readUnsignedVarlong() throws(WireError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard let byte = readInteger(as: UInt8.self) else {
                throw WireError.truncated(neededBytes: 1, readableBytes: 0)
            }
            if shift == 63 && byte > 0x01 {
                throw WireError.varintTooLong
            }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 {
                return result
            }
            shift += 7
        }
    }

    public mutating func writeUnsignedVarint(_ value: UInt32) {
        writeUnsignedVarlong(UInt64(value))
    }

    public mutating func writeUnsignedVarlong(_ value: UInt64) {
        var remaining = value
        while remaining >= 0x80 {
            writeInteger(UInt8(truncatingIfNeeded: remaining) | 0x80)
            remaining >>= 7
        }
        writeInteger(UInt8(truncatingIfNeeded: remaining))
    }

    /// Zigzag-encoded signed 32-bit varint.
    public mutating func readVarint() throws(WireError) -> Int32 {
        let raw = try readUnsignedVarint()
        return Int32(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    /// Zigzag-encoded signed 64-bit varint.
    public mutating func readVarlong() throws(WireError) -> Int64 {
        let raw = try readUnsignedVarlong()
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    public mutating func writeVarint(_ value: Int32) {
        writeUnsignedVarint(UInt32(bitPattern: (value << 1) ^ (value >> 31)))
    }

    public mutating func writeVarlong(_ value: Int64) {
        writeUnsignedVarlong(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }
}
