// Big-endian primitives for the byte forms of Raft values and the WAL's frames (package-visible, so the
// storage target uses the same ones). Readers return nil past the end instead of trapping: their input
// comes from disks and networks.

package struct ByteWriter {
    package var bytes: [UInt8] = []

    package init() {}

    package mutating func write(_ value: UInt8) { bytes.append(value) }

    package mutating func write(_ value: UInt32) {
        for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    package mutating func write(_ value: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    package mutating func write(_ value: Bool) { write(UInt8(value ? 1 : 0)) }

    /// A length-prefixed byte string.
    package mutating func write(blob: [UInt8]) {
        precondition(blob.count <= Int(UInt32.max), "blob too large for its length prefix")
        write(UInt32(blob.count))
        bytes.append(contentsOf: blob)
    }
}

package struct ByteReader {
    let bytes: ArraySlice<UInt8>
    var offset: Int

    package init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.offset = bytes.startIndex
    }

    package init(_ bytes: [UInt8]) { self.init(bytes[...]) }

    package var remaining: Int { bytes.endIndex - offset }
    package var isAtEnd: Bool { offset == bytes.endIndex }

    package mutating func readUInt8() -> UInt8? {
        guard remaining >= 1 else { return nil }
        defer { offset += 1 }
        return bytes[offset]
    }

    package mutating func readUInt32() -> UInt32? {
        guard remaining >= 4 else { return nil }
        var value: UInt32 = 0
        for _ in 0..<4 {
            value = value << 8 | UInt32(bytes[offset])
            offset += 1
        }
        return value
    }

    package mutating func readUInt64() -> UInt64? {
        guard remaining >= 8 else { return nil }
        var value: UInt64 = 0
        for _ in 0..<8 {
            value = value << 8 | UInt64(bytes[offset])
            offset += 1
        }
        return value
    }

    package mutating func readBool() -> Bool? {
        switch readUInt8() {
        case 0?: return false
        case 1?: return true
        default: return nil
        }
    }

    package mutating func readBlob() -> [UInt8]? {
        guard let count = readUInt32().map(Int.init), count <= remaining else { return nil }
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    /// A count of items each at least `itemBytesMin` long: a corrupt count cannot make us allocate more
    /// than the input could hold.
    package mutating func readCount(itemBytesMin: Int) -> Int? {
        guard let count = readUInt32().map(Int.init), count <= remaining / max(itemBytesMin, 1) else { return nil }
        return count
    }
}
