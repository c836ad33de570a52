/// The compression codecs of Kafka record batches; raw values are the codec bits (0-2) of the batch attributes.
public enum CompressionCodec: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case none = 0
    case gzip = 1
    case snappy = 2
    case lz4 = 3
    case zstd = 4

    /// The codec named by the low three attribute bits, or nil for the unassigned ids 5-7.
    public init?(attributeBits: Int16) {
        self.init(rawValue: UInt8(truncatingIfNeeded: attributeBits & 0x07))
    }

    /// Kafka's `compression.type` spelling.
    public var description: String {
        switch self {
        case .none: "none"
        case .gzip: "gzip"
        case .snappy: "snappy"
        case .lz4: "lz4"
        case .zstd: "zstd"
        }
    }

    /// Parses Kafka's `compression.type` spelling.
    public init?(name: String) {
        guard let codec = Self.allCases.first(where: { $0.description == name.lowercased() }) else { return nil }
        self = codec
    }
}
