import CLZ4

/// The LZ4 frame format (LZ4F), which Kafka uses for lz4 batches. Output uses independent 64 KiB blocks
/// because the Java client's reader refuses linked blocks.
enum LZ4Frame {
    static func compress(_ input: UnsafeRawBufferPointer, level: Int32?) throws -> [UInt8] {
        var preferences = LZ4F_preferences_t()
        preferences.frameInfo.blockSizeID = LZ4F_max64KB
        preferences.frameInfo.blockMode = LZ4F_blockIndependent
        preferences.frameInfo.contentSize = UInt64(input.count)
        preferences.compressionLevel = level ?? 0
        let bound = LZ4F_compressFrameBound(input.count, &preferences)
        var output = [UInt8](repeating: 0, count: bound)
        let written = output.withUnsafeMutableBytes { out in
            LZ4F_compressFrame(out.baseAddress, out.count, input.baseAddress, input.count, &preferences)
        }
        if LZ4F_isError(written) != 0 { throw CompressionError.libraryFailure(.lz4, reason: errorName(written)) }
        output.removeSubrange(written...)
        return output
    }

    static func decompress(_ input: UnsafeRawBufferPointer, maxOutputBytes: Int) throws -> [UInt8] {
        guard input.count > 0 else { throw CompressionError.corruptInput(.lz4, reason: "empty input") }
        var context: OpaquePointer?
        let created = LZ4F_createDecompressionContext(&context, UInt32(LZ4F_VERSION))
        guard LZ4F_isError(created) == 0, let context else {
            throw CompressionError.libraryFailure(.lz4, reason: errorName(created))
        }
        defer { LZ4F_freeDecompressionContext(context) }
        var output = BoundedOutput(codec: .lz4, expectedBytes: input.count * 4, maxOutputBytes: maxOutputBytes)
        var position = 0
        while true {
            try output.reserveMore()
            let producedBefore = output.count
            var hint = 0
            var consumed = 0
            output.writeIntoFreeSpace { free in
                var written = free.count
                consumed = input.count - position
                hint = LZ4F_decompress(
                    context, free.baseAddress, &written, input.baseAddress!.advanced(by: position), &consumed, nil)
                return LZ4F_isError(hint) != 0 ? 0 : written
            }
            if LZ4F_isError(hint) != 0 { throw CompressionError.corruptInput(.lz4, reason: errorName(hint)) }
            position += consumed
            if hint == 0 && position == input.count { return try output.finish() }
            // hint == 0 with input left: another frame follows and the context has reset itself.
            if position == input.count && output.freeBytes > 0 {
                throw CompressionError.corruptInput(.lz4, reason: "truncated frame")
            }
            // With room and input left a well-formed stream always moves; this bounds the loop.
            if consumed == 0 && output.count == producedBefore && output.freeBytes > 0 {
                throw CompressionError.corruptInput(.lz4, reason: "decoder made no progress")
            }
        }
    }

    private static func errorName(_ code: Int) -> String {
        LZ4F_getErrorName(code).map { String(cString: $0) } ?? "lz4 error \(code)"
    }
}
