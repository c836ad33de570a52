import NIOCore

enum Varint {
    /// Bytes of the zig-zag encoding of `value` (the same for varint and varlong when it fits in Int32).
    static func encodedBytes(_ value: Int64) -> Int {
        var zigZag = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        var bytes = 1
        while zigZag >= 0x80 {
            zigZag >>= 7
            bytes += 1
        }
        return bytes
    }
}

/// Kafka's zig-zag variable-length integers (protobuf style), used inside records.
extension ByteBuffer {
    /// Reads a zig-zag varint of at most 5 bytes; nil if truncated or overlong.
    mutating func readKafkaVarint() -> Int32? {
        guard let raw = readUnsignedVarint(maxBytes: 5), raw <= UInt64(UInt32.max) else { return nil }
        let value = UInt32(raw)
        return Int32(bitPattern: (value >> 1) ^ (0 &- (value & 1)))
    }

    /// Reads a zig-zag varlong of at most 10 bytes; nil if truncated or overlong.
    mutating func readKafkaVarlong() -> Int64? {
        guard let value = readUnsignedVarint(maxBytes: 10) else { return nil }
        return Int64(bitPattern: (value >> 1) ^ (0 &- (value & 1)))
    }

    private mutating func readUnsignedVarint(maxBytes: Int) -> UInt64? {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        var copy = self
        for _ in 0..<maxBytes {
            guard let byte = copy.readInteger(as: UInt8.self) else { return nil }
            if shift == 63 && byte > 1 { return nil }  // more than 64 bits
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 {
                self = copy
                return result
            }
            shift += 7
        }
        return nil
    }

    mutating func writeKafkaVarint(_ value: Int32) {
        writeUnsignedVarint(UInt64(UInt32(bitPattern: (value << 1) ^ (value >> 31))))
    }

    mutating func writeKafkaVarlong(_ value: Int64) {
        writeUnsignedVarint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    private mutating func writeUnsignedVarint(_ value: UInt64) {
        var remaining = value
        while remaining >= 0x80 {
            writeInteger(UInt8(truncatingIfNeeded: remaining) | 0x80)
            remaining >>= 7
        }
        writeInteger(UInt8(remaining))
    }
}
