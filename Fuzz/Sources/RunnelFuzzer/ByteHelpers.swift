import RunnelChecksum

/// Small helpers for taking fuzz input apart and for fixing up checksums, so that inputs get past the
/// CRC checks (which no mutation would otherwise satisfy) into the code behind them.
struct InputReader {
    let bytes: [UInt8]
    var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func byte() -> UInt8 {
        guard position < bytes.count else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func uint16() -> Int { Int(byte()) << 8 | Int(byte()) }

    mutating func int64() -> Int64 {
        var value: UInt64 = 0
        for _ in 0..<8 { value = value << 8 | UInt64(byte()) }
        return Int64(bitPattern: value)
    }

    var rest: [UInt8] { position < bytes.count ? Array(bytes[position...]) : [] }
}

enum Checksums {
    /// Rewrites the CRC of every v2 record batch the lengths lead to (as the producer would have
    /// computed it); stops at the first length that does not fit.
    static func fixRecordBatches(_ bytes: inout [UInt8]) {
        var position = 0
        while position + 21 <= bytes.count {
            let length = Int(bytes[position + 8..<position + 12].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            let end = position + 12 + length
            guard length >= 49, end <= bytes.count, end > position else { return }
            let crc = CRC32C.checksum(bytes[(position + 21)..<end])
            for i in 0..<4 { bytes[position + 17 + i] = UInt8(truncatingIfNeeded: crc >> (24 - 8 * UInt32(i))) }
            position = end
        }
    }

    /// Rewrites the CRC of every Raft WAL frame (body length u32, CRC-32C u32, body) the lengths lead to.
    static func fixWALFrames(_ bytes: inout [UInt8]) {
        var position = 0
        while position + 8 <= bytes.count {
            let length = Int(bytes[position..<position + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            let end = position + 8 + length
            guard length > 0, end <= bytes.count else { return }
            let crc = CRC32C.checksum(bytes[(position + 8)..<end])
            for i in 0..<4 { bytes[position + 4 + i] = UInt8(truncatingIfNeeded: crc >> (24 - 8 * UInt32(i))) }
            position = end
        }
    }
}
