import CZlib

/// gzip (RFC 1952) via zlib. Decompression accepts concatenated members, as Java's GZIPInputStream does.
enum Gzip {
    /// zlib's windowBits: 15 for a 32 KiB window, +16 for the gzip wrapper instead of the zlib one.
    private static let gzipWindowBits: Int32 = 15 + 16

    static func compress(_ input: UnsafeRawBufferPointer, level: Int32?) throws -> [UInt8] {
        var stream = z_stream()
        let initResult = deflateInit2_(
            &stream, level ?? Z_DEFAULT_COMPRESSION, Z_DEFLATED, gzipWindowBits, 8, Z_DEFAULT_STRATEGY,
            zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard initResult == Z_OK else { throw failure(initResult, stream, library: true) }
        defer { deflateEnd(&stream) }
        precondition(input.count <= Int(UInt32.max), "gzip input over 4 GiB")
        let bound = Int(deflateBound(&stream, uLong(input.count)))
        var output = [UInt8](repeating: 0, count: bound)
        let result: Int32 = output.withUnsafeMutableBytes { out in
            stream.next_in = mutableBytes(input)
            stream.avail_in = uInt(input.count)
            stream.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.avail_out = uInt(out.count)
            return deflate(&stream, Z_FINISH)
        }
        // deflateBound guarantees one Z_FINISH call completes.
        guard result == Z_STREAM_END else { throw failure(result, stream, library: true) }
        output.removeSubrange(Int(stream.total_out)...)
        return output
    }

    static func decompress(_ input: UnsafeRawBufferPointer, maxOutputBytes: Int) throws -> [UInt8] {
        var stream = z_stream()
        let initResult = inflateInit2_(&stream, gzipWindowBits, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard initResult == Z_OK else { throw failure(initResult, stream, library: true) }
        defer { inflateEnd(&stream) }
        guard input.count > 0 else { throw CompressionError.corruptInput(.gzip, reason: "empty input") }
        precondition(input.count <= Int(UInt32.max), "gzip input over 4 GiB")
        stream.next_in = mutableBytes(input)
        stream.avail_in = uInt(input.count)
        var output = BoundedOutput(codec: .gzip, expectedBytes: input.count * 4, maxOutputBytes: maxOutputBytes)
        while true {
            try output.reserveMore()
            var result: Int32 = Z_OK
            output.writeIntoFreeSpace { free in
                let room = min(free.count, Int(UInt32.max))
                stream.next_out = free.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(room)
                result = inflate(&stream, Z_NO_FLUSH)
                return room - Int(stream.avail_out)
            }
            switch result {
            case Z_STREAM_END:
                if stream.avail_in == 0 { return try output.finish() }
                // Another gzip member follows.
                let reset = inflateReset(&stream)
                guard reset == Z_OK else { throw failure(reset, stream, library: true) }
            case Z_OK:
                continue
            case Z_BUF_ERROR where stream.avail_out == 0:
                continue  // output full: reserveMore grows it or reports the bound
            case Z_BUF_ERROR:
                throw CompressionError.corruptInput(.gzip, reason: "truncated stream")
            case Z_MEM_ERROR:
                throw failure(result, stream, library: true)
            default:
                throw failure(result, stream, library: false)
            }
        }
    }

    private static func mutableBytes(_ input: UnsafeRawBufferPointer) -> UnsafeMutablePointer<Bytef>? {
        // zlib is built without z_const, so next_in is mutable in its signature; it never writes through it.
        guard let base = input.baseAddress else { return nil }
        return UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
    }

    private static func failure(_ code: Int32, _ stream: z_stream, library: Bool) -> CompressionError {
        let message = stream.msg.map { String(cString: $0) } ?? "zlib error \(code)"
        return library ? .libraryFailure(.gzip, reason: message) : .corruptInput(.gzip, reason: message)
    }
}
