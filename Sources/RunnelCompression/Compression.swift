/// Compresses and decompresses Kafka record payloads. Every decompression is bounded by the caller's
/// `maxOutputBytes`, so a small hostile input cannot make the broker allocate without limit.
public enum Compression {
    /// Compresses `input` with `codec`. `level` is the codec's own scale (gzip 1-9, lz4 frame 0-12, zstd 1-22);
    /// nil uses the library default. Snappy output uses the xerial framing the Java client writes.
    public static func compress(
        _ input: UnsafeRawBufferPointer, codec: CompressionCodec, level: Int32? = nil
    ) throws -> [UInt8] {
        switch codec {
        case .none: return Array(input)
        case .gzip: return try Gzip.compress(input, level: level)
        case .snappy: return try Snappy.compressXerial(input)
        case .lz4: return try LZ4Frame.compress(input, level: level)
        case .zstd: return try Zstd.compress(input, level: level)
        }
    }

    /// Decompresses `input`; throws `CompressionError.outputLimitExceeded` when the output would pass
    /// `maxOutputBytes` and `.corruptInput` when the input is not valid for `codec`.
    /// Snappy input may be raw or xerial-framed (told apart by the xerial magic header).
    public static func decompress(
        _ input: UnsafeRawBufferPointer, codec: CompressionCodec, maxOutputBytes: Int
    ) throws -> [UInt8] {
        precondition(maxOutputBytes >= 0, "maxOutputBytes must not be negative")
        switch codec {
        case .none:
            guard input.count <= maxOutputBytes else {
                throw CompressionError.outputLimitExceeded(.none, maxOutputBytes: maxOutputBytes)
            }
            return Array(input)
        case .gzip: return try Gzip.decompress(input, maxOutputBytes: maxOutputBytes)
        case .snappy: return try Snappy.decompress(input, maxOutputBytes: maxOutputBytes)
        case .lz4: return try LZ4Frame.decompress(input, maxOutputBytes: maxOutputBytes)
        case .zstd: return try Zstd.decompress(input, maxOutputBytes: maxOutputBytes)
        }
    }

    public static func compress<Bytes: Sequence<UInt8>>(
        _ input: Bytes, codec: CompressionCodec, level: Int32? = nil
    ) throws -> [UInt8] {
        try withContiguousBytes(input) { try compress($0, codec: codec, level: level) }
    }

    public static func decompress<Bytes: Sequence<UInt8>>(
        _ input: Bytes, codec: CompressionCodec, maxOutputBytes: Int
    ) throws -> [UInt8] {
        try withContiguousBytes(input) { try decompress($0, codec: codec, maxOutputBytes: maxOutputBytes) }
    }

    private static func withContiguousBytes<Bytes: Sequence<UInt8>, Result>(
        _ input: Bytes, _ body: (UnsafeRawBufferPointer) throws -> Result
    ) throws -> Result {
        if let result = try input.withContiguousStorageIfAvailable({ try body(UnsafeRawBufferPointer($0)) }) {
            return result
        }
        return try Array(input).withUnsafeBytes(body)
    }
}
