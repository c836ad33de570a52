/// Why a compression or decompression failed. Every decompression failure on untrusted input is one of these.
public enum CompressionError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The input is not valid data for the codec (bad header, checksum, truncated stream, trailing garbage).
    case corruptInput(CompressionCodec, reason: String)
    /// Decompressing would produce more than the caller's bound: refused before memory grows past it.
    case outputLimitExceeded(CompressionCodec, maxOutputBytes: Int)
    /// The C library failed for a reason unrelated to the input (allocation failure, bad parameter).
    case libraryFailure(CompressionCodec, reason: String)

    public var description: String {
        switch self {
        case .corruptInput(let codec, let reason): "corrupt \(codec) input: \(reason)"
        case .outputLimitExceeded(let codec, let maxOutputBytes):
            "\(codec) output exceeds the limit of \(maxOutputBytes) bytes"
        case .libraryFailure(let codec, let reason): "\(codec) library failure: \(reason)"
        }
    }
}
