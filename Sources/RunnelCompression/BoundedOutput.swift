/// A growable output array for streaming decompressors that never grows past `maxOutputBytes + 1`.
/// The one extra byte lets a decoder tell "exactly at the limit" from "over the limit" without a second pass.
struct BoundedOutput {
    private(set) var bytes: [UInt8]
    private(set) var count = 0
    let maxOutputBytes: Int
    let codec: CompressionCodec
    private let capacityMax: Int

    init(codec: CompressionCodec, expectedBytes: Int, maxOutputBytes: Int) {
        precondition(maxOutputBytes >= 0, "maxOutputBytes must not be negative")
        self.codec = codec
        self.maxOutputBytes = maxOutputBytes
        self.capacityMax = maxOutputBytes == Int.max ? Int.max : maxOutputBytes + 1
        let initial = min(max(expectedBytes, 256), capacityMax)
        self.bytes = [UInt8](repeating: 0, count: initial)
    }

    var freeBytes: Int { bytes.count - count }

    /// Makes room for more output, or throws when the output already passed the bound.
    mutating func reserveMore() throws {
        precondition(count <= bytes.count)
        guard count < bytes.count else {
            guard bytes.count < capacityMax else {
                throw CompressionError.outputLimitExceeded(codec, maxOutputBytes: maxOutputBytes)
            }
            let grown = min(max(bytes.count * 2, 64 * 1024), capacityMax)
            bytes.append(contentsOf: [UInt8](repeating: 0, count: grown - bytes.count))
            return
        }
    }

    /// Hands the free tail to `body`, which returns how many bytes it wrote there.
    mutating func writeIntoFreeSpace(_ body: (UnsafeMutableRawBufferPointer) throws -> Int) rethrows {
        let start = count
        let written = try bytes.withUnsafeMutableBytes { all in
            try body(UnsafeMutableRawBufferPointer(rebasing: all[start...]))
        }
        precondition(written >= 0 && start + written <= bytes.count, "decoder wrote outside the free space")
        count = start + written
    }

    /// The output, or `outputLimitExceeded` if it passed the bound.
    consuming func finish() throws -> [UInt8] {
        guard count <= maxOutputBytes else { throw CompressionError.outputLimitExceeded(codec, maxOutputBytes: maxOutputBytes) }
        bytes.removeSubrange(count...)
        return bytes
    }
}
