import CZstd

/// Zstandard. Decompression streams, because Kafka producers write frames without the content size.
enum Zstd {
    /// The largest window a frame may ask for (128 MiB, the library's and the Java client's default).
    /// Lower would be cheaper, but the Java producer streams without a pledged size, so levels 20-22
    /// declare windows up to 2^27 and must still decode. Every decode pays it: the produce path (which
    /// inflates compressed batches to check their records), ListOffsets by time, compaction, the CLI.
    static let windowLogMax: Int32 = 27
    static let defaultLevel: Int32 = 3

    static func compress(_ input: UnsafeRawBufferPointer, level: Int32?) throws -> [UInt8] {
        let bound = ZSTD_compressBound(input.count)
        var output = [UInt8](repeating: 0, count: bound)
        let written = output.withUnsafeMutableBytes { out in
            ZSTD_compress(out.baseAddress, out.count, input.baseAddress, input.count, level ?? defaultLevel)
        }
        if ZSTD_isError(written) != 0 { throw CompressionError.libraryFailure(.zstd, reason: errorName(written)) }
        output.removeSubrange(written...)
        return output
    }

    static func decompress(_ input: UnsafeRawBufferPointer, maxOutputBytes: Int) throws -> [UInt8] {
        guard input.count > 0 else { throw CompressionError.corruptInput(.zstd, reason: "empty input") }
        guard let context = ZSTD_createDCtx() else {
            throw CompressionError.libraryFailure(.zstd, reason: "cannot allocate a decompression context")
        }
        defer { ZSTD_freeDCtx(context) }
        let set = ZSTD_DCtx_setParameter(context, ZSTD_d_windowLogMax, windowLogMax)
        if ZSTD_isError(set) != 0 { throw CompressionError.libraryFailure(.zstd, reason: errorName(set)) }
        var output = BoundedOutput(codec: .zstd, expectedBytes: input.count * 4, maxOutputBytes: maxOutputBytes)
        var inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        while true {
            try output.reserveMore()
            let producedBefore = output.count
            let consumedBefore = inBuffer.pos
            var result = 0
            output.writeIntoFreeSpace { free in
                var outBuffer = ZSTD_outBuffer(dst: free.baseAddress, size: free.count, pos: 0)
                result = ZSTD_decompressStream(context, &outBuffer, &inBuffer)
                return ZSTD_isError(result) != 0 ? 0 : outBuffer.pos
            }
            if ZSTD_isError(result) != 0 { throw CompressionError.corruptInput(.zstd, reason: errorName(result)) }
            let inputDone = inBuffer.pos == inBuffer.size
            // 0 means a frame ended and is fully flushed; with input left, the next frame follows.
            if result == 0 && inputDone { return try output.finish() }
            if inputDone && output.freeBytes > 0 {
                throw CompressionError.corruptInput(.zstd, reason: "truncated frame")
            }
            // With room and input left a well-formed stream always moves; this bounds the loop.
            if inBuffer.pos == consumedBefore && output.count == producedBefore && output.freeBytes > 0 {
                throw CompressionError.corruptInput(.zstd, reason: "decoder made no progress")
            }
        }
    }

    private static func errorName(_ code: Int) -> String {
        ZSTD_getErrorName(code).map { String(cString: $0) } ?? "zstd error \(code)"
    }
}
