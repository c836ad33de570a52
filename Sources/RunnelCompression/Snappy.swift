import CSnappy

/// Snappy, raw and in the xerial framing (snappy-java's SnappyOutputStream) that the Java client writes:
/// an 8-byte magic, two big-endian int32 versions, then blocks of [int32 big-endian length][raw snappy block].
enum Snappy {
    static let xerialMagic: [UInt8] = [0x82, 0x53, 0x4E, 0x41, 0x50, 0x50, 0x59, 0x00]  // 0x82 "SNAPPY" 0x00
    static let xerialHeaderBytes = 16
    /// snappy-java's default block size; the Java client reads any block size.
    static let xerialBlockBytes = 32 * 1024

    static func isXerialFramed(_ input: UnsafeRawBufferPointer) -> Bool {
        input.count >= xerialMagic.count && input.prefix(xerialMagic.count).elementsEqual(xerialMagic)
    }

    static func decompress(_ input: UnsafeRawBufferPointer, maxOutputBytes: Int) throws -> [UInt8] {
        guard isXerialFramed(input) else {
            var output: [UInt8] = []
            try appendRawBlock(input, to: &output, maxOutputBytes: maxOutputBytes)
            return output
        }
        guard input.count >= xerialHeaderBytes else {
            throw CompressionError.corruptInput(.snappy, reason: "truncated xerial header")
        }
        var output: [UInt8] = []
        var position = xerialHeaderBytes
        while position < input.count {
            guard input.count - position >= 4 else {
                throw CompressionError.corruptInput(.snappy, reason: "truncated xerial block length")
            }
            let length = Int(readBigEndianInt32(input, at: position))
            position += 4
            guard length >= 0, length <= input.count - position else {
                throw CompressionError.corruptInput(.snappy, reason: "xerial block length \(length) out of range")
            }
            let block = UnsafeRawBufferPointer(rebasing: input[position..<(position + length)])
            try appendRawBlock(block, to: &output, maxOutputBytes: maxOutputBytes)
            position += length
        }
        return output
    }

    static func compressRaw(_ input: UnsafeRawBufferPointer) throws -> [UInt8] {
        var output: [UInt8] = []
        try appendCompressedBlock(input, to: &output)
        return output
    }

    static func compressXerial(_ input: UnsafeRawBufferPointer) throws -> [UInt8] {
        var output = xerialMagic
        output.reserveCapacity(xerialHeaderBytes + snappy_max_compressed_length(input.count) + input.count / 4096)
        appendBigEndianInt32(1, to: &output)  // format version
        appendBigEndianInt32(1, to: &output)  // minimum compatible version
        var position = 0
        while position < input.count {
            let end = min(position + xerialBlockBytes, input.count)
            let lengthIndex = output.count
            appendBigEndianInt32(0, to: &output)
            let before = output.count
            try appendCompressedBlock(UnsafeRawBufferPointer(rebasing: input[position..<end]), to: &output)
            let length = UInt32(output.count - before)
            for shift in 0..<4 { output[lengthIndex + shift] = UInt8(truncatingIfNeeded: length >> (24 - 8 * shift)) }
            position = end
        }
        return output
    }

    private static func appendRawBlock(
        _ block: UnsafeRawBufferPointer, to output: inout [UInt8], maxOutputBytes: Int
    ) throws {
        guard let base = block.baseAddress, block.count > 0 else {
            throw CompressionError.corruptInput(.snappy, reason: "empty block")
        }
        let source = base.assumingMemoryBound(to: CChar.self)
        var length = 0
        guard snappy_uncompressed_length(source, block.count, &length) == SNAPPY_OK else {
            throw CompressionError.corruptInput(.snappy, reason: "unreadable block length")
        }
        // The length preamble is checked against the bound before any allocation.
        guard length <= maxOutputBytes - output.count else {
            throw CompressionError.outputLimitExceeded(.snappy, maxOutputBytes: maxOutputBytes)
        }
        let start = output.count
        output.append(contentsOf: [UInt8](repeating: 0, count: length))
        var written = length
        let status = output.withUnsafeMutableBytes { all in
            snappy_uncompress(
                source, block.count, all.baseAddress!.advanced(by: start).assumingMemoryBound(to: CChar.self), &written)
        }
        guard status == SNAPPY_OK, written == length else {
            throw CompressionError.corruptInput(.snappy, reason: "invalid block")
        }
    }

    private static func appendCompressedBlock(_ block: UnsafeRawBufferPointer, to output: inout [UInt8]) throws {
        let bound = snappy_max_compressed_length(block.count)
        let start = output.count
        output.append(contentsOf: [UInt8](repeating: 0, count: bound))
        var written = bound
        let empty: [CChar] = [0]
        let status = output.withUnsafeMutableBytes { all in
            empty.withUnsafeBufferPointer { emptyPointer in
                let source = block.baseAddress?.assumingMemoryBound(to: CChar.self) ?? emptyPointer.baseAddress!
                return snappy_compress(
                    source, block.count, all.baseAddress!.advanced(by: start).assumingMemoryBound(to: CChar.self),
                    &written)
            }
        }
        guard status == SNAPPY_OK else { throw CompressionError.libraryFailure(.snappy, reason: "compress failed") }
        output.removeSubrange((start + written)...)
    }

    private static func readBigEndianInt32(_ bytes: UnsafeRawBufferPointer, at index: Int) -> Int32 {
        var value: UInt32 = 0
        for offset in 0..<4 { value = value << 8 | UInt32(bytes[index + offset]) }
        return Int32(bitPattern: value)
    }

    private static func appendBigEndianInt32(_ value: UInt32, to output: inout [UInt8]) {
        for shift in stride(from: 24, through: 0, by: -8) { output.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }
}
